"""Kubernetes-layer settings of the spec: bad input is a clear error naming the field."""

from __future__ import annotations

import pytest

from components.spec import SpecError, catalog_for, parse_cluster_spec
from tests.stack_runner import example_spec


def parse(kubernetes: dict):
    data = example_spec("dev")
    data["kubernetes"] = kubernetes
    return parse_cluster_spec(data, catalog=catalog_for(data))


@pytest.mark.parametrize(("kubernetes", "path", "hint"), [
    ({"reserved": {"kubeReserved": "cpu 250m"}}, "kubernetes.reserved.kubeReserved", "cpu=250m,memory=512Mi"),
    ({"reserved": {"systemReserved": "gpu=1"}}, "kubernetes.reserved.systemReserved", "cpu=250m,memory=512Mi"),
    ({"reserved": {"evictionHard": "memory>1"}}, "kubernetes.reserved.evictionHard", "memory.available<200Mi"),
    ({"apiDnsName": "API.Example"}, "kubernetes.apiDnsName", "api.example.org"),
    ({"airgap": {"enabled": True, "artifactsDir": "airgap"}}, "kubernetes.airgap.artifactsDir", "absolute path"),
])
def test_bad_kubernetes_settings_name_the_field(kubernetes, path, hint):
    with pytest.raises(SpecError) as err:
        parse(kubernetes)
    assert path in str(err.value) and hint in str(err.value)


def test_good_kubernetes_settings():
    spec = parse({"apiDnsName": "api.dev.example.org", "reserved": {"kubeReserved": "cpu=500m,memory=1Gi,pid=1000"},
                  "airgap": {"enabled": True, "artifactsDir": "/srv/airgap"}})
    assert spec.kubernetes.api_dns_name == "api.dev.example.org"
    assert spec.kubernetes.reserved.kube_reserved == "cpu=500m,memory=1Gi,pid=1000"
