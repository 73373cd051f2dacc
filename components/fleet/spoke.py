"""A spoke: the klusterlet, registering with the hub through the bootstrap
kubeconfig the hub's stack exported (read by this stack's StackReference,
stacks/fleet.py), and with ``fleet.submariner`` the Submariner operator
joined to its data domain's broker."""

from __future__ import annotations

from components.platform.chart_values import typed
from components.platform.charts import CHARTS
from components.platform.model import AddonPlan, PlatformContext, Release, Workload
from components.platform.objects import namespace
from components.platform.profiles import replicas, requests
from components.spec.fleet import FleetSpec

from .hub import OCM_VERSION, OPERATOR_REPLICAS
from .names import OCM_NAMESPACE, SECRET_BOOTSTRAP
from .submariner import operator_items
from .values import KlusterletValues


def spoke_plan(ctx: PlatformContext, fleet: FleetSpec, member: str, name: str) -> AddonPlan:
    ns = namespace(OCM_NAMESPACE)
    agent = requests(ctx.profile, "ocm-klusterlet-agent")
    klusterlet = Release("klusterlet", CHARTS["klusterlet"], typed(KlusterletValues, {
        "replicaCount": replicas(ctx.profile, 3),
        "resources": requests(ctx.profile, "ocm-operator"),
        "images": {"tag": OCM_VERSION},
        # A secret value (the hub's stack output): the release keeps it secret.
        "bootstrapHubKubeConfig": ctx.secrets.get(SECRET_BOOTSTRAP),
        "klusterlet": {"create": True, "mode": "Singleton", "clusterName": member,
                       "resourceRequirement": {"type": "ResourceRequirement", "resourceRequirements": agent}},
    }), after=[ns.key])
    releases, manifests = [klusterlet], [ns]
    workloads = [
        Workload(klusterlet.key, "ocm-operator", "Deployment", ("resources",),
                 replicas=klusterlet.values["replicaCount"]),
        Workload(klusterlet.key, "ocm-klusterlet-agent", "Deployment",
                 ("klusterlet", "resourceRequirement", "resourceRequirements"), replicas=OPERATOR_REPLICAS),
    ]
    if fleet.submariner.enabled:
        operator, items, counted = operator_items(ctx, member, fleet.domain(member), after=[])
        releases.append(operator)
        manifests += items
        workloads += counted
    return AddonPlan(name, releases=releases, manifests=manifests, workloads=workloads)
