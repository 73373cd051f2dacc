"""HashiCorp Vault (seeds 000, 004): Raft HA or one standalone server, plus the injector."""

from __future__ import annotations

from typing import Any

from ..chart_values import VaultValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, PlatformContext, Release, Workload
from ..objects import namespace
from ..profiles import requests
from ..values import deep_merge


def values(ctx: PlatformContext) -> dict[str, Any]:
    spec = ctx.addons.vault
    ha = spec.ha and ctx.profile != "small"
    server: dict[str, Any] = {
        "resources": requests(ctx.profile, "vault"),
        "dataStorage": {"enabled": True, "size": spec.storage_size},
        "standalone": {"enabled": not ha},
        "ha": {"enabled": ha, "replicas": spec.replicas if ha else 1, "raft": {"enabled": ha}},
    }
    if ctx.priority():
        server["priorityClassName"] = ctx.priority()
    return typed(VaultValues, {"server": server, "injector": {"resources": requests(ctx.profile, "vault-injector")}})


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
    v = deep_merge(values(ctx), ctx.addons.vault.values)
    ns = namespace(chart.namespace)
    ha = v["server"]["ha"]
    return AddonPlan("vault", releases=[Release("vault", chart, v, after=[ns.key])], manifests=[ns], workloads=[
        # Raft members are spread one per node by the chart's anti-affinity.
        Workload("vault", "vault", "StatefulSet", ("server", "resources"), replicas=ha["replicas"] if ha["enabled"] else 1),
        Workload("vault", "vault-agent-injector", "Deployment", ("injector", "resources")),
    ])
