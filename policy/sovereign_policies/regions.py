"""Policy 1: machines only in allowed regions.

``allowed-regions`` reads the location of every cloud server from the field
its provider places it by. ``allowed-node-regions`` covers existing hosts
(on-prem or rented elsewhere): the program creates no cloud resource for
them, so the only place the engine sees their region is the Kubernetes node
label ``topology.kubernetes.io/region`` the program sets over SSH (the
node's join and placement commands).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .catalog import CATALOG_DIR, DEFAULT_ALLOWED_REGIONS
from .resources import (
    EXISTING_NODES,
    HCLOUD_SERVER,
    ON_PREM_LABEL,
    OVH_INSTANCE,
    OVH_VPS,
    OVH_VPS_DATACENTER,
    PROVIDER_LABEL,
    REGION_LABEL,
    REMOTE_COMMAND,
    SCALEWAY_SERVER,
)
from .values import MISSING, UNKNOWN, elements, field, is_set, setting

POLICY = "allowed-regions"
NODE_POLICY = "allowed-node-regions"

_REGIONS_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Regions, locations, zones and datacenters machines may be placed in "
                   "(default: the European regions of components/catalog/data).",
    "default": list(DEFAULT_ALLOWED_REGIONS),
}


_ADDITIONAL_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Regions allowed on top of allowedRegions: reviewed exceptions, e.g. one rented host abroad.",
    "default": [],
}


def _allowed(args) -> list[str]:
    regions = setting(args, "allowedRegions", DEFAULT_ALLOWED_REGIONS)
    return [str(r) for r in [*regions, *setting(args, "additionalRegions", [])]]


def _is_allowed(region: str, allowed: list[str]) -> bool:
    # Hetzner spells locations in lower case, OVH in upper case: compare without case.
    return region.casefold() in {a.casefold() for a in allowed}


def _how_to_allow(policy: str, region: str) -> str:
    return (f"to allow it, add {region!r} to \"additionalRegions\" of policy {policy!r} in the pack config "
            "(pulumi preview --policy-pack policy --policy-pack-config <file>), "
            "or move the node group to an allowed region")


def _no_allowed_regions_message() -> str:
    default = "was not found" if not DEFAULT_ALLOWED_REGIONS else "is replaced by an empty list"
    return (f"no region is allowed: \"allowedRegions\" is empty (its default, the European regions of the catalog "
            f"at {CATALOG_DIR}, {default}); set it in the pack config")


# -- cloud servers -----------------------------------------------------------
def server_placements(resource_type: str, props: Any, provider_props: Any = None) -> list[tuple[str, Any]]:
    """(field, region) pairs placing a cloud server; region is MISSING when unset."""
    if resource_type == HCLOUD_SERVER:
        location = field(props, "location")
        if is_set(location) or location is UNKNOWN:
            return [("location", location)]
        datacenter = field(props, "datacenter")  # "fsn1-dc14" lies in location fsn1
        if isinstance(datacenter, str):
            return [("datacenter", datacenter.split("-dc")[0])]
        return [("location", MISSING)]
    if resource_type == SCALEWAY_SERVER:
        zone = field(props, "zone")
        if zone is MISSING and provider_props is not None:
            zone = field(provider_props, "zone")  # the provider's default zone applies
        return [("zone", zone)]
    if resource_type == OVH_INSTANCE:
        return [("region", field(props, "region"))]
    if resource_type == OVH_VPS:
        found = [
            (f"plans[{i}].configurations[{j}].value", field(item, "value"))
            for i, plan in elements(props, "plans")
            for j, item in elements(plan, "configurations")
            if field(item, "label") == OVH_VPS_DATACENTER
        ]
        return found or [(f"plans[].configurations[label={OVH_VPS_DATACENTER}]", MISSING)]
    return []


def check_server_region(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    provider_props = args.provider.props if args.provider is not None else None
    placements = server_placements(args.resource_type, args.props, provider_props)
    if not placements:
        return
    allowed = _allowed(args)
    for path, region in placements:
        if region is UNKNOWN:
            continue  # known at `pulumi up`, checked then
        if region is MISSING:
            report_violation(f"{args.resource_type} {args.name!r}: `{path}` is not set, so the provider picks where "
                             "the server runs; set it to an allowed region", None)
        elif not allowed:
            report_violation(f"{args.resource_type} {args.name!r} (`{path}` = {region!r}): "
                             + _no_allowed_regions_message(), None)
        elif not _is_allowed(str(region), allowed):
            report_violation(f"{args.resource_type} {args.name!r} is placed in {region!r} (`{path}`), which is not an "
                             f"allowed region; {_how_to_allow(POLICY, str(region))}", None)


allowed_regions = ResourceValidationPolicy(
    name=POLICY,
    description="Cloud servers (Hetzner, Scaleway, OVH VPS and Public Cloud) only in allowed regions.",
    validate=check_server_region,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={"allowedRegions": _REGIONS_SCHEMA,
                                                 "additionalRegions": _ADDITIONAL_SCHEMA}),
)


# -- Kubernetes nodes on existing hosts ---------------------------------------
def _label(name: str) -> re.Pattern:
    # Label values are [A-Za-z0-9._-] (Kubernetes), whatever quoting surrounds them in the script.
    return re.compile(re.escape(name) + r"=([A-Za-z0-9._-]+)")


_REGION = _label(REGION_LABEL)
_PROVIDER = _label(PROVIDER_LABEL)
_ON_PREM = _label(ON_PREM_LABEL)


def node_label_regions(props: Any, *, exempt_on_prem: bool) -> set[str]:
    """Regions of existing-host nodes labelled by one command's scripts."""
    regions: set[str] = set()
    for step in ("create", "update"):
        text = field(props, step)
        if not isinstance(text, str):
            continue
        if "existing" not in _PROVIDER.findall(text):
            continue  # cloud nodes: their server's own location is checked by allowed-regions
        if exempt_on_prem and "true" in _ON_PREM.findall(text):
            continue  # on the user's premises
        regions |= set(_REGION.findall(text))
    return regions


