"""One public port policy: the cloud firewalls open what the node firewall opens.

The expectations come from the spec dicts of the example stacks (what the
operator wrote), never from the policy module the program uses.
"""

from __future__ import annotations

import pytest

from tests.stack_runner import example_spec

API_PORT = 6443
HETZNER_FIREWALL = "hcloud:index/firewall:Firewall"
SCALEWAY_SG = "scaleway:instance/securityGroup:SecurityGroup"


def _control_groups(spec: dict) -> set[str]:
    return {name for name, g in spec["nodeGroups"].items() if "control-plane" in g["roles"]}


def _hetzner_api_sources(firewall) -> list[list[str]]:
    return [r["sourceIps"] for r in firewall.inputs["rules"]
            if r.get("port") == str(API_PORT) and r["protocol"] == "tcp" and r["direction"] == "in"]


def _scaleway_api_sources(group) -> list[str]:
    return sorted(r["ipRange"] for r in group.inputs["inboundRules"]
                  if r.get("port") == API_PORT and r["protocol"] == "TCP" and r["action"] == "accept")


def _servers_behind(run, firewall) -> set[str]:
    return {s.inputs["labels"]["group"] for s in run.of_type("hcloud:index/server:Server")
            if firewall.urn in s.dependencies}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cloud_firewalls_open_the_api_to_exactly_the_api_sources_on_control_planes(stack_run, stack):
    spec = example_spec(stack)
    run = stack_run(spec, stack=stack)
    sources = sorted(spec["kubernetes"]["apiSourceCidrs"])
    control = _control_groups(spec)
    checked_control = checked_other = 0
    for firewall in run.of_type(HETZNER_FIREWALL):
        groups = _servers_behind(run, firewall)
        assert len(groups) == 1, f"{firewall.name} guards {groups}"
        if groups <= control:
            assert [sorted(s) for s in _hetzner_api_sources(firewall)] == [sources], firewall.name
            checked_control += 1
        else:
            assert _hetzner_api_sources(firewall) == [], f"{firewall.name} opens the API on a non-control-plane group"
            checked_other += 1
    for group in run.of_type(SCALEWAY_SG):
        name = group.name.removeprefix(f"{spec['name']}-scaleway-").removesuffix("-sg")
        if name in control:
            assert _scaleway_api_sources(group) == sources, group.name
            checked_control += 1
        else:
            assert _scaleway_api_sources(group) == [], f"{group.name} opens the API on a non-control-plane group"
            checked_other += 1
    # dev: one Hetzner control-plane group; prod: Scaleway cp-paris, and
    # Hetzner/Scaleway etcd and GPU groups that must stay closed.
    assert checked_control >= 1
    if stack == "prod":
        assert checked_other >= 3


def test_every_api_source_gets_its_rule_and_ipv6_sources_their_own_scaleway_rule(stack_run):
    spec = example_spec("prod")
    spec["kubernetes"]["apiSourceCidrs"] = ["203.0.113.10/32", "198.51.100.0/24"]
    run = stack_run(spec, stack="prod")
    cp = run.named("prod-scaleway-cp-paris-sg")
    assert _scaleway_api_sources(cp) == ["198.51.100.0/24", "203.0.113.10/32"]
    # WireGuard is open to the whole internet, both families: Scaleway takes
    # one range a rule, so IPv4 and IPv6 are two rules.
    wireguard = sorted(r["ipRange"] for r in cp.inputs["inboundRules"] if r["protocol"] == "UDP")
    assert wireguard == ["0.0.0.0/0", "::/0"]


def test_no_api_sources_keeps_the_api_closed_everywhere(stack_run):
    spec = example_spec("dev")
    spec["kubernetes"].pop("apiSourceCidrs")
    run = stack_run(spec, stack="dev")
    (firewall,) = run.of_type(HETZNER_FIREWALL)
    assert _hetzner_api_sources(firewall) == []


