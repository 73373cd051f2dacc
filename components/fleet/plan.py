"""The fleet as an add-on plan (``components.platform.model.AddonPlan``):
the hub's or a spoke's items, by this cluster's place in ``fleet``."""

from __future__ import annotations

from components.platform.model import AddonPlan, PlatformContext

from .hub import hub_plan
from .names import SECRET_BOOTSTRAP, SPOKE_SECRETS
from .spoke import spoke_plan

NAME = "fleet"


def enabled(spec) -> bool:
    return spec.fleet is not None


def role(spec) -> str | None:
    """"hub", "spoke" or None (not in a fleet)."""
    if spec.fleet is None:
        return None
    return "hub" if spec.name == spec.fleet.hub else "spoke"


def needed_from_hub(spec) -> tuple[str, ...]:
    """The platform secrets a spoke reads from the hub's stack."""
    if role(spec) != "spoke":
        return ()
    return SPOKE_SECRETS if spec.fleet.submariner.enabled else (SECRET_BOOTSTRAP,)


def plan(ctx: PlatformContext) -> AddonPlan:
    spec = ctx.spec
    if role(spec) == "hub":
        return hub_plan(ctx, spec.fleet, NAME)
    return spoke_plan(ctx, spec.fleet, spec.name, NAME)
