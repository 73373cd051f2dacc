"""GeoDatabases (dataServices, issue 15) under mocks: the real program for a
three-region and a two-region layout, the refusals, and the backup
credentials kept secret end to end."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.data.postgres import pg_roles
from components.spec import parse_cluster_spec
from tests.stack_runner import run_spec, run_spec_with_secrets, spec_issues
from tests.unit.test_rook_ceph import stretch_spec, three_region_spec

ACCESS, SECRET = "AKIA-GEO-TEST-ACCESS", "geo-test-secret-key-0123456789"
CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
REGION = "topology.kubernetes.io/region"


def three_region_geo_spec() -> dict:
    """fsn1 primary, nbg1 synchronous, hel1 asynchronous; RGW and search in all three; backups; monitoring."""
    spec = three_region_spec()
    spec["addons"]["monitoring"] = {"enabled": True}
    spec["addons"]["certManager"] = {"enabled": True}  # the Barman Cloud plugin's certificates
    spec["dataServices"] = {
        "postgres": {"enabled": True, "primaryRegion": "fsn1", "replicaRegions": ["nbg1", "hel1"],
                     "synchronousRegion": "nbg1", "instances": 2,
                     "backups": {"enabled": True, "destination": "s3://geo-backups/pg",
                                 "endpointUrl": "https://s3.example.org"}},
        "objectStore": {"enabled": True, "regions": ["fsn1", "nbg1", "hel1"]},
        "search": {"enabled": True, "regions": ["fsn1", "nbg1", "hel1"]},
    }
    return spec


def two_region_geo_spec() -> dict:
    """fsn1 primary and nbg1 replica (asynchronous), no backups, no monitoring."""
    spec = stretch_spec()
    spec["dataServices"] = {
        "postgres": {"enabled": True, "primaryRegion": "nbg1", "replicaRegions": ["fsn1"]},
        "objectStore": {"enabled": True, "regions": ["nbg1", "fsn1"]},
        "search": {"enabled": True, "regions": ["fsn1", "nbg1"], "nodesPerRegion": 2},
    }
    return spec


@pytest.fixture(scope="module")
def three():
    return run_spec_with_secrets(three_region_geo_spec(), stack="tri",
                                 dataBackupS3AccessKey=ACCESS, dataBackupS3SecretKey=SECRET)


@pytest.fixture(scope="module")
def two():
    return run_spec(two_region_geo_spec(), stack="stretch")


def _objects(run, kind: str) -> dict[str, dict]:
    """metadata.name -> registered inputs of every object of ``kind``."""
    return {r.inputs["metadata"]["name"]: r.inputs for r in run.resources
            if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}")}


def _pinned_region(affinity: dict) -> list[str]:
    (term,) = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    (expr,) = term["matchExpressions"]
    assert expr["key"] == REGION and expr["operator"] == "In"
    return expr["values"]


# -- PostgreSQL ----------------------------------------------------------------

def test_three_regions_one_cluster_each_pinned_to_its_region(three):
    clusters = _objects(three, "Cluster")
    assert set(clusters) == {"geo-pg-fsn1", "geo-pg-nbg1", "geo-pg-hel1"}
    for name, c in clusters.items():
        assert _pinned_region(c["spec"]["affinity"]["nodeAffinity"]) == [name.removeprefix("geo-pg-")]
        assert c["spec"]["instances"] == 2


def test_distributed_topology_one_primary_replicas_stream_from_it(three):
    clusters = _objects(three, "Cluster")
    replica = {n: c["spec"]["replica"] for n, c in clusters.items()}
    assert {r["primary"] for r in replica.values()} == {"geo-pg-fsn1"}
    assert all(r["self"] == n for n, r in replica.items())
    assert "enabled" not in json.dumps(replica)  # exclusive with primary in the distributed topology
    assert replica["geo-pg-nbg1"]["source"] == replica["geo-pg-hel1"]["source"] == "geo-pg-fsn1"
    # Demoted, the primary would follow the synchronous region.
    assert replica["geo-pg-fsn1"]["source"] == "geo-pg-nbg1"
    assert set(clusters["geo-pg-fsn1"]["spec"]["bootstrap"]) == {"initdb"}
    for name in ("geo-pg-nbg1", "geo-pg-hel1"):
        assert clusters[name]["spec"]["bootstrap"] == {"pg_basebackup": {"source": "geo-pg-fsn1"}}


def test_external_clusters_reach_each_region_through_its_rw_service_with_its_certificates(three):
    spec = _objects(three, "Cluster")["geo-pg-hel1"]["spec"]
    external = {e["name"]: e for e in spec["externalClusters"]}
    assert set(external) == {"geo-pg-fsn1", "geo-pg-nbg1", "geo-pg-hel1"}
    fsn = external["geo-pg-fsn1"]
    assert fsn["connectionParameters"]["host"] == "geo-pg-fsn1-rw.data.svc"
    assert fsn["connectionParameters"]["user"] == "streaming_replica"
    assert fsn["connectionParameters"]["sslmode"] == "verify-full"
    assert fsn["sslCert"]["name"] == fsn["sslKey"]["name"] == "geo-pg-fsn1-replication"
    assert fsn["sslRootCert"] == {"name": "geo-pg-fsn1-ca", "key": "ca.crt"}


def test_only_the_primary_waits_for_the_synchronous_region(three):
    clusters = _objects(three, "Cluster")
    sync = clusters["geo-pg-fsn1"]["spec"]["postgresql"]["synchronous"]
    assert sync["standbyNamesPre"] == ["geo-pg-nbg1"] and sync["number"] == 1 and sync["method"] == "first"
    assert "postgresql" not in clusters["geo-pg-nbg1"]["spec"]
    assert "postgresql" not in clusters["geo-pg-hel1"]["spec"]


def test_replicas_are_created_after_the_primary_and_bootstrap_is_never_rewritten(three):
    by_name = {r.inputs["metadata"]["name"]: r for r in three.of_type(CLUSTER)}
    primary = by_name["geo-pg-fsn1"]
    assert primary.urn in by_name["geo-pg-nbg1"].dependencies
    assert primary.urn in by_name["geo-pg-hel1"].dependencies
    assert all(r.ignore_changes == ["spec.bootstrap"] for r in by_name.values())


def test_backups_go_through_the_barman_cloud_plugin_to_one_object_store(three):
    (store,) = _objects(three, "ObjectStore").values()
    assert store["apiVersion"] == "barmancloud.cnpg.io/v1" and store["metadata"]["name"] == "geo-pg-backup"
    config = store["spec"]["configuration"]
    assert config["destinationPath"] == "s3://geo-backups/pg"
    assert config["endpointURL"] == "https://s3.example.org"
    assert config["s3Credentials"]["accessKeyId"] == {"name": "geo-pg-backup-s3", "key": "ACCESS_KEY_ID"}
    assert store["spec"]["retentionPolicy"] == "30d"
    for name, c in _objects(three, "Cluster").items():
        assert "backup" not in c["spec"]  # not the in-tree barmanObjectStore (deprecated since 1.26)
        assert c["spec"]["plugins"] == [{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": True,
                                         "parameters": {"barmanObjectName": "geo-pg-backup"}}]
        # Every region's archive is readable by the others (each under its own server name).
        archives = {e["name"]: e["plugin"]["parameters"] for e in c["spec"]["externalClusters"]}
        assert archives == {n: {"barmanObjectName": "geo-pg-backup", "serverName": n}
                            for n in ("geo-pg-fsn1", "geo-pg-nbg1", "geo-pg-hel1")}
    (scheduled,) = _objects(three, "ScheduledBackup").values()
    assert scheduled["spec"]["cluster"] == {"name": "geo-pg-fsn1"}
    assert scheduled["spec"]["method"] == "plugin"
    assert scheduled["spec"]["pluginConfiguration"] == {"name": "barman-cloud.cloudnative-pg.io"}


def test_the_plugin_is_pinned_in_the_operator_namespace_after_cnpg_and_cert_manager(three):
    releases = {r.inputs["name"]: r for r in three.of_type("kubernetes:helm.sh/v3:Release")}
    plugin = releases["plugin-barman-cloud"]
    assert (plugin.inputs["chart"], plugin.inputs["version"], plugin.inputs["namespace"],
            plugin.inputs["repositoryOpts"]["repo"]) == (
        "plugin-barman-cloud", "0.4.0", "cnpg-system", "https://cloudnative-pg.github.io/charts")
    assert releases["cloudnative-pg"].urn in plugin.dependencies
    assert releases["cert-manager"].urn in plugin.dependencies
    (store,) = three.of_type("kubernetes:barmancloud.cnpg.io/v1:ObjectStore")
    assert plugin.urn in store.dependencies
    # The instance pods' sidecar reads the store when it starts.
    assert all(store.urn in c.dependencies for c in three.of_type(CLUSTER))


def test_backup_credentials_are_secret_and_never_plain(three):
    (creds,) = [r for r in three.resources if r.type == "kubernetes:core/v1:Secret"
                and r.inputs["metadata"]["name"] == "geo-pg-backup-s3"]
    assert creds.inputs["stringData"] == {"ACCESS_KEY_ID": ACCESS, "ACCESS_SECRET_KEY": SECRET}
    assert "stringData" in creds.secret_paths
    # Anywhere they appear outside a secret, the masked inputs would show them.
    for r in three.resources:
        shown = json.dumps(r.shown_inputs)
        assert ACCESS not in shown and SECRET not in shown, r.name


def test_lag_alert_on_cnpg_replication_lag_with_monitoring(three, two):
    (rule,) = _objects(three, "PrometheusRule").get("geo-pg-lag", {}).get("spec", {}).get("groups", [])
    lag = next(r for r in rule["rules"] if r["alert"] == "GeoPostgresReplicationLag")
    assert "cnpg_pg_replication_lag" in lag["expr"] and lag["expr"].endswith("> 7")
    # A primary reports is_wal_receiver_up 0 (CloudNativePG's docs show it): only instances in recovery may alert.
    streaming = next(r for r in rule["rules"] if r["alert"] == "GeoPostgresReplicaNotStreaming")
    assert streaming["expr"].startswith('(cnpg_pg_replication_in_recovery{namespace="data"} == 1) and on ')
    assert 'cnpg_pg_replication_is_wal_receiver_up{namespace="data"} == 0' in streaming["expr"]
    assert _objects(three, "PodMonitor")["geo-pg"]["spec"]["podMetricsEndpoints"] == [{"port": "metrics"}]
    assert "geo-pg-lag" not in _objects(two, "PrometheusRule")


def test_two_regions_primary_follows_the_only_replica_when_demoted(two):
    clusters = _objects(two, "Cluster")
    assert set(clusters) == {"geo-pg-nbg1", "geo-pg-fsn1"}
    assert clusters["geo-pg-nbg1"]["spec"]["replica"] == {"self": "geo-pg-nbg1", "primary": "geo-pg-nbg1",
                                                          "source": "geo-pg-fsn1"}
    assert clusters["geo-pg-fsn1"]["spec"]["replica"]["source"] == "geo-pg-nbg1"
    assert "backup" not in clusters["geo-pg-fsn1"]["spec"]
    assert not _objects(two, "ScheduledBackup")


def test_cnpg_operator_is_installed_once_with_or_without_keycloak(two):
    releases = [r.inputs["name"] for r in two.of_type("kubernetes:helm.sh/v3:Release")]
    assert releases.count("cloudnative-pg") == 1
    spec = two_region_geo_spec()
    spec["addons"] |= {"keycloak": {"enabled": True, "hostname": "sso.example.org"}}
    run = run_spec(spec, stack="stretch")
    (cnpg,) = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "cloudnative-pg"]
    assert "geo-databases" not in cnpg.name  # Keycloak's release, shared
    for cluster in _objects(run, "Cluster").values():
        assert cluster["metadata"]["namespace"] in ("data", "keycloak")
    assert all(cnpg.urn in r.dependencies for r in run.of_type(CLUSTER))


def _roles(**postgres) -> dict:
    spec = two_region_geo_spec()
    spec["dataServices"]["postgres"] = {"enabled": True, "primaryRegion": "fsn1",
                                        "replicaRegions": ["nbg1", "hel1"], **postgres}
    return pg_roles(parse_cluster_spec(spec).data_services)


def test_switchover_first_demotes_then_promotes_with_the_token():
    assert {r: v["primary"] for r, v in _roles().items()} == dict.fromkeys(("fsn1", "nbg1", "hel1"), "geo-pg-fsn1")
    step1 = _roles(switchover={"to": "hel1"})
    # The old primary and the third region name the target; the target keeps following.
    assert step1["fsn1"]["primary"] == step1["nbg1"]["primary"] == "geo-pg-hel1"
    assert step1["hel1"]["primary"] == "geo-pg-fsn1"
    assert step1["fsn1"]["source"] == "geo-pg-hel1"  # demoted, it follows the target
    step2 = _roles(switchover={"to": "hel1", "promotionToken": "tok"})
    assert {v["primary"] for v in step2.values()} == {"geo-pg-hel1"}


def test_promotion_token_lands_only_on_the_target(two):
    spec = two_region_geo_spec()
    spec["dataServices"]["postgres"]["switchover"] = {"to": "fsn1", "promotionToken": "demotion-token-123"}
    clusters = _objects(run_spec(spec, stack="stretch"), "Cluster")
    assert clusters["geo-pg-fsn1"]["spec"]["replica"]["promotionToken"] == "demotion-token-123"
    assert "promotionToken" not in clusters["geo-pg-nbg1"]["spec"]["replica"]


# -- object storage: RGW multisite ---------------------------------------------

def test_rgw_multisite_realm_zonegroup_and_a_zone_per_region(three):
    assert set(_objects(three, "CephObjectRealm")) == {"sovereign"}
    assert _objects(three, "CephObjectZoneGroup")["sovereign"]["spec"] == {"realm": "sovereign"}
    zones = _objects(three, "CephObjectZone")
    assert set(zones) == {"sovereign-fsn1", "sovereign-nbg1", "sovereign-hel1"}
    for name, z in zones.items():
        region = name.removeprefix("sovereign-")
        assert z["spec"]["zoneGroup"] == "sovereign"
        assert z["spec"]["dataPool"]["crushRoot"] == region
        assert z["spec"]["dataPool"]["replicated"]["size"] == 1  # one OSD host per region here
    stores = _objects(three, "CephObjectStore")
    for name in zones:
        assert stores[name]["spec"]["zone"] == {"name": name}
        assert _pinned_region(stores[name]["spec"]["gateway"]["placement"]["nodeAffinity"]) == [
            name.removeprefix("sovereign-")]


def test_the_first_region_is_the_master_zone_created_first(two):
    by_name = {r.inputs["metadata"]["name"]: r for r in two.of_type("kubernetes:ceph.rook.io/v1:CephObjectZone")}
    assert by_name["sovereign-nbg1"].urn in by_name["sovereign-fsn1"].dependencies
    assert by_name["sovereign-fsn1"].urn not in by_name["sovereign-nbg1"].dependencies
    # Two OSD hosts in each stretch zone: the zone pools keep two copies.
    assert by_name["sovereign-fsn1"].inputs["spec"]["dataPool"]["replicated"]["size"] == 2
    (cluster_release,) = [r for r in two.of_type("kubernetes:helm.sh/v3:Release")
                          if r.inputs["name"] == "rook-ceph-cluster"]
    realm = next(iter(two.of_type("kubernetes:ceph.rook.io/v1:CephObjectRealm")))
    assert cluster_release.urn in realm.dependencies


# -- search: ECK -----------------------------------------------------------------

def test_search_one_node_set_per_region_with_forced_awareness(two):
    (es,) = _objects(two, "Elasticsearch").values()
    sets = {s["name"]: s for s in es["spec"]["nodeSets"]}
    assert set(sets) == {"fsn1", "nbg1"}
    for region, s in sets.items():
        assert s["count"] == 2
        assert s["config"]["node.attr.region"] == region
        assert s["config"]["cluster.routing.allocation.awareness.attributes"] == "region"
        assert s["config"]["cluster.routing.allocation.awareness.force.region.values"] == "fsn1,nbg1"
        assert _pinned_region(s["podTemplate"]["spec"]["affinity"]["nodeAffinity"]) == [region]
    (eck,) = [r for r in two.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "eck-operator"]
    assert eck.inputs["version"] == "3.3.2" and eck.inputs["values"]["managedNamespaces"] == ["data"]


def test_everything_is_under_the_geo_databases_component(three):
    (component,) = three.of_type("sovereign:data:GeoDatabases")
    children = {r.type for r in three.children_of(component)}
    assert {CLUSTER, "kubernetes:ceph.rook.io/v1:CephObjectZone",
            "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch"} <= children


# -- refusals --------------------------------------------------------------------

def test_every_problem_is_reported_at_once_with_field_and_fix():
    spec = two_region_geo_spec()
    spec["storage"] = {"class": "local-path"}
    spec["dataServices"] = {
        "postgres": {"enabled": True, "primaryRegion": "ams1", "replicaRegions": ["fsn1"],
                     "synchronousRegion": "nbg1"},
        "objectStore": {"enabled": True, "regions": ["fsn1"]},
        "search": {"enabled": True, "regions": ["fsn1", "sin"], "shards": 3},
    }
    issues = spec_issues(spec)
    assert "ams1" in issues["cluster.dataServices.postgres.primaryRegion"]
    assert "fsn1, hel1, nbg1" in issues["cluster.dataServices.postgres.primaryRegion"]
    assert "not one of replicaRegions" in issues["cluster.dataServices.postgres.synchronousRegion"]
    assert "storage.class: rook-ceph" in issues["cluster.dataServices.objectStore.engine"]
    assert "unknown key" in issues["cluster.dataServices.search.shards"]


def test_regions_checked_when_search_is_valid_alone():
    spec = two_region_geo_spec()
    spec["dataServices"]["search"]["regions"] = ["fsn1", "sin"]
    assert "'sin' has no node group with the worker role" in spec_issues(spec)[
        "cluster.dataServices.search.regions.1"]


def test_object_store_region_without_osds_is_refused():
    spec = two_region_geo_spec()
    spec["dataServices"]["objectStore"]["regions"] = ["fsn1", "hel1"]  # hel1: the arbiter, no OSDs
    assert "holds no Ceph OSDs" in spec_issues(spec)["cluster.dataServices.objectStore.regions.1"]


def test_an_unknown_engine_names_both_choices():
    spec = two_region_geo_spec()
    spec["dataServices"]["objectStore"]["engine"] = "seaweedfs"
    issue = spec_issues(spec)["cluster.dataServices.objectStore.engine"]
    assert "rook-rgw" in issue and "minio" in issue


def test_backups_need_cert_manager_for_the_plugin():
    spec = three_region_geo_spec()
    del spec["addons"]["certManager"]
    issue = spec_issues(spec)["cluster.dataServices.postgres.backups.enabled"]
    assert "Barman Cloud plugin" in issue and "addons.certManager.enabled: true" in issue


def test_backups_without_secret_config_create_nothing():
    with pytest.raises(pulumi.RunError) as caught:
        run_spec_with_secrets(three_region_geo_spec(), stack="tri", dataBackupS3AccessKey=ACCESS)
    assert caught.value.registered_resources == []
    assert "dataBackupS3SecretKey" in str(caught.value)
    assert "dataServices.postgres.backups" in str(caught.value)


# -- the ObjectStore model (no CRD schema in shared/crd-schemas) ----------------

def _object_store(run) -> dict:
    (store,) = _objects(run, "ObjectStore").values()
    return {k: v for k, v in store.items() if v is not None}


def test_object_store_model_catches_what_the_crd_would_refuse(three):
    from pydantic import ValidationError

    from components.data.barman_cloud import validate

    good = _object_store(three)
    validate(good)
    for path, value, match in (
            (("spec", "configuration", "serverName"), "geo-pg", "serverName"),  # the CRD's XValidation
            (("spec", "retentionPolicy"), "30 days", "retentionPolicy"),
            (("spec", "configuration", "wal", "compresion"), "gzip", "compresion"),  # a typo
            (("spec", "configuration", "wal", "compression"), "zip", "compression")):
        bad = json.loads(json.dumps(good))
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ValidationError, match=match):
            validate(bad)


def test_object_store_configuration_is_the_clusters_barman_object_store_type(three):
    """Barman Cloud's BarmanObjectStoreConfiguration is also CloudNativePG's
    in-tree backup.barmanObjectStore: the Cluster CRD's schema of it checks
    the ObjectStore's configuration."""
    import jsonschema

    from tests.unit.platform_support import load_crd_schema
    from tests.unit.test_schema_platform_objects import require_crd_schemas

    require_crd_schemas()
    schema = load_crd_schema("postgresql.cnpg.io/v1", "Cluster")["properties"]["spec"]["properties"]["backup"][
        "properties"]["barmanObjectStore"]
    jsonschema.validate(_object_store(three)["spec"]["configuration"], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**_object_store(three)["spec"]["configuration"], "data": {"compression": "xz"}}, schema)


