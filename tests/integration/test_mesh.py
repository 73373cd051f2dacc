"""The WireGuard mesh, baseline and firewall on real test hosts.

Each test bootstraps hosts with the real program (every remote command runs
over SSH, in the order Pulumi resolves it) and then observes the machines:
pings, a capture on the bridge that plays the internet, a port scan from an
outside host, WireGuard's own state.
"""

from __future__ import annotations

import ipaddress
import shlex
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.integration.mesh_lab import (
    POD_CIDR,
    WG_PORT,
    all_pairs_unreachable,
    bootstrap,
    continuous_ping,
    listening,
    mesh_ips,
    open_from_runner,
    open_tcp_ports,
    ping,
    ping_eventually,
    remove_from_mesh,
    wireguard_state,
)
from components.mesh.wireguard import SCRIPTS as MESH_SCRIPTS
from components.remote.script import render_script
from tests.testhosts.lab import ROOT_OCTET
from tests.testhosts.remote import run_script
from tests.testhosts.shell import sh

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
        # The scan's 1 s connect timeout must not race the first WireGuard
        # handshake (userspace wireguard-go on a loaded machine): path up first.
        assert ping_eventually(client, ips[server.name])
        assert open_tcp_ports(client, ips[server.name], (6443, 2379, 10250)) == {6443, 2379, 10250}
        # The same ports on the public address are closed even to cluster members.
        assert open_tcp_ports(client, server.public_ip, (6443, 2379, 10250)) == set()
    finally:
        for proc in listeners:
            proc.kill()
            proc.wait()


def test_published_ports_are_open_to_the_internet_on_their_host_only(lab_factory):
    lab = lab_factory(3)
    edge = lab.hosts[2]
    bootstrap(lab.hosts, published_ports={edge.name: [80, 443]})
    with ExitStack() as stack:
        # A web server on every host: closed ports elsewhere are the firewall's doing.
        for host in lab.hosts:
            stack.enter_context(listening(host, (80, 443, 6443)))
        for host in lab.hosts:
            expected = {22, 80, 443} if host is edge else {22}
            assert open_tcp_ports(lab.outside, host.public_ip, SCANNED_PORTS) == expected, host.name


def test_ssh_from_outside_the_source_cidrs_is_filtered_while_the_operator_gets_in(lab_factory):
    lab = lab_factory(2)
    server, peer = lab.hosts
    operator = lab.address(ROOT_OCTET)  # the test runner, where Pulumi runs
    assert open_tcp_ports(lab.outside, server.public_ip, (22,)) == {22}  # before the firewall
    run = bootstrap(lab.hosts, ssh_source_cidrs=[f"{operator}/32"])
    ips = mesh_ips(run)
    for host in lab.hosts:
        assert open_tcp_ports(lab.outside, host.public_ip, (22,)) == set(), host.name
        assert open_from_runner(host.public_ip, 22), host.name
        assert run_script(host.connection(), "hostname")["stdout"] == host.name
    # A cluster member is outside the sources too, but SSH over the mesh stays open.
    assert open_tcp_ports(peer, server.public_ip, (22,)) == set()
    assert ping_eventually(peer, ips[server.name])  # the first handshake, before a 1 s scan
    assert open_tcp_ports(peer, ips[server.name], (22,)) == {22}


def test_the_api_is_open_to_its_sources_on_control_planes_only(lab_factory):
    lab = lab_factory(2)
    server, worker = lab.hosts
    operator = lab.address(ROOT_OCTET)  # where `pulumi up` runs
    ips = mesh_ips(bootstrap(lab.hosts, api_source_cidrs=[f"{operator}/32"]))
    with listening(server, (6443,)), listening(worker, (6443,)):
        assert open_from_runner(server.public_ip, 6443)
        assert not open_from_runner(worker.public_ip, 6443)  # not a control plane
        assert open_tcp_ports(lab.outside, server.public_ip, (6443,)) == set()
        assert ping_eventually(worker, ips[server.name])  # the first handshake, before a 1 s scan
        assert open_tcp_ports(worker, ips[server.name], (6443,)) == {6443}  # the mesh as ever


