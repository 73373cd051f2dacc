"""MinIO as the explicit objectStore engine (issue 15): a tenant per region
with TLS from the project's CA, root credentials from secret config kept
secret, site replication by a Job running mc, a warning at every plan; and
the Job's script run against a stand-in mc."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import pulumi
import pytest

from components.data.minio import SCRIPT
from tests.stack_runner import run_spec_with_secrets, spec_issues
from tests.unit.test_rook_ceph import three_region_spec

USER, PASSWORD = "geo-root", "minio-test-password-0123"
TENANT = "kubernetes:minio.min.io/v2:Tenant"
JOB = "kubernetes:batch/v1:Job"
REGIONS = ("fsn1", "nbg1", "hel1")


def minio_spec() -> dict:
    spec = three_region_spec()
    spec["addons"]["certManager"] = {"enabled": True}
    spec["dataServices"] = {"objectStore": {"enabled": True, "engine": "minio", "regions": list(REGIONS),
                                            "minio": {"serversPerRegion": 4, "volumeSize": "20Gi"}}}
    return spec


@pytest.fixture(scope="module")
def run():
    return run_spec_with_secrets(minio_spec(), stack="tri", dataMinioRootUser=USER, dataMinioRootPassword=PASSWORD)


def _by_name(run, type_: str) -> dict:
    return {r.inputs["metadata"]["name"]: r for r in run.of_type(type_)}


def test_one_tenant_per_region_in_its_own_namespace_pinned_there(run):
    tenants = _by_name(run, TENANT)
    assert set(tenants) == {f"minio-{r}" for r in REGIONS}
    for region in REGIONS:
        t = tenants[f"minio-{region}"].inputs
        assert t["metadata"]["namespace"] == f"data-minio-{region}"  # the operator allows one tenant a namespace
        (pool,) = t["spec"]["pools"]
        assert (pool["servers"], pool["volumesPerServer"]) == (4, 1)
        assert pool["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "20Gi"
        terms = pool["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert terms[0]["matchExpressions"][0]["values"] == [region]
        assert t["spec"]["image"].startswith("quay.io/minio/minio:RELEASE.")


def test_tls_from_the_project_ca_trusted_by_peers_and_operator(run):
    certs = _by_name(run, "kubernetes:cert-manager.io/v1:Certificate")
    for region in REGIONS:
        spec = _by_name(run, TENANT)[f"minio-{region}"].inputs["spec"]
        assert spec["requestAutoCert"] is False
        assert spec["externalCertSecret"] == spec["externalCaCertSecret"] == [
            {"name": f"minio-{region}-tls", "type": "cert-manager.io/v1"}]
        cert = certs[f"minio-{region}-tls"].inputs
        assert cert["spec"]["issuerRef"] == {"name": "default", "kind": "ClusterIssuer", "group": "cert-manager.io"}
        assert f"minio.data-minio-{region}.svc.cluster.local" in cert["spec"]["dnsNames"]
        assert f"*.minio-{region}-hl.data-minio-{region}.svc.cluster.local" in cert["spec"]["dnsNames"]
    # The operator trusts the ca.crt of every secret named operator-ca-tls-* in its namespace.
    trust = certs["operator-ca-tls-sovereign"].inputs
    assert trust["metadata"]["namespace"] == "minio-operator"
    assert trust["spec"]["secretName"].startswith("operator-ca-tls-")


def test_operator_is_the_pinned_final_chart_and_tenants_wait_for_it(run):
    (operator,) = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "minio-operator"]
    assert (operator.inputs["chart"], operator.inputs["version"], operator.inputs["namespace"],
            operator.inputs["repositoryOpts"]["repo"]) == ("operator", "7.1.1", "minio-operator",
                                                           "https://operator.min.io")
    assert operator.inputs["values"]["operator"]["replicaCount"] == 1
    issuer = next(r for r in run.resources if r.name.endswith("-cert-manager-issuer"))
    for tenant in run.of_type(TENANT):
        assert operator.urn in tenant.dependencies
    certs = _by_name(run, "kubernetes:cert-manager.io/v1:Certificate")
    mine = [c for name, c in certs.items() if name.startswith(("minio-", "operator-ca-tls-"))]
    assert len(mine) == 4 and all(issuer.urn in c.dependencies for c in mine)


def test_root_credentials_are_secret_and_never_plain(run):
    envs = {r.inputs["metadata"]["name"]: r for r in run.of_type("kubernetes:core/v1:Secret")
            if r.inputs["metadata"]["name"].endswith("-env")}
    assert set(envs) == {f"minio-{r}-env" for r in REGIONS}
    for env in envs.values():
        assert env.inputs["stringData"]["config.env"] == (
            f'export MINIO_ROOT_USER="{USER}"\nexport MINIO_ROOT_PASSWORD="{PASSWORD}"\n')
        assert "stringData" in env.secret_paths
    for r in run.resources:
        assert PASSWORD not in json.dumps(r.shown_inputs), r.name


def test_site_replication_job_runs_mc_after_every_tenant_first_region_first(run):
    (job,) = run.of_type(JOB)
    assert job.inputs["metadata"]["namespace"] == "data-minio-fsn1"
    for tenant in run.of_type(TENANT):
        assert tenant.urn in job.dependencies
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SITES"] == " ".join(f"{r}=https://minio.data-minio-{r}.svc.cluster.local" for r in REGIONS)
    assert container["envFrom"] == [{"secretRef": {"name": "geo-minio-site-replication"}}]
    assert container["image"].startswith("quay.io/minio/mc:RELEASE.")
    (script,) = [r for r in run.of_type("kubernetes:core/v1:ConfigMap")
                 if r.inputs["metadata"]["name"] == "geo-minio-site-replication"]
    assert script.inputs["data"] == {SCRIPT.name: SCRIPT.read_text()}
    (login,) = [r for r in run.of_type("kubernetes:core/v1:Secret")
                if r.inputs["metadata"]["name"] == "geo-minio-site-replication"]
    assert login.inputs["stringData"] == {"MINIO_ROOT_USER": USER, "MINIO_ROOT_PASSWORD": PASSWORD}
    assert "stringData" in login.secret_paths


def test_every_plan_warns_that_minio_is_unmaintained_and_rgw_is_the_default(caplog):
    with caplog.at_level(logging.WARNING):
        run_spec_with_secrets(minio_spec(), stack="tri", dataMinioRootUser=USER, dataMinioRootPassword=PASSWORD)
    (warning,) = [r.getMessage() for r in caplog.records if "engine is minio" in r.getMessage()]
    assert "no longer maintained" in warning and "archived" in warning and "rook-rgw, the default" in warning


def test_missing_root_credentials_create_nothing_and_name_both_keys():
    with pytest.raises(pulumi.RunError) as caught:
        run_spec_with_secrets(minio_spec(), stack="tri")
    assert caught.value.registered_resources == []
    assert "dataMinioRootUser" in str(caught.value) and "dataMinioRootPassword" in str(caught.value)


def test_credentials_minio_cannot_take_are_refused_before_anything_is_created():
    with pytest.raises(pulumi.RunError) as caught:
        run_spec_with_secrets(minio_spec(), stack="tri", dataMinioRootUser="ab", dataMinioRootPassword='pa"ss12345')
    assert caught.value.registered_resources == []
    message = str(caught.value)
    assert "dataMinioRootPassword must not contain quotes" in message
    assert "dataMinioRootUser must have 3 characters or more" in message
    with pytest.raises(pulumi.RunError, match="8 to 40 characters"):
        run_spec_with_secrets(minio_spec(), stack="tri", dataMinioRootUser=USER, dataMinioRootPassword="x" * 41)


def test_minio_needs_the_ca_issuer_and_distributed_tenants():
    spec = minio_spec()
    spec["addons"]["certManager"] = {"enabled": True, "issuer": "acme", "acme": {"email": "ops@example.org"}}
    spec["dataServices"]["objectStore"]["minio"]["serversPerRegion"] = 2
    issues = spec_issues(spec)
    assert "acme issuer" in issues["cluster.dataServices.objectStore.engine"]
    assert "issuer: ca" in issues["cluster.dataServices.objectStore.engine"]
    assert "4 or more servers" in issues["cluster.dataServices.objectStore.minio.serversPerRegion"]


def test_rgw_stays_the_default_engine():
    spec = minio_spec()
    del spec["dataServices"]["objectStore"]["engine"]
    run = run_spec_with_secrets(spec, stack="tri")  # no MinIO credentials needed
    assert not run.of_type(TENANT)
    assert run.of_type("kubernetes:ceph.rook.io/v1:CephObjectZone")


# -- the Job's script, against a stand-in mc -------------------------------------

STUB_MC = """#!/usr/bin/env bash
# Records every call; answers `admin replicate info --json` from $MC_INFO.
echo "$*" >> "$MC_LOG"
if [[ "$1 $2 $3" == "admin replicate info" ]]; then cat "$MC_INFO"; fi
"""


def _run_script(tmp_path: Path, info: dict, sites: str) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "mc").write_text(STUB_MC)
    (bin_dir / "mc").chmod(0o755)
    (tmp_path / "info.json").write_text(json.dumps(info, separators=(",", ":")))
    (tmp_path / "ca.crt").write_text("CA")
    log = tmp_path / "mc.log"
    log.write_text("")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "MC_LOG": str(log),
           "MC_INFO": str(tmp_path / "info.json"), "SITES": sites, "CA_FILE": str(tmp_path / "ca.crt"),
           "MINIO_ROOT_USER": USER, "MINIO_ROOT_PASSWORD": PASSWORD, "TMPDIR": str(tmp_path)}
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


SITES = "fsn1=https://minio.a.svc.cluster.local nbg1=https://minio.b.svc.cluster.local"


def test_script_adds_every_site_first_region_first(tmp_path):
    calls = _run_script(tmp_path, {"enabled": False}, SITES)
    assert calls[0] == f"alias set fsn1 https://minio.a.svc.cluster.local {USER} {PASSWORD}"
    assert "admin replicate add fsn1 nbg1" in calls


def test_script_leaves_a_complete_group_alone(tmp_path):
    info = {"enabled": True, "sites": [{"endpoint": "https://minio.a.svc.cluster.local"},
                                       {"endpoint": "https://minio.b.svc.cluster.local"}]}
    calls = _run_script(tmp_path, info, SITES)
    assert not [c for c in calls if c.startswith("admin replicate add")]


def test_script_adds_a_new_region_to_a_running_group(tmp_path):
    info = {"enabled": True, "sites": [{"endpoint": "https://minio.a.svc.cluster.local"},
                                       {"endpoint": "https://minio.b.svc.cluster.local"}]}
    calls = _run_script(tmp_path, info, SITES + " hel1=https://minio.c.svc.cluster.local")
    assert "admin replicate add fsn1 nbg1 hel1" in calls
