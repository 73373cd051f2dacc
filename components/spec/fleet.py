"""A fleet of clusters (``fleet``, seed 002): one hub, spokes by region.

One declaration, shared by every member stack (it belongs in their common
base file, docs/environments.md); a stack's own ``name`` says which member
it is. The hub runs Open Cluster Management's cluster-manager and the
Submariner brokers; every other member (a spoke) runs the klusterlet and,
with ``submariner.enabled``, a Submariner gateway. What is built and why:
``components/fleet/``, ``docs/fleet.md``.

Data regions: every member sits in one of ``regions``. An ``isolated``
region exchanges no data with any other region (seed 002: workloads in
Europe must not talk to those in the USA): its members get their own
Submariner broker, so no tunnel and no service import can cross its border;
the spec refuses a service exported across it, and each node's firewall
forwards traffic only from the clusters of its own data domain.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import SpecModel
from .errors import SpecIssue
from .inputs import reads

FLEET = "fleet"
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$")
_STACK = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*/){0,2}[A-Za-z0-9][-A-Za-z0-9_.]*$")
GATEWAY_LABEL = "submariner.io/gateway"
SHARED_DOMAIN = "shared"
# Submariner supports neither Cilium (submariner-io/submariner#3168, open:
# treated as a generic CNI, its e2e tests fail) nor a cluster without
# kube-proxy in iptables mode (Known Issues: iptables mode only).
SUBMARINER_CNI = "calico"
CONTINENTS = ("EU", "NA", "SA", "AS", "OC", "AF")  # components/catalog/models.py Continent


def _label(value: str, what: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(f"{what} {value!r} must be a DNS label of at most 32 characters (lowercase, digits, '-')")
    return value


class FleetRegionSpec(SpecModel):
    """A data region (a ManagedClusterSet on the hub)."""

    # No data crosses the region's border, in or out.
    isolated: bool = False
    # Where its clusters' machines may stand (checked against the price
    # catalog's regions; existing hosts are the operator's word): continents
    # (EU, NA, SA, AS, OC, AF) and/or ISO country codes; empty: anywhere.
    continents: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)

    @field_validator("continents")
    @classmethod
    def _continents(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if c not in CONTINENTS]
        if bad:
            raise ValueError(f"continents {bad} are not among {', '.join(CONTINENTS)}")
        return value

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not re.match(r"^[A-Z]{2}$", c)]
        if bad:
            raise ValueError(f"countries {bad} must be ISO 3166-1 alpha-2 codes, such as 'FR'")
        return value


class FleetMemberSpec(SpecModel):
    """A cluster of the fleet, named like its cluster (``name``)."""

    region: str
    # Its Pulumi stack: a name in this project (default: the member's
    # name) or organization/project/stack.
    stack: str | None = None
    # Labels of its ManagedCluster on the hub (Placements select on them).
    labels: dict[str, str] = Field(default_factory=dict)
    # Its pod and service networks (network.podCidr/serviceCidr of its own
    # stack): connected clusters must not overlap (Submariner routes them).
    pod_cidr: ipaddress.IPv4Network | None = None
    service_cidr: ipaddress.IPv4Network | None = None

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str | None) -> str | None:
        if value is not None and not _STACK.match(value):
            raise ValueError(f"stack {value!r} must be a stack name or organization/project/stack")
        return value


class FleetPlacementSpec(SpecModel):
    """An OCM Placement: clusters of some regions with some labels."""

    # Data regions (ManagedClusterSets) to choose from; empty: all.
    regions: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    number_of_clusters: int | None = Field(default=None, ge=1)


class FleetServiceSpec(SpecModel):
    """A Service one spoke exports to the other clusters of its data domain
    (a ServiceExport delivered by a ManifestWork; Submariner Lighthouse
    imports it as <name>.<namespace>.svc.clusterset.local)."""

    name: str
    namespace: str
    from_member: str = Field(alias="from")
    # The members expected to use it (checked against isolation); empty:
    # every member of the exporter's data domain may import it.
    to: list[str] = Field(default_factory=list)

    @field_validator("name", "namespace")
    @classmethod
    def _names(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", value):
            raise ValueError(f"{value!r} must be a DNS label")
        return value


class SubmarinerSpec(SpecModel):
    """Services across clusters with Submariner (Lighthouse service discovery)."""

    enabled: bool = False
    # IPsec (libreswan) between the gateways' public addresses: encrypted
    # once. WireGuard would run inside... nothing here (each stack's mesh
    # joins only its own nodes), but inside a member's mesh it would be
    # WireGuard in WireGuard; vxlan is plain text on the internet.
    cable_driver: str = "libreswan"
    # The gateways reach each other through NAT (Scaleway instances) or not.
    nat: bool = True

    @field_validator("cable_driver")
    @classmethod
    def _driver(cls, value: str) -> str:
        if value == "wireguard":
            raise ValueError("cableDriver 'wireguard' would wrap WireGuard in WireGuard where gateways share a mesh, "
                             "and duplicates the mesh's job; use 'libreswan' (IPsec between the gateways)")
        if value == "vxlan":
            raise ValueError("cableDriver 'vxlan' is unencrypted, meant for a private underlay; the gateways of "
                             "different clusters reach each other over the internet here (each stack's WireGuard "
                             "mesh joins only its own nodes), so cluster traffic would cross it in clear; "
                             "use 'libreswan'")
        if value != "libreswan":
            raise ValueError(f"cableDriver {value!r} is not a Submariner cable driver offered here; use 'libreswan'")
        return value


class FleetSpec(SpecModel):
    hub: str
    regions: dict[str, FleetRegionSpec]
    members: dict[str, FleetMemberSpec]
    placements: dict[str, FleetPlacementSpec] = Field(default_factory=dict)
    services: list[FleetServiceSpec] = Field(default_factory=list)
    submariner: SubmarinerSpec = Field(default_factory=SubmarinerSpec)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: dict) -> dict:
        for name in value:
            _label(name, "region")
        if SHARED_DOMAIN in value:
            raise ValueError(f"region name {SHARED_DOMAIN!r} is reserved (the data domain of the regions that "
                             "are not isolated)")
        if not value:
            raise ValueError("a fleet needs at least one region")
        return value

    @field_validator("members", "placements")
    @classmethod
    def _names(cls, value: dict, info: ValidationInfo) -> dict:
        for name in value:
            _label(name, info.field_name.removesuffix("s"))
        return value

    @model_validator(mode="after")
    def _hub(self):
        # (A field that failed validation holds None here: components/spec/salvage.py.)
        if self.hub is not None and self.members is not None and self.hub not in self.members:
            raise ValueError(f"hub {self.hub!r} is not one of the members ({', '.join(sorted(self.members))})")
        return self

    def domain(self, member: str) -> str:
        """The data domain of ``member``: its region if isolated, else the
        domain every non-isolated region shares. One Submariner broker each."""
        region = self.members[member].region
        return region if self.regions[region].isolated else SHARED_DOMAIN

    def spokes(self) -> list[str]:
        return [m for m in self.members if m != self.hub]

    def stack_of(self, member: str) -> str:
        return self.members[member].stack or member


# -- the rules needing the whole spec ----------------------------------------------

@reads("name", FLEET, "kubernetes.apiSourceCidrs", "nodeGroups.*.provider", "nodeGroups.*.region",
       "nodeGroups.*.hosts")
def check_fleet(spec, catalog=None) -> Iterable[SpecIssue]:
    """This cluster is a member; regions, services and placements name what
    exists; nothing crosses an isolated region; machines stand in their region."""
    fleet = spec.fleet
    if not _usable(spec):
        if fleet is not None and spec.name not in fleet.members:
            yield SpecIssue(FLEET, f"this cluster ({spec.name!r}) is not a member of the fleet",
                            f"add fleet.members.{spec.name}, or set name to one of {', '.join(sorted(fleet.members))}")
        for member, region in _unknown_regions(fleet).items():
            yield SpecIssue(f"{FLEET}.members.{member}.region", f"region {region!r} is not one of fleet.regions",
                            f"add it to fleet.regions or use one of {', '.join(sorted(fleet.regions))}")
        return
    yield from _placements(fleet)
    yield from _services(fleet)
    yield from _residency(spec, fleet, catalog)
    if spec.name == fleet.hub and not spec.kubernetes.api_source_cidrs:
        yield SpecIssue("kubernetes.apiSourceCidrs", "the hub's API is closed to the internet, but spokes register "
                        "(klusterlet) and keep their Submariner brokers through it",
                        "list the spokes' node addresses (or 0.0.0.0/0: the API authenticates every call)")


@reads("name", FLEET, "network.podCidr", "network.serviceCidr", "network.meshCidr", "network.cni",
       "kubernetes.kubeProxy", "nodeGroups.*.labels", "nodeGroups.*.provider", "nodeGroups.*.hosts")
def check_fleet_submariner(spec, catalog=None) -> Iterable[SpecIssue]:
    """What Submariner needs of this cluster and of the fleet's networks."""
    if _usable(spec) and spec.fleet.submariner.enabled:
        yield from _submariner(spec, spec.fleet)