def test_a_spoofed_pod_address_from_outside_gets_no_answer_while_mesh_and_pods_do(lab_factory):
    lab = lab_factory(2)
    server, client = lab.hosts
    ips = mesh_ips(bootstrap(lab.hosts))
    spoofed = "10.244.77.7"
    assert ipaddress.ip_address(spoofed) in ipaddress.ip_network(POD_CIDR)
    lab.outside.run(f"ip addr add {spoofed}/32 dev eth0")
    # The server could answer it (a neighbour on a provider's private network
    # is on-link): a missing answer is the firewall's, not routing's.
    server.run(f"ip route add {spoofed}/32 via {lab.outside.public_ip}")
    pod = lab.add_pod(server, "10.244.1.5")
    with listening(server, (6443, 10250)):
        assert open_tcp_ports(lab.outside, server.public_ip, (22,), source=spoofed) == {22}  # control
        assert open_tcp_ports(lab.outside, server.public_ip, (6443, 10250), source=spoofed) == set()
        assert ping_eventually(client, ips[server.name])  # the first handshake, before a 1 s scan
        assert open_tcp_ports(client, ips[server.name], (6443, 10250)) == {6443, 10250}
        # A real pod, behind the CNI's interface, still reaches host services.
        assert pod.run(f"nc -z -w 1 {server.public_ip} 10250", check=False).returncode == 0


def test_nothing_from_outside_is_routed_to_pods_while_pods_get_out_and_their_replies_back(lab_factory):
    lab = lab_factory(2)
    server = lab.hosts[0]
    pod = lab.add_pod(server, "10.244.1.5")
    # Somebody on the internet (or a provider's private network) routes pod
    # addresses to the node: with ip_forward=1 only the firewall stands between.
    lab.outside.run(f"ip route add 10.244.1.0/24 via {server.public_ip}")
    server.run("sysctl -q -w net.ipv4.ip_forward=1")
    assert ping(lab.outside, pod.ip), "control: before the firewall the pod is routable from outside"
    bootstrap(lab.hosts)
    assert server.run("sysctl -n net.ipv4.ip_forward").stdout.strip() == "1"
    assert not ping(lab.outside, pod.ip), "a new connection from outside was forwarded to a pod"
    # Pods still get out, and the answers come back (established).
    assert pod.run(f"ping -c 1 -W 1 {lab.outside.public_ip}", check=False).returncode == 0


def test_every_peer_keeps_alive_on_the_real_interface(lab_factory):
    """PersistentKeepalive reaches WireGuard for every peer, not only NAT
    pairs: idle pairs keep handshaking, so the handshake age the
    WireGuardPeerNoHandshake alert watches means liveness."""
    lab = lab_factory(3)
    bootstrap(lab.hosts)
    for host in lab.hosts:
        peers = [line.split("\t") for line in host.run("wg show wg0 dump").stdout.splitlines()[1:]]
        assert len(peers) == len(lab.hosts) - 1, host.name
        # dump columns: key, psk, endpoint, allowed ips, latest handshake, rx, tx, keepalive
        assert {p[7] for p in peers} == {"25"}, host.name


# What the baseline sets on real nodes; these are machine-wide, not per network namespace.
MACHINE_WIDE_SYSCTLS = {"fs.inotify.max_user_instances": 8192, "fs.inotify.max_user_watches": 524288}


def test_the_baseline_configures_the_test_host_and_leaves_the_machine_alone(lab_factory):
    lab = lab_factory(1)
    host = lab.hosts[0]
    saved = {key: sh("sysctl", "-n", key).stdout.strip() for key in MACHINE_WIDE_SYSCTLS}
    try:
        # Values the baseline never writes: a write would show.
        for key, value in MACHINE_WIDE_SYSCTLS.items():
            sh("sysctl", "-q", "-w", f"{key}={value + 1}")
        run = bootstrap(lab.hosts)
        for key, value in MACHINE_WIDE_SYSCTLS.items():
            assert sh("sysctl", "-n", key).stdout.strip() == str(value + 1), key
    finally:
        for key, value in saved.items():
            sh("sysctl", "-q", "-w", f"{key}={value}")
    stderr = run.named(f"lab-baseline-{host.name}-baseline").outputs["stderr"]
    assert "test host: machine-wide changes skipped:" in stderr
    assert "sysctl fs.inotify.max_user_watches" in stderr
    # Per-namespace settings are the host's own: applied.
    assert host.run("sysctl -n net.ipv4.ip_forward").stdout.strip() == "1"
    # Its files went to the host's /etc, not the machine's.
    assert "fs.inotify.max_user_watches = 524288" in host.run("cat /etc/sysctl.d/90-sovereign.conf").stdout
    assert not Path("/etc/sysctl.d/90-sovereign.conf").exists()


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
    # The leaving node was alive during the update of the others: they keep
    # it (live only, not in their saved config) until it stops handshaking.
    leaving_key = grown.named(f"lab-mesh-{leaving.name}-wg-key").outputs["stdout"].strip()
    assert leaving_key in {key for key, _ in wireguard_state(a)["peers"]}
    assert leaving_key not in a.run("cat /etc/wireguard/wg0.conf").stdout
    assert leaving.run("ip link show wg0", check=False).returncode != 0


