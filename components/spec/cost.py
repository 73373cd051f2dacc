"""Cost settings: negotiated prices and how old a price may be."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import SpecModel


class CostSpec(SpecModel):
    # An override layer of the price catalog (negotiated rates, new types):
    # same shape as a catalog override file (see components/catalog/loader.py).
    catalog_overrides: dict[str, Any] | None = None
    # Prices read longer ago than this produce a warning in the plan.
    stale_after_days: int = Field(default=365, ge=1)
