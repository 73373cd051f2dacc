"""MetalLB: an address pool announced over L2, or over BGP to the spec's peers (seed 001)."""

from __future__ import annotations

from typing import Any

from ..chart_values import MetallbValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import custom, namespace
from ..profiles import requests
from ..values import deep_merge

POOL = "default"


def values(ctx: PlatformContext) -> dict[str, Any]:
    return typed(MetallbValues, {
        "controller": {"resources": requests(ctx.profile, "metallb-controller")},
        # Announce from every node, GPU nodes included (their taint is NoSchedule).
        "speaker": {"resources": requests(ctx.profile, "metallb-speaker"),
                    "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                    "frr": {"enabled": bool(ctx.addons.metallb.peers)}},
        "prometheus": {"serviceMonitor": {"enabled": ctx.addons.monitoring.enabled}},
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
    return AddonPlan(
        "metallb",
        releases=[Release("metallb", chart, v, after=after)],
        manifests=[ns, *announcements(ctx)],
        workloads=[
            Workload("metallb", "metallb-controller", "Deployment", ("controller", "resources")),
            Workload("metallb", "metallb-speaker", "DaemonSet", ("speaker", "resources"), placement="all"),
        ],
    )
