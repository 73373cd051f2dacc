"""Scaleway: every resource lands in the configured project."""

from __future__ import annotations

from tests.stack_runner import example_spec, spec_issues

PROJECT_ID = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SCALEWAY_TYPES = {
    "scaleway:instance/ip:Ip",
    "scaleway:instance/server:Server",
    "scaleway:instance/securityGroup:SecurityGroup",
    "scaleway:instance/placementGroup:PlacementGroup",
    "scaleway:instance/privateNic:PrivateNic",
    "scaleway:network/vpc:Vpc",
    "scaleway:network/privateNetwork:PrivateNetwork",
}


def _prod_on_a_private_network() -> dict:
    spec = example_spec("prod")
    spec["nodeGroups"]["cp-paris"]["privateNetwork"] = True  # brings the VPC, network and NIC too
    return spec


def test_every_scaleway_resource_is_created_in_the_configured_project(stack_run):
    spec = _prod_on_a_private_network()
    spec["providers"]["scaleway"] = {"projectId": PROJECT_ID}
    run = stack_run(spec, stack="prod")
    created = [r for r in run.resources if r.type in SCALEWAY_TYPES]
    assert {r.type for r in created} == SCALEWAY_TYPES
    assert {r.name: r.inputs.get("projectId") for r in created} == {r.name: PROJECT_ID for r in created}


def test_without_a_project_id_the_api_key_default_project_is_used(stack_run):
    run = stack_run(_prod_on_a_private_network(), stack="prod")
    assert [r.name for r in run.resources if r.type in SCALEWAY_TYPES and "projectId" in r.inputs] == []


def test_a_project_id_must_be_a_scaleway_project_id():
    spec = example_spec("prod")
    spec["providers"]["scaleway"] = {"projectId": "my-project"}
    issue = spec_issues(spec)["cluster.providers.scaleway.projectId"]
    assert "'my-project'" in issue and "scw account project list" in issue
