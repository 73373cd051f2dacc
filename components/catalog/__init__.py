"""Provider catalog: regions, instance types and list prices, with sources.

Data lives in ``data/*.yaml`` (one file per provider plus the hyperscaler
comparison data). Every price carries the date it was read and where from;
``Catalog.stale_entries`` finds the old ones. Stacks override prices for
negotiated rates with ``load_catalog(extra_paths=[...])`` or ``overrides=``.
The on-prem provider ``existing`` has no catalog: its cost is in the spec.
"""

from .catalog import Catalog
from .loader import DATA_DIR, PROVIDER_NAMES, CatalogError, load_catalog
from .models import (
    FxRate,
    Hyperscaler,
    HyperscalerInstanceType,
    InstanceType,
    ProviderCatalog,
    Region,
    StaleEntry,
    VpsImage,
)

__all__ = [
    "DATA_DIR",
    "PROVIDER_NAMES",
    "Catalog",
    "CatalogError",
    "FxRate",
    "Hyperscaler",
    "HyperscalerInstanceType",
    "InstanceType",
    "ProviderCatalog",
    "Region",
    "StaleEntry",
    "VpsImage",
    "load_catalog",
]
