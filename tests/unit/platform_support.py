"""Shared helpers of the platform tests: run spec -> cloud -> cluster -> platform under mocks."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pulumi

from components.platform.addons.gitops import needs_ssh_key
from components.spec import catalog_for, parse_cluster_spec
from stacks.config import REPO_ROOT
from tests.stack_runner import example_spec, run_components

TEST_DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTEST DEPLOY KEY\n-----END OPENSSH PRIVATE KEY-----\n"
CRD_SCHEMAS = Path(REPO_ROOT).parent / "shared" / "crd-schemas"
RELEASE = "kubernetes:helm.sh/v3:Release"


def run_platform(spec_dict: dict, **cluster_overrides):
    """spec -> nodes + mesh -> the real cluster layer -> platform, under mocks.

    ``cluster_overrides`` replace fields of the cluster contract (e.g.
    ``api_port``) to check how the platform follows it.
    """
    from stacks.sovereign import build_cloud, build_cluster, build_platform

    spec = parse_cluster_spec(spec_dict)

    def program():
        catalog = catalog_for(spec_dict)
        cloud = build_cloud(spec, ssh_private_key=pulumi.Output.secret("test-key"), catalog=catalog)
        cluster = dataclasses.replace(build_cluster(spec, cloud), **cluster_overrides)
        # A stand-in deploy key: the program reads it from secret config.
        key = pulumi.Output.secret(TEST_DEPLOY_KEY) if needs_ssh_key(spec.addons.gitops) else None
        from components.data.secrets import needed_secrets

        # Stand-ins for the data services' secret config (TEST-<config key>).
        data_secrets = {s.name: pulumi.Output.secret(f"TEST-{s.config_key}") for s in needed_secrets(spec)}
        platform = build_platform(spec, cluster, cloud.nodes, gitops_repo_ssh_key=key, data_secrets=data_secrets)
        pulumi.export("podMtu", platform.pod_mtu)
        pulumi.export("meshMtu", cloud.mesh.mtu)
        pulumi.export("installed", platform.installed)
        pulumi.export("readyUrns", [r.urn for r in cluster.ready])

    return run_components(program, stack=spec.name)


def releases(run) -> dict[str, object]:
    """Helm release name -> registered resource."""
    return {r.inputs["name"]: r for r in run.of_type(RELEASE)}


def by_key(run, suffix: str):
    """The one registered resource whose name ends with ``-<suffix>``."""
    found = [r for r in run.resources if r.name.endswith(f"-{suffix}")]
    assert len(found) == 1, f"{len(found)} resources end with {suffix!r}"
    return found[0]


def written_objects(run) -> list[tuple[object, dict]]:
    """(registered, object) for every Kubernetes object the project writes
    itself: every kubernetes: resource but Helm releases and the provider,
    plus the Ceph objects the rook-ceph-cluster release renders from the
    project's values (CephCluster, pools, StorageClasses)."""
    from components.storage.values import CLUSTER, ceph_objects

    out = []
    for r in run.resources:
        if r.type == RELEASE and r.inputs.get("name") == CLUSTER:
            out += [(r, obj) for obj in ceph_objects(r.inputs["values"])]
            continue
        if not r.type.startswith("kubernetes:") or r.type == RELEASE or not r.custom:
            continue
        obj = {k: v for k, v in r.inputs.items() if v is not None}
        out.append((r, obj))
    return out


def load_crd_schema(api_version: str, kind: str) -> dict | None:
    group, _, version = api_version.rpartition("/")
    path = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    return json.loads(path.read_text()) if path.exists() else None


__all__ = ["CRD_SCHEMAS", "RELEASE", "by_key", "example_spec", "load_crd_schema", "releases", "run_platform", "written_objects"]
