"""Every validation rule, with a bad config; all errors reported at once."""

from __future__ import annotations

import copy

import pytest

from components.spec import SpecError, parse_cluster_spec
from tests.stack_runner import example_spec, spec_issues, host_key_for
from tests.unit.cluster_support import stacked_prod_spec




@pytest.mark.parametrize("stack", ["prod", "budget", "dev", "minwaas", "fleet", "test", "staging", "staging-us"])
def test_example_stacks_are_valid(stack):
    spec = parse_cluster_spec(example_spec(stack))
    assert spec.name == stack


def test_unknown_key_is_an_error_with_the_intended_spelling():
    spec = example_spec("budget")
    spec["nodeGroups"]["vps"]["minReplica"] = 3
    issues = spec_issues(spec)
    assert "cluster.nodeGroups.vps.minReplica" in issues
    assert "did you mean 'minReplicas'" in issues["cluster.nodeGroups.vps.minReplica"]


def test_unknown_top_level_key_is_an_error():
    spec = example_spec("dev")
    spec["netwrok"] = {}
    issues = spec_issues(spec)
    assert "did you mean 'network'" in issues["cluster.netwrok"]


def test_overlapping_cidrs_name_both_fields():
    spec = example_spec("prod")
    spec["network"]["podCidr"] = "10.42.128.0/17"  # inside the mesh
    issues = spec_issues(spec)
    assert "overlaps network.meshCidr" in issues["cluster.network.podCidr"]


def test_provider_private_network_overlap():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["privateNetwork"] = True
    spec["providers"] = {"hetzner": {"networkCidr": "10.42.0.0/24"}}
    issues = spec_issues(spec)
    assert "overlaps network.meshCidr" in issues["cluster.providers.hetzner.networkCidr"]


def test_no_control_plane():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["roles"] = ["worker"]
    issues = spec_issues(spec)
    assert "no node has the control-plane role" in issues["cluster.nodeGroups"]


@pytest.mark.parametrize("servers", [2, 4])
def test_k3s_ha_needs_odd_servers(servers):
    spec = example_spec("budget")
    spec["nodeGroups"]["vps"]["count"] = servers
    issues = spec_issues(spec)
    assert f"odd number >= 3 of servers, got {servers}" in issues["cluster.nodeGroups"]


def test_k3s_ha_asked_with_one_server():
    spec = example_spec("dev")
    spec["ha"] = True
    assert "got 1" in spec_issues(spec)["cluster.nodeGroups"]


def test_k3s_etcd_only_group_is_refused():
    spec = example_spec("budget")
    spec["nodeGroups"]["etcd"] = {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 1, "roles": ["etcd"]}
    issues = spec_issues(spec)
    assert "k3s embeds etcd" in issues["cluster.nodeGroups.etcd.roles"]


def test_kubeadm_external_etcd_must_be_odd():
    spec = example_spec("prod")
    del spec["nodeGroups"]["etcd-paris"]
    issues = spec_issues(spec)
    assert "2 external etcd members" in issues["cluster.nodeGroups"]


SCHEDULE_PATH = "cluster.kubernetes.etcdSnapshots.schedule"


@pytest.mark.parametrize(("schedule", "why"), [
    ("0 3 * * 1", "day/month/weekday fields must be '*'"),  # weekly: valid cron, no fixed period
    ("0,30 * * * *", "use '*/M * * * *'"),
    ("0 */6 * *", "expected 5 cron fields"),
])
def test_external_etcd_snapshot_schedule_must_have_a_fixed_period(schedule, why):
    spec = example_spec("prod")  # kubeadm, dedicated etcd groups
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": schedule}
    issue = spec_issues(spec)[SCHEDULE_PATH]
    assert repr(schedule) in issue and why in issue
    assert "etcd-gra, etcd-fsn, etcd-paris" in issue
    assert "| use '*/M * * * *' (every M minutes), 'M */H * * *' (every H hours) or 'M H * * *' (daily)" in issue