def _unknown_regions(fleet) -> dict[str, str]:
    if fleet is None:
        return {}
    return {m: s.region for m, s in fleet.members.items() if s.region not in fleet.regions}


def _usable(spec) -> bool:
    """A fleet this cluster is a member of, every member in a known region."""
    fleet = spec.fleet
    return fleet is not None and spec.name in fleet.members and not _unknown_regions(fleet)


def _residency(spec, fleet: FleetSpec, catalog) -> Iterable[SpecIssue]:
    """This cluster's cloud machines stand where its data region allows."""
    name = fleet.members[spec.name].region
    region = fleet.regions[name]
    if catalog is None or not (region.continents or region.countries):
        return
    for gname, group in spec.node_groups.items():
        found = None if group.is_existing or not group.region else catalog.region(group.provider, group.region)
        if found is None:
            continue
        outside = (region.continents and found.continent not in region.continents) or \
            (region.countries and found.country not in region.countries)
        if outside:
            allowed = ", ".join([*region.continents, *region.countries])
            yield SpecIssue(f"nodeGroups.{gname}.region", f"{group.region} ({found.city}, {found.country}, "
                            f"{found.continent}) is outside this cluster's data region {name} ({allowed})",
                            f"place the group in region {name}, or make this cluster a member of the region "
                            f"{group.region} belongs to")


