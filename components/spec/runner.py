"""Run the cross-field rules, each on the parts of the spec it may trust.

On a valid spec every rule sees all of it. On a salvaged one (some fields
failed), a rule runs only when the paths it declares are known; with
``any_groups`` it sees the node groups whose declared paths are known, and
without, it needs them in every group. A rule reads only what it declares,
so it never meets a field that failed (which holds None).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .cluster import ClusterSpec
from .errors import SpecIssue
from .inputs import GROUPS, Known, inputs_of


def run_rules(rules: Iterable[Callable], spec: ClusterSpec, catalog, known: Known) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    for rule in rules:
        view = rule_view(rule, spec, known)
        if view is not None:
            issues.extend(rule(view, catalog))
    return issues


def rule_view(rule: Callable, spec: ClusterSpec, known: Known) -> ClusterSpec | None:
    """The spec ``rule`` may see: all of it, its usable node groups, or None (it cannot run)."""
    if known.complete:
        return spec
    inputs = inputs_of(rule)
    if inputs is None or not all(known.knows(p) for p in inputs.spec_paths):
        return None
    if not inputs.group_paths:
        return spec
    if not inputs.any_groups:
        return spec if all(known.knows((*GROUPS, *p)) for p in inputs.group_paths) else None
    if known.lost(("nodeGroups",)):
        return None
    usable = {
        name: group for name, group in spec.node_groups.items()
        if all(known.knows(("nodeGroups", name, *p)) for p in inputs.group_paths)
    }
    return spec if len(usable) == len(spec.node_groups) else spec.model_copy(update={"node_groups": usable})
