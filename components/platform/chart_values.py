"""Typed shapes of the chart values the project sets (top level and the
parts it reasons about). ``typed(Shape, values)`` checks a builder's output
with pydantic before the escape hatch is merged: a misspelt key or a wrong
type in the project's own values fails at plan time, not in Helm.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from typing_extensions import TypedDict

from pydantic import ConfigDict, TypeAdapter, with_config

from .values import Resources

_STRICT = ConfigDict(extra="forbid", strict=True)


@with_config(_STRICT)
class WithResources(TypedDict, total=False):
    resources: Resources
    replicas: int
    replicaCount: int
    priorityClassName: str
    tolerations: list[dict[str, Any]]
    nodeSelector: dict[str, str]


@with_config(_STRICT)
class CiliumEncryption(TypedDict):
    enabled: bool
    type: str
    nodeEncryption: bool


@with_config(_STRICT)
class CiliumValues(TypedDict, total=False):
    kubeProxyReplacement: bool
    k8sServiceHost: str
    k8sServicePort: int
    routingMode: str
    tunnelProtocol: str
    MTU: int
    encryption: CiliumEncryption
    ipam: dict[str, Any]
    hubble: dict[str, Any]
    operator: WithResources
    resources: Resources


@with_config(_STRICT)
class Toggle(TypedDict):
    enabled: bool


@with_config(_STRICT)
class TigeraOperatorValues(TypedDict, total=False):
    installation: Toggle
    apiServer: Toggle
    goldmane: Toggle
    whisker: Toggle
    resources: Resources


CertManagerValues = with_config(_STRICT)(TypedDict("CertManagerValues", {
    "crds": dict[str, bool], "replicaCount": int, "resources": Resources, "webhook": WithResources,
    "cainjector": WithResources, "prometheus": dict[str, Any], "global": dict[str, str],
}, total=False))


@with_config(_STRICT)
class IngressNginxValues(TypedDict):
    controller: dict[str, Any]


@with_config(_STRICT)
class MetallbValues(TypedDict):
    controller: WithResources
    speaker: dict[str, Any]
    prometheus: dict[str, Any]


@with_config(_STRICT)
class EtcdService(TypedDict):
    enabled: bool
    port: int
    targetPort: int


@with_config(_STRICT)
class EtcdServiceMonitor(TypedDict):
    enabled: bool
    scheme: str


@with_config(_STRICT)
class KubeEtcd(TypedDict):
    """Scrape etcd at explicit endpoints (the chart's kubeEtcd.*)."""
    enabled: bool
    endpoints: list[str]
    service: EtcdService
    serviceMonitor: EtcdServiceMonitor


KubePrometheusStackValues = with_config(_STRICT)(TypedDict("KubePrometheusStackValues", {
    "crds": Toggle, "prometheus": dict[str, Any], "alertmanager": dict[str, Any], "grafana": dict[str, Any],
    "prometheusOperator": WithResources, "kube-state-metrics": WithResources,
    "prometheus-node-exporter": WithResources, "kubeEtcd": KubeEtcd,
}, total=False))


@with_config(_STRICT)
class GoldpingerValues(TypedDict):
    resources: Resources
    tolerations: list[dict[str, Any]]
    serviceMonitor: Toggle


ArgoCdValues = with_config(_STRICT)(TypedDict("ArgoCdValues", {
    "crds": dict[str, bool], "dex": Toggle, "notifications": Toggle, "controller": WithResources,
    "repoServer": WithResources, "server": WithResources, "redis": WithResources,
    "applicationSet": WithResources, "configs": dict[str, Any], "global": dict[str, str],
}, total=False))


@with_config(_STRICT)
class FluxValues(TypedDict):
    sourceController: WithResources
    kustomizeController: WithResources
    helmController: WithResources
    notificationController: WithResources
    imageAutomationController: dict[str, bool]
    imageReflectionController: dict[str, bool]


@with_config(_STRICT)
class VaultValues(TypedDict):
    server: dict[str, Any]
    injector: WithResources


@with_config(_STRICT)
class KeycloakValues(TypedDict, total=False):
    command: list[str]
    extraEnv: str
    extraVolumes: str
    extraVolumeMounts: str
    resources: Resources
    priorityClassName: str


@with_config(_STRICT)
class DevicePluginValues(TypedDict):
    nodeSelector: dict[str, str]
    affinity: dict[str, Any]
    tolerations: list[dict[str, str]]
    resources: Resources
    priorityClassName: str


GpuOperatorValues = with_config(_STRICT)(TypedDict("GpuOperatorValues", {
    "operator": WithResources, "daemonsets": dict[str, Any], "node-feature-discovery": dict[str, Any],
}))


@lru_cache(maxsize=None)
def _adapter(shape) -> TypeAdapter:
    return TypeAdapter(shape)


def typed(shape, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` checked against ``shape`` (raises pydantic.ValidationError)."""
    _adapter(shape).validate_python(values)
    return values
