"""HashiCorp Vault (seeds 000, 004): Raft HA or one standalone server, plus the injector.

Raft HA: every server lists every other in ``retry_join`` (the chart's
default config has none, so the pods would each form a one-node cluster,
or wait forever after ``vault operator init`` on vault-0); node ids are the
pod names (``setNodeId``). The data volume names the spec's StorageClass.
"""

from __future__ import annotations

from typing import Any

from ..chart_values import VaultValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, PlatformContext, Release, Workload
from ..objects import namespace
from ..profiles import requests
from ..values import deep_merge
from .storage import storage_class, volume_after

RELEASE = "vault"


def raft_config(replicas: int, release: str = RELEASE) -> str:
    """The chart's default HA Raft config (vault chart values.yaml
    ``server.ha.raft.config``) with a ``retry_join`` per server: pods
    ``<release>-<i>`` behind the chart's headless Service ``<release>-internal``."""
    joins = "".join(
        f'\n  retry_join {{\n    leader_api_addr = "http://{release}-{i}.{release}-internal:8200"\n  }}'
        for i in range(replicas))
    return (
        'ui = true\n\n'
        'listener "tcp" {\n  tls_disable = 1\n  address = "[::]:8200"\n  cluster_address = "[::]:8201"\n}\n\n'
        f'storage "raft" {{\n  path = "/vault/data"{joins}\n}}\n\n'
        'service_registration "kubernetes" {}\n'
    )


def values(ctx: PlatformContext) -> dict[str, Any]:
    spec = ctx.addons.vault
    ha = spec.ha and ctx.profile != "small"
    server: dict[str, Any] = {
        "resources": requests(ctx.profile, "vault"),
        # vault chart server.dataStorage.storageClass (default: the cluster's default class).
        "dataStorage": {"enabled": True, "size": spec.storage_size, "storageClass": storage_class(ctx, "vault")},
        "standalone": {"enabled": not ha},
        "ha": {"enabled": ha, "replicas": spec.replicas if ha else 1, "raft": {"enabled": ha}},
    }
    if ctx.priority():
        server["priorityClassName"] = ctx.priority()
    return typed(VaultValues, {"server": server, "injector": {"resources": requests(ctx.profile, "vault-injector")}})


def with_retry_join(v: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The Raft config for the final replica count (the escape hatch may change
    it), unless the escape hatch brings its own config."""
    ha = v["server"]["ha"]
    own = "config" in override.get("server", {}).get("ha", {}).get("raft", {})
    if ha["enabled"] and ha["raft"]["enabled"] and not own:
        return deep_merge(v, {"server": {"ha": {"raft": {"setNodeId": True, "config": raft_config(ha["replicas"])}}}})
    return v


def _schedulable_workers(ctx: PlatformContext) -> int:
    return sum(1 for n in ctx.nodes if "worker" in n.roles
               and not any(t["effect"] in ("NoSchedule", "NoExecute") for t in n.taints))


def plan(ctx: PlatformContext) -> AddonPlan:
    spec = ctx.addons.vault
    if spec.ha and ctx.profile != "small" and spec.replicas > _schedulable_workers(ctx):
        # The chart's hard anti-affinity puts one Raft member per node.
        raise ValueError(
            f"addons.vault: ha with {spec.replicas} replicas needs as many schedulable worker nodes "
            f"(untainted), the spec has {_schedulable_workers(ctx)}; lower addons.vault.replicas or set ha: false")
    chart = CHARTS["vault"]
    v = with_retry_join(deep_merge(values(ctx), spec.values), spec.values)
    ns = namespace(chart.namespace)
    ha = v["server"]["ha"]
    return AddonPlan("vault", releases=[Release(RELEASE, chart, v, after=[ns.key, *volume_after(ctx)])],
                     manifests=[ns], workloads=[
        # Raft members are spread one per node by the chart's anti-affinity.
        Workload("vault", "vault", "StatefulSet", ("server", "resources"), replicas=ha["replicas"] if ha["enabled"] else 1),
        Workload("vault", "vault-agent-injector", "Deployment", ("injector", "resources")),
    ])
