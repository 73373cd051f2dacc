"""GeoDatabases (dataServices, issue 15) under mocks: the real program for a
three-region and a two-region layout, the refusals, and the backup
credentials kept secret end to end."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.data.plan import pg_roles
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


def test_backups_go_to_s3_with_credentials_from_a_secret(three):
    for c in _objects(three, "Cluster").values():
        store = c["spec"]["backup"]["barmanObjectStore"]
        assert store["destinationPath"] == "s3://geo-backups/pg"
        assert store["endpointURL"] == "https://s3.example.org"
        assert store["s3Credentials"]["accessKeyId"] == {"name": "geo-pg-backup-s3", "key": "ACCESS_KEY_ID"}
    (scheduled,) = _objects(three, "ScheduledBackup").values()
    assert scheduled["spec"]["cluster"] == {"name": "geo-pg-fsn1"}
    assert scheduled["spec"]["method"] == "barmanObjectStore"


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
    assert eck.inputs["version"] == "3.3.0" and eck.inputs["values"]["managedNamespaces"] == ["data"]


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


def test_minio_is_not_an_engine():
    spec = two_region_geo_spec()
    spec["dataServices"]["objectStore"]["engine"] = "minio"
    assert "rook-rgw" in spec_issues(spec)["cluster.dataServices.objectStore.engine"]


def test_backups_without_secret_config_create_nothing():
    with pytest.raises(pulumi.RunError) as caught:
        run_spec_with_secrets(three_region_geo_spec(), stack="tri", dataBackupS3AccessKey=ACCESS)
    assert caught.value.registered_resources == []
    assert "dataBackupS3SecretKey" in str(caught.value)
