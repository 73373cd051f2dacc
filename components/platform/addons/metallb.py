"""MetalLB: an address pool announced over L2, or over BGP to the spec's peers (seed 001)."""

from __future__ import annotations

from typing import Any

from ..chart_values import MetallbValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import custom, namespace
from ..profiles import requests
from ..values import deep_merge
from .monitoring import NAMESPACE as MONITORING_NAMESPACE
from .monitoring import PROMETHEUS_SERVICE_ACCOUNT

POOL = "default"


def values(ctx: PlatformContext) -> dict[str, Any]:
    r = lambda w: requests(ctx.profile, w)  # noqa: E731
    bgp = bool(ctx.addons.metallb.peers)
    monitored = ctx.addons.monitoring.enabled
    # Announce from every node, GPU nodes included (their taint is NoSchedule).
    speaker: dict[str, Any] = {"resources": r("metallb-speaker"),
                               "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                               "frr": {"enabled": bgp}}
    if bgp:
        # The FRR-mode containers of the speaker pod (metallb chart
        # speaker.frr/reloader/frrMetrics.resources), counted in the sum.
        speaker["frr"]["resources"] = r("metallb-frr")
        speaker["reloader"] = {"resources": r("metallb-frr-reloader")}
        speaker["frrMetrics"] = {"resources": r("metallb-frr-metrics")}
    prometheus: dict[str, Any] = {"serviceMonitor": {"enabled": monitored}}
    if monitored:
        # Required with serviceMonitor.enabled (rbacPrometheus, on by default,
        # grants this account read access to the metallb namespace): the
        # Prometheus of the monitoring add-on.
        prometheus |= {"serviceAccount": PROMETHEUS_SERVICE_ACCOUNT, "namespace": MONITORING_NAMESPACE}
    return typed(MetallbValues, {
        "controller": {"resources": r("metallb-controller")},
        "speaker": speaker,
        "prometheus": prometheus,
    })


def announcements(ctx: PlatformContext) -> list[Manifest]:
    spec = ctx.addons.metallb
    ns = CHARTS["metallb"].namespace
    pool = custom("metallb/pool", "metallb.io/v1beta1", "IPAddressPool", POOL,
                  {"addresses": list(spec.addresses), "autoAssign": True}, namespace=ns, after=["metallb"])
    if not spec.peers:
        return [pool, custom("metallb/l2", "metallb.io/v1beta1", "L2Advertisement", POOL,
                             {"ipAddressPools": [POOL]}, namespace=ns, after=["metallb/pool"])]
    peers = [
        custom(f"metallb/peer-{i}", "metallb.io/v1beta2", "BGPPeer", p.name or f"peer-{i}",
               {"myASN": spec.my_asn, "peerASN": p.asn, "peerAddress": str(p.address)}, namespace=ns, after=["metallb"])
        for i, p in enumerate(spec.peers)
    ]
    adv = custom("metallb/bgp", "metallb.io/v1beta1", "BGPAdvertisement", POOL,
                 {"ipAddressPools": [POOL]}, namespace=ns, after=["metallb/pool"])
    return [pool, *peers, adv]


def plan(ctx: PlatformContext) -> AddonPlan:
    chart = CHARTS["metallb"]
    v = deep_merge(values(ctx), ctx.addons.metallb.values)
    ns = namespace(chart.namespace, labels={
        # The speaker needs host networking and NET_RAW.
        "pod-security.kubernetes.io/enforce": "privileged"})
    after = [ns.key] + (["kube-prometheus-stack"] if ctx.addons.monitoring.enabled else [])
    workloads = [
        Workload("metallb", "metallb-controller", "Deployment", ("controller", "resources")),
        Workload("metallb", "metallb-speaker", "DaemonSet", ("speaker", "resources"), placement="all"),
    ]
    if ctx.addons.metallb.peers and v["speaker"]["frr"]["enabled"]:
        workloads += [
            Workload("metallb", "metallb-frr", "DaemonSet", ("speaker", "frr", "resources"), placement="all"),
            Workload("metallb", "metallb-frr-reloader", "DaemonSet", ("speaker", "reloader", "resources"),
                     placement="all"),
            Workload("metallb", "metallb-frr-metrics", "DaemonSet", ("speaker", "frrMetrics", "resources"),
                     placement="all"),
        ]
    return AddonPlan("metallb", releases=[Release("metallb", chart, v, after=after)],
                     manifests=[ns, *announcements(ctx)], workloads=workloads)