@pytest.mark.parametrize("schedule", ["*/15 * * * *", "10 */2 * * *", "30 2 * * *"])
def test_external_etcd_accepts_the_periodic_schedules(schedule):
    spec = example_spec("prod")
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": schedule}
    assert parse_cluster_spec(spec).kubernetes.etcd_snapshots.schedule == schedule


def test_unsupported_schedule_is_fine_when_etcd_snapshots_are_off():
    spec = example_spec("prod")
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": "0 3 * * 1", "enabled": False}
    parse_cluster_spec(spec)
    stacked = stacked_prod_spec()
    stacked.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": "0 3 * * 1", "enabled": False}
    parse_cluster_spec(stacked)


def test_stacked_etcd_snapshot_schedule_must_have_a_fixed_period_too():
    """Stacked etcd (kubeadm's own, on the control planes) is snapshotted by
    the same scheduler as dedicated members (systemd timer or loop)."""
    spec = stacked_prod_spec()
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": "0 3 * * 1"}
    issue = spec_issues(spec)[SCHEDULE_PATH]
    assert "'0 3 * * 1'" in issue and "day/month/weekday fields must be '*'" in issue
    assert "control planes' (stacked etcd) snapshot scheduler (nodeGroups cp-paris, cp-sbg, cp-fsn)" in issue
    spec["kubernetes"]["etcdSnapshots"] = {"schedule": "30 2 * * *"}
    assert parse_cluster_spec(spec).kubernetes.etcd_snapshots.schedule == "30 2 * * *"


@pytest.mark.parametrize("stack", ["budget", "dev"])
def test_k3s_takes_any_cron_schedule(stack):
    """k3s parses the cron schedule itself (etcd-snapshot-schedule-cron)."""
    spec = example_spec(stack)
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": "0 3 * * 1"}
    assert parse_cluster_spec(spec).kubernetes.etcd_snapshots.schedule == "0 3 * * 1"


def test_bad_snapshot_schedule_is_reported_with_other_errors():
    spec = example_spec("prod")
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": "0 3 * * 1"}
    spec["network"]["podCidr"] = "10.42.128.0/17"  # inside the mesh: a cross-field error
    spec["version"] = "latest"  # a field error
    spec["nodeGroups"]["etcd-fsn"]["region"] = "fsn"  # a broken dedicated etcd group
    issues = spec_issues(spec)
    assert "day/month/weekday" in issues[SCHEDULE_PATH]
    assert "overlaps network.meshCidr" in issues["cluster.network.podCidr"]
    assert "malformed" in issues["cluster.version"]
    assert "unknown hetzner region 'fsn'" in issues["cluster.nodeGroups.etcd-fsn.region"]


def test_a_broken_schedule_value_is_one_field_error():
    spec = example_spec("prod")
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": ["0", "3"]}
    issues = spec_issues(spec)
    assert [p for p in issues if p.startswith("cluster.kubernetes")] == [SCHEDULE_PATH]


def test_duplicate_node_names():
    spec = example_spec("prod")
    spec["nodeGroups"]["onprem-paris"]["hosts"].append({"name": "cp-paris-1", "address": "192.0.2.11", "hostKey": host_key_for("cp-paris-1")})
    issues = spec_issues(spec)
    assert "'cp-paris-1' is used 2 times" in issues["cluster.nodeGroups"]


def test_unknown_instance_type_and_region_suggest_close_names():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["instanceType"] = "cx23x"
    spec["nodeGroups"]["main"]["region"] = "fsn"
    issues = spec_issues(spec)
    assert "unknown hetzner instance type 'cx23x'" in issues["cluster.nodeGroups.main.instanceType"]
    assert "unknown hetzner region 'fsn'" in issues["cluster.nodeGroups.main.region"]
    assert "fsn1" in issues["cluster.nodeGroups.main.region"]


def test_instance_type_of_another_provider_is_unknown():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["instanceType"] = "VPS-3"
    assert "unknown hetzner instance type 'VPS-3'" in spec_issues(spec)["cluster.nodeGroups.main.instanceType"]


@pytest.mark.parametrize("version", ["1.31", "v1.31.x", "2.0.1", "1.31.4-rc1", ""])
def test_malformed_version(version):
    spec = example_spec("dev")
    spec["version"] = version
    assert "malformed" in spec_issues(spec)["cluster.version"]


