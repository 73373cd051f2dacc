"""Everything ``OpenStackHelm`` creates, as data (built and tested without Pulumi).

- the namespace (privileged: libvirt, Open vSwitch and nova-compute are);
- the Ceph pools of Glance, Cinder and Nova as CephBlockPool CRs of the
  project's Rook cluster, replicated like its block pool (failure domain
  and size of the layout), so Rook owns them and OpenStack-Helm's
  storage-init jobs find them;
- the releases (``charts.py``), each after what it names;
- the instances' memory placeholder on compute nodes (``vm_reservation``);
- certificates of the public hosts (cert-manager, the cluster's issuer);
- the exporter's ServiceMonitor and the alert rules (``monitoring.py``);
- the workloads of the memory table and the secret names.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from components.platform.charts import CHARTS as PLATFORM_CHARTS
from components.platform.charts import ChartRef
from components.platform.model import AddonPlan, Manifest, Release, Workload
from components.platform.objects import custom, metadata, namespace
from components.platform.values import get_path

from . import charts as os_charts
from .charts import INGRESS_RELEASE, NS, POOLS, VM_RESERVATION, OpenStackInputs, chart_values
from .labels import COMPUTE, ENABLED, role_groups
from .memory import MemoryTable, place
from .releases import REPOSITORY, RELEASES

NAME = "openstack"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
TOOLBOX = ("toolbox", "resources")


def chart_ref(spec, chart: str) -> ChartRef:
    ns = spec.openstack.namespace
    if chart == INGRESS_RELEASE:
        upstream = PLATFORM_CHARTS["ingress-nginx"]
        return ChartRef(upstream.chart, upstream.repo, upstream.version, ns)
    return ChartRef(chart, REPOSITORY, RELEASES[spec.openstack.release].chart_version, ns)


def pools(spec, layout) -> list[Manifest]:
    """CephBlockPools in Rook's namespace, like the cluster's block pool."""
    from components.storage.values import NAMESPACE as ROOK_NAMESPACE
    from components.storage.values import pool_spec

    out = []
    for service, pool in POOLS.items():
        if service == "cinder" and not spec.openstack.services.cinder:
            continue
        body = pool_spec(layout) | {"application": "rbd"}
        out.append(custom(f"pool/{pool}", "ceph.rook.io/v1", "CephBlockPool", pool, body, namespace=ROOK_NAMESPACE))
    return out


def vm_reservation(spec, priority: str | None) -> Manifest:
    """A pause pod per compute node requesting the instances' memory, so
    the scheduler keeps it for them (instances run outside pods, in
    libvirt's domains, where the scheduler does not see them)."""
    labels = {"app.kubernetes.io/name": VM_RESERVATION}
    pod_spec: dict[str, Any] = {
        "nodeSelector": {COMPUTE: ENABLED},
        "containers": [{"name": "reserve", "image": PAUSE_IMAGE,
                        "resources": {"requests": {"cpu": "1m", "memory": spec.openstack.compute.vm_memory}}}],
        "terminationGracePeriodSeconds": 0,
    }
    if priority:
        # Never preempted: losing it would hand the instances' memory to pods.
        pod_spec["priorityClassName"] = priority
    return Manifest(VM_RESERVATION, {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": metadata(VM_RESERVATION, spec.openstack.namespace, labels),
        "spec": {"selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
    }, after=[NS])


def certificates(spec) -> list[Manifest]:
    """One certificate per public host, in the Secret its FQDN Ingress names."""
    issuer = spec.addons.cert_manager.issuer_name
    out = []
    for ep, host in os_charts.public_hosts(spec).items():
        prefix = os_charts.PUBLIC[ep][0]
        out.append(custom(f"cert/{prefix}", "cert-manager.io/v1", "Certificate", f"{prefix}-public", {
            "secretName": os_charts.tls_secret(prefix), "dnsNames": [host],
            "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
        }, namespace=spec.openstack.namespace, after=[NS]))
    return out


def workloads(inp: OpenStackInputs, releases: dict[str, Release]) -> list[Workload]:
    """The memory table's view of every OpenStack pod, on its role's groups."""
    roles = role_groups(inp.spec)
    groups = {"control-plane": roles.control_plane, "compute": roles.compute, "openvswitch": roles.openvswitch}
    out = []
    for pod in os_charts.pods(inp.spec):
        values = releases[pod.chart].values
        count = get_path(values, pod.replicas_path) if pod.replicas_path else 1
        out.append(Workload(pod.chart, pod.name, pod.kind, pod.path, replicas=int(count or 1),
                            placement="all" if pod.kind == "DaemonSet" else "any", groups=groups[pod.role]))
    out.append(Workload(VM_RESERVATION, "vm-reservation", "DaemonSet",
                        ("spec", "template", "spec", "containers", 0, "resources"), placement="all",
                        groups=roles.compute))
    # ceph-adapter-rook reads the admin key through Rook's toolbox (enabled
    # by the spec's rook values: check_openstack), counted here as OpenStack's.
    out.append(Workload("rook-ceph-cluster", "ceph-toolbox", "Deployment", TOOLBOX))
    return out


def plan(inp: OpenStackInputs, layout, *, monitoring: bool, exposed: bool) -> AddonPlan:
    from .monitoring import exporter_monitor, alert_rules

    spec = inp.spec
    ns = dataclasses.replace(namespace(spec.openstack.namespace, labels={
        "pod-security.kubernetes.io/enforce": "privileged"}), key=NS)
    manifests = [ns, *pools(spec, layout), vm_reservation(spec, inp.priority_class)]
    if exposed:
        manifests += certificates(spec)
    releases: dict[str, Release] = {}
    for chart in os_charts.charts(spec):
        after = list(chart.after)
        if chart.name == "keystone" and exposed:
            after += [m.key for m in manifests if m.key == "cert/keystone"]
        releases[chart.name] = Release(chart.name, chart_ref(spec, chart.name), chart_values(inp, chart.name),
                                       after=after)
    if monitoring and spec.openstack.services.exporter:
        manifests += [exporter_monitor(spec), alert_rules(spec)]
    names = os_charts.secret_names(spec)
    return AddonPlan(NAME, releases=list(releases.values()), manifests=manifests,
                     workloads=workloads(inp, releases), secrets=names)


def waits(chart: str) -> bool:
    return next(c.wait for c in os_charts.CHARTS if c.name == chart)


# -- plan time: inputs, plan and memory table from the spec alone -------------

def inputs_from_spec(spec, catalog, mesh_mtu: int, priority: str | None = None) -> OpenStackInputs:
    from components.platform.sizing import group_memory_from_catalog
    from components.storage.layout import ceph_layout

    memory = group_memory_from_catalog(spec, catalog) if catalog is not None else {}
    compute = [memory[g] for g in role_groups(spec).compute if g in memory]
    return OpenStackInputs(spec=spec, mesh_mtu=mesh_mtu, pool_size=ceph_layout(spec).size,
                           compute_memory_mib=min(compute) if compute else 0.0,
                           cluster_ingress_class=spec.addons.ingress_nginx.class_name, priority_class=priority)


def exposed(spec) -> bool:
    return bool(spec.openstack.domain)


def spec_plan(spec, catalog) -> tuple[AddonPlan, Any]:
    """The OpenStack plan of a spec (plan time) and the platform context."""
    from components.platform.context import context_from_spec
    from components.storage.layout import ceph_layout

    ctx = context_from_spec(spec)
    inp = inputs_from_spec(spec, catalog, ctx.mesh_mtu)
    return plan(inp, ceph_layout(spec), monitoring=spec.addons.monitoring.enabled, exposed=exposed(spec)), ctx


def memory_table(spec, catalog) -> MemoryTable:
    """Everything the cluster runs (platform, Ceph, OpenStack, the
    distribution's own pods), placed node by node (``memory.py``)."""
    from components.platform.plan import platform_plans
    from components.platform.sizing import BUNDLED, _resources, group_memory_from_catalog, reserved_mib

    os_plan, ctx = spec_plan(spec, catalog)
    bundled = AddonPlan("bundled", workloads=[
        Workload("", b.name, b.kind, (), replicas=b.replicas, requests={"cpu": b.cpu, "memory": b.memory})
        for b in BUNDLED.get(spec.distribution, ())])
    plans = [*platform_plans(ctx), os_plan, bundled]
    reserved = reserved_mib(spec)
    capacity = {g: m - reserved for g, m in group_memory_from_catalog(spec, catalog).items()}
    # sizing._resources: a workload's requests read from its release's final values.
    return place(ctx.nodes, plans, capacity, _resources)
