"""Which version changes a rolling upgrade may make.

Kubernetes supports upgrading one minor version at a time and no
downgrade (kubeadm's upgrade guide; K3s follows upstream): 1.31.x -> 1.32.y
is a step, 1.31.x -> 1.33.y skips 1.32 and is refused, and so is any move
to an older release. The same rule is applied on every node by the upgrade
scripts (``scripts/upgrade-kubectl.sh``, ``k3s-upgrade.sh``,
``kubeadm-upgrade.sh``) against the version the node really runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.spec.errors import SpecIssue

# 1.31.4, v1.31.4, v1.31.4+k3s1 (spec, kubelet) or 1.31.4-1.1 (a Debian package).
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:\+k3s(\d+))?(?:-[0-9.]+)?$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    k3s: int = 0
    """K3s' own revision (``+k3s2``); 0 for upstream releases."""

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a Kubernetes version such as 1.31.4 or v1.31.4+k3s1")
        return cls(*(int(g) if g else 0 for g in match.groups()))

    @property
    def minor_line(self) -> str:
        return f"{self.major}.{self.minor}"


def change_problem(deployed: str, wanted: str) -> str | None:
    """Why going from ``deployed`` to ``wanted`` is refused; None if allowed."""
    old, new = Version.parse(deployed), Version.parse(wanted)
    if new < old:
        return (f"{wanted} is older than {deployed}, which the cluster runs: Kubernetes "
                "cannot be downgraded in place")
    if new.major != old.major or new.minor > old.minor + 1:
        return (f"going from {deployed} to {wanted} skips minor version "
                f"{old.major}.{old.minor + 1}: Kubernetes upgrades one minor version at a time")
    return None


def version_change_issues(deployed: str | None, wanted: str) -> list[SpecIssue]:
    """``version`` problems when the deployed version is known (nothing to
    check on a stack never deployed)."""
    if not deployed:
        return []
    problem = change_problem(deployed, wanted)
    if problem is None:
        return []
    old = Version.parse(deployed)
    if Version.parse(wanted) < old:
        fix = f"set version back to {deployed} (or a later patch of {old.minor_line})"
    else:
        fix = (f"set version to the latest {old.major}.{old.minor + 1}.x first and run pulumi up; "
               f"then go on to {wanted}, one minor version per update")
    return [SpecIssue("version", problem, fix)]
