"""What each cross-field rule reads, and which parts of a spec are known.

A rule declares the spec paths it reads with ``@reads(...)``: camelCase
keys joined by dots, ``*`` standing for every node group
(``"nodeGroups.*.roles"``), a path naming a whole section or group covering
all below it. ``any_groups=True`` says the rule is sound on any subset of
the node groups (an issue it finds among some groups is a real issue), so
it still runs on the groups that validated when others did not. A rule that
declares nothing runs only on a fully valid spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Path = tuple[str, ...]
GROUPS: Path = ("nodeGroups", "*")


@dataclass(frozen=True)
class RuleInputs:
    paths: tuple[Path, ...]
    any_groups: bool = False

    @property
    def spec_paths(self) -> tuple[Path, ...]:
        """Paths outside the node groups."""
        return tuple(p for p in self.paths if p[:2] != GROUPS)

    @property
    def group_paths(self) -> tuple[Path, ...]:
        """Paths inside each node group, relative to it (``()``: all of it)."""
        return tuple(p[2:] for p in self.paths if p[:2] == GROUPS)


def reads(*paths: str, any_groups: bool = False) -> Callable:
    """Declare the spec paths a rule reads (see the module docstring)."""

    def declare(rule: Callable) -> Callable:
        rule.spec_inputs = RuleInputs(tuple(tuple(p.split(".")) for p in paths), any_groups)
        return rule

    return declare


def inputs_of(rule: Callable) -> RuleInputs | None:
    return getattr(rule, "spec_inputs", None)


class Known:
    """The parts of a salvaged spec holding validated values: all but ``broken``."""

    def __init__(self, broken: Iterable[tuple[Any, ...]] = ()):
        self.broken = frozenset(tuple(str(p) for p in loc) for loc in broken)

    @property
    def complete(self) -> bool:
        return not self.broken

    def knows(self, path: Path) -> bool:
        """Nothing at, above or below ``path`` failed (``*`` matches any key)."""
        return not any(_related(path, loc) for loc in self.broken)

    def lost(self, path: Path) -> bool:
        """``path`` itself failed, or a section above it."""
        return any(path[: len(loc)] == loc for loc in self.broken)

    def with_broken(self, loc: Path) -> Known:
        return Known(self.broken | {loc})


def _related(a: Path, b: Path) -> bool:
    """One path lies at or below the other."""
    return all(x == y or "*" in (x, y) for x, y in zip(a, b))
