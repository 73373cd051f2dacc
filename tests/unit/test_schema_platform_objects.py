"""Every Kubernetes object the platform writes itself, validated offline.

Built-in kinds against the Kubernetes OpenAPI schemas of the spec's version
(kubernetes-validate, strict: unknown fields are errors); custom resources
against their CRD schemas in ../shared/crd-schemas (jsonschema). Objects are
collected from the registered inputs of a mocked run of every example stack
and of variants that switch every add-on and option on.
"""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest

from components.fleet import api as ocm_api
from components.spec import parse_cluster_spec
from tests.conftest import IN_CI
from tests.unit.platform_support import CRD_SCHEMAS, example_spec, load_crd_schema, run_platform, written_objects

BUILTIN_GROUPS = ("v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1",
                  "scheduling.k8s.io/v1", "node.k8s.io/v1", "storage.k8s.io/v1")
# Custom resources without a schema in ../shared/crd-schemas, validated by a
# model of their documented API instead (components/data/barman_cloud.py).
MODEL_VALIDATED = {("barmancloud.cnpg.io/v1", "ObjectStore")}


def _variant(stack: str, **addons) -> dict:
    spec = example_spec(stack)
    spec.setdefault("addons", {}).update(copy.deepcopy(addons))
    return spec


def _everything_budget() -> dict:
    spec = _variant(
        "budget",
        monitoring={"enabled": True},
        metallb={"enabled": True, "addresses": ["203.0.113.64/28"], "myAsn": 64512,
                 "peers": [{"address": "10.6.255.1", "asn": 64513, "name": "frr-1"}]},
        keycloak={"enabled": True, "hostname": "sso.example.org", "grafanaHost": "grafana.example.org",
                  "argocdHost": "argocd.example.org"},
        cni={"hubble": True},
    )
    spec["network"]["encryption"] = "cni"
    return spec


def _flux_small() -> dict:
    spec = _variant(
        "dev",
        gitops={"enabled": True, "tool": "flux", "repoUrl": "https://git.example.org/infra.git", "path": "clusters/dev"},
        certManager={"enabled": True, "issuer": "ca", "ca": {"secretName": "corp-ca"}},
        metallb={"enabled": True, "addresses": ["192.0.2.200-192.0.2.210"]},
        vault={"enabled": True},
    )
    spec["network"] = {"cni": "calico", "encryption": "cni"}
    return spec


def _prod_operator() -> dict:
    spec = _variant("prod", gpu={"enabled": True, "mode": "operator"},
                    gitops={"enabled": True, "repoUrl": "https://git.example.org/prod.git"})
    return spec


def _rook_stretch() -> dict:
    """Rook-Ceph in stretch mode with a filesystem and an object store
    (tests/unit/test_rook_ceph.py builds the layout)."""
    from tests.unit.test_rook_ceph import stretch_spec

    spec = stretch_spec()
    spec["storage"]["rookCeph"] |= {"filesystem": {"enabled": True}, "objectStore": {"enabled": True}}
    return spec


def _rook_seed_001() -> dict:
    from tests.unit.test_rook_ceph import seed_001_spec

    return seed_001_spec()


def _geo_three_regions() -> dict:
    from tests.unit.test_geo_databases import three_region_geo_spec

    return three_region_geo_spec()


def _geo_two_regions() -> dict:
    from tests.unit.test_geo_databases import two_region_geo_spec

    return two_region_geo_spec()


def _geo_minio() -> dict:
    from tests.unit.test_geo_minio import minio_spec

    return minio_spec()


CASES = {
    "prod": lambda: example_spec("prod"),
    "budget": lambda: example_spec("budget"),
    "dev": lambda: example_spec("dev"),
    "budget-everything": _everything_budget,
    "dev-calico-flux-small": _flux_small,
    "prod-gpu-operator-argocd": _prod_operator,
    "rook-stretch-fs-object": _rook_stretch,
    "rook-seed-001": _rook_seed_001,
    "geo-three-regions": _geo_three_regions,
    "geo-two-regions": _geo_two_regions,
    "geo-minio": _geo_minio,
}


