"""The hub: Open Cluster Management's cluster-manager, the fleet's clusters,
sets and placements, the ManifestWorks of exported services, the brokers.

Registration is auto-accepted: the ClusterManager auto-approves clusters
registering as the project's bootstrap service account
(``ManagedClusterAutoApproval`` with ``autoApproveUsers``), and the hub
declares every spoke as a ManagedCluster with ``hubAcceptsClient: true``
and its data-region labels, so membership and sets are decided by the spec,
not by whoever holds the bootstrap token. The klusterlet's bootstrap
kubeconfig carries that account's token (stacks/fleet.py exports it).
"""

from __future__ import annotations

from components.platform.chart_values import typed
from components.platform.charts import CHARTS
from components.platform.model import AddonPlan, Manifest, PlatformContext, Release, Workload
from components.platform.objects import metadata, namespace
from components.platform.profiles import replicas, requests
from components.spec.fleet import FleetSpec

from . import api
from .exports import export_works
from .names import (BOOTSTRAP_ROLE, BOOTSTRAP_SA, BOOTSTRAP_TOKEN, BOOTSTRAP_USER, CLUSTERSET_LABEL, DOMAIN_LABEL,
                    OCM_NAMESPACE, PLACEMENT_NAMESPACE, REGION_LABEL, psk_secret)
from .submariner import WAIT_FOR_TOKEN, broker_items
from .values import ClusterManagerValues

OCM_VERSION = "v1.3.1"
OCM_IMAGES = "quay.io/open-cluster-management"
HUB_CONTROLLERS = ("registration-controller", "registration-webhook", "work-webhook", "placement-controller",
                   "addon-manager-controller")
"""The cluster-manager operator's hub Deployments in Default mode (no
work-controller: neither ManifestWorkReplicaSet nor the cloud-events
drivers are enabled)."""
CLUSTER_MANAGER = "fleet/cluster-manager"


OPERATOR_REPLICAS = 1
"""Replicas OCM's operators give the hub's (and an agent's) Deployments:
3 only with more than one node labelled ``node-role.kubernetes.io/master=``
(empty value; DetermineReplicaByNodes, ocm pkg/operator/helpers). K3s sets
that label to "true" and kubeadm no longer sets it: 1 on every cluster here."""


def hub_plan(ctx: PlatformContext, fleet: FleetSpec, name: str) -> AddonPlan:
    ns = namespace(OCM_NAMESPACE)
    chart = CHARTS["cluster-manager"]
    operator = Release("cluster-manager", chart, typed(ClusterManagerValues, {
        "replicaCount": replicas(ctx.profile, 3),
        "resources": requests(ctx.profile, "ocm-operator"),
        "images": {"tag": OCM_VERSION},
        "createBootstrapToken": False, "createBootstrapSA": False,
        "clusterManager": {"create": False},
    }), after=[ns.key])
    manifests = [ns, *_bootstrap_identity(ns.key), _cluster_manager(ctx, operator.key)]
    manifests += _clusters(fleet)
    manifests += _placements(fleet)
    manifests += export_works(fleet, after=[CLUSTER_MANAGER])
    releases = [operator]
    secrets = []
    if fleet.submariner.enabled:
        domains = sorted({fleet.domain(m) for m in fleet.spokes()})
        for i, domain in enumerate(domains):
            broker, items = broker_items(domain, owns_crds=i == 0, after=[])
            releases.append(broker)
            manifests += items
            secrets.append(psk_secret(domain))
    for m in manifests:
        api.check(m.obj)
    workloads = [Workload(operator.key, "ocm-operator", "Deployment", ("resources",),
                          replicas=operator.values["replicaCount"])]
    workloads += [Workload(CLUSTER_MANAGER, f"ocm-{c}", "Deployment",
                           ("spec", "resourceRequirement", "resourceRequirements"), replicas=OPERATOR_REPLICAS)
                  for c in HUB_CONTROLLERS]
    return AddonPlan(name, releases=releases, manifests=manifests, workloads=workloads, secrets=secrets)


def _bootstrap_identity(after: str) -> list[Manifest]:
    """The service account klusterlets register as, its token, and what the
    registration needs of the hub (the chart's bootstrap ClusterRole rules)."""
    sa = Manifest("fleet/bootstrap-sa", {"apiVersion": "v1", "kind": "ServiceAccount",
                                         "metadata": metadata(BOOTSTRAP_SA, OCM_NAMESPACE)}, after=[after])
    token = Manifest("fleet/bootstrap-token", {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": metadata(BOOTSTRAP_TOKEN, OCM_NAMESPACE, annotations={
            "kubernetes.io/service-account.name": BOOTSTRAP_SA, **WAIT_FOR_TOKEN}),
    }, after=[sa.key])
    role = Manifest("fleet/bootstrap-role", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": metadata(BOOTSTRAP_ROLE),
        "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
            {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"],
             "verbs": ["create", "get", "list", "watch"]},
            {"apiGroups": ["cluster.open-cluster-management.io"], "resources": ["managedclusters"],
             "verbs": ["get", "create", "list", "watch"]},
            {"apiGroups": ["cluster.open-cluster-management.io"], "resources": ["managedclustersets/join"],
             "verbs": ["create"]},
        ]})
    binding = Manifest("fleet/bootstrap-binding", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": metadata(BOOTSTRAP_ROLE),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": BOOTSTRAP_ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": BOOTSTRAP_SA, "namespace": OCM_NAMESPACE}],
    }, after=[role.key, sa.key])
    return [sa, token, role, binding]


