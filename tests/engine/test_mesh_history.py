"""Existing hosts keep their allocated mesh addresses across updates under
the real engine: the program reads its own stack's last outputs through the
engine's built-in ``readStackOutputs`` (components/topology/history.py).

Workers w16 and w20 hash to the same address: w16 takes it, w20 the next
one. When w16 leaves, a program without memory would move w20 into the freed
address (renumbering a running node); with the stack's outputs it stays.
"""

from __future__ import annotations

import ipaddress

import pytest

from components.spec import parse_cluster_spec
from components.topology.plan import plan_nodes
from tests.engine.program_stack import NO_KUBERNETES_OBJECTS, ProgramStack, existing_hosts_spec

CONTROL_PLANES = ["c0", "c1", "c2"]


def spec_with(workers: list[str]) -> dict:
    spec = existing_hosts_spec(3 + len(workers), names=CONTROL_PLANES + workers, mesh_ips=False)
    for group in spec["nodeGroups"].values():
        for host in group["hosts"]:  # an address of its own, whoever else is listed
            host["address"] = f"198.51.100.{100 + int(host['name'][1:])}"
    return spec


@pytest.fixture(scope="module")
def kubernetes_engine():
    from tests.engine.conftest import engine_or_skip

    return engine_or_skip("cli", "python", "kubernetes")


def test_a_host_leaving_does_not_renumber_the_host_that_had_to_step_aside(kubernetes_engine, plugins, tmp_path):
    fresh = {n.name: str(n.mesh_ip) for n in plan_nodes(parse_cluster_spec(spec_with(["w16", "w20"])))}
    assert ipaddress.ip_address(fresh["w20"]) == ipaddress.ip_address(fresh["w16"]) + 1
    # Without memory, w20 would take w16's address once w16 is gone.
    without_w16 = {n.name: str(n.mesh_ip) for n in plan_nodes(parse_cluster_spec(spec_with(["w20"])))}
    assert without_w16["w20"] == fresh["w16"]

    program = ProgramStack(kubernetes_engine, plugins, tmp_path, plan_only=True)
    program.set_spec(spec_with(["w16", "w20"]))
    program.up_without_kubernetes_objects()
    recorded = program.stack.outputs()["meshAddresses"]
    assert recorded == fresh

    # A preview reads the same memory: of w20 only its peer list changes
    # (w16 leaves it); its address, join and firewall stay as they are.
    program.set_spec(spec_with(["w20"]))
    changed = {s.name for s in program.stack.preview(*NO_KUBERNETES_OBJECTS) if s.op != "same"}
    assert {name for name in changed if "-w20-" in name} == {"lab-mesh-w20-wg-apply"}, changed
    program.up_without_kubernetes_objects()
    after = program.stack.outputs()["meshAddresses"]
    assert after == {name: ip for name, ip in recorded.items() if name != "w16"}

    # A host joining later may not take an address another host holds.
    program.set_spec(spec_with(["w20", "w16"]))
    program.up_without_kubernetes_objects()
    rejoined = program.stack.outputs()["meshAddresses"]
    assert rejoined["w20"] == recorded["w20"] and rejoined["w16"] == recorded["w16"]
