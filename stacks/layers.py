"""Layered cluster config: base files first, the stack's own overrides last.

The merge rule (docs/environments.md), applied layer after layer:

- mappings merge key by key, recursively;
- ``null`` removes the key (RFC 7396, JSON Merge Patch);
- ``$patch: replace`` in a mapping replaces the mapping below instead of
  merging into it (the Kubernetes strategic-merge-patch directive);
- scalars and lists replace, except the lists of ``MERGE_KEYS`` (the hosts
  of a node group, the latencies): their items match on the key fields and
  merge recursively, new items are appended in order, and an item
  ``{name: x, $patch: delete}`` removes ``x``.

Node groups need no list rule: ``nodeGroups`` is a mapping by name.

Every value remembers the layer that set it (``Origins``), so a validation
error can name the file the offending field came from.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

PATCH = "$patch"
# Paths (relative to the cluster object, ``*`` any key) of lists merged by key.
MERGE_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("nodeGroups", "*", "hosts"): ("name",),
    ("network", "latencies"): ("from", "to"),
}


class LayerError(ValueError):
    """A layer that cannot be merged; ``path`` is the dotted key in that layer."""

    def __init__(self, layer: str, path: str, message: str, fix: str = ""):
        super().__init__(f"{layer}: {path}: {message}")
        self.layer, self.path, self.message, self.fix = layer, path, message, fix


@dataclass
class Origins:
    """The layer of every value of a merged structure, shaped like it:
    a dict or list of ``Origins`` below mappings and lists, a layer name at
    leaves."""

    tree: Any

    def at(self, parts: list[str]) -> set[str]:
        """Layers that set ``parts`` (a dotted path split; list items by
        index) or anything below it; empty when no layer set it. A path
        going below a plain value (an error inside a value of the wrong
        type) belongs to the layer of that value."""
        node = self.tree
        while parts and not isinstance(node, str):
            if isinstance(node, dict):
                key, used = _match_key(node, parts)
                if key is None:
                    return set()
                node, parts = node[key], parts[used:]
            elif parts[0].isdigit() and int(parts[0]) < len(node):
                node, parts = node[int(parts[0])], parts[1:]
            else:
                return set()
        return _leaves(node)


def _match_key(node: dict, parts: list[str]) -> tuple[str | None, int]:
    """The key of ``node`` the path continues with: keys may hold dots
    (label keys), so the longest key spelled by the next parts wins."""
    for used in range(len(parts), 0, -1):
        key = ".".join(parts[:used])
        if key in node:
            return key, used
    return None, 0


def _leaves(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_leaves(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_leaves(v) for v in node)) if node else set()
    return {node}


def merge_layers(layers: list[tuple[str, dict]]) -> tuple[dict, Origins]:
    """Merge ``(layer name, mapping)`` pairs in order; later layers win."""
    value: dict = {}
    origins: dict = {}
    for name, data in layers:
        if not isinstance(data, dict):
            raise LayerError(name, "cluster", f"must be a mapping, got {type(data).__name__}")
        value, origins = _merge_mapping(value, origins, data, name, ())
    return value, Origins(origins)


def _merge_mapping(base: dict, origins: dict, over: dict, layer: str, path: tuple[str, ...]) -> tuple[dict, dict]:
    directive = over.get(PATCH)
    if directive is not None and directive != "replace":
        raise LayerError(layer, _dotted(path, PATCH), f"{directive!r} is not a mapping directive",
                         "use '$patch: replace' (or null to remove the key)")
    if directive == "replace":
        base, origins = {}, {}
    out, where = dict(base), dict(origins)
    for key, value in over.items():
        if key == PATCH:
            continue
        here = (*path, str(key))
        if value is None:
            out.pop(key, None)
            where.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key], where[key] = _merge_mapping(out[key], where[key], value, layer, here)
        elif isinstance(value, list) and _merge_keys(here) and isinstance(out.get(key), list):
            out[key], where[key] = _merge_list(out[key], where[key], value, layer, here)
        else:
            out[key], where[key] = _fresh(value, layer, here)
    return out, where


def _merge_list(base: list, origins: list, over: list, layer: str, path: tuple[str, ...]) -> tuple[list, list]:
    fields = _merge_keys(path)
    out, where = list(base), list(origins)
    index = {_identity(item, fields, layer, path, i): i for i, item in enumerate(base)}
    for i, item in enumerate(over):
        ident = _identity(item, fields, layer, path, i)
        delete = item.get(PATCH)
        if delete not in (None, "delete"):
            raise LayerError(layer, _dotted((*path, str(i)), PATCH), f"{delete!r} is not a list item directive",
                             "use '$patch: delete' to remove the item")
        at = index.get(ident)
        if delete == "delete":
            if at is None:
                raise LayerError(layer, _dotted((*path, str(i))), f"deletes {_shown(ident, fields)}, which no "
                                 "earlier layer defines", "remove this item or fix its key")
            out[at], where[at] = None, None
            continue
        if at is None:
            index[ident] = len(out)
            value, origin = _fresh(item, layer, (*path, str(i)))
            out.append(value)
            where.append(origin)
        else:
            out[at], where[at] = _merge_mapping(out[at], where[at], item, layer, (*path, str(i)))
    kept = [i for i, v in enumerate(out) if v is not None]
    return [out[i] for i in kept], [where[i] for i in kept]


def _identity(item: Any, fields: tuple[str, ...], layer: str, path: tuple[str, ...], i: int) -> tuple:
    if not isinstance(item, dict) or any(f not in item for f in fields):
        raise LayerError(layer, _dotted((*path, str(i))), f"items of this list merge by {' and '.join(fields)}: "
                         f"each needs {', '.join(fields)}", f"give the item its {' and '.join(fields)}")
    return tuple(str(item[f]) for f in fields)


def _fresh(value: Any, layer: str, path: tuple[str, ...]) -> tuple[Any, Any]:
    """A value set by one layer as a whole (directives checked, nulls dropped)."""
    if isinstance(value, dict):
        return _merge_mapping({}, {}, value, layer, path)
    if isinstance(value, list):
        if _merge_keys(path):
            return _merge_list([], [], value, layer, path)
        return copy.deepcopy(value), [_origin_of(v, layer) for v in value]
    return value, layer


def _origin_of(value: Any, layer: str) -> Any:
    if isinstance(value, dict):
        return {k: _origin_of(v, layer) for k, v in value.items()}
    if isinstance(value, list):
        return [_origin_of(v, layer) for v in value]
    return layer


def _merge_keys(path: tuple[str, ...]) -> tuple[str, ...]:
    for pattern, fields in MERGE_KEYS.items():
        if len(pattern) == len(path) and all(p in ("*", q) for p, q in zip(pattern, path)):
            return fields
    return ()


def _dotted(path: tuple[str, ...], *more: str) -> str:
    return ".".join(("cluster", *path, *more))


def _shown(ident: tuple, fields: tuple[str, ...]) -> str:
    return ", ".join(f"{f}={v!r}" for f, v in zip(fields, ident))
