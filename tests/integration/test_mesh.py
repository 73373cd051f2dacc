"""The WireGuard mesh, baseline and firewall on real test hosts.

Each test bootstraps hosts with the real program (every remote command runs
over SSH, in the order Pulumi resolves it) and then observes the machines:
pings, a capture on the bridge that plays the internet, a port scan from an
outside host, WireGuard's own state.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.integration.mesh_lab import (
    WG_PORT,
    all_pairs_unreachable,
    bootstrap,
    continuous_ping,
    mesh_ips,
    open_tcp_ports,
    ping,
    ping_eventually,
    remove_from_mesh,
    wireguard_state,
)

pytestmark = pytest.mark.integration

PATTERN = "5ec2e7da7a5ec2e7"  # ping payload: findable in a capture if sent in clear
SCANNED_PORTS = (22, 80, 443, 2379, 2380, 6443, 10250, 10255, 8472, 9100)


def test_five_hosts_form_a_full_mesh_and_the_internet_sees_only_wireguard(lab_factory):
    lab = lab_factory(5)
    run = bootstrap(lab.hosts)
    ips = mesh_ips(run)
    assert all_pairs_unreachable(lab.hosts, ips) == []

    a, b = lab.hosts[0], lab.hosts[3]
    with lab.capture("ip") as clear:  # control: the same ping outside the mesh is readable
        a.run(f"ping -q -c 3 -i 0.2 -p {PATTERN} {b.public_ip}", check=False)
    assert bytes.fromhex(PATTERN) in clear.raw

    with lab.capture("ip") as mesh:
        a.run(f"ping -q -c 5 -i 0.2 -p {PATTERN} {ips[b.name]}")
    assert bytes.fromhex(PATTERN) not in mesh.raw
    assert mesh.lines, "the capture saw nothing: the ping did not cross the bridge"
    not_wireguard = [line for line in mesh.lines if f".{WG_PORT}:" not in line and f".{WG_PORT} >" not in line]
    assert not_wireguard == []
    assert all(" UDP" in line for line in mesh.lines)


def test_firewall_opens_only_ssh_publicly_and_cluster_ports_over_the_mesh(lab_factory):
    lab = lab_factory(3)
    run = bootstrap(lab.hosts)
    ips = mesh_ips(run)
    server, client = lab.hosts[0], lab.hosts[1]
    # Something listening on every cluster port, as the API server and etcd would.
    listeners = [server.popen(["nc", "-l", "-k", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for port in (6443, 2379, 10250, 80)]
    try:
        assert all(_wait_listening(server, port) for port in (6443, 2379, 10250, 80))
        for host in lab.hosts:
            assert open_tcp_ports(lab.outside, host.public_ip, SCANNED_PORTS) == {22}, host.name
        assert open_tcp_ports(client, ips[server.name], (6443, 2379, 10250)) == {6443, 2379, 10250}
        # The same ports on the public address are closed even to cluster members.
        assert open_tcp_ports(client, server.public_ip, (6443, 2379, 10250)) == set()
    finally:
        for proc in listeners:
            proc.kill()
            proc.wait()


def _wait_listening(host, port: int) -> bool:
    for _ in range(50):
        if host.run(f"ss -ltn | grep -q ':{port} '", check=False).returncode == 0:
            return True
        host.run("sleep 0.05")
    return False


def test_adding_and_removing_a_node_loses_no_packet_between_others(lab_factory):
    lab = lab_factory(5)
    first = bootstrap(lab.hosts)
    ips = mesh_ips(first)
    a, b, leaving = lab.hosts[0], lab.hosts[1], lab.hosts[4]
    assert ping_eventually(a, ips[b.name])
    before = {h.name: wireguard_state(h)["wireguard_go_pid"] for h in lab.hosts}

    with continuous_ping(a, ips[b.name]) as added:
        newcomer = lab.add_host()
        grown = bootstrap(lab.hosts)
    assert added["sent"] > 20 and added["received"] == added["sent"]
    grown_ips = mesh_ips(grown)
    assert {k: grown_ips[k] for k in ips} == ips, "adding a node renumbered the others"
    assert all_pairs_unreachable(lab.hosts, grown_ips) == []

    with continuous_ping(a, ips[b.name]) as removed:
        remaining = [h for h in lab.hosts if h is not leaving]
        shrunk = bootstrap(remaining)
        remove_from_mesh(grown, leaving.name)
    assert removed["sent"] > 20 and removed["received"] == removed["sent"]
    assert all_pairs_unreachable(remaining, mesh_ips(shrunk)) == []
    # Peers were changed live: nobody's tunnel was restarted.
    for host in remaining:
        if host is not newcomer:
            assert wireguard_state(host)["wireguard_go_pid"] == before[host.name], host.name
    assert len(wireguard_state(a)["peers"]) == len(remaining) - 1
    assert leaving.run("ip link show wg0", check=False).returncode != 0


def test_dont_fragment_ping_of_the_mesh_mtu_passes_and_mtu_follows_the_underlay(lab_factory):
    lab = lab_factory(3)
    a, b, c = lab.hosts
    run = bootstrap(lab.hosts)
    ips, mtu = mesh_ips(run), run.outputs["mtu"]
    assert mtu == 1500 - 60
    _assert_exact_mtu(a, ips[b.name], mtu)

    c.set_underlay_mtu(1400)
    lowered = bootstrap(lab.hosts, underlay_mtu={c.name: 1400})
    assert lowered.outputs["mtu"] == 1400 - 60
    for host in lab.hosts:
        assert f" mtu {1400 - 60} " in host.run("ip -o link show dev wg0").stdout, host.name
    _assert_exact_mtu(a, ips[c.name], 1400 - 60)
    _assert_exact_mtu(c, ips[b.name], 1400 - 60)


def _assert_exact_mtu(host, address: str, mtu: int) -> None:
    """A packet of exactly ``mtu`` bytes (IPv4 + ICMP headers: 28) crosses
    with DF set; one byte more is refused, so the limit really is ``mtu``."""
    assert ping_eventually(host, address)
    assert ping(host, address, size=mtu - 28, dont_fragment=True, count=3, wait=2)
    assert not ping(host, address, size=mtu - 27, dont_fragment=True)


def test_hosts_behind_nat_join_and_reach_each_other_through_a_relay(lab_factory):
    lab = lab_factory(3, nat_hosts=2)
    natted = [h for h in lab.hosts if h.behind_nat]
    # Precondition: nothing on the bridge can open a connection into them.
    assert open_tcp_ports(lab.hosts[0], natted[0].public_ip, (22,)) == set()
    run = bootstrap(lab.hosts)
    assert all_pairs_unreachable(lab.hosts, mesh_ips(run)) == []


def test_rerunning_the_bootstrap_changes_nothing(lab_factory):
    lab = lab_factory(3)
    first = bootstrap(lab.hosts)
    ips = mesh_ips(first)
    assert all_pairs_unreachable(lab.hosts, ips) == []
    before = {h.name: wireguard_state(h) for h in lab.hosts}
    rules = {h.name: h.run("nft list table inet sovereign").stdout for h in lab.hosts}

    again = bootstrap(lab.hosts)
    assert again.outputs["keys"] == first.outputs["keys"]
    for host in lab.hosts:
        after = wireguard_state(host)
        assert after["public_key"] == before[host.name]["public_key"]
        assert after["config"] == before[host.name]["config"]
        assert after["peers"] == before[host.name]["peers"]
        assert after["wireguard_go_pid"] == before[host.name]["wireguard_go_pid"]
        # A restarted tunnel starts with no handshake (0); kept sessions keep theirs.
        for peer, stamp in before[host.name]["handshakes"].items():
            if stamp:
                assert after["handshakes"][peer] >= stamp
        assert host.run("nft list table inet sovereign").stdout == rules[host.name]
    for host in lab.hosts:
        stdout = again.named(f"lab-mesh-{host.name}-wg-apply").outputs["stdout"]
        assert stdout.endswith("unchanged"), stdout
        assert again.named(f"lab-baseline-{host.name}-firewall").outputs["stdout"] == "firewall: unchanged"


def test_a_killed_host_leaves_the_others_connected_and_rejoins_when_back(lab_factory):
    lab = lab_factory(4)
    run = bootstrap(lab.hosts)
    ips = mesh_ips(run)
    victim = lab.hosts[2]
    survivors = [h for h in lab.hosts if h is not victim]

    lab.kill(victim)
    assert all_pairs_unreachable(survivors, ips) == []
    assert not ping(survivors[0], ips[victim.name], wait=0.5)

    # It boots: the persisted configuration (what wg-quick@wg0 runs at boot
    # under systemd) brings it back with the same key, no program run needed.
    lab.start(victim)
    victim.run("wg-quick up wg0")
    assert all_pairs_unreachable(lab.hosts, ips) == []

    # Killed again and back: the next program run alone also converges.
    lab.kill(victim)
    lab.start(victim)
    rerun = bootstrap(lab.hosts)
    assert rerun.outputs["keys"] == run.outputs["keys"]
    assert all_pairs_unreachable(lab.hosts, mesh_ips(rerun)) == []
