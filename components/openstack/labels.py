"""Which node groups carry OpenStack's three node roles, and their labels.

OpenStack-Helm's charts select nodes by label, their defaults being
``openstack-control-plane=enabled`` (APIs, schedulers, databases, the
Neutron DHCP/L3/metadata agents), ``openstack-compute-node=enabled``
(libvirt, nova-compute) and ``openvswitch=enabled`` (Open vSwitch and the
Neutron OVS agent, on every node that plugs instance or router ports).
The project keeps those defaults and labels the nodes (``OpenStackHelm``
server-side-applies them; the spec's own group labels stay the user's).

A role's groups are, in order: the spec's list (``openstack.*Groups``),
else the groups already labelled ``<role>=enabled`` in the spec, else
derived from the roles: control plane = groups with the control-plane and
worker roles (hyperconverged, untainted), compute = worker-only groups
holding no Ceph OSD, openvswitch = both.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTROL_PLANE = "openstack-control-plane"
COMPUTE = "openstack-compute-node"
OPENVSWITCH = "openvswitch"
ENABLED = "enabled"


@dataclass(frozen=True)
class RoleGroups:
    control_plane: tuple[str, ...]
    compute: tuple[str, ...]
    openvswitch: tuple[str, ...]
    derived: frozenset[str] = frozenset()
    """Roles whose groups were derived (not named by the spec)."""

    def labels(self, group: str) -> dict[str, str]:
        """The OpenStack labels of a group's nodes."""
        pairs = ((CONTROL_PLANE, self.control_plane), (COMPUTE, self.compute), (OPENVSWITCH, self.openvswitch))
        return {label: ENABLED for label, groups in pairs if group in groups}


def _labelled(spec, label: str) -> list[str]:
    return [n for n, g in spec.node_groups.items() if g.labels.get(label) == ENABLED]


def _osd_groups(spec) -> set[str]:
    rook = spec.storage.rook_ceph if spec.storage.storage_class == "rook-ceph" else None
    return set(rook.storage_groups or {}) if rook is not None else set()


def role_groups(spec) -> RoleGroups:
    openstack = spec.openstack
    derived: set[str] = set()

    def pick(explicit: list[str], label: str, fallback) -> tuple[str, ...]:
        chosen = explicit or _labelled(spec, label)
        if not chosen:
            derived.add(label)
            chosen = fallback()
        return tuple(chosen)

    control = pick(openstack.control_plane_groups, CONTROL_PLANE, lambda: [
        n for n, g in spec.node_groups.items() if {"control-plane", "worker"} <= set(g.roles)])
    osds = _osd_groups(spec)
    compute = pick(openstack.compute_groups, COMPUTE, lambda: [
        n for n, g in spec.node_groups.items()
        if g.roles == ["worker"] and n not in osds and n not in control and not g.gpus])
    ovs = pick(openstack.openvswitch_groups, OPENVSWITCH, lambda: list(dict.fromkeys([*control, *compute])))
    return RoleGroups(control, compute, ovs, frozenset(derived))


def node_labels(spec, nodes) -> dict[str, dict[str, str]]:
    """node name -> the OpenStack labels it gets (nodes of no role left out)."""
    roles = role_groups(spec)
    out = {}
    for node in nodes:
        labels = roles.labels(node.group)
        if labels:
            out[node.name] = labels
    return out