def _placements(fleet: FleetSpec) -> Iterable[SpecIssue]:
    for name, placement in fleet.placements.items():
        for i, region in enumerate(placement.regions):
            if region not in fleet.regions:
                yield SpecIssue(f"{FLEET}.placements.{name}.regions.{i}", f"region {region!r} does not exist",
                                f"use one of {', '.join(sorted(fleet.regions))}")


def _services(fleet: FleetSpec) -> Iterable[SpecIssue]:
    seen: set[tuple[str, str, str]] = set()
    for i, svc in enumerate(fleet.services):
        path = f"{FLEET}.services.{i}"
        if svc.from_member not in fleet.members:
            yield SpecIssue(f"{path}.from", f"member {svc.from_member!r} does not exist",
                            f"use one of {', '.join(sorted(fleet.spokes()))}")
            continue
        if svc.from_member == fleet.hub:
            yield SpecIssue(f"{path}.from", f"the hub ({fleet.hub}) runs no Submariner gateway: it only hosts the "
                            "brokers", "export the service from a spoke")
            continue
        if not fleet.submariner.enabled:
            yield SpecIssue(path, "services cross clusters through Submariner, which is off",
                            "set fleet.submariner.enabled: true")
        key = (svc.from_member, svc.namespace, svc.name)
        if key in seen:
            yield SpecIssue(path, f"{svc.namespace}/{svc.name} of {svc.from_member} is exported twice", "remove one")
        seen.add(key)
        for j, to in enumerate(svc.to):
            yield from _crossing(fleet, svc, to, f"{path}.to.{j}")


def _crossing(fleet: FleetSpec, svc: FleetServiceSpec, to: str, path: str) -> Iterable[SpecIssue]:
    if to not in fleet.members:
        yield SpecIssue(path, f"member {to!r} does not exist", f"use one of {', '.join(sorted(fleet.members))}")
    elif to == svc.from_member:
        yield SpecIssue(path, f"{to} exports the service itself", "remove it from 'to'")
    elif to == fleet.hub:
        yield SpecIssue(path, f"the hub ({to}) imports no service: it runs no Submariner gateway", "remove it")
    elif fleet.domain(to) != fleet.domain(svc.from_member):
        a, b = fleet.members[svc.from_member].region, fleet.members[to].region
        isolated = [r for r in (a, b) if fleet.regions[r].isolated]
        yield SpecIssue(path, f"{svc.from_member} ({a}) cannot export {svc.namespace}/{svc.name} to {to} ({b}): "
                        f"region {' and '.join(isolated)} {'is' if len(isolated) == 1 else 'are'} isolated "
                        "(no data crosses its border)",
                        f"serve {to} from a member of region {b}, or remove {to}")


