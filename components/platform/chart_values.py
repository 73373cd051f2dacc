"""Typed shapes of the chart values the project sets (top level and the
parts it reasons about). ``typed(Shape, values)`` checks a builder's output
with pydantic before the escape hatch is merged: a misspelt key or a wrong
type in the project's own values fails at plan time, not in Helm.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NotRequired

from typing_extensions import TypedDict

from pydantic import ConfigDict, TypeAdapter, with_config

from .values import Quantities, Resources

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
class IngressTls(TypedDict):
    """One entry of an Ingress ``spec.tls`` (the charts copy it as is)."""
    hosts: list[str]
    secretName: str


@with_config(_STRICT)
class MetallbPrometheus(TypedDict):
    """metallb chart ``prometheus.*``: with ``serviceMonitor.enabled`` and
    ``rbacPrometheus`` (default true) templates/servicemonitor.yaml
    ``required``s ``serviceAccount`` and ``namespace``: the Prometheus of
    kube-prometheus-stack, granted to read the metallb namespace."""
    serviceMonitor: Toggle
    serviceAccount: NotRequired[str]
    namespace: NotRequired[str]


@with_config(_STRICT)
class MetallbFrr(TypedDict):
    enabled: bool
    resources: NotRequired[Resources]


@with_config(_STRICT)
class MetallbSpeaker(TypedDict):
    """metallb chart ``speaker.*``; ``frr``, ``reloader`` and ``frrMetrics``
    are the FRR-mode containers of the speaker pod (values.yaml)."""
    resources: Resources
    tolerations: list[dict[str, Any]]
    frr: MetallbFrr
    reloader: NotRequired[WithResources]
    frrMetrics: NotRequired[WithResources]


@with_config(_STRICT)
class MetallbValues(TypedDict):
    controller: WithResources
    speaker: MetallbSpeaker
    prometheus: MetallbPrometheus


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


@with_config(_STRICT)
class ServiceAccountName(TypedDict):
    create: bool
    name: str


@with_config(_STRICT)
class PrometheusValues(TypedDict, total=False):
    """kube-prometheus-stack ``prometheus.*``: ``serviceAccount.name`` is the
    account other charts grant scraping rights to (metallb)."""
    prometheusSpec: dict[str, Any]
    serviceAccount: ServiceAccountName


@with_config(_STRICT)
class PrometheusOperatorValues(TypedDict, total=False):
    """kube-prometheus-stack ``prometheusOperator.*``;
    ``prometheusConfigReloader.resources`` sizes the config-reloader sidecar
    the operator adds to every Prometheus and Alertmanager pod."""
    resources: Resources
    prometheusConfigReloader: WithResources


@with_config(_STRICT)
class GrafanaIngress(TypedDict):
    """grafana chart ``ingress.*`` (the kube-prometheus-stack subchart)."""
    enabled: bool
    ingressClassName: str
    annotations: dict[str, str]
    hosts: list[str]
    path: str
    tls: list[IngressTls]


GrafanaValues = with_config(_STRICT)(TypedDict("GrafanaValues", {
    # ``sidecar.resources``: every k8s-sidecar container of the pod (the
    # chart's dashboards and datasources sidecars, both on in kube-prometheus-stack).
    "resources": Resources, "sidecar": WithResources, "envFromSecret": str, "grafana.ini": dict[str, Any],
    "ingress": GrafanaIngress,
}, total=False))


KubePrometheusStackValues = with_config(_STRICT)(TypedDict("KubePrometheusStackValues", {
    "crds": Toggle, "prometheus": PrometheusValues, "alertmanager": dict[str, Any], "grafana": GrafanaValues,
    "prometheusOperator": PrometheusOperatorValues, "kube-state-metrics": WithResources,
    "prometheus-node-exporter": WithResources, "kubeEtcd": KubeEtcd,
    # The chart's scrapes (and their *Down alerts, templates/prometheus/rules-1.14
    # gate on ``.enabled``) of control-plane parts that only listen on 127.0.0.1.
    "kubeControllerManager": Toggle, "kubeScheduler": Toggle, "kubeProxy": Toggle,
}, total=False))


@with_config(_STRICT)
class GoldpingerValues(TypedDict):
    resources: Resources
    tolerations: list[dict[str, Any]]
    serviceMonitor: Toggle


@with_config(_STRICT)
class ArgoCdIngress(TypedDict):
    """argo-cd chart ``server.ingress.*`` (7.x+): ``tls: true`` puts
    ``hostname`` in the Ingress TLS with the secret ``argocd-server-tls``."""
    enabled: bool
    ingressClassName: str
    hostname: str
    annotations: dict[str, str]
    tls: bool


@with_config(_STRICT)
class ArgoCdServer(TypedDict, total=False):
    replicas: int
    resources: Resources
    ingress: ArgoCdIngress


ArgoCdValues = with_config(_STRICT)(TypedDict("ArgoCdValues", {
    "crds": dict[str, bool], "dex": Toggle, "notifications": Toggle, "controller": WithResources,
    "repoServer": WithResources, "server": ArgoCdServer, "redis": WithResources,
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
class KeycloakDatabase(TypedDict):
    """keycloakx chart ``database.*`` (KC_DB* env of templates/statefulset.yaml;
    the password from ``existingSecret``/``existingSecretKey``)."""
    vendor: str
    hostname: str
    port: int
    database: str
    username: str
    existingSecret: str
    existingSecretKey: str


@with_config(_STRICT)
class IngressPath(TypedDict):
    path: str
    pathType: str


@with_config(_STRICT)
class IngressRule(TypedDict):
    host: str
    paths: list[IngressPath]


@with_config(_STRICT)
class KeycloakIngress(TypedDict):
    """keycloakx chart ``ingress.*`` (templates/ingress.yaml)."""
    enabled: bool
    ingressClassName: str
    annotations: dict[str, str]
    rules: list[IngressRule]
    tls: list[IngressTls]


@with_config(_STRICT)
class KeycloakValues(TypedDict, total=False):
    command: list[str]
    extraEnv: str
    extraVolumes: str
    extraVolumeMounts: str
    resources: Resources
    priorityClassName: str
    # ``http.relativePath`` defaults to "/auth" in the chart.
    http: dict[str, str]
    database: KeycloakDatabase
    # An init container waiting for database.hostname:port.
    dbchecker: Toggle
    ingress: KeycloakIngress


@with_config(_STRICT)
class LocalPathStorageClass(TypedDict):
    """local-path-provisioner chart ``storageClass.*``."""
    create: bool
    defaultClass: bool
    name: str
    reclaimPolicy: str


@with_config(_STRICT)
class LocalPathValues(TypedDict):
    storageClass: LocalPathStorageClass
    resources: Resources
    priorityClassName: NotRequired[str]


@with_config(_STRICT)
class CnpgValues(TypedDict):
    """cloudnative-pg chart: ``crds.create``, ``resources`` of the operator,
    ``monitoring.podMonitorEnabled`` (needs the Prometheus operator CRDs)."""
    crds: dict[str, bool]
    resources: Resources
    monitoring: dict[str, bool]
    priorityClassName: NotRequired[str]


@with_config(_STRICT)
class DevicePluginValues(TypedDict):
    nodeSelector: dict[str, str]
    affinity: dict[str, Any]
    tolerations: list[dict[str, str]]
    resources: Resources
    priorityClassName: str
    runtimeClassName: str


@with_config(_STRICT)
class EnvVar(TypedDict):
    name: str
    value: str


@with_config(_STRICT)
class GpuOperatorToolkit(TypedDict, total=False):
    enabled: bool
    env: list[EnvVar]


GpuOperatorValues = with_config(_STRICT)(TypedDict("GpuOperatorValues", {
    "operator": WithResources, "daemonsets": dict[str, Any], "node-feature-discovery": dict[str, Any],
    "toolkit": GpuOperatorToolkit,
}))


# -- Rook-Ceph (components/storage/values.py) -------------------------------

@with_config(_STRICT)
class CephResources(TypedDict):
    requests: Quantities
    limits: NotRequired[Quantities]


@with_config(_STRICT)
class RookMonitoring(TypedDict, total=False):
    enabled: bool
    createPrometheusRules: bool


@with_config(_STRICT)
class RookOperatorValues(TypedDict, total=False):
    """rook-ceph chart: CRDs, the operator's resources, ServiceMonitor RBAC
    (``monitoring.enabled``), CSI drivers (``csi.*``)."""
    crds: Toggle
    resources: Resources
    priorityClassName: str
    monitoring: Toggle
    enableDiscoveryDaemon: bool
    tolerations: list[dict[str, Any]]
    csi: dict[str, Any]


@with_config(_STRICT)
class CephDevice(TypedDict):
    name: str


@with_config(_STRICT)
class CephStorageNode(TypedDict, total=False):
    """CephCluster ``storage.nodes[]``: ``name`` is the node's kubernetes.io/hostname."""
    name: str
    devices: list[CephDevice]
    deviceFilter: str


