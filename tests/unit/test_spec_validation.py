"""Every validation rule, with a bad config; all errors reported at once."""

from __future__ import annotations

import pytest

from components.spec import SpecError, parse_cluster_spec
from tests.stack_runner import example_spec


def issues_of(spec: dict) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(spec)
    return {i.path: f"{i.message} | {i.fix}" for i in caught.value.issues}


@pytest.mark.parametrize("stack", ["prod", "budget", "dev"])
def test_example_stacks_are_valid(stack):
    spec = parse_cluster_spec(example_spec(stack))
    assert spec.name == stack


def test_unknown_key_is_an_error_with_the_intended_spelling():
    spec = example_spec("budget")
    spec["nodeGroups"]["vps"]["minReplica"] = 3
    issues = issues_of(spec)
    assert "cluster.nodeGroups.vps.minReplica" in issues
    assert "did you mean 'minReplicas'" in issues["cluster.nodeGroups.vps.minReplica"]


def test_unknown_top_level_key_is_an_error():
    spec = example_spec("dev")
    spec["netwrok"] = {}
    issues = issues_of(spec)
    assert "did you mean 'network'" in issues["cluster.netwrok"]


def test_overlapping_cidrs_name_both_fields():
    spec = example_spec("prod")
    spec["network"]["podCidr"] = "10.42.128.0/17"  # inside the mesh
    issues = issues_of(spec)
    assert "overlaps network.meshCidr" in issues["cluster.network.podCidr"]


def test_provider_private_network_overlap():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["privateNetwork"] = True
    spec["providers"] = {"hetzner": {"networkCidr": "10.42.0.0/24"}}
    issues = issues_of(spec)
    assert "overlaps network.meshCidr" in issues["cluster.providers.hetzner.networkCidr"]


def test_no_control_plane():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["roles"] = ["worker"]
    issues = issues_of(spec)
    assert "no node has the control-plane role" in issues["cluster.nodeGroups"]


@pytest.mark.parametrize("servers", [2, 4])
def test_k3s_ha_needs_odd_servers(servers):
    spec = example_spec("budget")
    spec["nodeGroups"]["vps"]["count"] = servers
    issues = issues_of(spec)
    assert f"odd number >= 3 of servers, got {servers}" in issues["cluster.nodeGroups"]


def test_k3s_ha_asked_with_one_server():
    spec = example_spec("dev")
    spec["ha"] = True
    assert "got 1" in issues_of(spec)["cluster.nodeGroups"]


def test_k3s_etcd_only_group_is_refused():
    spec = example_spec("budget")
    spec["nodeGroups"]["etcd"] = {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 1, "roles": ["etcd"]}
    issues = issues_of(spec)
    assert "k3s embeds etcd" in issues["cluster.nodeGroups.etcd.roles"]


def test_kubeadm_external_etcd_must_be_odd():
    spec = example_spec("prod")
    del spec["nodeGroups"]["etcd-paris"]
    issues = issues_of(spec)
    assert "2 external etcd members" in issues["cluster.nodeGroups"]


def test_duplicate_node_names():
    spec = example_spec("prod")
    spec["nodeGroups"]["onprem-paris"]["hosts"].append({"name": "cp-paris-1", "address": "192.0.2.11"})
    issues = issues_of(spec)
    assert "'cp-paris-1' is used 2 times" in issues["cluster.nodeGroups"]


def test_unknown_instance_type_and_region_suggest_close_names():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["instanceType"] = "cx23x"
    spec["nodeGroups"]["main"]["region"] = "fsn"
    issues = issues_of(spec)
    assert "unknown hetzner instance type 'cx23x'" in issues["cluster.nodeGroups.main.instanceType"]
    assert "unknown hetzner region 'fsn'" in issues["cluster.nodeGroups.main.region"]
    assert "fsn1" in issues["cluster.nodeGroups.main.region"]


def test_instance_type_of_another_provider_is_unknown():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["instanceType"] = "VPS-3"
    assert "unknown hetzner instance type 'VPS-3'" in issues_of(spec)["cluster.nodeGroups.main.instanceType"]


@pytest.mark.parametrize("version", ["1.31", "v1.31.x", "2.0.1", "1.31.4-rc1", ""])
def test_malformed_version(version):
    spec = example_spec("dev")
    spec["version"] = version
    assert "malformed" in issues_of(spec)["cluster.version"]


def test_existing_hosts_need_address_and_user():
    spec = example_spec("prod")
    spec["nodeGroups"]["onprem-paris"]["hosts"] = [{"name": "box-1"}]
    del spec["nodeGroups"]["onprem-paris"]["sshUser"]
    issues = issues_of(spec)
    assert "has no address" in issues["cluster.nodeGroups.onprem-paris.hosts.0.address"]
    assert "has no SSH user" in issues["cluster.nodeGroups.onprem-paris.hosts.0.sshUser"]


def test_gpus_need_the_worker_role():
    spec = example_spec("prod")
    spec["nodeGroups"]["gpu-paris"]["roles"] = ["etcd"]
    issues = issues_of(spec)
    assert "GPUs on a group without the worker role" in issues["cluster.nodeGroups.gpu-paris.gpus"]


def test_gpus_on_an_instance_type_without_gpu():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["gpus"] = [{"name": "nvidia.com/L4"}]
    assert "has no GPU" in issues_of(spec)["cluster.nodeGroups.main.gpus"]


def test_public_cloud_flavor_needs_a_project():
    spec = example_spec("prod")
    del spec["providers"]["ovh"]["cloudProject"]
    assert "needs a project" in issues_of(spec)["cluster.providers.ovh.cloudProject"]


def test_every_error_is_reported_at_once():
    spec = example_spec("prod")
    spec["network"]["podCidr"] = "10.42.0.0/24"
    spec["nodeGroups"]["gpu-paris"]["roles"] = ["etcd"]
    spec["nodeGroups"]["etcd-fsn"]["instanceType"] = "cx999"
    spec["nodeGroups"]["onprem-paris"]["hosts"][0].pop("address")
    issues = issues_of(spec)
    assert {
        "cluster.network.podCidr",
        "cluster.nodeGroups.gpu-paris.gpus",
        "cluster.nodeGroups.etcd-fsn.instanceType",
        "cluster.nodeGroups.onprem-paris.hosts.0.address",
    } <= set(issues)


def test_field_errors_are_all_reported_at_once():
    spec = example_spec("dev")
    spec["version"] = "latest"
    spec["distribution"] = "k8s"
    spec["nodeGroups"]["main"]["provider"] = "aws"
    issues = issues_of(spec)
    assert {"cluster.version", "cluster.distribution", "cluster.nodeGroups.main.provider"} <= set(issues)
    assert "'k3s'" in issues["cluster.distribution"]


def test_count_and_replicas_are_exclusive():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["minReplicas"] = 1
    assert "exclusive" in issues_of(spec)["cluster.nodeGroups.main.count"]