def test_clusters_name_the_plugin_as_the_cluster_crd_defines_it(three):
    """spec.plugins exists in the Cluster CRD of the schema set (CloudNativePG >= 1.26)."""
    from tests.unit.test_schema_platform_objects import require_crd_schemas, validate_object

    require_crd_schemas()
    cluster = dict(next(iter(_objects(three, "Cluster").values())))
    validate_object({k: v for k, v in cluster.items() if v is not None}, "1.31.4")
    broken = json.loads(json.dumps({k: v for k, v in cluster.items() if v is not None}))
    broken["spec"]["plugins"][0]["isWalArchiver"] = True  # misspelt
    import jsonschema

    with pytest.raises(jsonschema.ValidationError, match="isWalArchiver"):
        validate_object(broken, "1.31.4")


# -- tolerations: data pods on tainted (GPU) workers -----------------------------

TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def _tainted_region_spec() -> dict:
    """two_region_geo_spec with the nbg workers (the primary region's) tainted
    (prod's GPU workers, with the implicit nvidia.com/gpu taint, are below)."""
    spec = two_region_geo_spec()
    spec["nodeGroups"]["nbg"]["taints"] = [TAINT]
    spec["dataServices"]["objectStore"]["enabled"] = False
    return spec


def test_a_region_of_tainted_workers_is_refused_naming_the_toleration():
    spec = _tainted_region_spec()
    issue = spec_issues(spec)["cluster.dataServices.postgres.primaryRegion"]
    assert "only tainted workers (nbg)" in issue and "dataServices.tolerations" in issue