@with_config(_STRICT)
class CephStorage(TypedDict):
    useAllNodes: bool
    useAllDevices: bool
    nodes: list[CephStorageNode]


@with_config(_STRICT)
class CephDaemonCount(TypedDict, total=False):
    count: int
    allowMultiplePerNode: bool
    modules: list[dict[str, Any]]
    stretchCluster: dict[str, Any]


CephClusterSpecValues = with_config(_STRICT)(TypedDict("CephClusterSpecValues", {
    "mon": CephDaemonCount, "mgr": CephDaemonCount, "dashboard": dict[str, Any], "crashCollector": dict[str, bool],
    "logCollector": dict[str, Any], "resources": dict[str, CephResources], "placement": dict[str, Any],
    "storage": CephStorage, "priorityClassNames": dict[str, str],
}, total=False))


@with_config(_STRICT)
class CephClassValues(TypedDict, total=False):
    """The StorageClass the cluster chart writes beside a pool, filesystem or store."""
    enabled: bool
    name: str
    isDefault: bool
    reclaimPolicy: str
    allowVolumeExpansion: bool
    volumeBindingMode: str
    pool: str
    parameters: dict[str, str]


@with_config(_STRICT)
class CephPoolEntry(TypedDict):
    """One entry of ``cephBlockPools``/``cephFileSystems``/``cephObjectStores``."""
    name: str
    spec: dict[str, Any]
    storageClass: CephClassValues


@with_config(_STRICT)
class RookClusterValues(TypedDict):
    operatorNamespace: str
    toolbox: Toggle
    monitoring: RookMonitoring
    cephClusterSpec: CephClusterSpecValues
    cephBlockPools: list[CephPoolEntry]
    cephFileSystems: list[CephPoolEntry]
    cephObjectStores: list[CephPoolEntry]


@lru_cache(maxsize=None)
def _adapter(shape) -> TypeAdapter:
    return TypeAdapter(shape)


def typed(shape, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` checked against ``shape`` (raises pydantic.ValidationError)."""
    _adapter(shape).validate_python(values)
    return values