def existing_host_regions(props: Any, *, exempt_on_prem: bool) -> set[str]:
    """Regions of the hosts an ``ExistingNodes`` component adopts (its
    ``hosts`` input: name and labels, known at preview, unlike the scripts)."""
    regions: set[str] = set()
    for index, _ in elements(props, "hosts"):
        if exempt_on_prem and field(props, "hosts", index, "labels", ON_PREM_LABEL) == "true":
            continue
        region = field(props, "hosts", index, "labels", REGION_LABEL)
        if isinstance(region, str):
            regions.add(region)
    return regions


def check_node_regions(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    allowed = _allowed(args)
    exempt_on_prem = bool(setting(args, "exemptOnPrem", True))
    offenders: dict[str, list] = {}
    for resource in args.resources:
        if resource.resource_type == EXISTING_NODES:
            regions = existing_host_regions(resource.props, exempt_on_prem=exempt_on_prem)
        elif resource.resource_type == REMOTE_COMMAND:
            regions = node_label_regions(resource.props, exempt_on_prem=exempt_on_prem)
        else:
            continue
        for region in regions:
            if not allowed or not _is_allowed(region, allowed):
                offenders.setdefault(region, []).append(resource)
    # One violation per region, not per command (a node has a join and a placement command).
    for region, resources in sorted(offenders.items()):
        names = ", ".join(sorted(r.name for r in resources))
        reason = _no_allowed_regions_message() if not allowed else (
            f"which is not an allowed region; {_how_to_allow(NODE_POLICY, region)}")
        report_violation(f"an existing host joins the cluster in region {region!r} (label {REGION_LABEL} set by "
                         f"{names}), {reason}", resources[0].urn)


allowed_node_regions = StackValidationPolicy(
    name=NODE_POLICY,
    description="Existing hosts (not on our premises) join the cluster only from allowed regions.",
    validate=check_node_regions,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "allowedRegions": _REGIONS_SCHEMA,
        "additionalRegions": _ADDITIONAL_SCHEMA,
        "exemptOnPrem": {
            "type": "boolean",
            "description": f"Hosts labelled {ON_PREM_LABEL}=true stand on the user's premises: exempt.",
            "default": True,
        },
    }),
)