def test_a_worker_group_beside_the_control_planes_gets_its_own_firewall_without_the_api(stack_run):
    """Roles belong to the group (every node of ``main`` is a control plane), so
    a Hetzner firewall per group carries the API rule for control planes only."""
    spec = example_spec("dev")
    spec["nodeGroups"]["workers"] = {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 2,
                                     "roles": ["worker"], "publishedPorts": [8080]}
    run = stack_run(spec, stack="dev")
    by_group = {}
    for firewall in run.of_type(HETZNER_FIREWALL):
        (group,) = _servers_behind(run, firewall)
        by_group[group] = firewall
    assert set(by_group) == {"main", "workers"}
    assert _hetzner_api_sources(by_group["main"]) == [["203.0.113.10/32"]]
    assert _hetzner_api_sources(by_group["workers"]) == []
    ports = {r.get("port") for r in by_group["workers"].inputs["rules"] if r["protocol"] == "tcp"}
    assert ports == {"22", "8080"}


def _script_params(script: str) -> dict[str, str]:
    """The ``export NAME='value'`` block of a rendered node script (values
    here hold no quote; list items are one a line), items space-joined."""
    import re
    import shlex

    if not script.startswith("#!"):  # wrapped for privilege escalation: bash -c '<script>'
        script = next(part for part in shlex.split(script) if part.startswith("#!"))
    return {m[1]: " ".join((m[2] if m[2] is not None else m[3]).split())
            for m in re.finditer(r"^export ([A-Z][A-Z0-9_]*)=(?:'([^']*)'|(\S*))", script, re.M)}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cloud_firewalls_never_block_what_the_node_firewall_opens(stack_run, stack):
    """Cross-check of two implementations: for every Hetzner and Scaleway node,
    each public opening of its nftables script (SSH, WireGuard, published
    ports, the API) is open in its cloud firewall for the same sources."""
    spec = example_spec(stack)
    run = stack_run(spec, stack=stack)
    firewalls = {}
    for firewall in run.of_type(HETZNER_FIREWALL):
        for server in run.of_type("hcloud:index/server:Server"):
            if firewall.urn in server.dependencies:
                firewalls[server.inputs["labels"]["node"]] = [
                    (r["protocol"], r.get("port"), tuple(sorted(r["sourceIps"]))) for r in firewall.inputs["rules"]]
    for group in run.of_type(SCALEWAY_SG):
        for server in run.of_type("scaleway:instance/server:Server"):
            if group.urn in server.dependencies:
                node = next(t.split("=", 1)[1] for t in server.inputs["tags"] if t.startswith("node="))
                opened: dict = {}
                for r in group.inputs["inboundRules"]:
                    port = str(int(r["port"])) if r.get("port") is not None else None
                    opened.setdefault((r["protocol"].lower(), port), []).append(r["ipRange"])
                firewalls[node] = [(p, port, tuple(sorted(src))) for (p, port), src in opened.items()]
    assert firewalls, "no cloud firewall found"
    for node, rules in firewalls.items():
        script = run.named(f"{spec['name']}-baseline-{node}-firewall").script("create")
        params = _script_params(script)
        wanted = [("tcp", "22", params["SSH_SOURCE_CIDRS"].split()), ("udp", params["WG_PORT"], ["0.0.0.0/0"])]
        wanted += [("tcp", p, ["0.0.0.0/0"]) for p in params.get("PUBLISHED_TCP_PORTS", "").split()]
        if params.get("API_SOURCE_CIDRS"):
            wanted.append(("tcp", params["API_PORT"], params["API_SOURCE_CIDRS"].split()))
        for protocol, port, sources in wanted:
            covering = [src for p, q, src in rules if p == protocol and q == port]
            assert covering and all(set(sources) <= set(src) for src in covering), \
                f"{node}: nftables opens {protocol}/{port} to {sources}, the cloud firewall {covering or 'not at all'}"
