"""Typed pieces of chart values, and the escape-hatch merge."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict


@with_config(ConfigDict(extra="forbid", strict=True))
class Quantities(TypedDict, total=False):
    cpu: str
    memory: str


@with_config(ConfigDict(extra="forbid", strict=True))
class Resources(TypedDict, total=False):
    requests: Quantities
    limits: Quantities


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged into a copy of ``base``: dicts merge key by key,
    anything else (lists included, as Helm does) replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def get_path(values: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` (dict keys, list indexes); None when absent."""
    current: Any = values
    for part in path:
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return None
        elif not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def cpu_millis(quantity: str | int | float | None) -> int:
    """Kubernetes CPU quantity in millicores ("250m", "1", "0.5")."""
    if quantity is None:
        return 0
    text = str(quantity)
    if text.endswith("m"):
        return int(float(text[:-1]))
    return int(float(text) * 1000)


_MEMORY_UNITS = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024,
                 "k": 1000 / 1024 / 1024, "M": 1000 * 1000 / 1024 / 1024, "G": 1000 ** 3 / 1024 / 1024}


def memory_mib(quantity: str | int | None) -> float:
    """Kubernetes memory quantity in MiB ("128Mi", "1Gi", "500M", bytes)."""
    if quantity is None:
        return 0.0
    text = str(quantity)
    for unit in sorted(_MEMORY_UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * _MEMORY_UNITS[unit]
    return float(text) / 1024 / 1024
