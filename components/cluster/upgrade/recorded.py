"""The version this stack last deployed, from its own outputs.

The program exports ``kubernetesVersion`` on every update and reads it back
on the next one (the engine's ``readStackOutputs``, as
components/topology/history.py does for mesh addresses), so a skipped minor
version or a downgrade is refused at preview, before anything runs. The
nodes remain the authority: the upgrade scripts check the version each one
really runs (a failed update may have recorded a version some nodes do not
run yet).
"""

from __future__ import annotations

import pulumi

from components.spec.errors import SpecError
from components.topology.history import READ_STACK_OUTPUTS, this_stack

from .versions import version_change_issues

OUTPUT = "kubernetesVersion"


def deployed_version() -> str | None:
    result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": this_stack()})
    value = ((result.value or {}).get("outputs") or {}).get(OUTPUT)
    return value if isinstance(value, str) else None


def check_version_change(wanted: str) -> None:
    """Raises ``SpecError`` (on ``version``) for a change the cluster cannot make."""
    issues = version_change_issues(deployed_version(), wanted)
    if issues:
        raise SpecError(issues)
