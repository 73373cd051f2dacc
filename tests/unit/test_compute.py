"""The program under mocks: compute resources per provider and their inputs."""

from __future__ import annotations

import ipaddress

from stacks.plan.run import PLAN_SSH_KEY_PLACEHOLDER
from tests.stack_runner import example_spec

SERVER_TYPES = {
    "hetzner": "hcloud:index/server:Server",
    "scaleway": "scaleway:instance/server:Server",
    "ovh-vps": "ovh:Vps/vps:Vps",
    "ovh-cloud": "ovh:CloudProject/instance:Instance",
}


def test_nodes_output_matches_the_spec(example_run):
    stack, spec, run = example_run
    nodes = run.outputs["nodes"]
    expected = sum(g.get("count", len(g.get("hosts", []))) for g in spec["nodeGroups"].values())
    assert len(nodes) == expected
    assert len({n["mesh_ip"] for n in nodes}) == len(nodes)
    for node in nodes:
        group = spec["nodeGroups"][node["name"].rsplit("-", 1)[0]] if node["provider"] != "existing" else None
        if group:
            assert node["roles"] == group["roles"] and node["instance_type"] == group["instanceType"]
        assert ipaddress.ip_address(node["public_address"])


def test_one_server_per_cloud_node_and_none_for_existing(example_run):
    _, spec, run = example_run
    servers = sum(len(run.of_type(t)) for t in SERVER_TYPES.values())
    cloud_nodes = sum(g.get("count", 0) for g in spec["nodeGroups"].values() if g["provider"] != "existing")
    assert servers == cloud_nodes


def test_private_key_is_never_a_plain_input(example_run):
    _, _, run = example_run
    for resource in run.resources:
        text = repr(resource.inputs)
        if PLAN_SSH_KEY_PLACEHOLDER in text:
            assert resource.secret_paths, f"{resource.name} carries the SSH private key in plain text"


def test_hetzner_server_inputs(stack_run):
    run = stack_run(example_spec("dev"), stack="dev")
    server = run.named("dev-hetzner-main-1")
    key = run.named("dev-hetzner-ssh-key")
    firewall = run.named("dev-hetzner-main-fw")
    placement = run.named("dev-hetzner-main-spread-0")
    assert server.inputs["serverType"] == "cx23"
    assert server.inputs["location"] == "fsn1"
    assert server.inputs["name"] == "dev-main-1"
    # The ids Hetzner gave the key (ssh_keys takes ids or names) and the
    # firewall (an integer list), not just values of the right shape.
    assert key.id and server.inputs["sshKeys"] == [key.id]
    assert firewall.id and server.inputs["firewallIds"] == [int(firewall.id)]
    assert server.inputs["placementGroupId"] == int(placement.id)
    assert placement.inputs["type"] == "spread"
    assert {firewall.urn, placement.urn, key.urn} <= set(server.dependencies)
    assert "ssh-ed25519" in server.inputs["userData"]
    rules = {(r["protocol"], r.get("port")): r["sourceIps"] for r in firewall.inputs["rules"]}
    assert rules[("tcp", "22")] == ["0.0.0.0/0"]
    assert rules[("udp", "51820")] == ["0.0.0.0/0", "::/0"]
    assert ("tcp", "443") in rules and ("tcp", "80") in rules
    # The API for the operators and CI of kubernetes.apiSourceCidrs (dev: one address).
    assert rules[("tcp", "6443")] == ["203.0.113.10/32"]


def test_hetzner_spread_groups_hold_at_most_ten(stack_run):
    spec = example_spec("dev")
    spec["nodeGroups"]["workers"] = {"provider": "hetzner", "region": "nbg1", "instanceType": "cx32", "count": 25, "roles": ["worker"]}
    run = stack_run(spec)
    groups = [r for r in run.of_type("hcloud:index/placementGroup:PlacementGroup") if "-workers-" in r.name]
    assert len(groups) == 3
    members: dict[str, int] = {}
    for server in run.of_type("hcloud:index/server:Server"):
        if "-workers-" in server.name:
            group_urn = next(d for d in server.dependencies if "PlacementGroup" in d)
            members[group_urn] = members.get(group_urn, 0) + 1
    assert sorted(members.values()) == [5, 10, 10]


