"""NVIDIA GPUs (seed 000): the device plugin or the GPU operator, only on GPU
node groups (node affinity on their group label) and tolerating their taint
(``nvidia.com/gpu=present:NoSchedule`` from components/topology/plan.py).

Who owns the host side (driver, nvidia-container-toolkit, containerd's
``nvidia`` runtime) per mode: components/cluster/common/gpu_runtime.py.

* ``device-plugin``: the hosts carry the driver and the toolkit (the
  ``gpu-runtime`` node command, before the node joins); containerd has an
  ``nvidia`` runtime beside runc (not the default). The platform writes the
  RuntimeClass ``nvidia`` (handler ``nvidia``) whose scheduling keeps its
  pods on GPU nodes (GPU label, GPU taints tolerated), and the plugin runs
  with ``runtimeClassName: nvidia`` (it needs NVML from the runtime). K3s
  ships that RuntimeClass itself (its ``runtimes`` add-on): there it is
  patched with the scheduling, never created (a create fails: AlreadyExists).
* ``operator``: the operator installs the toolkit (``toolkit.enabled``) and
  its own RuntimeClass ``nvidia``; on K3s its toolkit is pointed at K3s's
  containerd (generated config and socket below). K3s regenerates that
  config at every start and then finds the operator's runtime itself
  (``/usr/local/nvidia/toolkit``), so both agree on the ``nvidia`` runtime.
"""

from __future__ import annotations

from typing import Any

from ..chart_values import DevicePluginValues, GpuOperatorValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import metadata, namespace, tolerations_for
from ..profiles import requests
from ..values import deep_merge

GPU_LABEL = "sovereign.cloud/gpu"
GROUP_LABEL = "sovereign.cloud/node-group"
RUNTIME_CLASS = "nvidia"
"""The RuntimeClass and its containerd runtime handler (K3s's and the operator's name too)."""
K3S_CONTAINERD_CONFIG = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml"
K3S_CONTAINERD_SOCKET = "/run/k3s/containerd/containerd.sock"


def gpu_affinity(ctx: PlatformContext) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": GROUP_LABEL, "operator": "In", "values": ctx.gpu_groups}]}]}}}


def gpu_tolerations(ctx: PlatformContext) -> list[dict[str, str]]:
    return tolerations_for(ctx.gpu_taints)


def runtime_class(ctx: PlatformContext) -> Manifest:
    """RuntimeClass ``nvidia``: pods asking for it land on GPU nodes only."""
    scheduling: dict[str, Any] = {"nodeSelector": {GPU_LABEL: "true"}}
    if ctx.gpu_taints:
        scheduling["tolerations"] = gpu_tolerations(ctx)
    obj = {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": metadata(RUNTIME_CLASS),
           "handler": RUNTIME_CLASS, "scheduling": scheduling}
    return Manifest(f"runtimeclass/{RUNTIME_CLASS}", obj, patch=ctx.spec.distribution == "k3s")


def device_plugin_values(ctx: PlatformContext) -> dict[str, Any]:
    return typed(DevicePluginValues, {
        "nodeSelector": {GPU_LABEL: "true"},
        # Replaces the chart's default NFD-label affinity.
        "affinity": gpu_affinity(ctx),
        "tolerations": gpu_tolerations(ctx),
        "resources": requests(ctx.profile, "nvidia-device-plugin"),
        "priorityClassName": "system-node-critical",
        # runc is containerd's default runtime: only the nvidia one gives
        # the plugin the driver's libraries (NVML) and the GPUs.
        "runtimeClassName": RUNTIME_CLASS,
    })


def operator_values(ctx: PlatformContext) -> dict[str, Any]:
    tol = gpu_tolerations(ctx)
    # The operator owns the toolkit in this mode (the node command skips it).
    toolkit: dict[str, Any] = {"enabled": True}
    if ctx.spec.distribution == "k3s":
        toolkit["env"] = [
            {"name": "CONTAINERD_CONFIG", "value": K3S_CONTAINERD_CONFIG},
            {"name": "CONTAINERD_SOCKET", "value": K3S_CONTAINERD_SOCKET},
            # K3s's containerd is embedded (no `containerd` binary to ask for
            # `config dump`): the file K3s generated is the configuration.
            {"name": "RUNTIME_CONFIG_SOURCE", "value": "file"},
        ]
    return typed(GpuOperatorValues, {
        "operator": {"resources": requests(ctx.profile, "gpu-operator")},
        "daemonsets": {"tolerations": tol, "priorityClassName": "system-node-critical"},
        "node-feature-discovery": {"worker": {"tolerations": tol, "nodeSelector": {GPU_LABEL: "true"}}},
        "toolkit": toolkit,
    })


def plan(ctx: PlatformContext) -> AddonPlan:
    if not ctx.gpu_groups:
        raise ValueError("addons.gpu is enabled but no node group has gpus; add gpus to a node group or disable it")
    spec = ctx.addons.gpu
    manifests: list[Manifest] = []
    if spec.mode == "device-plugin":
        chart = CHARTS["nvidia-device-plugin"]
        v = deep_merge(device_plugin_values(ctx), spec.values)
        workload = Workload("nvidia-device-plugin", "nvidia-device-plugin", "DaemonSet", ("resources",), placement="gpu")
        # Pods naming a RuntimeClass that does not exist are rejected.
        manifests.append(runtime_class(ctx))
    else:
        chart = CHARTS["gpu-operator"]
        v = deep_merge(operator_values(ctx), spec.values)
        workload = Workload("gpu-operator", "gpu-operator", "Deployment", ("operator", "resources"))
    ns = namespace(chart.namespace, labels={"pod-security.kubernetes.io/enforce": "privileged"})
    release = Release(workload.release, chart, v, after=[ns.key, *(m.key for m in manifests)])
    return AddonPlan("gpu", releases=[release], manifests=[ns, *manifests], workloads=[workload])
