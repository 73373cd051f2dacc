"""Calico (seeds 000, 001) through the tigera operator.

The chart installs only the operator and its CRDs; the project writes the
``Installation`` and ``APIServer`` resources itself (after the chart), then
the ``projectcalico.org/v3`` objects served by the Calico API server:
``FelixConfiguration`` (WireGuard when ``network.encryption: cni``) and the
baseline policies (a ``Tier`` and ``GlobalNetworkPolicy`` objects). The IP
pool is the spec's pod CIDR, VXLAN between node mesh addresses (detected on
wg0), BGP off.

Order on the first ``pulumi up``: the ``Installation`` is awaited until the
operator reports it Ready (calico-node, Typha and kube-controllers up: the
network works), and every other platform item waits for it
(``AddonPlan.ready``). The v3 objects are served by the aggregated Calico
API server, which exists only once the operator has rolled it out: they
wait for the ``APIServer`` resource, itself awaited until Ready.
"""

from __future__ import annotations

from typing import Any

from ...mesh.wireguard import INTERFACE
from ...node.ports import cni_wireguard_port
from ..chart_values import TigeraOperatorValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..mtu import WIREGUARD_OVERHEAD, pod_mtu
from ..objects import custom, namespace
from ..profiles import replicas, requests
from ..values import deep_merge

# Namespaces of the platform reachable from/into isolated namespaces.
PLATFORM_NAMESPACES = ("ingress-nginx", "monitoring")

# The operator mirrors each component's TigeraStatus onto its resource's
# status.conditions, with "Available" renamed "Ready" (tigera/operator,
# pkg/controller/status UpdateStatusCondition): the Installation is Ready
# once calico-node, Typha and kube-controllers are up, the APIServer once
# calico-apiserver is (the projectcalico.org/v3 API is served). Pulumi
# (pulumi-kubernetes v4 ``pulumi.com/waitFor``) waits for that condition,
# as long as a Helm release may take.
AWAIT_READY = {"pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "900"}

# The project's baseline policies live in their own tier, evaluated before
# the default tier (order 1,000,000, where Kubernetes NetworkPolicies and
# untiered Calico policies live) and after the adminnetworkpolicy tier
# (order 1,000: cluster administrators keep the last word). Its policies end
# in Pass, and so does the tier (defaultAction), so traffic they do not
# decide continues to the namespaces' own policies exactly as if the tier
# did not exist.
TIER = "sovereign"
TIER_ORDER = 100_000


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
        # Felix's default port (51820) is the mesh's own default: a port of
        # its own, which the node firewall opens on the mesh (node/ports.py).
        spec["wireguardListeningPort"] = cni_wireguard_port(ctx.spec)
    return spec


def network_policies(ctx: PlatformContext) -> list[Manifest]:
    """The cluster-wide baseline, in Calico's evaluation order (tiers by
    order, policies by order within a tier; Allow and Deny end the
    evaluation, Pass goes on with the next tier; a tier with policies that
    select an endpoint but decide nothing drops the packet, unless its
    ``defaultAction`` is Pass):

    - tier ``sovereign``, ``sovereign.allow-dns`` (every endpoint, egress):
      DNS (53, UDP and TCP) is allowed, whatever the namespace's own
      policies say; everything else is passed on. It selects every pod, so
      without the final Pass the end of the tier would drop all non-DNS
      egress of every pod. Pass (not Allow) keeps the namespaces' own
      egress policies in force.
    - default tier, ``sovereign-isolated-namespaces`` (order 900, ingress,
      pods of namespaces labelled ``sovereign.cloud/isolated``): ingress from
      the platform's ingress and monitoring namespaces is allowed; anything
      else goes on to the namespace's own Kubernetes NetworkPolicies (order
      1000, same tier) and, if none allows it, is dropped at the end of the
      default tier: such namespaces are default-deny for ingress, their
      owners open the rest. Egress is not touched.
    """
    after = ["calico-apiserver"]
    tier = custom("calico/tier", "projectcalico.org/v3", "Tier", TIER,
                  {"order": TIER_ORDER, "defaultAction": "Pass"}, after=after)
    allow_dns = custom("calico/gnp-allow-dns", "projectcalico.org/v3", "GlobalNetworkPolicy", f"{TIER}.allow-dns", {
        "tier": TIER,
        "order": 100,
        "selector": "all()",
        "types": ["Egress"],
        "egress": [
            *({"action": "Allow", "protocol": proto, "destination": {"ports": [53]}} for proto in ("UDP", "TCP")),
            {"action": "Pass"},
        ],
    }, after=[*after, tier.key])
    platform = ", ".join(f"'{n}'" for n in PLATFORM_NAMESPACES)
    isolate = custom("calico/gnp-isolated", "projectcalico.org/v3", "GlobalNetworkPolicy", "sovereign-isolated-namespaces", {
        "tier": "default",
        "order": 900,
        "namespaceSelector": "has(sovereign.cloud/isolated)",
        "types": ["Ingress"],
        "ingress": [
            {"action": "Allow", "source": {"namespaceSelector": f"projectcalico.org/name in {{{platform}}}"}},
        ],
    }, after=after)
    return [tier, allow_dns, isolate]


def _awaited(manifest: Manifest) -> Manifest:
    manifest.obj["metadata"]["annotations"] = {**manifest.obj["metadata"].get("annotations", {}), **AWAIT_READY}
    return manifest


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
    # Awaited: the network works once the Installation is Ready (every
    # other platform item waits for it), the v3 API once the APIServer is.
    installation = _awaited(custom("calico/installation", "operator.tigera.io/v1", "Installation", "default",
                                   installation_spec(ctx), after=["tigera-operator"]))
    apiserver = _awaited(custom("calico-apiserver", "operator.tigera.io/v1", "APIServer", "default", {
        "apiServerDeployment": _container("calico-apiserver", dict(requests(ctx.profile, "calico-apiserver"))),
    }, after=["calico/installation"]))
    # calico-node creates FelixConfiguration default itself (and the operator
    # patches it): the project applies its fields to the existing object.
    felix = custom("calico/felix", "projectcalico.org/v3", "FelixConfiguration", "default", felix_spec(ctx),
                   after=["calico-apiserver"])
    felix.patch = True
    felix.obj["metadata"]["annotations"] = {"pulumi.com/patchForce": "true"}
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
    return AddonPlan("cni", releases=[release], manifests=manifests, workloads=workloads, ready=installation.key)