def _submariner(spec, fleet: FleetSpec) -> Iterable[SpecIssue]:
    network = spec.network
    if network.cni != SUBMARINER_CNI:
        yield SpecIssue("network.cni", f"Submariner (fleet.submariner) does not support {network.cni!r} "
                        "(submariner-io/submariner#3168: Cilium is handled as a generic CNI and fails)",
                        "use network.cni: calico in the fleet's clusters")
    if not spec.kubernetes.kube_proxy:
        yield SpecIssue("kubernetes.kubeProxy", "Submariner needs kube-proxy in iptables mode",
                        "set kubernetes.kubeProxy: true")
    for name, member in fleet.members.items():
        if name == fleet.hub:
            continue
        for field in ("pod_cidr", "service_cidr"):
            if getattr(member, field) is None:
                key = "podCidr" if field == "pod_cidr" else "serviceCidr"
                yield SpecIssue(f"{FLEET}.members.{name}.{key}", "is required with fleet.submariner (connected "
                                "clusters' networks must not overlap)", f"set it to that cluster's network.{key}")
    yield from _overlaps(fleet)
    if spec.name == fleet.hub:
        return
    me = fleet.members[spec.name]
    for key, mine, declared in (("podCidr", network.pod_cidr, me.pod_cidr),
                                ("serviceCidr", network.service_cidr, me.service_cidr)):
        if declared is not None and mine != declared:
            yield SpecIssue(f"network.{key}", f"{mine} differs from fleet.members.{spec.name}.{key} {declared}",
                            f"make them equal (the other clusters route {declared} to this one)")
    for other, cidr in remote_cidrs(fleet, spec.name):
        if cidr.overlaps(network.mesh_cidr):
            yield SpecIssue("network.meshCidr", f"{network.mesh_cidr} overlaps {cidr} of {other}, which this "
                            "cluster's gateway routes", "choose a mesh range disjoint from the fleet's pod and "
                            "service networks")
    gateways = [g for g, group in spec.node_groups.items() if group.labels.get(GATEWAY_LABEL) == "true"]
    if not gateways:
        yield SpecIssue("nodeGroups", f"no node group carries the label {GATEWAY_LABEL}: \"true\" (Submariner's "
                        "gateway nodes)", "add the label to a group whose nodes have public addresses")
    for g in gateways:
        group = spec.node_groups[g]
        if group.is_existing and group.hosts and all(h.behind_nat for h in group.hosts):
            yield SpecIssue(f"nodeGroups.{g}.labels", "gateway nodes behind NAT cannot be reached by the other "
                            "clusters' gateways", "label a group with public addresses")


def _overlaps(fleet: FleetSpec) -> Iterable[SpecIssue]:
    by_domain: dict[str, list[tuple[str, str, ipaddress.IPv4Network]]] = {}
    for name, member in fleet.members.items():
        if name == fleet.hub:
            continue
        for key, cidr in (("podCidr", member.pod_cidr), ("serviceCidr", member.service_cidr)):
            if cidr is not None:
                by_domain.setdefault(fleet.domain(name), []).append((name, key, cidr))
    for entries in by_domain.values():
        for i, (a, key_a, net_a) in enumerate(entries):
            for b, key_b, net_b in entries[i + 1:]:
                if net_a.overlaps(net_b):
                    yield SpecIssue(f"{FLEET}.members.{b}.{key_b}", f"{net_b} overlaps {a}'s {key_a} {net_a}, and "
                                    "Submariner connects the two", "give every connected cluster its own ranges")


def remote_cidrs(fleet: FleetSpec, member: str) -> list[tuple[str, ipaddress.IPv4Network]]:
    """(member, network) of the clusters ``member`` exchanges traffic with:
    the other spokes of its data domain (the hub hosts brokers only)."""
    out = []
    for name, other in fleet.members.items():
        if name in (member, fleet.hub) or fleet.domain(name) != fleet.domain(member):
            continue
        out += [(name, cidr) for cidr in (other.pod_cidr, other.service_cidr) if cidr is not None]
    return out
