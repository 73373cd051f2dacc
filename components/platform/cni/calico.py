"""Calico (seeds 000, 001) through the tigera operator.

The chart installs only the operator and its CRDs; the project writes the
``Installation`` and ``APIServer`` resources itself (after the chart), then
the ``projectcalico.org/v3`` objects served by the Calico API server:
``FelixConfiguration`` (WireGuard when ``network.encryption: cni``) and the
baseline ``GlobalNetworkPolicy`` set. The IP pool is the spec's pod CIDR,
VXLAN between node mesh addresses (detected on wg0), BGP off.
"""

from __future__ import annotations

from typing import Any

from ...mesh.wireguard import INTERFACE
from ..chart_values import TigeraOperatorValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..mtu import WIREGUARD_OVERHEAD, pod_mtu
from ..objects import custom, namespace
from ..profiles import replicas, requests
from ..values import deep_merge

# Namespaces of the platform reachable from/into isolated namespaces.
PLATFORM_NAMESPACES = ("ingress-nginx", "monitoring")


def _container(name: str, resources: dict) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": name, "resources": resources}]}}}}


def installation_spec(ctx: PlatformContext) -> dict[str, Any]:
    spec = ctx.spec
    network: dict[str, Any] = {
        "bgp": "Disabled",
        "mtu": pod_mtu(ctx.mesh_mtu, "calico", spec.network.encryption),
        "nodeAddressAutodetectionV4": {"interface": INTERFACE},
        "ipPools": [{
            "name": "default-ipv4-ippool",
            "cidr": ctx.pod_cidr,
            "blockSize": 26,
            # VXLAN between mesh addresses; with Calico's WireGuard on, traffic
            # to WireGuard-capable nodes is WireGuard-encapsulated only.
            "encapsulation": "VXLAN",
            "natOutgoing": "Enabled",
            "nodeSelector": "all()",
        }],
    }
    if spec.distribution == "k3s":
        # K3s' containerd config does not enable IP forwarding in pods (Calico's K3s guide).
        network["containerIPForwarding"] = "Enabled"
    return {
        "cni": {"type": "Calico", "ipam": {"type": "Calico"}},
        "calicoNetwork": network,
        "controlPlaneReplicas": replicas(ctx.profile, 2 if len(ctx.nodes) > 1 else 1),
        "calicoNodeDaemonSet": _container("calico-node", dict(requests(ctx.profile, "calico-node"))),
        "typhaDeployment": _container("calico-typha", dict(requests(ctx.profile, "calico-typha"))),
        "calicoKubeControllersDeployment": _container(
            "calico-kube-controllers", dict(requests(ctx.profile, "calico-kube-controllers"))),
    }


def felix_spec(ctx: PlatformContext) -> dict[str, Any]:
    encrypt = ctx.spec.network.encryption == "cni"
    spec: dict[str, Any] = {"wireguardEnabled": encrypt}
    if encrypt:
        # Calico's tunnel rides the mesh: its MTU is the mesh MTU minus one
        # more WireGuard header (pod traffic encrypted twice).
        spec["wireguardMTU"] = ctx.mesh_mtu - WIREGUARD_OVERHEAD[4]
    return spec


def network_policies(ctx: PlatformContext) -> list[Manifest]:
    """Cluster-wide baseline: DNS egress always allowed; pods of namespaces
    labelled ``sovereign.cloud/isolated`` are default-deny for ingress except
    from the platform's ingress and monitoring namespaces. Calico semantics:
    a policy that selects an endpoint without matching ends in a deny at the
    end of the tier unless a later policy (e.g. the namespace's own
    Kubernetes NetworkPolicies, order 1000) allows it - so the namespace's
    owners open the rest themselves."""
    after = ["calico-apiserver"]
    allow_dns = custom("calico/gnp-allow-dns", "projectcalico.org/v3", "GlobalNetworkPolicy", "sovereign-allow-dns", {
        "order": 100,
        "selector": "all()",
        "types": ["Egress"],
        "egress": [{"action": "Allow", "protocol": proto, "destination": {"ports": [53]}} for proto in ("UDP", "TCP")],
    }, after=after)
    platform = ", ".join(f"'{n}'" for n in PLATFORM_NAMESPACES)
    isolate = custom("calico/gnp-isolated", "projectcalico.org/v3", "GlobalNetworkPolicy", "sovereign-isolated-namespaces", {
        "order": 900,
        "namespaceSelector": "has(sovereign.cloud/isolated)",
        "types": ["Ingress"],
        "ingress": [
            {"action": "Allow", "source": {"namespaceSelector": f"projectcalico.org/name in {{{platform}}}"}},
        ],
    }, after=after)
    return [allow_dns, isolate]


def calico_plan(ctx: PlatformContext) -> AddonPlan:
    chart_values = deep_merge(typed(TigeraOperatorValues, {
        # The project writes Installation/APIServer itself (typed, validated).
        "installation": {"enabled": False},
        "apiServer": {"enabled": False},
        "goldmane": {"enabled": False},
        "whisker": {"enabled": False},
        "resources": requests(ctx.profile, "tigera-operator"),
    }), ctx.addons.cni.values)
    ns = namespace(CHARTS["tigera-operator"].namespace)
    installation = custom("calico/installation", "operator.tigera.io/v1", "Installation", "default",
                          installation_spec(ctx), after=["tigera-operator"])
    apiserver = custom("calico-apiserver", "operator.tigera.io/v1", "APIServer", "default", {
        "apiServerDeployment": _container("calico-apiserver", dict(requests(ctx.profile, "calico-apiserver"))),
    }, after=["calico/installation"])
    felix = custom("calico/felix", "projectcalico.org/v3", "FelixConfiguration", "default", felix_spec(ctx),
                   after=["calico-apiserver"])
    manifests = [ns, installation, apiserver, felix]
    if ctx.addons.cni.network_policies:
        manifests += network_policies(ctx)
    cp = installation.obj["spec"]["controlPlaneReplicas"]
    node_path = ("spec", "calicoNodeDaemonSet", "spec", "template", "spec", "containers", 0, "resources")
    workloads = [
        Workload("tigera-operator", "tigera-operator", "Deployment", ("resources",)),
        Workload("calico/installation", "calico-node", "DaemonSet", node_path, placement="all"),
        # Typha (host network, anti-affine) never runs twice on one node.
        Workload("calico/installation", "calico-typha", "Deployment",
                 ("spec", "typhaDeployment", "spec", "template", "spec", "containers", 0, "resources")),
        Workload("calico/installation", "calico-kube-controllers", "Deployment",
                 ("spec", "calicoKubeControllersDeployment", "spec", "template", "spec", "containers", 0, "resources")),
        Workload("calico-apiserver", "calico-apiserver", "Deployment",
                 ("spec", "apiServerDeployment", "spec", "template", "spec", "containers", 0, "resources"), replicas=cp),
    ]
    release = Release("tigera-operator", CHARTS["tigera-operator"], chart_values, after=[ns.key])
    return AddonPlan("cni", releases=[release], manifests=manifests, workloads=workloads)
