"""The addons part of the spec: typed settings, clear errors naming the field."""

from __future__ import annotations

import pytest

from components.platform.context import context_from_spec
from components.platform.plan import platform_plans
from components.platform.values import deep_merge
from components.spec import SpecError, parse_cluster_spec
from tests.stack_runner import example_spec


def _spec(**addons):
    data = example_spec("dev")
    data["addons"] = addons
    return data


@pytest.mark.parametrize("addons,path,message", [
    ({"gitops": {"enabled": True}}, "addons.gitops", "repoUrl"),
    ({"certManager": {"enabled": True, "issuer": "acme"}}, "addons.certManager", "acme.email"),
    ({"certManager": {"enabled": True, "issuer": "acme", "acme": {"email": "nope"}}}, "addons.certManager.acme.email",
     "not an email"),
    ({"metallb": {"enabled": True}}, "addons.metallb", "addresses"),
    ({"metallb": {"enabled": True, "addresses": ["10.0.0.9-10.0.0.1"]}}, "addons.metallb.addresses", "range"),
    ({"metallb": {"enabled": True, "addresses": ["10.0.0.0/28"], "peers": [{"address": "10.0.0.1", "asn": 65000}]}},
     "addons.metallb", "myAsn"),
    ({"keycloak": {"enabled": True}}, "addons.keycloak", "hostname"),
    ({"profile": "tiny"}, "addons.profile", ""),
    ({"gpu": {"enabled": True, "mode": "cuda"}}, "addons.gpu.mode", ""),
    ({"monitoring": {"enabeld": True}}, "addons.monitoring.enabeld", ""),
])
def test_bad_addons_name_the_field(addons, path, message):
    with pytest.raises(SpecError) as err:
        parse_cluster_spec(_spec(**addons))
    text = str(err.value)
    assert f"cluster.{path}" in text and message in text, text


def test_disabled_addons_are_not_checked_and_keep_the_escape_hatch():
    spec = parse_cluster_spec(_spec(gitops={"values": {"x": 1}}))
    assert spec.addons.gitops.enabled is False and spec.addons.gitops.values == {"x": 1}


def test_errors_that_need_the_topology():
    with pytest.raises(ValueError, match="addons.gpu is enabled but no node group has gpus"):
        platform_plans(context_from_spec(parse_cluster_spec(_spec(gpu={"enabled": True}))))
    with pytest.raises(ValueError, match=r"addons.ingressNginx.nodeGroups: unknown node group\(s\) \['web'\]"):
        platform_plans(context_from_spec(parse_cluster_spec(_spec(ingressNginx={"enabled": True, "nodeGroups": ["web"]}))))
    with pytest.raises(ValueError, match="addons.vault: ha with 3 replicas needs as many schedulable worker nodes"):
        platform_plans(context_from_spec(parse_cluster_spec(_spec(vault={"enabled": True, "ha": True}))))


def test_small_profile_runs_one_replica_and_vault_standalone():
    data = _spec(profile="small", vault={"enabled": True, "ha": True}, certManager={"enabled": True})
    plans = {p.name: p for p in platform_plans(context_from_spec(parse_cluster_spec(data)))}
    vault = plans["vault"].releases[0].values["server"]
    assert vault["standalone"] == {"enabled": True} and vault["ha"]["enabled"] is False
    assert plans["certManager"].releases[0].values["replicaCount"] == 1


def test_deep_merge_merges_dicts_and_replaces_lists():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [3]}, "e": 2}) == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # untouched


def test_the_projects_own_values_are_typed():
    import pydantic

    from components.platform.chart_values import CiliumValues, VaultValues, typed

    with pytest.raises(pydantic.ValidationError, match="MTU"):
        typed(CiliumValues, {"MTU": "1400"})
    with pytest.raises(pydantic.ValidationError, match="cpuu"):
        typed(VaultValues, {"server": {}, "injector": {"resources": {"requests": {"cpuu": "1"}}}})
