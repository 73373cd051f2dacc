"""Mesh MTU arithmetic and peer selection (endpoints, NAT, relay)."""

from __future__ import annotations

import pytest

from components.mesh.mtu import ip_version_of, mesh_mtu, underlay_ip_version
from components.mesh.peers import (
    KEEPALIVE_SECONDS,
    MeshMember,
    choose_relay,
    dialled_addresses,
    format_endpoint,
    is_relay,
    peers_of,
    required_ip_version,
)


def test_mtu_is_lowest_underlay_minus_overhead():
    assert mesh_mtu([1500, 1500]) == 1440
    assert mesh_mtu([1500, 1450, 9000]) == 1390  # a Hetzner private network in the mesh
    assert mesh_mtu([1500], ip_version=6) == 1420


def test_mtu_override_must_fit_the_underlay():
    assert mesh_mtu([1500], override=1400) == 1400
    with pytest.raises(ValueError, match="exceeds the lowest underlay MTU 1450"):
        mesh_mtu([1500, 1450], override=1420)


def member(name, ip, public=True, net=None, private=None):
    return MeshMember(name, ip, f"key-{name}", f"198.18.0.{ip.split('.')[-1]}" if public else None, private, net)


def test_full_mesh_over_public_addresses():
    ms = [member("a", "10.42.1.1"), member("b", "10.42.1.2"), member("c", "10.42.1.3")]
    peers = peers_of(ms[0], ms, 51820)
    assert [p.line() for p in peers] == [
        "key-b 198.18.0.2:51820 10.42.1.2/32 25",
        "key-c 198.18.0.3:51820 10.42.1.3/32 25",
    ]
    assert choose_relay(ms) is None


def test_shared_private_network_is_preferred():
    a = member("a", "10.42.1.1", net="hetzner:eu-central", private="10.0.0.2")
    b = member("b", "10.42.1.2", net="hetzner:eu-central", private="10.0.0.3")
    c = member("c", "10.42.2.1")
    assert peers_of(a, [a, b, c], 51820)[0].endpoint == "10.0.0.3:51820"
    assert peers_of(a, [a, b, c], 51820)[1].endpoint == "198.18.0.1:51820"
    assert peers_of(c, [a, b, c], 51820)[0].endpoint == "198.18.0.1:51820"


def test_nat_node_dials_out_with_keepalive():
    a, nat = member("a", "10.42.1.1"), member("nat", "10.42.9.9", public=False)
    (to_a,) = peers_of(nat, [a, nat], 51820)
    assert to_a.endpoint == "198.18.0.1:51820" and to_a.keepalive == 25
    (to_nat,) = peers_of(a, [a, nat], 51820)
    assert to_nat.endpoint is None and to_nat.line().split()[1] == "-"


def test_every_peer_keeps_alive_so_the_handshake_age_means_liveness():
    """Idle pairs would never handshake (the WireGuardPeerNoHandshake alert
    would fire on healthy peers): keepalive on every peer, NAT or not, on
    private networks too, and through the relay."""
    a = member("a", "10.42.1.1", net="hetzner:eu-central", private="10.0.0.2")
    b = member("b", "10.42.1.2", net="hetzner:eu-central", private="10.0.0.3")
    c, v6 = member("c", "10.42.2.1"), MeshMember("v6", "10.42.3.1", "key-v6", "2001:db8::10")
    n1, n2 = member("n1", "10.42.9.1", public=False), member("n2", "10.42.9.2", public=False)
    ms = [a, b, c, v6, n1, n2]
    for me in ms:
        peers = peers_of(me, ms, 51820)
        assert peers, me.name
        assert {p.keepalive for p in peers} == {KEEPALIVE_SECONDS}, me.name
        assert all(p.line().split()[3] == "25" for p in peers), me.name
    assert KEEPALIVE_SECONDS == 25


def test_two_nat_nodes_route_through_the_relay():
    relay, b = member("relay", "10.42.1.1"), member("b", "10.42.1.2")
    n1, n2 = member("n1", "10.42.9.1", public=False), member("n2", "10.42.9.2", public=False)
    ms = [relay, b, n1, n2]
    assert choose_relay(ms) == relay and is_relay(relay, ms) and not is_relay(b, ms)
    peers = {p.public_key: p for p in peers_of(n1, ms, 51820)}
    assert "key-n2" not in peers  # unreachable directly
    assert peers["key-relay"].allowed_ips == ("10.42.1.1/32", "10.42.9.2/32")
    relay_peers = {p.public_key: p for p in peers_of(relay, ms, 51820)}
    assert relay_peers["key-n1"].allowed_ips == ("10.42.9.1/32",)
    assert relay_peers["key-n2"].allowed_ips == ("10.42.9.2/32",)


def test_ipv6_endpoints_are_bracketed():
    assert format_endpoint("2001:db8::1", 51820) == "[2001:db8::1]:51820"
    assert format_endpoint("[2001:db8::1]", 51820) == "[2001:db8::1]:51820"  # not twice
    assert format_endpoint("198.18.0.1", 51820) == "198.18.0.1:51820"
    assert format_endpoint("gpu.example.net", 51820) == "gpu.example.net:51820"
    v6 = MeshMember("v6", "10.42.3.1", "key-v6", "2001:db8::10")
    (peer,) = peers_of(member("a", "10.42.1.1"), [member("a", "10.42.1.1"), v6], 51820)
    assert peer.endpoint == "[2001:db8::10]:51820"
    assert peer.line() == "key-v6 [2001:db8::10]:51820 10.42.3.1/32 25"


def test_ip_version_of_literals_and_names():
    assert ip_version_of("198.18.0.1") == 4
    assert ip_version_of("2001:db8::1") == ip_version_of("[2001:db8::1]") == 6
    assert ip_version_of("gpu.example.net") is None and ip_version_of(None) is None


def test_wireguard_overhead_follows_the_dialled_address_family():
    assert underlay_ip_version(["198.18.0.1", None]) == 4
    assert underlay_ip_version(["198.18.0.1", "2001:db8::1"]) == 6
    assert underlay_ip_version(["gpu.example.net"]) == 6  # may resolve to AAAA
    a, b = member("a", "10.42.1.1"), member("b", "10.42.1.2")
    assert required_ip_version([a, b]) == 4
    v6 = MeshMember("v6", "10.42.3.1", "key-v6", "2001:db8::10")
    assert required_ip_version([a, b, v6]) == 6
    assert mesh_mtu([1500, 1500, 1500], ip_version=required_ip_version([a, b, v6])) == 1420
    assert mesh_mtu([1500, 1500], ip_version=required_ip_version([a, b])) == 1440


def test_addresses_nobody_dials_do_not_count():
    # An IPv6 node behind NAT is never dialled; two nodes on a private
    # network dial each other's (IPv4) private address, not the public one.
    a = member("a", "10.42.1.1")
    nat6 = MeshMember("nat6", "10.42.9.1", "key-nat6", None)
    assert required_ip_version([a, nat6]) == 4
    p1 = MeshMember("p1", "10.42.2.1", "key-p1", "2001:db8::21", "10.0.0.2", "hetzner:eu-central")
    p2 = MeshMember("p2", "10.42.2.2", "key-p2", "2001:db8::22", "10.0.0.3", "hetzner:eu-central")
    assert sorted(dialled_addresses([p1, p2])) == ["10.0.0.2", "10.0.0.3"]
    assert required_ip_version([p1, p2]) == 4
    assert required_ip_version([p1, p2, a]) == 6  # a dials them at their IPv6 public addresses
