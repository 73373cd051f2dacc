"""The version this stack last deployed, from its own outputs.

The program exports ``kubernetesVersion`` on every update and reads it back
on the next one (``components/state/outputs.py``, like the mesh
addresses), so a skipped minor
version or a downgrade is refused at preview, before anything runs. The
nodes remain the authority: the upgrade scripts check the version each one
really runs (a failed update may have recorded a version some nodes do not
run yet).
"""

from __future__ import annotations

from components.spec.errors import SpecError

from .versions import version_change_issues

OUTPUT = "kubernetesVersion"


def check_version_change(wanted: str, recorded) -> None:
    """Raises ``SpecError`` (on ``version``) for a change the cluster cannot
    make from ``recorded``, this stack's previous ``kubernetesVersion`` output."""
    issues = version_change_issues(recorded if isinstance(recorded, str) else None, wanted)
    if issues:
        raise SpecError(issues)
