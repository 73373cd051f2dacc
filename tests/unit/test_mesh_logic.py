"""Mesh MTU arithmetic and peer selection (endpoints, NAT, relay)."""

from __future__ import annotations

import pytest

from components.mesh.mtu import mesh_mtu
from components.mesh.peers import MeshMember, choose_relay, is_relay, peers_of


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
        "key-b 198.18.0.2:51820 10.42.1.2/32 0",
        "key-c 198.18.0.3:51820 10.42.1.3/32 0",
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