def test_existing_hosts_need_address_and_user():
    spec = example_spec("prod")
    spec["nodeGroups"]["onprem-paris"]["hosts"] = [{"name": "box-1"}]
    del spec["nodeGroups"]["onprem-paris"]["sshUser"]
    issues = spec_issues(spec)
    assert "has no address" in issues["cluster.nodeGroups.onprem-paris.hosts.0.address"]
    assert "has no SSH user" in issues["cluster.nodeGroups.onprem-paris.hosts.0.sshUser"]


def test_gpus_need_the_worker_role():
    spec = example_spec("prod")
    spec["nodeGroups"]["gpu-paris"]["roles"] = ["etcd"]
    issues = spec_issues(spec)
    assert "GPUs on a group without the worker role" in issues["cluster.nodeGroups.gpu-paris.gpus"]


def test_gpus_on_an_instance_type_without_gpu():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["gpus"] = [{"name": "nvidia.com/L4"}]
    assert "has no GPU" in spec_issues(spec)["cluster.nodeGroups.main.gpus"]


def test_public_cloud_flavor_needs_a_project():
    spec = example_spec("prod")
    del spec["providers"]["ovh"]["cloudProject"]
    assert "needs a project" in spec_issues(spec)["cluster.providers.ovh.cloudProject"]


def test_every_error_is_reported_at_once():
    spec = example_spec("prod")
    spec["network"]["podCidr"] = "10.42.0.0/24"
    spec["nodeGroups"]["gpu-paris"]["roles"] = ["etcd"]
    spec["nodeGroups"]["etcd-fsn"]["instanceType"] = "cx999"
    spec["nodeGroups"]["onprem-paris"]["hosts"][0].pop("address")
    issues = spec_issues(spec)
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
    issues = spec_issues(spec)
    assert {"cluster.version", "cluster.distribution", "cluster.nodeGroups.main.provider"} <= set(issues)
    assert "'k3s'" in issues["cluster.distribution"]


def test_count_and_replicas_are_exclusive():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["minReplicas"] = 1
    assert "exclusive" in spec_issues(spec)["cluster.nodeGroups.main.count"]


def test_pod_cidr_overlapping_the_service_cidr():
    spec = example_spec("dev")
    spec["network"] = {"podCidr": "10.100.0.0/16", "serviceCidr": "10.96.0.0/12"}  # pods inside services
    issues = spec_issues(spec)
    assert "overlaps network.podCidr 10.100.0.0/16" in issues["cluster.network.serviceCidr"]


# Field errors (pydantic) and cross-field errors (rules) in one budget spec.
MIXED_ERRORS = {
    "cluster.version": "malformed",
    "cluster.nodeGroups.vps.labelz": "unknown key",
    "cluster.network.cni": "'cilium' or 'calico'",
    "cluster.network.podCidr": "overlaps network.meshCidr",
    "cluster.nodeGroups": "odd number >= 3 of servers, got 2",
    "cluster.nodeGroups.vps.gpus": "GPUs on a group without the worker role",
    "cluster.nodeGroups.edge.region": "unknown hetzner region 'mars1'",
}


def mixed_errors_spec() -> dict:
    spec = example_spec("budget")
    spec["version"] = "1.31"
    spec["network"]["cni"] = "flannel"
    spec["network"]["podCidr"] = "10.6.128.0/17"  # inside meshCidr 10.6.0.0/16
    vps = spec["nodeGroups"]["vps"]
    vps.update(count=2, roles=["control-plane"], gpus=[{"name": "nvidia.com/AD104GL_L4"}])  # HA k3s, 2 servers
    vps["labelz"] = {"tier": "front"}
    spec["nodeGroups"]["edge"] = {"provider": "hetzner", "region": "mars1", "instanceType": "cx23", "count": 1}
    return spec


def test_field_errors_do_not_hide_cross_field_errors():
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(mixed_errors_spec())
    found: dict[str, str] = {}
    for issue in caught.value.issues:
        found[issue.path] = found.get(issue.path, "") + f" {issue.message} | {issue.fix}"
    for path, text in MIXED_ERRORS.items():
        assert path in found, f"{path} not reported; got {sorted(found)}"
        assert text in found[path]


