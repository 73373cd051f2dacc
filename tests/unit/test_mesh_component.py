"""WireGuardMesh and NodeBaseline under mocks: order, parameters, secrets."""

from __future__ import annotations

import re

from stacks.plan.fakes.compute import fake_wireguard_key
from tests.stack_runner import example_spec


def param(script: str, name: str) -> str:
    """Value of an exported parameter in a rendered script (unquoted)."""
    match = re.search(rf"^export {name}=(.*)$", script, re.M | re.S)
    assert match, f"{name} not in script"
    value = match.group(1)
    if value.startswith("'"):
        return value[1:value.index("'", 1)]
    return value.split("\n", 1)[0]


def test_every_node_gets_keys_then_config(example_run):
    stack, _, run = example_run
    names = [n["name"] for n in run.outputs["nodes"]]
    for name in names:
        key = run.named(f"{stack}-mesh-{name}-wg-key")
        apply = run.named(f"{stack}-mesh-{name}-wg-apply")
        firewall = run.named(f"{stack}-baseline-{name}-firewall")
        baseline = run.named(f"{stack}-baseline-{name}-baseline")
        assert key.urn in apply.dependencies
        assert firewall.urn in key.dependencies
        assert baseline.urn in firewall.dependencies
        assert apply.script("update") == apply.script("create")  # peer changes go live
        assert "wg-quick down" in apply.script("delete")


def test_peers_cover_every_other_node_with_its_key(example_run):
    stack, _, run = example_run
    nodes = {n["name"]: n for n in run.outputs["nodes"]}
    for name, node in nodes.items():
        script = run.named(f"{stack}-mesh-{name}-wg-apply").script("create")
        peers = [line.split() for line in param(script, "PEERS").splitlines()]
        assert len(peers) == len(nodes) - 1
        by_ip = {p[2]: p for p in peers}
        for other_name, other in nodes.items():
            if other_name == name:
                continue
            peer = by_ip[f"{other['mesh_ip']}/32"]
            assert peer[0] == fake_wireguard_key(f"{stack}-mesh-{other_name}-wg-key")
        assert param(script, "MESH_ADDRESS") == f"{node['mesh_ip']}/16"


def test_nat_host_is_dialled_by_nobody_and_keeps_alive(stack_run):
    run = stack_run(example_spec("prod"), stack="prod")
    nodes = {n["name"]: n for n in run.outputs["nodes"]}
    nat_ip = nodes["onprem-paris-1"]["mesh_ip"]
    cp_script = run.named("prod-mesh-cp-paris-1-wg-apply").script("create")
    to_nat = next(l.split() for l in param(cp_script, "PEERS").splitlines() if f"{nat_ip}/32" in l)
    assert to_nat[1] == "-" and to_nat[3] == "25"
    nat_script = run.named("prod-mesh-onprem-paris-1-wg-apply").script("create")
    assert all(l.split()[3] == "25" and l.split()[1] != "-" for l in param(nat_script, "PEERS").splitlines())


def test_mesh_mtu_output_follows_the_underlay(stack_run):
    spec = example_spec("prod")
    assert stack_run(spec, stack="prod").outputs["meshMtu"] == 1440
    spec["nodeGroups"]["onprem-paris"]["hosts"][0]["underlayMtu"] = 1400
    run = stack_run(spec, stack="prod")
    assert run.outputs["meshMtu"] == 1340
    assert param(run.named("prod-mesh-cp-paris-1-wg-apply").script("create"), "MTU") == "1340"


def test_firewall_opens_cluster_ports_on_the_mesh_only(stack_run):
    run = stack_run(example_spec("budget"), stack="budget")
    script = run.named("budget-baseline-vps-1-firewall").script("create")
    assert "6443" in param(script, "CLUSTER_TCP_PORTS").split()
    assert param(script, "PUBLISHED_TCP_PORTS").split() == ["80", "443"]
    assert param(script, "MESH_CIDR") == "10.6.0.0/16"


def test_ssh_connections_carry_the_key_as_a_secret(example_run):
    _, _, run = example_run
    for command in run.of_type("command:remote:Command"):
        assert "connection.privateKey" in command.secret_paths or "connection" in command.secret_paths


def test_ipv6_existing_host_is_bracketed_and_costs_the_ipv6_overhead(stack_run):
    spec = example_spec("prod")
    spec["nodeGroups"]["gpu-houston"]["hosts"][0]["address"] = "2001:db8:40::40"
    run = stack_run(spec, stack="prod")
    nodes = {n["name"]: n for n in run.outputs["nodes"]}
    cp_script = run.named("prod-mesh-cp-paris-1-wg-apply").script("create")
    to_gpu = next(l.split() for l in param(cp_script, "PEERS").splitlines()
                  if f"{nodes['gpu-houston-1']['mesh_ip']}/32" in l)
    assert to_gpu[1] == "[2001:db8:40::40]:51820"
    assert run.outputs["meshMtu"] == 1500 - 80
    assert param(cp_script, "MTU") == "1420"


def test_host_given_by_name_may_be_ipv6_and_nat_hosts_are_not_dialled(stack_run):
    spec = example_spec("prod")
    spec["nodeGroups"]["gpu-houston"]["hosts"][0]["address"] = "gpu-houston.example.net"
    assert stack_run(spec, stack="prod").outputs["meshMtu"] == 1420
    spec = example_spec("prod")
    spec["nodeGroups"]["onprem-paris"]["hosts"][0]["address"] = "2001:db8:10::10"  # behind NAT
    assert stack_run(spec, stack="prod").outputs["meshMtu"] == 1440


def test_every_peer_of_every_node_keeps_alive(stack_run):
    """Handshakes between idle peers (the WireGuardPeerNoHandshake alert):
    PersistentKeepalive on every peer line of every node, not only NAT pairs."""
    run = stack_run(example_spec("prod"), stack="prod")
    names = [n["name"] for n in run.outputs["nodes"]]
    lines = [line.split() for name in names
             for line in param(run.named(f"prod-mesh-{name}-wg-apply").script("create"), "PEERS").splitlines()]
    assert len(lines) >= len(names) * (len(names) - 2)  # a full mesh (NAT pairs go through the relay)
    assert {peer[3] for peer in lines} == {"25"}
