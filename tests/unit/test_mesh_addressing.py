"""Mesh IPs are deterministic and never renumbered by other nodes' changes."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest

from components.spec import SpecError, parse_cluster_spec
from components.topology.plan import plan_nodes
from tests.stack_runner import example_spec, host_key_for


def ips(spec: dict) -> dict[str, str]:
    return {n.name: str(n.mesh_ip) for n in plan_nodes(parse_cluster_spec(spec))}


def onprem_spec(hosts: list[str]) -> dict:
    spec = example_spec("prod")
    spec["nodeGroups"]["onprem-paris"]["hosts"] = [
        {"name": h, "address": f"192.0.2.{10 + i}", "hostKey": host_key_for(h)} for i, h in enumerate(hosts)
    ]
    return spec


def test_removing_host_2_of_5_renumbers_nobody():
    hosts = [f"box-{i}" for i in range(1, 6)]
    before = ips(onprem_spec(hosts))
    after = ips(onprem_spec([h for h in hosts if h != "box-2"]))
    assert "box-2" not in after
    assert {k: v for k, v in before.items() if k != "box-2"} == after


def test_scaling_a_group_keeps_existing_addresses():
    small, large = example_spec("budget"), example_spec("budget")
    large["nodeGroups"]["vps"]["count"] = 5
    before, after = ips(small), ips(large)
    assert all(after[name] == ip for name, ip in before.items())
    assert len(set(after.values())) == 5


def test_adding_or_removing_a_group_keeps_other_groups():
    base = example_spec("prod")
    without = example_spec("prod")
    del without["nodeGroups"]["gpu-gra"]
    with_more = example_spec("prod")
    with_more["nodeGroups"]["gpu-fsn"] = {
        "provider": "hetzner", "region": "fsn1", "instanceType": "cx32", "count": 2, "roles": ["worker"],
    }
    before = ips(base)
    assert all(before[k] == v for k, v in ips(without).items())
    assert all(before[k] == v for k, v in ips(with_more).items() if k in before)


def test_addresses_are_in_the_mesh_unique_and_outside_the_vip_block():
    for stack in ("prod", "budget", "dev"):
        spec = example_spec(stack)
        mesh = ipaddress.ip_network(spec["network"]["meshCidr"]) if "network" in spec and "meshCidr" in spec["network"] else ipaddress.ip_network("10.42.0.0/16")
        addresses = [ipaddress.ip_address(ip) for ip in ips(spec).values()]
        assert len(set(addresses)) == len(addresses)
        assert all(a in mesh and int(a) - int(mesh.network_address) >= 256 for a in addresses)


def test_same_addresses_in_another_process():
    """Addresses must not depend on Python's per-process hash seed."""
    code = (
        "from components.spec import parse_cluster_spec;"
        "from components.topology.plan import plan_nodes;"
        "from tests.stack_runner import example_spec;"
        "print(sorted((n.name, str(n.mesh_ip)) for n in plan_nodes(parse_cluster_spec(example_spec('prod')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}, cwd=str(__import__("stacks").config.REPO_ROOT))
    assert out.stdout.strip() == str(sorted(ips(example_spec("prod")).items()))


def test_group_collision_is_an_error_with_a_free_block():
    spec = example_spec("prod")
    spec["nodeGroups"]["cp-sbg"]["meshBlock"] = 7
    spec["nodeGroups"]["etcd-gra"]["meshBlock"] = 7
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(spec)
    issue = next(i for i in caught.value.issues if i.path == "cluster.nodeGroups.etcd-gra.meshBlock")
    assert "collide" in issue.message and "set nodeGroups.etcd-gra.meshBlock to a free block" in issue.fix


def test_explicit_mesh_block_places_the_group():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["meshBlock"] = 3
    assert ips(spec) == {"main-1": "10.42.3.1"}


def test_large_group_spans_blocks_without_overlap():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"].update(count=300, meshBlock=10, roles=["worker"])
    spec["nodeGroups"]["cp"] = {"provider": "hetzner", "region": "fsn1", "instanceType": "cx22", "count": 1,
                                "roles": ["control-plane"], "meshBlock": 11}
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(spec)
    assert any("collide" in i.message for i in caught.value.issues)
    spec["nodeGroups"]["cp"]["meshBlock"] = 12
    addresses = ips(spec)
    assert addresses["main-300"] == "10.42.11.44" and addresses["cp-1"] == "10.42.12.1"
