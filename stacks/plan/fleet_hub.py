"""Offline plans of fleet spokes: their StackReference reads the hub's
stack, which no backend holds here. The plan runs the hub's own stack file
first (Pulumi.<hub>.yaml of this repository, under the same mocks) and
records its outputs, secret ones secret, as the backend would hold them
after the hub's `pulumi up`; then the spoke reads them like the engine
(stacks/plan/fakes/state.py). A hub whose stack file is not here stays
unknown: the spoke's plan fails as `pulumi up` would."""

from __future__ import annotations

from ..config import PROJECT, REPO_ROOT, read_stack_file
from .fakes.state import recorded_stack_outputs, stack_recorded
from .runtime import ORGANIZATION


def hub_stack_name(data) -> str | None:
    """The hub's stack name (this project's) if ``data`` is a fleet spoke's
    cluster object; read leniently: the program validates it."""
    fleet = data.get("fleet") if isinstance(data, dict) else None
    if not isinstance(fleet, dict) or data.get("name") == fleet.get("hub"):
        return None
    member = (fleet.get("members") or {}).get(fleet.get("hub")) or {}
    stack = member.get("stack") if isinstance(member, dict) else None
    stack = stack or fleet.get("hub")
    return stack if isinstance(stack, str) and "/" not in stack else None


def record_hub_outputs(data, cloud, run_config) -> str | None:
    """Plan the hub of spoke ``data`` into ``cloud``'s backend (once); the hub's stack file name."""
    stack = hub_stack_name(data)
    if stack is None:
        return None
    qualified = f"{ORGANIZATION}/{PROJECT}/{stack}"
    path = REPO_ROOT / f"Pulumi.{stack}.yaml"
    if stack_recorded(cloud, qualified) or not path.is_file():
        return None
    hub = run_config(stack, read_stack_file(path))
    recorded_stack_outputs(cloud, qualified, hub.outputs, tuple(hub.secret_outputs))
    return path.name
