"""Policy 6: Submariner tunnels between clusters are encrypted exactly once.

The fleet (components/fleet/, docs/fleet.md) connects clusters with
Submariner. Its gateways reach each other over the internet: each stack's
WireGuard mesh joins only its own nodes. So the cable between clusters must
be IPsec (``libreswan``): ``vxlan`` would carry pod traffic in clear over
the internet, and ``wireguard`` would be WireGuard inside WireGuard wherever
gateways share a mesh. The program's spec refuses both; this policy holds
any stack the pack checks (another program, a hand-written release) to the
same rule, on the ``submariner.cableDriver`` value of every Helm release of
the ``submariner-operator`` chart (an absent value is the chart's default,
``libreswan``). pulumi-policy shows secret inputs in plain to ``validate``
(see secrets.py), so the release's values, secret because they hold the
broker token, are read.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .resources import HELM_RELEASE
from .values import MISSING, UNKNOWN, field, setting

POLICY = "submariner-encrypted-once"
CHART = "submariner-operator"
CHART_DEFAULT = "libreswan"
WHY = {
    "vxlan": "vxlan is unencrypted: the gateways of different clusters meet over the internet",
    "wireguard": "wireguard inside the WireGuard mesh encrypts twice (and duplicates the mesh)",
}


def cable_driver(props) -> str | None:
    """The cable driver a submariner-operator release sets; None when unknown (preview) or another chart."""
    if field(props, "chart") != CHART:
        return None
    driver = field(props, "values", "submariner", "cableDriver")
    if driver is UNKNOWN:
        return None
    return CHART_DEFAULT if driver is MISSING else str(driver)


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != HELM_RELEASE:
        return
    driver = cable_driver(args.props)
    allowed = [str(d) for d in setting(args, "allowedCableDrivers", [CHART_DEFAULT])]
    if driver is None or driver in allowed:
        return
    reason = WHY.get(driver, f"{driver!r} is not an allowed cable driver")
    report_violation(f"Submariner release `{field(args.props, 'name')}` uses cable driver {driver!r}: {reason}; "
                     f"use one of {allowed} (fleet.submariner.cableDriver, docs/fleet.md)")


submariner_encrypted_once = ResourceValidationPolicy(
    name=POLICY,
    description="Submariner's cable between clusters is IPsec: neither plain VXLAN over the internet nor "
                "WireGuard inside the WireGuard mesh.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=PolicyConfigSchema(properties={
        "allowedCableDrivers": {"type": "array", "items": {"type": "string"}, "default": [CHART_DEFAULT],
                                "description": "Cable drivers a submariner-operator release may use."},
    }),
)