def require_crd_schemas() -> None:
    """The CRD schemas live beside the project (../shared); always there in CI."""
    if not CRD_SCHEMAS.is_dir():
        message = f"CRD schemas not found at {CRD_SCHEMAS} (a clone outside the workspace)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def validate_object(obj: dict, kubernetes_version: str) -> None:
    """Raise on an invalid object (the function the negative tests aim at)."""
    if obj["apiVersion"] in BUILTIN_GROUPS:
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
        return
    if (obj["apiVersion"], obj["kind"]) in MODEL_VALIDATED:
        from components.data import barman_cloud

        barman_cloud.validate(obj)
        return
    schema = load_crd_schema(obj["apiVersion"], obj["kind"])
    if schema is None and ocm_api.model_for(obj) is not None:
        # Open Cluster Management's cluster and operator kinds: no schema in
        # the shared set (only its Work API): their documented API's models.
        ocm_api.check(obj)
        return
    if schema is None:
        raise LookupError(f"no CRD schema for {obj['apiVersion']} {obj['kind']} under {CRD_SCHEMAS}")
    # No check_schema: some upstream CRDs use Go regex flags Python rejects
    # (only a problem for fields the project does not set).
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        raise jsonschema.ValidationError(
            "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors[:5]))


def _version(spec_dict: dict) -> str:
    return ".".join(map(str, parse_cluster_spec(spec_dict).kubernetes_version))


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    spec = CASES[request.param]()
    return request.param, spec, run_platform(spec)


def test_every_written_object_is_valid(case):
    require_crd_schemas()
    name, spec, run = case
    objects = written_objects(run)
    # dev installs only the Cilium chart: nothing of its own to validate.
    assert objects or name == "dev", f"{name}: no Kubernetes objects written"
    problems = []
    for registered, obj in objects:
        try:
            validate_object(obj, _version(spec))
        except Exception as err:  # collect all, then fail once
            problems.append(f"{registered.type} {registered.name}: {getattr(err, 'message', err)}")
    assert not problems, "\n".join(problems)


def test_cases_cover_every_custom_resource_kind():
    kinds = set()
    for build in CASES.values():
        kinds |= {(o["apiVersion"], o["kind"]) for _, o in written_objects(run_platform(build()))}
    expected = {
        ("operator.tigera.io/v1", "Installation"), ("operator.tigera.io/v1", "APIServer"),
        ("projectcalico.org/v3", "FelixConfiguration"), ("projectcalico.org/v3", "GlobalNetworkPolicy"),
        ("cert-manager.io/v1", "ClusterIssuer"), ("cert-manager.io/v1", "Certificate"),
        ("metallb.io/v1beta1", "IPAddressPool"), ("metallb.io/v1beta1", "L2Advertisement"),
        ("metallb.io/v1beta2", "BGPPeer"), ("metallb.io/v1beta1", "BGPAdvertisement"),
        ("monitoring.coreos.com/v1", "PrometheusRule"), ("monitoring.coreos.com/v1", "PodMonitor"),
        ("argoproj.io/v1alpha1", "Application"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository"), ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("v1", "Namespace"), ("v1", "Secret"), ("apps/v1", "DaemonSet"),
        ("ceph.rook.io/v1", "CephCluster"), ("ceph.rook.io/v1", "CephBlockPool"),
        ("ceph.rook.io/v1", "CephFilesystem"), ("ceph.rook.io/v1", "CephObjectStore"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("postgresql.cnpg.io/v1", "Cluster"), ("postgresql.cnpg.io/v1", "ScheduledBackup"),
        ("ceph.rook.io/v1", "CephObjectRealm"), ("ceph.rook.io/v1", "CephObjectZoneGroup"),
        ("ceph.rook.io/v1", "CephObjectZone"), ("elasticsearch.k8s.elastic.co/v1", "Elasticsearch"),
        ("barmancloud.cnpg.io/v1", "ObjectStore"), ("minio.min.io/v2", "Tenant"), ("batch/v1", "Job"),
        ("v1", "ConfigMap"),
    }
    assert expected <= kinds, expected - kinds


# -- the validators do catch mistakes ----------------------------------------

def _object(run, kind: str) -> dict:
    return copy.deepcopy(next(o for _, o in written_objects(run) if o["kind"] == kind))


@pytest.fixture(scope="module")
def everything():
    return run_platform(_everything_budget())


def test_negative_custom_resource_wrong_type_is_caught(everything):
    require_crd_schemas()
    app = _object(everything, "Application")
    app["spec"]["source"]["repoURL"] = 42
    with pytest.raises(jsonschema.ValidationError, match="repoURL"):
        validate_object(app, "1.31.4")


def test_negative_custom_resource_unknown_enum_is_caught():
    require_crd_schemas()
    run = run_platform(example_spec("prod"))
    installation = _object(run, "Installation")
    installation["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] = "GRE"
    with pytest.raises(jsonschema.ValidationError, match="encapsulation"):
        validate_object(installation, "1.31.4")


def test_negative_builtin_unknown_field_is_caught(everything):
    ds = _object(run_platform(example_spec("prod")), "DaemonSet")
    ds["spec"]["template"]["spec"]["containers"][0]["resource"] = {"requests": {"cpu": "1"}}  # typo
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_object(ds, "1.31.4")


def test_negative_builtin_missing_required_field_is_caught():
    ds = _object(run_platform(example_spec("prod")), "DaemonSet")
    del ds["spec"]["selector"]
    with pytest.raises(kubernetes_validate.ValidationError, match="selector"):
        validate_object(ds, "1.31.4")


def _whole_program(stack: str):
    """The example stacks, and a three-region dataServices layout run with
    its backup credentials as secret config (as `pulumi up` hands them over)."""
    from tests.stack_runner import run_spec, run_spec_with_secrets

    if stack == "geo":
        spec = _geo_three_regions()
        return spec, run_spec_with_secrets(spec, dataBackupS3AccessKey="TEST-ACCESS",
                                           dataBackupS3SecretKey="TEST-SECRET")
    spec = example_spec(stack)
    return spec, run_spec(spec)


@pytest.mark.parametrize("stack", ["prod", "budget", "dev", "minwaas", "geo", "fleet", "test", "staging",
                                   "staging-us"])
def test_every_object_of_the_whole_program_is_valid(stack):
    """The real program (python -m stacks plan's run): the cluster layer's
    objects (PriorityClasses) and the platform's."""
    spec, run = _whole_program(stack)
    problems = []
    objects = written_objects(run)
    assert any(r.type == "kubernetes:scheduling.k8s.io/v1:PriorityClass" for r, _ in objects)
    # Built-in kinds always; custom resources when their schemas are here.
    custom = any(o["apiVersion"] not in BUILTIN_GROUPS for _, o in objects)
    for registered, obj in objects:
        if obj["apiVersion"] not in BUILTIN_GROUPS and not CRD_SCHEMAS.is_dir():
            continue
        try:
            validate_object(obj, _version(spec))
        except Exception as err:
            problems.append(f"{registered.type} {registered.name}: {getattr(err, 'message', err)}")
    assert not problems, "\n".join(problems)
    if custom:
        require_crd_schemas()  # says so (a failure in CI) when the custom resources went unchecked
