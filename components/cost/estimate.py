"""Monthly cost of the node groups, and the managed-Kubernetes equivalent.

Pure functions over the catalog: every figure comes from catalog data or the
spec, so a price change is a data change. Problems that make a figure
doubtful (stale or deprecated entries, VAT, missing equivalents) become
report warnings, never silence.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from components.catalog import Catalog, Hyperscaler, load_catalog

from .model import ON_PREM, CostLine, CostReport, GroupCost, HyperscalerEquivalent, HyperscalerLine

DEFAULT_MAX_AGE_DAYS = 365
ZERO = Decimal(0)


class CostError(ValueError):
    """A line that cannot be priced (unknown provider or instance type)."""


def estimate_cost(
    lines: Iterable[CostLine],
    catalog: Catalog | None = None,
    *,
    today: date | None = None,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
) -> CostReport:
    catalog = catalog or load_catalog()
    today = today or date.today()
    lines = list(lines)
    warnings: list[str] = []
    used: dict[tuple[str, str], date] = {}  # (owner/name, kind) -> price_read

    groups = tuple(_price(line, catalog, warnings, used) for line in lines)
    total_eur = sum((g.monthly_total_eur for g in groups), ZERO)
    hypers = tuple(_equivalent(h, groups, catalog, total_eur, warnings, used) for h in catalog.hyperscalers)
    used[(f"fx/{catalog.fx.base}-{catalog.fx.quote}", "exchange rate")] = catalog.fx.date

    for (name, kind), read in sorted(used.items()):
        age = (today - read).days
        if age > max_age_days:
            warnings.append(f"stale {kind}: {name} read {read} ({age} days old, limit {max_age_days}); verify it")
    return CostReport(
        groups=groups,
        total_eur=total_eur,
        hyperscalers=hypers,
        fx_eur_usd=catalog.fx.rate,
        fx_date=catalog.fx.date,
        today=today,
        max_age_days=max_age_days,
        warnings=tuple(warnings),
    )


def _price(line: CostLine, catalog: Catalog, warnings: list[str], used: dict) -> GroupCost:
    override = line.monthly_cost_override
    if line.provider == ON_PREM:
        # On-prem machines cost what the spec says (power, hosting), default 0.
        unit = override if override is not None else ZERO
        return GroupCost(
            group=line.group, provider=line.provider, instance_type=line.instance_type, region=line.region,
            count=line.count, unit_price=unit, monthly_total=unit * line.count, currency="EUR",
            monthly_total_eur=unit * line.count, on_prem=True, price_basis="on-prem",
            vcpus=line.vcpus, memory_gb=line.memory_gb, gpus=line.gpus or 0, gpu_model=None,
            storage_gb=line.storage_gb or 0,
        )
    if line.provider not in catalog.providers:
        raise CostError(f"group {line.group!r}: unknown provider {line.provider!r}; "
                        f"use one of {[*catalog.providers, ON_PREM]}")
    if line.instance_type is None:
        raise CostError(f"group {line.group!r}: provider {line.provider!r} needs an instance type")
    it = catalog.instance_type(line.provider, line.instance_type)
    if it is None:
        names = [t.name for t in catalog.instance_types(line.provider)]
        close = difflib.get_close_matches(line.instance_type, names, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CostError(f"group {line.group!r}: {line.provider} has no instance type {line.instance_type!r}{hint}")

    where = f"{it.provider}/{it.name}"
    if override is None:
        used[(where, "price")] = it.price_read
    if line.region and not catalog.offered_in(it, line.region):
        warnings.append(f"group {line.group!r}: {where} is not listed in region {line.region!r} "
                        f"(listed: {', '.join(catalog.region_names_for(it)) or 'none'})")
    if it.deprecated:
        warnings.append(f"group {line.group!r}: {where} is deprecated and may no longer be orderable")
    if it.tax_included and override is None:
        warnings.append(f"group {line.group!r}: the {where} price includes VAT while the hyperscaler prices "
                        "exclude tax, which flatters the hyperscalers slightly")

    storage = line.storage_gb if line.storage_gb is not None else it.disk_gb
    extra = _extra_storage(line, storage - it.disk_gb, catalog, warnings)
    unit = (override if override is not None else it.price_in(line.region)) + extra
    total = unit * line.count
    eur = total if it.currency == "EUR" else catalog.fx.to_eur(total)
    return GroupCost(
        group=line.group, provider=line.provider, instance_type=it.name, region=line.region,
        count=line.count, unit_price=unit, monthly_total=total, currency=it.currency,
        monthly_total_eur=eur, on_prem=False, price_basis="override" if override is not None else "catalog",
        vcpus=it.vcpus, memory_gb=it.memory_gb, gpus=line.gpus if line.gpus is not None else it.gpus,
        gpu_model=it.gpu_model, storage_gb=storage, extra_storage_per_node=extra,
    )


def _extra_storage(line: CostLine, extra_gb: int, catalog: Catalog, warnings: list[str]) -> Decimal:
    """Block storage bought beyond the included disk (per node)."""
    if extra_gb <= 0:
        return ZERO
    price = catalog.provider(line.provider).block_storage_price_per_gb_month
    if price is None:
        warnings.append(f"group {line.group!r}: {extra_gb} GB beyond the included disk is not priced "
                        f"(no block storage price for {line.provider})")
        return ZERO
    return price * extra_gb


def _equivalent(h: Hyperscaler, groups, catalog: Catalog, self_eur: Decimal, warnings: list[str], used: dict):
    """Same nodes on ``h``: cheapest type with >= vCPU, >= memory, >= GPUs."""
    used[(f"{h.name}/fees", "price")] = h.price_read
    lines, unmatched = [], []
    for g in groups:
        if g.vcpus is None or g.memory_gb is None:
            unmatched.append(g.group)
            if g.count:
                warnings.append(f"{h.display_name}: group {g.group!r} is left out (size unknown: give vcpus/memory_gb)")
            continue
        fits = [
            t for t in h.instance_types
            if t.vcpus >= g.vcpus and t.memory_gb >= g.memory_gb
            # GPU groups need GPUs; CPU groups must not be priced on GPU machines.
            and (t.gpus >= g.gpus if g.gpus else t.gpus == 0)
        ]
        if not fits:
            unmatched.append(g.group)
            warnings.append(f"{h.display_name}: no instance type with >= {g.vcpus} vCPU, >= {g.memory_gb:g} GB"
                            f"{f', >= {g.gpus} GPU' if g.gpus else ''} for group {g.group!r}; "
                            "the equivalent understates the hyperscaler cost")
            continue
        best = min(fits, key=lambda t: (t.monthly_price, t.name))
        used[(f"{h.name}/{best.name}", "price")] = best.price_read
        lines.append(HyperscalerLine(g.group, g.count, best.name, best.monthly_price,
                                     best.monthly_price * g.count, best.gpus, best.gpu_model))
    compute = sum((ln.monthly_total for ln in lines), ZERO)
    storage_gb = sum(g.storage_gb * g.count for g in groups if g.group not in unmatched)
    storage = h.block_storage_price_per_gb_month * storage_gb
    egress = h.egress_price_per_gb * h.egress_assumed_gb_month
    total = compute + h.control_plane_monthly + storage + egress
    total_eur = catalog.fx.to_eur(total)
    # Compare like with like: groups without an equivalent leave both sides.
    compared = self_eur - sum((g.monthly_total_eur for g in groups if g.group in unmatched), ZERO)
    saving = total_eur - compared
    return HyperscalerEquivalent(
        name=h.name, display_name=h.display_name, region=h.region, lines=tuple(lines),
        compute_usd=compute, control_plane_usd=h.control_plane_monthly, storage_gb=storage_gb,
        storage_type=h.block_storage_type, storage_usd=storage, egress_gb=h.egress_assumed_gb_month,
        egress_usd=egress, total_usd=total, total_eur=total_eur, self_hosted_eur=compared, saving_eur=saving,
        saving_pct=(saving / total_eur * 100) if total_eur else ZERO, unmatched_groups=tuple(unmatched),
    )


def lines_from_node_groups(node_groups: Mapping[str, Any]) -> list[CostLine]:
    """CostLines from the spec's ``nodeGroups`` (NodeGroupSpec or similar objects).

    Scalable groups are priced at their current size (``count`` or
    ``minReplicas``); existing groups at one line per group of hosts.
    """
    out = []
    for name, g in node_groups.items():
        size = getattr(g, "size", None)
        if size is None:
            size = getattr(g, "count", None) or 0
        gpus = getattr(g, "gpu_count", None) or None
        out.append(CostLine(
            group=name, provider=g.provider, instance_type=getattr(g, "instance_type", None), count=size,
            monthly_cost_override=getattr(g, "monthly_cost", None), region=getattr(g, "region", None),
            gpus=gpus,
        ))
    return out