def _cluster_manager(ctx: PlatformContext, after: str) -> Manifest:
    gates = [{"feature": "ManagedClusterAutoApproval", "mode": "Enable"},
             {"feature": "DefaultClusterSet", "mode": "Enable"}]
    cpu, memory = (requests(ctx.profile, "ocm-hub-controller")["requests"][k] for k in ("cpu", "memory"))
    obj = {
        "apiVersion": api.OPERATOR_V1, "kind": "ClusterManager",
        # Dependents wait until the operator has installed the hub's CRDs
        # and webhooks (ManagedClusterSet, Placement, ManifestWork...).
        "metadata": metadata("cluster-manager", annotations={"pulumi.com/waitFor": "condition=Available"}),
        "spec": {
            **{f"{part}ImagePullSpec": f"{OCM_IMAGES}/{image}:{OCM_VERSION}" for part, image in (
                ("registration", "registration"), ("work", "work"), ("placement", "placement"),
                ("addOnManager", "addon-manager"))},
            "deployOption": {"mode": "Default"},
            "resourceRequirement": {"type": "ResourceRequirement",
                                    "resourceRequirements": {"requests": {"cpu": cpu, "memory": memory}}},
            "registrationConfiguration": {"autoApproveUsers": [BOOTSTRAP_USER], "featureGates": gates},
            "workConfiguration": {"workDriver": "kube", "featureGates": []},
        },
    }
    return Manifest(CLUSTER_MANAGER, obj, after=[after])


def _clusters(fleet: FleetSpec) -> list[Manifest]:
    """A ManagedClusterSet per region (exclusive membership by label) and each
    spoke as an accepted ManagedCluster in its region's set, with the
    namespace its ManifestWorks go to."""
    out = []
    for region in sorted(fleet.regions):
        out.append(Manifest(f"fleet/set-{region}", {
            "apiVersion": api.CLUSTER_V1BETA2, "kind": "ManagedClusterSet", "metadata": metadata(region),
            "spec": {"clusterSelector": {"selectorType": "ExclusiveClusterSetLabel"}}}, after=[CLUSTER_MANAGER]))
    for spoke in fleet.spokes():
        member = fleet.members[spoke]
        labels = {**member.labels, CLUSTERSET_LABEL: member.region, REGION_LABEL: member.region,
                  DOMAIN_LABEL: fleet.domain(spoke)}
        out.append(namespace(spoke))
        out.append(Manifest(f"fleet/cluster-{spoke}", {
            "apiVersion": api.CLUSTER_V1, "kind": "ManagedCluster", "metadata": metadata(spoke, labels=labels),
            "spec": {"hubAcceptsClient": True}}, after=[f"fleet/set-{member.region}", f"ns/{spoke}"]))
    return out


def _placements(fleet: FleetSpec) -> list[Manifest]:
    """Placements in the hub's ``fleet`` namespace, which every region's set is bound to."""
    if not fleet.placements:
        return []
    ns = namespace(PLACEMENT_NAMESPACE)
    out = [ns]
    for region in sorted(fleet.regions):
        out.append(Manifest(f"fleet/binding-{region}", {
            "apiVersion": api.CLUSTER_V1BETA2, "kind": "ManagedClusterSetBinding",
            "metadata": metadata(region, PLACEMENT_NAMESPACE), "spec": {"clusterSet": region}},
            after=[ns.key, f"fleet/set-{region}"]))
    bindings = [f"fleet/binding-{r}" for r in sorted(fleet.regions)]
    for name, placement in fleet.placements.items():
        spec: dict = {"clusterSets": list(placement.regions or sorted(fleet.regions))}
        if placement.labels:
            spec["predicates"] = [{"requiredClusterSelector": {"labelSelector": {"matchLabels": dict(placement.labels)}}}]
        if placement.number_of_clusters is not None:
            spec["numberOfClusters"] = placement.number_of_clusters
        out.append(Manifest(f"fleet/placement-{name}", {
            "apiVersion": api.CLUSTER_V1BETA1, "kind": "Placement", "metadata": metadata(name, PLACEMENT_NAMESPACE),
            "spec": spec}, after=bindings))
    return out
