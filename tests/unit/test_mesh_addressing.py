"""Mesh IPs are deterministic and never renumbered by other nodes' changes."""

from __future__ import annotations

import ipaddress
import json
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
    without.pop("dataServices")  # its replicas live in gpu-gra's region
    with_more = example_spec("prod")
    with_more["nodeGroups"]["gpu-fsn"] = {
        "provider": "hetzner", "region": "fsn1", "instanceType": "cx32", "count": 2, "roles": ["worker"],
    }
    before = ips(base)
    assert all(before[k] == v for k, v in ips(without).items())
    assert all(before[k] == v for k, v in ips(with_more).items() if k in before)


def test_addresses_are_in_the_mesh_unique_and_outside_the_vip_block():
    from tests.stack_runner import EXAMPLE_STACKS

    for stack in EXAMPLE_STACKS:
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


# -- existing hosts without meshIp: allocated, collision-free, kept by history --

def first_choice(spec: dict, host: str) -> str:
    from components.topology import addressing
    from components.topology.plan import group_ranges

    parsed = parse_cluster_spec(spec)
    group = next(g for g, v in parsed.node_groups.items() if any(h.name == host for h in v.hosts))
    return str(addressing.host_address(parsed.network.mesh_cidr, group_ranges(parsed)[group], host))


def test_hosts_whose_names_hash_to_one_address_still_get_distinct_addresses():
    # s1..s3 is what the issue reports: with a plain hash of the name two of
    # them land on one address.
    spec = onprem_spec(["s1", "s2", "s3"])
    assert len({first_choice(spec, h) for h in ("s1", "s2", "s3")}) < 3
    addresses = ips(spec)
    assert len({addresses[h] for h in ("s1", "s2", "s3")}) == 3


def test_sixty_hosts_plan_without_meship_and_with_unique_addresses_in_their_block():
    names = [f"node-{i:02d}" for i in range(60)]
    spec = onprem_spec(names)
    addresses = ips(spec)
    mine = [ipaddress.ip_address(addresses[n]) for n in names]
    assert len(set(mine)) == 60
    block = {ipaddress.ip_network(f"{a}/24", strict=False) for a in mine}
    assert len(block) == 1 and all(0 < int(a) % 256 < 255 for a in mine)
    assert len(set(addresses.values())) == len(addresses)


def _run_with_history(spec: dict, history: dict | None):
    from stacks.plan.fake_cloud import FakeCloud
    from stacks.plan.fakes.state import recorded_stack_outputs
    from tests.stack_runner import run_spec

    cloud = FakeCloud()
    if history is not None:
        recorded_stack_outputs(cloud, "organization/sovereign-cloud/test", {"meshAddresses": history, "nodes": []})
    return run_spec(spec, cloud=cloud)


def _displaced_pair(names: list[str]) -> tuple[str, str]:
    """(x, y): y's first choice is the address x got, so y had to probe past x."""
    spec = onprem_spec(names)
    addresses = ips(spec)
    for y in names:
        wanted = first_choice(spec, y)
        if addresses[y] != wanted:
            x = next(n for n in names if addresses[n] == wanted)
            return x, y
    raise AssertionError("no host was displaced; use more hosts")


def test_removing_a_host_keeps_every_other_host_at_its_recorded_address():
    names = [f"node-{i:02d}" for i in range(40)]
    first = _run_with_history(onprem_spec(names), None)
    recorded = first.outputs["meshAddresses"]
    assert {n: recorded[n] for n in names} == {n: ips(onprem_spec(names))[n] for n in names}
    x, y = _displaced_pair(names)
    remaining = [n for n in names if n != x]
    # Without the stack's memory, y would move into the slot x left.
    assert ips(onprem_spec(remaining))[y] != recorded[y]
    second = _run_with_history(onprem_spec(remaining), recorded)
    after = second.outputs["meshAddresses"]
    assert x not in after
    assert all(after[n] == recorded[n] for n in remaining)
    # The WireGuard address configured on y's node is the recorded one.
    wg = next(r for r in second.resources if r.type == "command:remote:Command" and r.name.endswith(f"{y}-wg-apply"))
    assert f"{recorded[y]}/" in json.dumps(wg.inputs)