def test_a_node_leaving_stays_reachable_while_alive_and_is_pruned_once_its_interface_is_gone(lab_factory):
    lab = lab_factory(3)
    grown = bootstrap(lab.hosts)
    ips = mesh_ips(grown)
    a, leaving = lab.hosts[0], lab.hosts[2]
    leaving_key = grown.named(f"lab-mesh-{leaving.name}-wg-key").outputs["stdout"].strip()

    # Pulumi updates the nodes that stay before it runs the leaving node's
    # deletes: those (etcd member removal, drain) must still reach them.
    shrunk = bootstrap(lab.hosts[:2])
    summary = shrunk.named(f"lab-mesh-{a.name}-wg-apply").outputs["stdout"]
    assert summary.endswith("changed, 1 departing kept while alive"), summary
    assert ping_eventually(leaving, ips[a.name])
    assert ping_eventually(a, ips[leaving.name])

    # Its own mesh delete takes its interface down; the pruner the update
    # started drops it once its handshake is older than the grace (the
    # program's 180 s, shortened here by running the same script in front).
    remove_from_mesh(grown, leaving.name)
    prune_script = render_script(MESH_SCRIPTS / "wg-prune.sh", {"WG_INTERFACE": "wg0"})
    assert f"export PRUNE_SCRIPT={shlex.quote(prune_script)}\n" in shrunk.named(f"lab-mesh-{a.name}-wg-apply").script("create")
    out = a.run(["env", "DEPARTED_GRACE=3", "PRUNE_INTERVAL=1", "bash", "-c", prune_script], timeout=60).stdout
    assert out.strip() == f"wg0: departed peer {leaving_key} removed"
    assert leaving_key not in {key for key, _ in wireguard_state(a)["peers"]}
    assert all_pairs_unreachable(lab.hosts[:2], mesh_ips(shrunk)) == []


def test_a_node_replaced_under_its_name_gets_its_mesh_address_back_at_once(lab_factory):
    """A replacement machine (same name, same mesh IP, new key) while the old
    key was handshaking seconds ago: the others must route its address to
    the new key, not keep it for the departing one."""
    lab = lab_factory(3)
    first = bootstrap(lab.hosts)
    ips = mesh_ips(first)
    a, replaced = lab.hosts[0], lab.hosts[2]
    old_key = first.named(f"lab-mesh-{replaced.name}-wg-key").outputs["stdout"].strip()
    assert ping_eventually(a, ips[replaced.name])

    # The old machine goes (its interface and key), a new one takes its name.
    remove_from_mesh(first, replaced.name)
    replaced.run("rm -f /etc/wireguard/wg0.key")
    second = bootstrap(lab.hosts)
    new_key = second.named(f"lab-mesh-{replaced.name}-wg-key").outputs["stdout"].strip()
    assert new_key != old_key
    assert ping_eventually(a, ips[replaced.name])
    routed = dict(wireguard_state(a)["peers"])
    assert routed[new_key] == f"{ips[replaced.name]}/32"
    assert old_key not in routed


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
        # The baseline reports what it changed: everything the first time, nothing again.
        assert first.named(f"lab-baseline-{host.name}-baseline").outputs["stdout"].startswith(f"baseline {host.name}: changed (")
        assert again.named(f"lab-baseline-{host.name}-baseline").outputs["stdout"] == f"baseline {host.name}: unchanged"


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