def test_tolerated_taints_place_the_data_pods_on_those_workers():
    spec = _tainted_region_spec()
    spec["dataServices"]["tolerations"] = [{"key": "dedicated", "effect": "NoSchedule"}]
    run = run_spec(spec, stack="stretch")
    wanted = [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]
    for c in _objects(run, "Cluster").values():
        assert c["spec"]["affinity"]["tolerations"] == wanted
    (es,) = _objects(run, "Elasticsearch").values()
    assert all(s["podTemplate"]["spec"]["tolerations"] == wanted for s in es["spec"]["nodeSets"])


def test_a_toleration_must_match_the_taint_value_and_effect():
    spec = _tainted_region_spec()
    spec["dataServices"]["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "cpu"}]
    assert "only tainted workers" in spec_issues(spec)["cluster.dataServices.postgres.primaryRegion"]
    spec["dataServices"]["tolerations"] = [{"key": "dedicated", "effect": "NoExecute"}]
    assert "only tainted workers" in spec_issues(spec)["cluster.dataServices.postgres.primaryRegion"]
    spec["dataServices"]["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "gpu"}]
    parse_cluster_spec(spec)  # the value matches: valid
    spec["dataServices"]["tolerations"] = [{"key": "dedicated", "value": "gpu"}]
    assert "operator Exists takes no value" in spec_issues(spec)["cluster.dataServices.tolerations.0"]


# -- the example stack prod: seed 000's databases on its GPU workers -------------

def test_prod_runs_postgres_in_three_regions_and_search_in_two_on_the_gpu_workers():
    from components.platform.context import context_from_spec
    from components.platform.plan import platform_plans
    from components.platform.sizing import requests_per_node
    from tests.stack_runner import example_spec

    spec = example_spec("prod")
    run = run_spec_with_secrets(spec, stack="prod", dataBackupS3AccessKey=ACCESS, dataBackupS3SecretKey=SECRET)
    clusters = _objects(run, "Cluster")
    assert {n for n in clusters if n.startswith("geo-pg-")} == {"geo-pg-fr-par-2", "geo-pg-gra11", "geo-pg-houston"}
    assert clusters["geo-pg-fr-par-2"]["spec"]["postgresql"]["synchronous"]["standbyNamesPre"] == ["geo-pg-gra11"]
    assert _object_store(run)["spec"]["configuration"]["endpointURL"] == "https://s3.fr-par.scw.cloud"
    (es,) = _objects(run, "Elasticsearch").values()
    assert [s["name"] for s in es["spec"]["nodeSets"]] == ["fr-par-2", "gra11"]
    # The per-node sum counts them where they run: the GPU workers, not the on-prem one.
    ctx = context_from_spec(parse_cluster_spec(spec))
    rows = {r.node: r.workloads for r in requests_per_node(ctx, platform_plans(ctx))}
    assert "geo-pg-houston" in rows["gpu-houston-1"] and "geo-pg-fr-par-2" in rows["gpu-paris-1"]
    # The GPU workers carry the implicit nvidia.com/gpu taint: prod's toleration is what lets them in.
    assert clusters["geo-pg-houston"]["spec"]["affinity"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    untolerated = example_spec("prod")
    del untolerated["dataServices"]["tolerations"]
    assert "only tainted workers (gpu-houston)" in spec_issues(untolerated)[
        "cluster.dataServices.postgres.replicaRegions.1"]
    assert not any(w.startswith("geo-pg") for w in rows["onprem-paris-1"])
