"""Inputs and results of the cost estimate (plain frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ON_PREM = "existing"
CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    """Decimal -> '12.34': JSON-safe and exact, unlike a float."""
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class CostLine:
    """One node group to price: ``count`` nodes of ``instance_type``.

    ``monthly_cost_override`` is the per-node monthly price in EUR for
    on-prem (``existing``) nodes or negotiated rates. ``storage_gb`` is the
    disk per node (default: the instance's included disk). ``vcpus``,
    ``memory_gb`` and ``gpus`` size nodes the catalog does not know (on-prem)
    so they can be compared too; for catalog types ``gpus`` overrides the
    catalog's count.
    """

    group: str
    provider: str
    instance_type: str | None = None
    count: int = 1
    monthly_cost_override: Decimal | None = None
    storage_gb: int | None = None
    region: str | None = None
    vcpus: int | None = None
    memory_gb: float | None = None
    gpus: int | None = None

    def __post_init__(self):
        if self.count < 0:
            raise ValueError(f"group {self.group!r}: count must be >= 0")
        if self.monthly_cost_override is not None:
            value = Decimal(str(self.monthly_cost_override))
            if value < 0:
                raise ValueError(f"group {self.group!r}: monthly_cost_override must be >= 0")
            object.__setattr__(self, "monthly_cost_override", value)
        if self.storage_gb is not None and self.storage_gb < 0:
            raise ValueError(f"group {self.group!r}: storage_gb must be >= 0")


@dataclass(frozen=True)
class GroupCost:
    """Self-hosted cost of one group."""

    group: str
    provider: str
    instance_type: str | None
    region: str | None
    count: int
    unit_price: Decimal  # per node and month, in ``currency`` (storage included)
    monthly_total: Decimal
    currency: str
    monthly_total_eur: Decimal
    # The cost is what the spec says (on-prem), not a catalog price.
    on_prem: bool
    price_basis: str  # "catalog" | "override" | "on-prem"
    vcpus: int | None
    memory_gb: float | None
    gpus: int
    gpu_model: str | None
    storage_gb: int  # per node
    extra_storage_per_node: Decimal = Decimal(0)


@dataclass(frozen=True)
class HyperscalerLine:
    group: str
    count: int
    instance_type: str
    unit_price: Decimal
    monthly_total: Decimal
    gpus: int = 0
    gpu_model: str | None = None


@dataclass(frozen=True)
class HyperscalerEquivalent:
    """What the same groups would cost as a managed cluster (USD, then EUR)."""

    name: str
    display_name: str
    region: str
    lines: tuple[HyperscalerLine, ...]
    compute_usd: Decimal
    control_plane_usd: Decimal
    storage_gb: int
    storage_type: str
    storage_usd: Decimal
    egress_gb: int
    egress_usd: Decimal
    total_usd: Decimal
    total_eur: Decimal
    # Self-hosted cost of the same groups (all groups unless some are unmatched).
    self_hosted_eur: Decimal
    saving_eur: Decimal  # hyperscaler minus self-hosted, per month
    saving_pct: Decimal  # of the hyperscaler bill
    unmatched_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class CostReport:
    groups: tuple[GroupCost, ...]
    total_eur: Decimal
    hyperscalers: tuple[HyperscalerEquivalent, ...]
    fx_eur_usd: Decimal
    fx_date: date
    today: date
    max_age_days: int
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def hyperscaler(self, name: str) -> HyperscalerEquivalent | None:
        return next((h for h in self.hyperscalers if h.name == name), None)

    def to_dict(self) -> dict:
        """JSON-friendly: amounts as 2-decimal strings, dates ISO."""
        return {
            "total_eur": money(self.total_eur),
            "groups": [
                {
                    "group": g.group,
                    "provider": g.provider,
                    "instance_type": g.instance_type,
                    "region": g.region,
                    "count": g.count,
                    "unit_price": money(g.unit_price),
                    "monthly_total": money(g.monthly_total),
                    "currency": g.currency,
                    "monthly_total_eur": money(g.monthly_total_eur),
                    "on_prem": g.on_prem,
                    "price_basis": g.price_basis,
                    "vcpus": g.vcpus,
                    "memory_gb": g.memory_gb,
                    "gpus": g.gpus,
                    "storage_gb": g.storage_gb,
                }
                for g in self.groups
            ],
            "hyperscalers": [
                {
                    "name": h.name,
                    "display_name": h.display_name,
                    "region": h.region,
                    "lines": [
                        {
                            "group": ln.group,
                            "count": ln.count,
                            "instance_type": ln.instance_type,
                            "unit_price_usd": money(ln.unit_price),
                            "monthly_total_usd": money(ln.monthly_total),
                            "gpus": ln.gpus,
                        }
                        for ln in h.lines
                    ],
                    "compute_usd": money(h.compute_usd),
                    "control_plane_usd": money(h.control_plane_usd),
                    "storage_gb": h.storage_gb,
                    "storage_type": h.storage_type,
                    "storage_usd": money(h.storage_usd),
                    "egress_gb": h.egress_gb,
                    "egress_usd": money(h.egress_usd),
                    "total_usd": money(h.total_usd),
                    "total_eur": money(h.total_eur),
                    "self_hosted_eur": money(h.self_hosted_eur),
                    "saving_eur": money(h.saving_eur),
                    "saving_pct": money(h.saving_pct),
                    "unmatched_groups": list(h.unmatched_groups),
                }
                for h in self.hyperscalers
            ],
            "fx": {"eur_usd": str(self.fx_eur_usd), "date": self.fx_date.isoformat()},
            "today": self.today.isoformat(),
            "max_age_days": self.max_age_days,
            "warnings": list(self.warnings),
        }
