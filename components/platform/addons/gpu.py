"""NVIDIA GPUs (seed 000): the device plugin or the GPU operator, only on GPU
node groups (node affinity on their group label) and tolerating their taint
(``nvidia.com/gpu=present:NoSchedule`` from components/topology/plan.py)."""

from __future__ import annotations

from typing import Any

from ..chart_values import DevicePluginValues, GpuOperatorValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, PlatformContext, Release, Workload
from ..objects import namespace, tolerations_for
from ..profiles import requests
from ..values import deep_merge

GPU_LABEL = "sovereign.cloud/gpu"
GROUP_LABEL = "sovereign.cloud/node-group"


def gpu_affinity(ctx: PlatformContext) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": GROUP_LABEL, "operator": "In", "values": ctx.gpu_groups}]}]}}}


def gpu_tolerations(ctx: PlatformContext) -> list[dict[str, str]]:
    return tolerations_for(ctx.gpu_taints)


def device_plugin_values(ctx: PlatformContext) -> dict[str, Any]:
    return typed(DevicePluginValues, {
        "nodeSelector": {GPU_LABEL: "true"},
        # Replaces the chart's default NFD-label affinity.
        "affinity": gpu_affinity(ctx),
        "tolerations": gpu_tolerations(ctx),
        "resources": requests(ctx.profile, "nvidia-device-plugin"),
        "priorityClassName": "system-node-critical",
    })


def operator_values(ctx: PlatformContext) -> dict[str, Any]:
    tol = gpu_tolerations(ctx)
    return typed(GpuOperatorValues, {
        "operator": {"resources": requests(ctx.profile, "gpu-operator")},
        "daemonsets": {"tolerations": tol, "priorityClassName": "system-node-critical"},
        "node-feature-discovery": {"worker": {"tolerations": tol, "nodeSelector": {GPU_LABEL: "true"}}},
    })


def plan(ctx: PlatformContext) -> AddonPlan:
    if not ctx.gpu_groups:
        raise ValueError("addons.gpu is enabled but no node group has gpus; add gpus to a node group or disable it")
    spec = ctx.addons.gpu
    if spec.mode == "device-plugin":
        chart = CHARTS["nvidia-device-plugin"]
        v = deep_merge(device_plugin_values(ctx), spec.values)
        workload = Workload("nvidia-device-plugin", "nvidia-device-plugin", "DaemonSet", ("resources",), placement="gpu")
    else:
        chart = CHARTS["gpu-operator"]
        v = deep_merge(operator_values(ctx), spec.values)
        workload = Workload("gpu-operator", "gpu-operator", "Deployment", ("operator", "resources"))
    ns = namespace(chart.namespace, labels={"pod-security.kubernetes.io/enforce": "privileged"})
    return AddonPlan("gpu", releases=[Release(workload.release, chart, v, after=[ns.key])], manifests=[ns],
                     workloads=[workload])
