"""The price catalog a spec is checked against: the default one plus the stack's overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import SpecIssue
from .inputs import Known

OVERRIDES: tuple[str, ...] = ("cost", "catalogOverrides")


def catalog_for(data: Any):
    """The price catalog with the stack's own overrides (negotiated prices) applied.

    None when the overrides cannot be applied: ``parse_cluster_spec`` then
    reports why, together with every other problem of the spec.
    """
    cost = data.get("cost") if isinstance(data, Mapping) else None
    overrides = cost.get("catalogOverrides") if isinstance(cost, Mapping) else None
    if overrides is not None and not isinstance(overrides, Mapping):
        return None
    catalog, _ = _load(overrides)
    return catalog


def catalog_of(spec, known: Known) -> tuple[Any, list[SpecIssue], Known]:
    """The catalog of a (salvaged) spec, the issues found loading it, and what is known after.

    Unusable overrides leave no catalog, and mark ``cost.catalogOverrides``
    unknown so the rules reading the catalog do not run.
    """
    if not known.knows(OVERRIDES):
        return None, [], known
    catalog, issues = _load(spec.cost.catalog_overrides)
    return catalog, issues, (known if catalog is not None else known.with_broken(OVERRIDES))


def _load(overrides: Mapping | None) -> tuple[Any, list[SpecIssue]]:
    from components.catalog import CatalogError, load_catalog

    try:
        return (load_catalog(overrides=overrides) if overrides else load_catalog()), []
    except CatalogError as err:
        message = f"{len(err.issues)} problem(s) in the price catalog: " + "; ".join(err.issues)
        return None, [SpecIssue(".".join(OVERRIDES), message, "fix the override entries")]
