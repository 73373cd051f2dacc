"""The small profile fits a 4 GB node with >= 1 GB left for workloads (seed 001)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from components.platform.context import context_from_spec
from components.platform.plan import platform_plans
from components.platform.sizing import MIN_LEFT_FOR_WORKLOADS_MIB, requests_per_node, reserved_mib, resources_per_node
from components.platform.values import cpu_millis, memory_mib
from components.spec import catalog_for, parse_cluster_spec
from stacks.config import REPO_ROOT
from tests.stack_runner import example_spec


def seed_001(profile: str, groups: dict | None = None) -> dict:
    """Mini W'aaS: K3s on 4 GB machines, Calico with WireGuard, MetalLB over
    BGP to FRR, Keycloak, Prometheus/Grafana/node-exporter/goldpinger/KSM."""
    spec = example_spec("dev")
    spec["name"] = "miniwaas"
    spec["network"] = {"cni": "calico", "encryption": "cni"}
    spec["nodeGroups"] = groups or {
        "ctrl": {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 5,
                 "roles": ["control-plane", "worker"]},
        "compute": {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 6, "roles": ["worker"]},
    }
    spec["addons"] = {
        "profile": profile,
        "monitoring": {"enabled": True},
        "metallb": {"enabled": True, "addresses": ["10.0.0.0/28"], "myAsn": 64512,
                    "peers": [{"address": "10.0.0.254", "asn": 64513}]},
        "keycloak": {"enabled": True, "hostname": "sso.waas.example"},
        "certManager": {"enabled": True},
        "ingressNginx": {"enabled": True},
    }
    return spec


ONE_NODE = {"one": {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 1,
                    "roles": ["control-plane", "worker"]}}


def _rows(data: dict):
    return resources_per_node(parse_cluster_spec(data), catalog_for(data))


@pytest.mark.parametrize("groups", [None, ONE_NODE], ids=["eleven-nodes", "one-node"])
def test_small_profile_leaves_a_gigabyte_on_4gb_nodes(groups):
    rows = _rows(seed_001("small", groups))
    for row in rows:
        assert row.node_memory_mib == 4096
        assert row.left_for_workloads_mib >= MIN_LEFT_FOR_WORKLOADS_MIB, row
    worst = max(rows, key=lambda r: r.memory_mib)
    # The figure the plan prints (regression guard for the profile table),
    # every container counted: sidecars, FRR, Keycloak's PostgreSQL, K3s's
    # CoreDNS and metrics-server.
    assert worst.memory_mib == 1828.0 and worst.cpu_millis == 830
    assert {"calico-node", "keycloak", "prometheus", "goldpinger", "metallb-speaker", "metallb-frr",
            "prometheus-config-reloader", "grafana-sc-dashboard", "keycloak-postgres", "coredns",
            "metrics-server"} <= set(worst.workloads)


def test_standard_profile_does_not_fit_there():
    rows = _rows(seed_001("standard", ONE_NODE))
    assert rows[0].left_for_workloads_mib < 0


def test_sum_is_read_from_the_final_values():
    data = seed_001("small", ONE_NODE)
    before = _rows(data)[0].memory_mib
    data["addons"]["keycloak"]["values"] = {"resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}}
    assert _rows(data)[0].memory_mib == before - 448 + 1024


def test_daemonsets_on_every_node_deployments_shared():
    data = seed_001("small")
    ctx = context_from_spec(parse_cluster_spec(data))
    rows = {r.node: r for r in requests_per_node(ctx, platform_plans(ctx))}
    assert len(rows) == 11
    # keycloak (1 replica) counts ceil(1/11) = 1 on each eligible node, calico-node once everywhere.
    assert all("calico-node" in r.workloads and "keycloak" in r.workloads for r in rows.values())


def test_gpu_and_tainted_nodes_only_carry_what_tolerates_them():
    data = example_spec("prod")
    ctx = context_from_spec(parse_cluster_spec(data))
    rows = {r.node: r for r in requests_per_node(ctx, platform_plans(ctx))}
    assert "etcd-gra-1" not in rows  # dedicated etcd members run no kubelet
    assert "nvidia-device-plugin" in rows["gpu-paris-1"].workloads
    assert "nvidia-device-plugin" not in rows["onprem-paris-1"].workloads
    assert "prometheus" not in rows["gpu-paris-1"].workloads  # tainted: no platform Deployment
    assert "prometheus" in rows["onprem-paris-1"].workloads


def test_reserved_and_quantities():
    spec = parse_cluster_spec(example_spec("dev"))
    assert reserved_mib(spec) == 512 + 512 + 200
    assert (cpu_millis("250m"), cpu_millis("1"), cpu_millis("0.5")) == (250, 1000, 500)
    assert (memory_mib("1Gi"), memory_mib("64Mi"), memory_mib(str(1024 * 1024))) == (1024, 64, 1)


def test_plan_prints_the_requests_and_json_key():
    text = subprocess.run([sys.executable, "-m", "stacks", "plan", "dev"], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=300)
    assert text.returncode == 0, text.stderr
    assert "Platform requests per node (profile small; upper bound" in text.stdout
    result = subprocess.run([sys.executable, "-m", "stacks", "plan", "budget", "--json"], capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    section = json.loads(result.stdout)["resources_per_node"]
    assert section["profile"] == "standard"
    assert {n["node"] for n in section["nodes"]} == {"vps-1", "vps-2", "vps-3"}
    assert all(n["node_memory_mib"] == 24 * 1024 and "cilium-agent" in n["workloads"] for n in section["nodes"])
