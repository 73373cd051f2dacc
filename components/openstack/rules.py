"""What ``openstack`` needs from the rest of the spec, every problem at once.

``openstack_issues`` is ``components.spec.openstack.check_openstack`` (one
of the spec's RULES); ``memory_issues`` is ``check_openstack_memory``, run
on a valid spec whose other OpenStack checks passed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from components.spec.errors import SpecIssue

from .labels import COMPUTE, CONTROL_PLANE, OPENVSWITCH, role_groups
from .releases import RELEASES

OS = "openstack"
REPELLING = ("NoSchedule", "NoExecute")
# Replicas named in a "does not fit" message (the largest first).
SHOWN = 12


def openstack_issues(spec, catalog) -> Iterable[SpecIssue]:
    yield from (*_release(spec), *_ceph(spec), *_groups(spec), *_access(spec), *_values(spec))


def _release(spec) -> Iterable[SpecIssue]:
    release = RELEASES.get(spec.openstack.release)
    if release is None:
        yield SpecIssue(f"{OS}.release", f"OpenStack-Helm {spec.openstack.release!r} is not pinned here",
                        f"use one of {sorted(RELEASES)} (components/openstack/releases.py)")
        return
    if not release.supports(spec.kubernetes_version):
        yield SpecIssue("version", f"Kubernetes {spec.version} is outside the range OpenStack-Helm {release.name} is "
                        f"tested on ({release.kubernetes_range})",
                        f"use a Kubernetes version {release.kubernetes_range} (K3s e.g. v1.33.2+k3s1), "
                        "or disable openstack")


def _ceph(spec) -> Iterable[SpecIssue]:
    storage = spec.storage
    if storage.storage_class != "rook-ceph" or storage.rook_ceph is None:
        yield SpecIssue(f"{OS}.enabled", f"Glance, Cinder and Nova keep images, volumes and disks in Ceph RBD pools, "
                        f"but storage.class is {storage.storage_class!r}",
                        "set storage.class: rook-ceph with storage.rookCeph (components/storage)")
        return
    from components.platform.values import get_path

    values = storage.rook_ceph.values
    memory = get_path(values, ("toolbox", "resources", "requests", "memory"))
    if get_path(values, ("toolbox", "enabled")) is not True or not isinstance(memory, str):
        yield SpecIssue("storage.rookCeph.values.toolbox",
                        "ceph-adapter-rook reads Ceph's admin key through Rook's toolbox pod, which is off",
                        "set storage.rookCeph.values.toolbox: {enabled: true, resources: {requests: "
                        "{cpu: 10m, memory: 32Mi}, limits: {memory: 128Mi}}}")


def _groups(spec) -> Iterable[SpecIssue]:
    openstack = spec.openstack
    roles = role_groups(spec)
    for field, key, label, groups in (
            ("control_plane_groups", "controlPlaneGroups", CONTROL_PLANE, roles.control_plane),
            ("compute_groups", "computeGroups", COMPUTE, roles.compute),
            ("openvswitch_groups", "openvswitchGroups", OPENVSWITCH, roles.openvswitch)):
        path = f"{OS}.{key}"
        if not groups:
            yield SpecIssue(path, f"no node group carries {label}",
                            f"name the node groups in {path}, or label one {label}: enabled")
            continue
        unknown = [g for g in getattr(openstack, field) if g not in spec.node_groups]
        if unknown:
            yield SpecIssue(path, f"unknown node group(s) {unknown}", f"use some of {sorted(spec.node_groups)}")
            continue
        for g in (g for g in groups if g in spec.node_groups):
            group = spec.node_groups[g]
            if "worker" not in group.roles:
                yield SpecIssue(path, f"node group {g} has no worker role: its nodes run no OpenStack pod",
                                f"add 'worker' to nodeGroups.{g}.roles, or take {g} out of {path}")
            elif any(t.effect in REPELLING for t in group.taints):
                yield SpecIssue(path, f"node group {g} is tainted: OpenStack-Helm's pods tolerate no taint",
                                f"remove the taint of nodeGroups.{g}, or take {g} out of {path}")
    missing = [g for g in (*roles.control_plane, *roles.compute) if g not in roles.openvswitch]
    if missing and roles.openvswitch:
        yield SpecIssue(f"{OS}.openvswitchGroups", f"node group(s) {missing} run Neutron agents or nova-compute, "
                        "which need Open vSwitch on their node", f"add {missing} to {OS}.openvswitchGroups")


def _access(spec) -> Iterable[SpecIssue]:
    openstack, addons = spec.openstack, spec.addons
    if openstack.domain and not (addons.ingress_nginx.enabled and addons.cert_manager.enabled):
        yield SpecIssue(f"{OS}.domain", "public hosts need the cluster's ingress and certificates",
                        "enable addons.ingressNginx and addons.certManager, or remove openstack.domain")
    if openstack.services.exporter and not addons.monitoring.enabled:
        yield SpecIssue(f"{OS}.services.exporter", "the exporter's ServiceMonitor and alerts need the monitoring add-on",
                        "enable addons.monitoring, or set openstack.services.exporter: false")
    sso = openstack.sso
    if not sso.enabled:
        return
    if not addons.keycloak.enabled:
        yield SpecIssue(f"{OS}.sso.enabled", "Keystone and Horizon sign in through Keycloak, which is off",
                        "enable addons.keycloak (hostname, realm), or set openstack.sso.enabled: false")
    if not openstack.domain:
        yield SpecIssue(f"{OS}.sso.enabled", "the SSO redirects go to Keystone's and Horizon's public https hosts",
                        "set openstack.domain (e.g. cloud.example.org)")
    if not openstack.services.horizon:
        yield SpecIssue(f"{OS}.sso.enabled", "WebSSO is Horizon's login page, and Horizon is off",
                        "set openstack.services.horizon: true")
    if not sso.keystone_image:
        yield SpecIssue(f"{OS}.sso.keystoneImage",
                        "Keystone needs Apache's mod_auth_openidc, which the published keystone images lack",
                        "build quay.io/airshipit/keystone:<release>-ubuntu_noble + libapache2-mod-auth-openidc "
                        "(docs/openstack-helm.md) and set its reference here")


def _values(spec) -> Iterable[SpecIssue]:
    from .charts import CHARTS

    known = [c.name for c in CHARTS]
    for chart in spec.openstack.values:
        if chart not in known:
            yield SpecIssue(f"{OS}.values.{chart}", "is not a chart of this component", f"use one of {known}")


def memory_issues(spec, catalog) -> Iterable[SpecIssue]:
    from components.platform.sizing import group_memory_from_catalog, reserved_mib
    from components.platform.values import memory_mib

    from .memory import HEADROOM_MIB
    from .plan import memory_table

    memory = group_memory_from_catalog(spec, catalog) if catalog is not None else {}
    roles = role_groups(spec)
    unknown = sorted({g for g in (*roles.control_plane, *roles.compute, *roles.openvswitch) if g not in memory})
    for g in unknown:
        yield SpecIssue(f"nodeGroups.{g}.memoryGb", "the memory of these nodes is unknown: OpenStack's fit on them "
                        "cannot be checked and nova cannot be told what to keep for the host",
                        "set memoryGb to the memory of each machine (e.g. 4)")
    if unknown:
        return
    vm = memory_mib(spec.openstack.compute.vm_memory)
    for g in roles.compute:
        free = memory[g] - reserved_mib(spec)
        if vm >= free:
            yield SpecIssue(f"{OS}.compute.vmMemory", f"{spec.openstack.compute.vm_memory} for instances leaves nothing "
                            f"for the pods of group {g} ({free:.0f} MiB after the kubelet reservations)",
                            "lower openstack.compute.vmMemory")
            return
    table = memory_table(spec, catalog)
    smaller = "" if spec.addons.profile == "small" else "use addons.profile: small, "
    if table.unplaced:
        counts = Counter(table.unplaced)
        largest = sorted(counts, key=lambda item: -item[1])
        names = ", ".join(f"{name}{f' x{counts[(name, mib)]}' if counts[(name, mib)] > 1 else ''} ({mib:.0f} MiB)"
                          for name, mib in largest[:SHOWN])
        more = f" and {len(largest) - SHOWN} more workloads" if len(largest) > SHOWN else ""
        yield SpecIssue("addons.profile", f"does not fit: no node has room for {names}{more} "
                        f"(profile {spec.addons.profile}, every pod's requests placed node by node)",
                        f"{smaller}fewer services (openstack.services) or replicas (openstack.values), a "
                        "smaller openstack.compute.vmMemory, or more/larger control-plane nodes")
    for row in table.short:
        yield SpecIssue("addons.profile", f"node {row.node} keeps {row.left_mib:.0f} MiB, less than the "
                        f"{HEADROOM_MIB} MiB headroom (jobs, spikes)",
                        f"{smaller}a smaller openstack.compute.vmMemory, fewer replicas, or more nodes")