def test_hetzner_private_network(stack_run):
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["privateNetwork"] = True
    run = stack_run(spec)
    network = run.of_type("hcloud:index/network:Network")[0]
    subnet = run.of_type("hcloud:index/networkSubnet:NetworkSubnet")[0]
    server = run.of_type("hcloud:index/server:Server")[0]
    assert network.inputs["ipRange"] == "10.0.0.0/16"
    assert subnet.urn in server.dependencies and server.inputs["networks"]


def test_ssh_source_cidrs_restrict_ssh(stack_run):
    spec = example_spec("dev")
    spec["network"] = {"sshSourceCidrs": ["198.51.100.0/24"]}
    run = stack_run(spec)
    rules = run.of_type("hcloud:index/firewall:Firewall")[0].inputs["rules"]
    assert [r["sourceIps"] for r in rules if r.get("port") == "22"] == [["198.51.100.0/24"]]


def test_budget_orders_three_ovh_vps(stack_run):
    run = stack_run(example_spec("budget"), stack="budget")
    orders = run.of_type("ovh:Vps/vps:Vps")
    assert len(orders) == 3
    for order in orders:
        plan = order.inputs["plans"][0]
        config = {c["label"]: c["value"] for c in plan["configurations"]}
        assert config == {"vps_datacenter": "GRA", "vps_os": "Debian 12"}
        assert plan["duration"] == "P1M" and plan["planCode"]
        assert order.inputs["publicSshKey"].startswith("ssh-ed25519 ")


def test_prod_uses_every_provider(stack_run):
    run = stack_run(example_spec("prod"), stack="prod")
    providers = {n["provider"] for n in run.outputs["nodes"]}
    assert providers == {"scaleway", "ovh", "hetzner", "existing"}
    instance = run.of_type("ovh:CloudProject/instance:Instance")[0]
    assert instance.inputs["region"] == "GRA11" and instance.inputs["flavor"]["flavorId"]
    assert instance.inputs["serviceName"] == "0123456789abcdef0123456789abcdef"
    sg = run.named("prod-scaleway-gpu-paris-sg")
    assert sg.inputs["inboundDefaultPolicy"] == "drop"
    gpu = next(n for n in run.outputs["nodes"] if n["name"] == "gpu-houston-1")
    assert gpu["public_address"] == "203.0.113.40" and gpu["gpus"] == 1


def test_invalid_spec_creates_nothing(stack_run):
    import pulumi
    import pytest

    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["roles"] = ["worker"]
    with pytest.raises(pulumi.RunError, match="no node has the control-plane role") as caught:
        stack_run(spec)
    assert caught.value.registered_resources == []


def test_hetzner_private_network_lowers_the_mesh_mtu_to_its_underlay(stack_run):
    # Hetzner private networks run at MTU 1450: 1450 - 60 (WireGuard over IPv4).
    spec = example_spec("dev")
    assert stack_run(spec, stack="dev").outputs["meshMtu"] == 1440
    spec["nodeGroups"]["main"]["privateNetwork"] = True
    run = stack_run(spec, stack="dev")
    assert run.outputs["meshMtu"] == 1390
    script = run.named("dev-mesh-main-1-wg-apply").script("create")
    assert "export MTU=1390" in script


def scaleway_private_spec() -> dict:
    """dev plus Scaleway workers: two zones of fr-par and one of nl-ams on private networks, one not."""
    spec = example_spec("dev")
    worker = {"provider": "scaleway", "instanceType": "DEV1-M", "count": 1, "roles": ["worker"]}
    spec["nodeGroups"].update({
        "par1": {**worker, "region": "fr-par-1", "privateNetwork": True},
        "par2": {**worker, "region": "fr-par-2", "privateNetwork": True},
        "ams": {**worker, "region": "nl-ams-1", "privateNetwork": True},
        "pub": {**worker, "region": "fr-par-1"},
    })
    spec["providers"] = {"scaleway": {"privateNetworkCidr": "172.20.0.0/22"}}
    return spec