def test_issues_are_deduplicated_and_in_a_stable_order():
    def issues():
        with pytest.raises(SpecError) as caught:
            parse_cluster_spec(mixed_errors_spec())
        return caught.value.issues

    first = issues()
    assert first == issues()
    assert len(first) == len(set(first))
    assert [i.path for i in first] == sorted(i.path for i in first)
    doubled = SpecError([*first, *first])
    assert doubled.issues == first


def test_a_broken_group_keeps_cluster_wide_rules_off_but_not_its_neighbours():
    spec = example_spec("prod")
    spec["nodeGroups"]["cp-paris"]["count"] = "one"  # control-plane count unknown
    spec["nodeGroups"]["gpu-paris"]["roles"] = ["etcd"]
    spec["nodeGroups"]["etcd-fsn"]["region"] = "fsn"
    issues = spec_issues(spec)
    assert "valid integer" in issues["cluster.nodeGroups.cp-paris.count"]
    assert "GPUs on a group without the worker role" in issues["cluster.nodeGroups.gpu-paris.gpus"]
    assert "unknown hetzner region 'fsn'" in issues["cluster.nodeGroups.etcd-fsn.region"]
    # The etcd member count cannot be judged without cp-paris's count.
    assert "cluster.nodeGroups" not in issues and "cluster.ha" not in issues
    assert [p for p in issues if p.startswith("cluster.nodeGroups.cp-paris")] == ["cluster.nodeGroups.cp-paris.count"]


def test_a_misspelled_key_does_not_also_report_the_field_it_meant():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["instanceTyp"] = spec["nodeGroups"]["main"].pop("instanceType")
    issues = spec_issues(spec)
    assert set(issues) == {"cluster.nodeGroups.main.instanceTyp"}
    assert "did you mean 'instanceType'" in issues["cluster.nodeGroups.main.instanceTyp"]


def test_a_model_check_hidden_by_an_unknown_key_is_reported_too():
    spec = example_spec("dev")
    main = spec["nodeGroups"]["main"]
    del main["count"]
    main.update(minReplicas=3, maxReplicas=2, colour="blue")
    issues = spec_issues(spec)
    assert "unknown key" in issues["cluster.nodeGroups.main.colour"]
    assert "minReplicas must not exceed maxReplicas" in issues["cluster.nodeGroups.main"]


def test_a_bad_catalog_override_does_not_hide_field_errors():
    spec = example_spec("dev")
    spec["version"] = "latest"
    spec["cost"] = {"catalogOverrides": {"instance_types": [{"provider": "hetzner"}]}}
    issues = spec_issues(spec)
    assert "malformed" in issues["cluster.version"]
    assert "price catalog" in issues["cluster.cost.catalogOverrides"]


def _leaf_paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _leaf_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _leaf_paths(value, (*prefix, i))


def test_every_rule_declares_what_it_reads():
    """Undeclared rules would not run at all while any field is invalid."""
    from components.spec.inputs import inputs_of
    from components.spec.rules import RULES

    assert [r.__name__ for r in RULES if inputs_of(r) is None] == []


@pytest.mark.parametrize("stack", ["prod", "budget", "dev", "minwaas", "fleet", "test", "staging", "staging-us"])
def test_any_broken_value_gives_a_spec_error_never_a_crash(stack):
    """Rules run on partial data only where their inputs validated: no crash."""
    base = example_spec(stack)
    for path in _leaf_paths(base):
        for bad in (None, "x", -1, [], {"zzz": 1}, [{"zzz": 1}]):
            spec = copy.deepcopy(base)
            target = spec
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = bad
            try:
                parse_cluster_spec(spec)
            except SpecError as err:
                assert err.issues, path


def test_only_existing_machines_can_be_on_prem():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["onPrem"] = True
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(spec)
    assert any(i.path == "cluster.nodeGroups.main" and "onPrem" in i.message for i in caught.value.issues), \
        caught.value.issues
