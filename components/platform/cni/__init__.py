"""The CNI chosen by ``network.cni``: Cilium or Calico (always installed)."""

from __future__ import annotations

from ..model import AddonPlan, PlatformContext


def cni_plan(ctx: PlatformContext) -> AddonPlan:
    if ctx.spec.network.cni == "cilium":
        from .cilium import cilium_plan

        return cilium_plan(ctx)
    from .calico import calico_plan

    return calico_plan(ctx)