def _peer_endpoints(run, node: str) -> dict[str, str]:
    """Mesh IP -> endpoint in the PEERS of ``node``'s wg-apply script."""
    script = run.named(f"dev-mesh-{node}-wg-apply").script("create")
    block = script.split("export PEERS='", 1)[1].split("'", 1)[0]
    return {line.split()[2].split("/")[0]: line.split()[1] for line in block.splitlines() if line.strip()}


def test_scaleway_private_network_per_region_and_nic_per_server(stack_run):
    run = stack_run(scaleway_private_spec(), stack="dev")
    vpcs = {r.inputs["region"]: r for r in run.of_type("scaleway:network/vpc:Vpc")}
    networks = {r.inputs["region"]: r for r in run.of_type("scaleway:network/privateNetwork:PrivateNetwork")}
    assert set(vpcs) == set(networks) == {"fr-par", "nl-ams"}  # regional: fr-par-1 and -2 share one
    for region, network in networks.items():
        assert vpcs[region].urn in network.dependencies and network.inputs["vpcId"].startswith(f"{region}/")
        assert network.inputs["ipv4Subnet"]["subnet"] == "172.20.0.0/22"
    nics = {r.name: r for r in run.of_type("scaleway:instance/privateNic:PrivateNic")}
    assert set(nics) == {"dev-scaleway-par1-1-pnic", "dev-scaleway-par2-1-pnic", "dev-scaleway-ams-1-pnic"}
    for node, region, zone in (("par1-1", "fr-par", "fr-par-1"), ("par2-1", "fr-par", "fr-par-2"), ("ams-1", "nl-ams", "nl-ams-1")):
        nic, server = nics[f"dev-scaleway-{node}-pnic"], run.named(f"dev-scaleway-{node}")
        assert {server.urn, networks[region].urn} <= set(nic.dependencies)
        assert nic.inputs["zone"] == zone
        assert nic.inputs["serverId"].startswith(f"{zone}/")
        assert nic.inputs["privateNetworkId"].startswith(f"{region}/")


def test_scaleway_nodes_on_one_private_network_peer_over_it(stack_run):
    run = stack_run(scaleway_private_spec(), stack="dev")
    nodes = {n["name"]: n for n in run.outputs["nodes"]}
    nics = {r.name: r for r in run.of_type("scaleway:instance/privateNic:PrivateNic")}

    def private_ip(node):
        addresses = [ipaddress.ip_address(ip["address"]) for ip in nics[f"dev-scaleway-{node}-pnic"].outputs["privateIps"]]
        (v4,) = [a for a in addresses if a.version == 4]
        assert v4 in ipaddress.ip_network("172.20.0.0/22")
        return str(v4)

    mesh = {name: n["mesh_ip"] for name, n in nodes.items()}
    from_par1 = _peer_endpoints(run, "par1-1")
    assert from_par1[mesh["par2-1"]] == f"{private_ip('par2-1')}:51820"  # same region, other zone
    assert from_par1[mesh["ams-1"]] == f"{nodes['ams-1']['public_address']}:51820"  # other region
    assert from_par1[mesh["pub-1"]] == f"{nodes['pub-1']['public_address']}:51820"  # not attached
    assert from_par1[mesh["main-1"]] == f"{nodes['main-1']['public_address']}:51820"
    assert _peer_endpoints(run, "pub-1")[mesh["par1-1"]] == f"{nodes['par1-1']['public_address']}:51820"
    assert _peer_endpoints(run, "par2-1")[mesh["par1-1"]] == f"{private_ip('par1-1')}:51820"
    # Scaleway records no reduced private network MTU: the mesh keeps 1500 - 60.
    assert run.outputs["meshMtu"] == 1440
