"""Validation issues that name the field and the fix, reported all at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from .keys import closest


@dataclass(frozen=True)
class SpecIssue:
    """One problem in the cluster spec: where, what, and how to fix it."""

    path: str
    message: str
    fix: str = ""
    source: str = ""
    """The file(s) the field's value came from, for layered stacks
    (``stacks/environments.py``); empty for a single stack file."""

    def __str__(self) -> str:
        where = f" (from {self.source})" if self.source else ""
        text = f"{self.path}{where}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


class SpecError(ValueError):
    """Raised with every issue found; nothing may be created after it.

    The issues are de-duplicated and ordered by path (then as found).
    """

    def __init__(self, issues: Iterable[SpecIssue]):
        self.issues = sorted(dict.fromkeys(issues), key=lambda i: i.path)
        super().__init__(
            f"{len(self.issues)} problem(s) in the cluster spec:\n"
            + "\n".join(f"  - {i}" for i in self.issues)
        )


def issues_from_pydantic(error: ValidationError, root: str, known_keys) -> list[SpecIssue]:
    """Turn pydantic's errors into SpecIssues (see ``issues_from_errors``)."""
    return issues_from_errors(error.errors(include_url=False), root, known_keys)


def issues_from_errors(errors: Iterable[dict], root: str, known_keys) -> list[SpecIssue]:
    """Turn pydantic error dicts into SpecIssues with dotted camelCase paths.

    ``known_keys(path_parts)`` returns the keys a model accepts at that path,
    used to suggest the intended spelling of an unknown key.
    """
    issues = []
    for err in errors:
        parts = [str(p) for p in err["loc"]]
        path = ".".join([root, *parts]) if parts else root
        if err["type"] == "extra_forbidden":
            allowed = sorted(known_keys(parts[:-1]))
            close = closest(parts[-1], allowed)
            fix = f"did you mean '{close}'?" if close else "remove it"
            fix += f" Known keys: {', '.join(allowed)}" if allowed else ""
            issues.append(SpecIssue(path, "unknown key", fix))
        elif err["type"] == "missing":
            issues.append(SpecIssue(path, "is required", "add it"))
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            issues.append(SpecIssue(path, msg, _fix_for(err)))
    return issues


def _fix_for(err) -> str:
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return f"use one of {ctx['expected']}"
    return ""
