"""Rook-Ceph (issue 13): layouts from the topology, refusals, the 4 GB
footprint, the udev rule for USB sticks, monitoring, the program's resources.

Layouts: seed 001 (one region: 3 control planes hosting monitors, 3
dedicated 4 GB Ceph hosts with 2 USB sticks each), three regions, and a
stretch cluster (two data zones and an arbiter).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.platform.sizing import resources_per_node
from components.platform.values import memory_mib
from components.remote.command import script_of
from components.spec import catalog_for, parse_cluster_spec
from components.storage.layout import ceph_layout
from components.storage.values import CLUSTER, OPERATOR, ceph_objects
from tests.stack_runner import example_spec, run_spec, spec_issues
from tests.unit.platform_support import RELEASE

ROOK = "cluster.storage.rookCeph"
SCRIPT = Path(__file__).resolve().parents[2] / "components" / "storage" / "scripts" / "ceph-usb-as-scsi.sh"
USB = "/dev/disk/by-id/usb-SanDisk_Cruzer_Blade_{}-0:0"


def _base(name: str) -> dict:
    spec = example_spec("dev")
    spec["name"] = name
    spec["ha"] = True
    spec["addons"] = {"profile": "small"}
    return spec


def seed_001_spec() -> dict:
    """Seed 001: K3s on 4 GB machines, monitors on the 3 control planes, 3
    tainted Ceph hosts with 2 USB sticks each (6 OSDs)."""
    spec = _base("waas")
    spec["nodeGroups"] = {
        "cp": {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 3,
               "roles": ["control-plane", "worker"]},
        "ceph": {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 3, "roles": ["worker"],
                 "taints": [{"key": "sovereign.cloud/storage", "effect": "NoSchedule"}]},
    }
    spec["storage"] = {"class": "rook-ceph", "rookCeph": {
        "groups": {"ceph": {"usbAsScsi": True, "nodeDevices": {
            f"ceph-{i}": [USB.format(f"{i}a"), USB.format(f"{i}b")] for i in (1, 2, 3)}}},
        "monGroups": ["cp"]}}
    spec["addons"] |= {"monitoring": {"enabled": True}, "vault": {"enabled": True}}
    return spec


def three_region_spec() -> dict:
    """One 16 GB node per region, the standard profile."""
    spec = _base("tri")
    spec["addons"]["profile"] = "standard"
    spec["nodeGroups"] = {
        region: {"provider": "hetzner", "region": region, "instanceType": "cx43", "count": 1,
                 "roles": ["control-plane", "worker"]}
        for region in ("fsn1", "nbg1", "hel1")}
    spec["storage"] = {"class": "rook-ceph", "rookCeph": {
        "groups": {region: {"deviceFilter": "^sdb$"} for region in ("fsn1", "nbg1", "hel1")}}}
    return spec


def stretch_spec(latency_ms: float = 3) -> dict:
    """Two data zones (fsn1, nbg1) of 2 nodes each, a small arbiter in hel1."""
    spec = _base("stretch")
    group = {"provider": "hetzner", "instanceType": "cx33", "count": 2, "roles": ["control-plane", "worker"]}
    spec["nodeGroups"] = {
        "fsn": group | {"region": "fsn1"},
        "nbg": group | {"region": "nbg1", "roles": ["worker"]},
        "arbiter": {"provider": "hetzner", "region": "hel1", "instanceType": "cx23", "count": 1,
                    "roles": ["control-plane", "worker"]},
    }
    spec["network"] = {"latencies": [{"from": "fsn1", "to": "nbg1", "ms": latency_ms},
                                     {"from": "fsn1", "to": "hel1", "ms": 25}]}
    spec["storage"] = {"class": "rook-ceph", "rookCeph": {
        "groups": {"fsn": {"deviceFilter": "^sdb$"}, "nbg": {"deviceFilter": "^sdb$"}},
        "monGroups": ["fsn", "nbg", "arbiter"]}}
    return spec


def _cluster_values(run) -> dict:
    (release,) = [r for r in run.of_type(RELEASE) if r.inputs["name"] == CLUSTER]
    return release.inputs["values"]


def _objects(values: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for obj in ceph_objects(values):
        out.setdefault(obj["kind"], []).append(obj)
    return out


# -- seed 001: one region, 4 GB nodes -----------------------------------------

@pytest.fixture(scope="module")
def seed_001():
    return run_spec(seed_001_spec(), stack="waas")


def test_one_region_replicates_across_hosts_with_three_monitors_on_the_control_planes(seed_001):
    values = _cluster_values(seed_001)
    cluster = values["cephClusterSpec"]
    assert cluster["mon"]["count"] == 3 and cluster["mgr"]["count"] == 1
    assert "stretchCluster" not in cluster["mon"]
    objects = _objects(values)
    (pool,) = objects["CephBlockPool"]
    assert pool["spec"]["failureDomain"] == "host" and pool["spec"]["replicated"]["size"] == 3
    (sc,) = objects["StorageClass"]
    assert sc["metadata"]["name"] == "replicated"
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert sc["provisioner"].endswith("rbd.csi.ceph.com") and sc["parameters"]["pool"] == "replicated"
    # Monitors and managers on the labelled control planes, OSDs on the Ceph hosts.
    mon_term = cluster["placement"]["mon"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert mon_term["nodeSelectorTerms"][0]["matchExpressions"][0]["key"] == "sovereign.cloud/ceph-mon"
    assert {"key": "sovereign.cloud/storage", "effect": "NoSchedule", "operator": "Exists"} in \
        cluster["placement"]["all"]["tolerations"]


def test_only_the_listed_devices_of_the_ceph_hosts_become_osds(seed_001):
    storage = _cluster_values(seed_001)["cephClusterSpec"]["storage"]
    assert storage["useAllDevices"] is False and storage["useAllNodes"] is False
    assert [n["name"] for n in storage["nodes"]] == ["ceph-1", "ceph-2", "ceph-3"]
    assert storage["nodes"][1]["devices"] == [{"name": USB.format("2a")}, {"name": USB.format("2b")}]


def test_chart_defaults_never_reach_a_4gb_node(seed_001):
    values = _cluster_values(seed_001)
    resources = values["cephClusterSpec"]["resources"]
    osd = resources["osd"]
    limit = memory_mib(osd["limits"]["memory"])
    # Rook hands the limit to Ceph: osd_memory_target = 0.8 x limit must stay >= 896 MiB ...
    assert 0.8 * limit >= 896
    # ... and two OSDs must fit a 4 GB node (the chart's 4 Gi would not fit one).
    assert 2 * limit < 4096 - 1224
    assert memory_mib(osd["requests"]["memory"]) == limit  # counted in full in the per-node table
    # The OSD prepare job gets no memory limit (a one-off burst must not be OOM-killed).
    assert "memory" not in (resources["prepareosd"].get("limits") or {})
    # Lists replace the chart's: no default filesystem (4 Gi MDS) or object store.
    assert values["cephFileSystems"] == [] and values["cephObjectStores"] == []
    for daemon in ("mon", "mgr", "mgr-sidecar", "osd", "prepareosd", "crashcollector", "logcollector", "cleanup",
                   "exporter"):
        assert daemon in resources, f"the chart's default {daemon} resources would apply"


def test_memory_table_counts_ceph_daemons_and_shows_what_is_left():
    spec_dict = seed_001_spec()
    rows = {r.node: r for r in resources_per_node(parse_cluster_spec(spec_dict), catalog_for(spec_dict))}
    ceph, cp = rows["ceph-1"], rows["cp-1"]
    assert ceph.workloads.count("ceph-osd") == 2 and "ceph-mon" not in ceph.workloads
    assert {"ceph-mon", "ceph-mgr", "csi-rbdplugin", "rook-ceph-operator"} <= set(cp.workloads)
    assert "ceph-osd" not in cp.workloads
    # Two OSDs of >= 1120 MiB (the 896 MiB floor / 0.8) are on each Ceph host.
    assert ceph.memory_mib >= 2 * 1120
    assert ceph.node_memory_mib == 4096
    for row in rows.values():
        assert row.left_for_workloads_mib is not None and row.left_for_workloads_mib > 0, row


def test_the_standard_profile_is_refused_on_4gb_ceph_hosts():
    spec = seed_001_spec()
    spec["addons"]["profile"] = "standard"
    issues = spec_issues(spec)
    assert "OSD" in issues["cluster.addons.profile"] and "ceph-1" in issues["cluster.addons.profile"]
    assert "small" in issues["cluster.addons.profile"].split("|")[1]


def test_an_escape_hatch_cannot_sneak_big_or_starved_osds_in():
    spec = seed_001_spec()
    spec["storage"]["rookCeph"]["values"] = {"cephClusterSpec": {"resources": {"osd": {"limits": {"memory": "4Gi"}}}}}
    assert "4096 MiB" in spec_issues(spec)[f"{ROOK}.values"]
    spec["storage"]["rookCeph"]["values"] = {"cephClusterSpec": {"resources": {"osd": {"limits": {"memory": "1Gi"}}}}}
    assert "896 MiB floor" in spec_issues(spec)[f"{ROOK}.values"]


def test_usb_sticks_get_the_udev_rule_before_the_osds_are_prepared(seed_001):
    commands = {r.name: r for r in seed_001.resources if "usb-as-scsi" in r.name}
    assert sorted(n.rsplit("-", 2)[-2] + "-" + n.rsplit("-", 1)[-1] for n in commands) == ["ceph-1", "ceph-2", "ceph-3"]
    create = script_of(next(iter(commands.values())).inputs["create"])
    delete = script_of(next(iter(commands.values())).inputs["delete"])
    assert "export ACTION=apply" in create and "export ACTION=remove" in delete
    (cluster,) = [r for r in seed_001.of_type(RELEASE) if r.inputs["name"] == CLUSTER]
    assert {c.urn for c in commands.values()} <= set(cluster.dependencies)
    (operator,) = [r for r in seed_001.of_type(RELEASE) if r.inputs["name"] == OPERATOR]
    assert operator.urn in cluster.dependencies
    assert cluster.inputs["version"].startswith("v1.19.") and operator.inputs["version"] == cluster.inputs["version"]


def test_volume_users_claim_the_replicated_class_after_the_ceph_cluster(seed_001):
    (vault,) = [r for r in seed_001.of_type(RELEASE) if r.inputs["name"] == "vault"]
    (cluster,) = [r for r in seed_001.of_type(RELEASE) if r.inputs["name"] == CLUSTER]
    assert vault.inputs["values"]["server"]["dataStorage"]["storageClass"] == "replicated"
    assert cluster.urn in vault.dependencies


def test_monitoring_scrapes_ceph_and_alerts_on_health_osds_and_fullness(seed_001):
    values = _cluster_values(seed_001)
    assert values["monitoring"] == {"enabled": True, "createPrometheusRules": True}
    (rules,) = [r for r in seed_001.resources if r.inputs.get("kind") == "PrometheusRule"]
    ceph = next(g for g in rules.inputs["spec"]["groups"] if "ceph" in g["name"])
    exprs = {r["alert"]: r["expr"] for r in ceph["rules"]}
    assert exprs["CephHealthWarning"] == "ceph_health_status == 1"
    assert "ceph_osd_up == 0" == exprs["CephOSDDown"]
    assert "ceph_osd_stat_bytes_used" in exprs["CephOSDNearFull"]
    # The ServiceMonitor the cluster chart writes needs the Prometheus operator's CRDs first.
    (ns,) = [r for r in seed_001.resources if r.name.endswith("ns-rook-ceph")]
    (kps,) = [r for r in seed_001.of_type(RELEASE) if r.inputs["name"] == "kube-prometheus-stack"]
    assert kps.urn in ns.dependencies


def test_standard_ceph_daemons_are_refused_on_8gb_hyperconverged_nodes():
    """The chart-sized daemons (4 Gi OSD, 2 Gi monitor, 1 Gi manager) do not fit 8 GB with the kubelet reservations."""
    spec = three_region_spec()
    for group in spec["nodeGroups"].values():
        group["instanceType"] = "cx33"
    issue = spec_issues(spec)["cluster.addons.profile"]
    assert "plus a monitor and a manager" in issue and "8192 MiB" in issue


def test_no_ceph_rules_without_rook():
    run = run_spec(example_spec("prod") | {"name": "prodnoceph"})
    # prod's PrometheusRules: the platform's and (dataServices) the PostgreSQL lag alerts.
    rules = [r for r in run.resources if r.inputs.get("kind") == "PrometheusRule"]
    assert rules and not any("ceph" in g["name"] for r in rules for g in r.inputs["spec"]["groups"])


# -- three regions, stretch ----------------------------------------------------

def test_three_regions_replicate_across_zones():
    values = _cluster_values(run_spec(three_region_spec(), stack="tri"))
    (pool,) = _objects(values)["CephBlockPool"]
    assert pool["spec"]["failureDomain"] == "zone" and pool["spec"]["replicated"]["size"] == 3
    assert values["cephClusterSpec"]["mon"]["count"] == 3
    # Standard profile: two managers.
    assert values["cephClusterSpec"]["mgr"]["count"] == 2


def test_two_data_zones_and_an_arbiter_make_a_stretch_cluster():
    values = _cluster_values(run_spec(stretch_spec(), stack="stretch"))
    mon = values["cephClusterSpec"]["mon"]
    assert mon["count"] == 5
    zones = mon["stretchCluster"]["zones"]
    assert {z["name"] for z in zones} == {"fsn1", "nbg1", "hel1"}
    assert [z["name"] for z in zones if z.get("arbiter")] == ["hel1"]
    assert mon["stretchCluster"]["failureDomainLabel"] == "topology.kubernetes.io/zone"
    (pool,) = _objects(values)["CephBlockPool"]
    assert pool["spec"]["failureDomain"] == "zone"
    assert pool["spec"]["replicated"]["size"] == 4 and pool["spec"]["replicated"]["replicasPerFailureDomain"] == 2
    # No OSD in the arbiter zone.
    assert {n["name"] for n in values["cephClusterSpec"]["storage"]["nodes"]} == {"fsn-1", "fsn-2", "nbg-1", "nbg-2"}


def test_stretch_across_a_slow_link_is_refused():
    issues = spec_issues(stretch_spec(latency_ms=15))
    assert "15 ms" in issues[f"{ROOK}.groups"] and "10 ms" in issues[f"{ROOK}.groups"]


def test_stretch_needs_two_osd_hosts_per_data_zone():
    spec = stretch_spec()
    spec["nodeGroups"]["nbg"]["count"] = 1
    issues = spec_issues(spec)
    assert "zone nbg1" in issues[f"{ROOK}.groups"]


# -- refusals --------------------------------------------------------------------

def test_three_replicas_on_two_storage_hosts_are_refused():
    spec = seed_001_spec()
    spec["nodeGroups"]["ceph"]["count"] = 2
    del spec["storage"]["rookCeph"]["groups"]["ceph"]["nodeDevices"]["ceph-3"]
    issue = spec_issues(spec)[f"{ROOK}.replicas"]
    assert "3 replicas" in issue and "2 host(s)" in issue


def test_two_zones_without_an_arbiter_are_refused_with_the_stretch_fix():
    spec = stretch_spec()
    spec["storage"]["rookCeph"]["monGroups"] = ["fsn", "nbg"]
    message, fix = spec_issues(spec)[f"{ROOK}.replicas"].split(" | ")
    assert "2 zone(s)" in message and "third zone" in fix


def test_device_paths_and_groups_are_checked_all_at_once():
    spec = seed_001_spec()
    spec["storage"]["rookCeph"]["groups"]["ceph"] = {"devices": ["/dev/sdb"]}
    spec["version"] = "one"
    issues = spec_issues(spec)
    assert "/dev/disk/by-id/" in issues[f"{ROOK}.groups.ceph.devices"]
    assert "cluster.version" in issues


def test_unknown_groups_and_strangers_in_node_devices_are_named():
    spec = seed_001_spec()
    spec["storage"]["rookCeph"]["monGroups"] = ["control"]
    issues = spec_issues(spec)
    assert "'control' does not exist" in issues[f"{ROOK}.monGroups"]
    spec = seed_001_spec()
    spec["storage"]["rookCeph"]["groups"]["ceph"]["nodeDevices"]["cp-1"] = [USB.format("x")]
    assert "not a node of group 'ceph'" in spec_issues(spec)[f"{ROOK}.groups.ceph.nodeDevices.cp-1"]


def test_every_disk_and_no_disk_are_refused():
    spec = seed_001_spec()
    spec["storage"]["rookCeph"]["groups"]["ceph"] = {"deviceFilter": ".*"}
    assert "every disk" in spec_issues(spec)[f"{ROOK}.groups.ceph.deviceFilter"]
    spec["storage"]["rookCeph"]["groups"]["ceph"] = {}
    assert "never takes every disk" in spec_issues(spec)[f"{ROOK}.groups.ceph"]


def test_a_rook_layout_with_another_class_is_refused():
    spec = seed_001_spec()
    spec["storage"]["class"] = "local-path"
    assert "ignored" in spec_issues(spec)[ROOK]


def test_layout_reads_zones_from_user_labels():
    """Zones are the topology.kubernetes.io/zone labels when the user sets them."""
    spec = seed_001_spec()
    spec["nodeGroups"]["ceph"]["count"] = 1
    spec["storage"]["rookCeph"]["groups"]["ceph"]["nodeDevices"] = {"ceph-1": [USB.format("1a")]}
    for i, zone in enumerate(("rack-a", "rack-b")):
        spec["nodeGroups"][f"ceph{i}"] = dict(spec["nodeGroups"]["ceph"], labels={"topology.kubernetes.io/zone": zone})
        spec["storage"]["rookCeph"]["groups"][f"ceph{i}"] = {"deviceFilter": "^sdb$"}
    layout = ceph_layout(parse_cluster_spec(spec))
    assert layout.failure_domain == "zone" and {n.zone for n in layout.osd_nodes} == {"fsn1", "rack-a", "rack-b"}


# -- the udev script ---------------------------------------------------------------

@pytest.fixture
def udev_sandbox(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "udevadm.log"
    stub = bin_dir / "udevadm"
    stub.write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\n')
    stub.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "RULE_FILE": str(tmp_path / "rules.d" / "61-test.rules")}
    return env, log


def _run(env: dict, action: str) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("bash") or "/bin/bash", str(SCRIPT)], env=env | {"ACTION": action},
                          capture_output=True, text=True, timeout=30)


def test_udev_rule_is_installed_once_and_removed(udev_sandbox):
    env, log = udev_sandbox
    first = _run(env, "apply")
    assert first.returncode == 0, first.stderr
    rule = Path(env["RULE_FILE"]).read_text()
    assert 'ENV{ID_BUS}=="usb", ENV{ID_BUS}="scsi"' in rule and 'ENV{DEVTYPE}=="disk"' in rule
    reloads = log.read_text()
    assert "control --reload-rules" in reloads and "trigger --subsystem-match=block" in reloads
    again = _run(env, "apply")
    assert again.returncode == 0 and "already in place" in again.stdout
    assert log.read_text() == reloads  # no reload when nothing changed
    removed = _run(env, "remove")
    assert removed.returncode == 0 and not os.path.exists(env["RULE_FILE"])
    assert _run(env, "remove").stdout.strip().endswith("already absent")


def test_udev_script_refuses_an_unknown_action(udev_sandbox):
    env, _ = udev_sandbox
    result = _run(env, "install")
    assert result.returncode == 2 and "apply or remove" in result.stderr
