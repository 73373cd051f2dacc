"""The declarative cluster spec: pydantic models and their validation.

``parse_cluster_spec(data)`` is the one entry point: it returns a valid
``ClusterSpec`` or raises ``SpecError`` listing every problem at once, each
naming its field path and the fix. Field errors do not hide the cross-field
rules: these still run on the parts of the spec that validated.
"""

from __future__ import annotations

from typing import Any

from .cluster import ClusterSpec
from .errors import SpecError, SpecIssue, issues_from_errors
from .inputs import Known
from .keys import known_keys
from .node_groups import NodeGroupSpec
from .runner import run_rules
from .salvage import salvage
from .stack_catalog import catalog_for, catalog_of

__all__ = ["ClusterSpec", "NodeGroupSpec", "SpecError", "SpecIssue", "catalog_for", "parse_cluster_spec"]


def parse_cluster_spec(data: Any, *, root: str = "cluster", catalog=None) -> ClusterSpec:
    from .rules import RULES

    if not isinstance(data, dict):
        raise SpecError([SpecIssue(root, f"must be a mapping, got {type(data).__name__}", "see Pulumi.dev.yaml for an example")])
    found = salvage(ClusterSpec, data)
    issues = issues_from_errors(found.errors, root, lambda parts: known_keys(ClusterSpec, parts))
    if found.value is not None:
        known = Known(found.broken)
        if catalog is None:
            catalog, catalog_issues, known = catalog_of(found.value, known)
            issues += [_rooted(root, i) for i in catalog_issues]
        issues += [_rooted(root, i) for i in run_rules(RULES, found.value, catalog, known)]
    if issues:
        raise SpecError(issues)
    return found.value


def _rooted(root: str, issue: SpecIssue) -> SpecIssue:
    return SpecIssue(f"{root}.{issue.path}", issue.message, issue.fix)
