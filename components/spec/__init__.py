"""The declarative cluster spec: pydantic models and their validation.

``parse_cluster_spec(data)`` is the one entry point: it returns a valid
``ClusterSpec`` or raises ``SpecError`` listing every problem at once, each
naming its field path and the fix.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from .cluster import ClusterSpec
from .errors import SpecError, SpecIssue, issues_from_pydantic
from .node_groups import NodeGroupSpec

__all__ = ["ClusterSpec", "NodeGroupSpec", "SpecError", "SpecIssue", "catalog_for", "parse_cluster_spec"]


def parse_cluster_spec(data: Any, *, root: str = "cluster", catalog=None) -> ClusterSpec:
    from .rules import RULES

    if not isinstance(data, dict):
        raise SpecError([SpecIssue(root, f"must be a mapping, got {type(data).__name__}", "see Pulumi.dev.yaml for an example")])
    try:
        spec = ClusterSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(issues_from_pydantic(err, root, lambda parts: _known_keys(ClusterSpec, parts))) from None
    catalog = catalog or catalog_for(data)
    issues = [issue for rule in RULES for issue in rule(spec, catalog)]
    if issues:
        raise SpecError([SpecIssue(f"{root}.{i.path}", i.message, i.fix) for i in issues])
    return spec


def catalog_for(data: Any):
    """The price catalog with the stack's own overrides (negotiated prices) applied."""
    from components.catalog import CatalogError, load_catalog

    overrides = ((data or {}).get("cost") or {}).get("catalogOverrides") if isinstance(data, dict) else None
    try:
        return load_catalog(overrides=overrides) if overrides else load_catalog()
    except CatalogError as err:
        raise SpecError([SpecIssue("cluster.cost.catalogOverrides", str(err), "fix the override entries")]) from None


def _known_keys(model: type[BaseModel], parts: list[str]) -> list[str]:
    """camelCase keys accepted at ``parts`` below ``model`` (for typo hints).

    A part that is not a field name is a dict key or list index of the
    container reached before it, so it is skipped.
    """
    current: Any = model
    for part in parts:
        fields = {f.alias or n: f for n, f in current.model_fields.items()}
        field = fields.get(part)
        if field is not None:
            current = _inner_model(field.annotation)
            if current is None:
                return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _inner_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
