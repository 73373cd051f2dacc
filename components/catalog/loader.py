"""Read the YAML catalog, apply stack overrides, validate everything at once."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .catalog import Catalog
from .models import PRODUCTS, FxRate, Hyperscaler, InstanceType, ProviderCatalog, Region

DATA_DIR = Path(__file__).parent / "data"
PROVIDER_NAMES = ("hetzner", "ovh", "scaleway")
_ORIGIN = "__origin__"
_PRICE_KEYS = {"monthly_price", "hourly_price", "region_prices"}
_LAYER_KEYS = {"instance_types", "regions", "hyperscaler_instance_types", "fx"}


class CatalogError(ValueError):
    """Every problem found in the catalog files, each naming file and entry."""

    def __init__(self, issues: list[str]):
        self.issues = issues
        super().__init__(f"{len(issues)} problem(s) in the price catalog:\n" + "\n".join(f"  - {i}" for i in issues))


class _DecimalLoader(yaml.SafeLoader):
    """YAML floats become Decimals, so 16.7867 stays 16.7867 (no binary float)."""


_DecimalLoader.add_constructor(
    "tag:yaml.org,2002:float", lambda loader, node: Decimal(loader.construct_scalar(node))
)


def load_catalog(
    extra_paths: Iterable[str | Path] = (),
    *,
    overrides: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
) -> Catalog:
    """The catalog, with override layers applied in order (files, then ``overrides``).

    An override layer (YAML file or mapping) may hold ``instance_types``,
    ``regions`` and ``hyperscaler_instance_types`` entries (each keyed by
    ``provider``/``hyperscaler`` + ``name``; unknown names are added) and a
    partial ``fx``. A changed price must carry its ``price_read`` date.
    The default catalog is cached: it is read once per process.
    """
    extra = [Path(p) for p in extra_paths]
    if not extra and overrides is None and data_dir is None:
        return _default_catalog()
    return _build(Path(data_dir) if data_dir else DATA_DIR, extra, overrides)


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return _build(DATA_DIR, [], None)


def _read(path: Path, issues: list[str]) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)  # noqa: S506 (SafeLoader subclass)
    except (OSError, yaml.YAMLError) as exc:
        issues.append(f"{path}: cannot read: {exc}")
        return {}
    if not isinstance(data, dict):
        issues.append(f"{path}: expected a mapping at the top level")
        return {}
    return data


def _build(data_dir: Path, extra: list[Path], overrides: Mapping[str, Any] | None) -> Catalog:
    issues: list[str] = []
    raw = {name: _read(data_dir / f"{name}.yaml", issues) for name in PROVIDER_NAMES}
    hyper = _read(data_dir / "hyperscalers.yaml", issues)
    for name, data in raw.items():
        for key in ("regions", "instance_types"):
            for entry in data.get(key) or []:
                if isinstance(entry, dict):
                    entry.setdefault(_ORIGIN, f"{name}.yaml")
    for h in hyper.get("hyperscalers") or []:
        if isinstance(h, dict):
            h.setdefault(_ORIGIN, "hyperscalers.yaml")

    layers = [(str(p), _read(p, issues)) for p in extra]
    if overrides is not None:
        layers.append(("overrides", copy.deepcopy(dict(overrides))))
    for origin, layer in layers:
        _apply_layer(raw, hyper, layer, origin, issues)

    providers = {}
    for name in PROVIDER_NAMES:
        p = _provider(name, raw[name], issues)
        if p is not None:
            providers[name] = p
    hyperscalers = tuple(h for h in (_hyperscaler(d, issues) for d in hyper.get("hyperscalers") or []) if h)
    fx_origin = (hyper.get("fx") or {}).get(_ORIGIN, "hyperscalers.yaml")
    fx = _validated(FxRate, hyper.get("fx"), f"{fx_origin}: fx", issues)
    if issues:
        raise CatalogError(issues)
    return Catalog(provider_catalogs=providers, hyperscalers=hyperscalers, fx=fx)


def _validated(model, data, where: str, issues: list[str]):
    """Validate one entry; on failure record one issue per error, named by ``where``."""
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != _ORIGIN}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "(entry)"
            issues.append(f"{where}: {loc}: {err['msg']}")
        return None


def _entry_name(entry) -> str:
    return str(entry.get("name")) if isinstance(entry, dict) else "?"


def _provider(name: str, data: dict, issues: list[str]) -> ProviderCatalog | None:
    regions = []
    for i, entry in enumerate(data.get("regions") or []):
        origin = entry.get(_ORIGIN, f"{name}.yaml") if isinstance(entry, dict) else f"{name}.yaml"
        r = _validated(Region, entry, f"{origin}: region #{i} '{_entry_name(entry)}'", issues)
        if r is not None:
            regions.append(r)
    types = []
    for i, entry in enumerate(data.get("instance_types") or []):
        origin = entry.get(_ORIGIN, f"{name}.yaml") if isinstance(entry, dict) else f"{name}.yaml"
        if isinstance(entry, dict):
            entry = {"provider": name, **entry}
        it = _validated(InstanceType, entry, f"{origin}: instance type #{i} '{_entry_name(entry)}'", issues)
        if it is not None:
            types.append((origin, it))
    _cross_check(name, regions, types, issues)
    _check_vps_images(name, regions, data.get("vps_images") or [], issues)
    top = {k: v for k, v in data.items() if k not in ("regions", "instance_types")}
    return _validated(
        ProviderCatalog,
        {**top, "regions": regions, "instance_types": [it for _, it in types]},
        f"{name}.yaml",
        issues,
    )


def _cross_check(
    provider: str, regions: list[Region], types: list[tuple[str, InstanceType]], issues: list[str]
) -> None:
    """References between entries: regions exist and sell the product, names are unique."""
    allowed = PRODUCTS[provider]
    by_name = {}
    for r in regions:
        if r.name.lower() in by_name:
            issues.append(f"{provider}.yaml: region '{r.name}' is listed twice")
        by_name[r.name.lower()] = r
        bad = set(r.products) - allowed
        if bad:
            issues.append(f"{provider}.yaml: region '{r.name}': unknown product(s) {sorted(bad)}; "
                          f"use {sorted(allowed)}")
    seen = set()
    for origin, it in types:
        where = f"{origin}: instance type '{it.name}'"
        if it.name.lower() in seen:
            issues.append(f"{where}: listed twice")
        seen.add(it.name.lower())
        if it.product not in allowed:
            issues.append(f"{where}: product '{it.product}' is not one of {sorted(allowed)}")
        if provider == "ovh" and (it.product == "vps") != bool(it.plan_code):
            issues.append(f"{where}: plan_code is required for OVH VPS and only for them")
        names = [] if it.regions == "all" else list(it.regions)
        for region in names + list(it.region_prices):
            r = by_name.get(region.lower())
            if r is None:
                issues.append(f"{where}: unknown region '{region}'")
            elif it.product not in r.products:
                issues.append(f"{where}: region '{region}' does not sell product '{it.product}'")


def _check_vps_images(provider: str, regions: list[Region], images: list, issues: list[str]) -> None:
    """VPS images name VPS datacenters of the file, and one id per OS and datacenter."""
    vps = {r.name.lower() for r in regions if "vps" in r.products}
    seen: set[tuple[str, str]] = set()
    for i, image in enumerate(images):
        if not isinstance(image, dict):
            continue  # the model reports it
        where = f"{provider}.yaml: vps_images[{i}] '{image.get('name')}'"
        names = sorted(vps) if image.get("regions") == "all" else [str(r).lower() for r in image.get("regions") or []]
        for region in names:
            if region not in vps:
                issues.append(f"{where}: '{region}' is not a VPS datacenter of {provider}.yaml")
            key = (str(image.get("name", "")).lower(), region)
            if key in seen:
                issues.append(f"{where}: a second image for {image.get('name')} in '{region}'")
            seen.add(key)


def _hyperscaler(data, issues: list[str]) -> Hyperscaler | None:
    origin = data.get(_ORIGIN, "hyperscalers.yaml") if isinstance(data, dict) else "hyperscalers.yaml"
    return _validated(Hyperscaler, data, f"{origin}: hyperscaler '{_entry_name(data)}'", issues)


def _apply_layer(raw: dict, hyper: dict, layer: dict, origin: str, issues: list[str]) -> None:
    unknown = set(layer) - _LAYER_KEYS
    if unknown:
        issues.append(f"{origin}: unknown key(s) {sorted(unknown)}; an override layer may hold {sorted(_LAYER_KEYS)}")
    for kind in ("instance_types", "regions"):
        for i, patch in enumerate(layer.get(kind) or []):
            where = f"{origin}: {kind}[{i}]"
            if not isinstance(patch, dict) or patch.get("provider") not in raw:
                issues.append(f"{where}: needs 'provider' (one of {list(PROVIDER_NAMES)}) and 'name'")
                continue
            patch = dict(patch)
            target = raw[patch.pop("provider")].setdefault(kind, [])
            _merge(target, patch, origin, where, issues)
    for i, patch in enumerate(layer.get("hyperscaler_instance_types") or []):
        where = f"{origin}: hyperscaler_instance_types[{i}]"
        wanted = patch.get("hyperscaler") if isinstance(patch, dict) else None
        h = next((h for h in hyper.get("hyperscalers") or [] if h.get("name") == wanted), None)
        if h is None:
            issues.append(f"{where}: needs 'hyperscaler' naming one of the hyperscalers and 'name'")
            continue
        patch = {k: v for k, v in patch.items() if k != "hyperscaler"}
        h[_ORIGIN] = origin  # errors in the merged entry may come from this layer
        _merge(h.setdefault("instance_types", []), patch, origin, where, issues, mark=False)
    if "fx" in layer:
        if not isinstance(layer["fx"], dict):
            issues.append(f"{origin}: fx must be a mapping")
        else:
            hyper["fx"] = {**(hyper.get("fx") or {}), **layer["fx"], _ORIGIN: origin}


def _merge(entries: list, patch: dict, origin: str, where: str, issues: list[str], mark: bool = True) -> None:
    """Replace fields of the entry named like ``patch``, or append it as new.

    ``mark`` records the layer as the entry's origin (for error messages);
    nested entries (hyperscaler VM sizes) are reported through their parent.
    """
    tag = {_ORIGIN: origin} if mark else {}
    name = str(patch.get("name", "")).lower()
    if not name:
        issues.append(f"{where}: needs 'name'")
        return
    current = next((e for e in entries if isinstance(e, dict) and str(e.get("name", "")).lower() == name), None)
    if current is not None and _PRICE_KEYS & set(patch) and "price_read" not in patch:
        # A negotiated price with the public page's date would look fresher than it is.
        issues.append(f"{where} '{patch['name']}': a price override needs its own price_read date")
        return
    if current is None:
        entries.append({**patch, **tag})
        return
    if "monthly_price" in patch and "region_prices" not in patch:
        current.pop("region_prices", None)  # a negotiated rate applies everywhere
    current.update(patch, **tag)
    if _PRICE_KEYS & set(patch) and "source" not in patch:
        current["source"] = f"override from {origin}"
