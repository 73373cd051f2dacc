"""Default allowed regions: the European regions of the program's catalog.

Read once when the pack loads, from the same YAML files the program prices
and validates node groups with (components/catalog/data/*.yaml), so a
region added to the catalog is allowed or not by its ``continent`` field,
not by a second list kept here.
"""

from __future__ import annotations

from pathlib import Path

import yaml

# policy/sovereign_policies/catalog.py -> repository root.
CATALOG_DIR = Path(__file__).resolve().parents[2] / "components" / "catalog" / "data"
EUROPE = "EU"


def european_regions(data_dir: Path = CATALOG_DIR) -> tuple[str, ...]:
    """Names of every provider region whose ``continent`` is EU, sorted."""
    names: set[str] = set()
    for path in sorted(Path(data_dir).glob("*.yaml")):
        document = yaml.safe_load(path.read_text()) or {}
        for region in document.get("regions") or []:
            if region.get("continent") == EUROPE and region.get("name"):
                names.add(str(region["name"]))
    return tuple(sorted(names))


# Empty when the pack runs away from the repository (e.g. published): the
# region policies then ask for ``allowedRegions`` in the pack config.
DEFAULT_ALLOWED_REGIONS: tuple[str, ...] = european_regions() if CATALOG_DIR.is_dir() else ()