def test_a_new_host_never_takes_an_address_recorded_for_another():
    names = [f"node-{i:02d}" for i in range(40)]
    x, y = _displaced_pair(names)
    recorded = _run_with_history(onprem_spec(names), None).outputs["meshAddresses"]
    # x leaves and comes back later under a new name whose first choice is
    # y's recorded address: the newcomer probes on, y stays.
    newcomer = next(f"new-{i}" for i in range(5000) if first_choice(onprem_spec(names + [f"new-{i}"]), f"new-{i}") == recorded[y])
    grown = _run_with_history(onprem_spec([n for n in names if n != x] + [newcomer]), recorded).outputs["meshAddresses"]
    assert grown[y] == recorded[y]
    assert grown[newcomer] not in {grown[n] for n in grown if n != newcomer}


def test_an_explicit_meship_wins_over_an_allocation_and_the_allocated_host_moves():
    names = ["s1", "s2", "s3", "s4"]
    spec = onprem_spec(names)
    taken = ips(spec)["s2"]
    spec["nodeGroups"]["onprem-paris"]["hosts"][3]["meshIp"] = taken
    addresses = ips(spec)
    assert addresses["s4"] == taken and addresses["s2"] != taken
    assert len({addresses[n] for n in names}) == 4


def test_a_recorded_address_outside_the_hosts_new_group_is_not_kept():
    names = ["s1", "s2", "s3"]
    recorded = _run_with_history(onprem_spec(names), None).outputs["meshAddresses"]
    spec = onprem_spec(names)
    spec["nodeGroups"]["onprem-paris"]["meshBlock"] = 200
    moved = _run_with_history(spec, recorded).outputs["meshAddresses"]
    assert all(moved[n].startswith("10.42.200.") for n in names)


def test_two_equal_explicit_meship_values_are_one_error_naming_both_hosts():
    spec = onprem_spec(["s1", "s2", "s3"])
    for host in spec["nodeGroups"]["onprem-paris"]["hosts"][:2]:
        host["meshIp"] = "10.42.0.77"
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(spec)
    same = [i for i in caught.value.issues if "same mesh IP" in i.message]
    assert len(same) == 1 and "s1 and s2" in same[0].fix


def test_a_group_of_more_hosts_than_its_block_holds_is_refused_with_the_fix():
    spec = onprem_spec([f"n{i}" for i in range(255)])
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(spec)
    issue = next(i for i in caught.value.issues if i.path == "cluster.nodeGroups.onprem-paris.hosts")
    assert "255 hosts" in issue.message and "split" in issue.fix


@pytest.mark.parametrize("recorded", [["10.42.1.1"], {"s1": "not-an-ip"}, {"s1": "fd00::1"}])
def test_a_corrupt_recorded_history_stops_the_program_before_anything_is_created(recorded):
    with pytest.raises(Exception) as caught:
        _run_with_history(onprem_spec(["s1", "s2", "s3"]), recorded)
    assert "meshAddresses" in str(caught.value)
    assert caught.value.registered_resources == []


def test_an_unreadable_stack_state_stops_the_program_before_anything_is_created():
    from stacks.plan.fake_cloud import FakeCloud
    from tests.stack_runner import run_spec

    class Unreadable(FakeCloud):
        def call(self, args):
            if args.token == "pulumi:pulumi:readStackOutputs":
                raise Exception("backend unreachable")
            return super().call(args)

    with pytest.raises(Exception) as caught:
        run_spec(onprem_spec(["s1", "s2", "s3"]), cloud=Unreadable())
    assert "backend unreachable" in str(caught.value)
    assert caught.value.registered_resources == []


def test_a_transient_checkpoint_read_is_retried_and_any_other_failure_is_not():
    from stacks.plan.fake_cloud import FakeCloud, InvokeError
    from tests.stack_runner import run_spec

    class Flaky(FakeCloud):
        """The DIY backend's checkpoint read empty twice, then as recorded."""

        def __init__(self, error: str, failures: int):
            super().__init__()
            self.error, self.failures, self.reads = error, failures, 0

        def call(self, args):
            if args.token == "pulumi:pulumi:readStackOutputs":
                self.reads += 1
                if self.reads <= self.failures:
                    raise InvokeError(self.error)  # a gRPC status, as the engine answers
            return super().call(args)

    transient = Flaky("invocation of pulumi:pulumi:readStackOutputs returned an error: failed to load checkpoint: EOF", 2)
    run = run_spec(onprem_spec(["s1", "s2", "s3"]), cloud=transient)
    assert transient.reads == 3 and set(run.outputs["meshAddresses"]) >= {"s1", "s2", "s3"}

    final = Flaky("no stack named 'organization/sovereign-cloud/test' found", 1)
    with pytest.raises(Exception) as caught:
        run_spec(onprem_spec(["s1", "s2", "s3"]), cloud=final)
    assert final.reads == 1 and "no stack named" in str(caught.value)
    assert caught.value.registered_resources == []
