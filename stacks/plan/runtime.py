"""Run a Pulumi program in-process under mocks and record what it registers.

Used by ``python -m stacks plan`` and by the tests (one mechanism for both):
every registered resource is kept with its inputs, its parent, its
dependencies and which of its inputs were secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .fake_cloud import SECRET_SIG, SPECIAL_SIG_KEY, FakeCloud, mask_secrets, unwrap_secrets
from .fakes.state import stack_exists

ORGANIZATION = "organization"  # what the DIY (file) backend calls every organization


@dataclass
class Registered:
    urn: str
    type: str
    name: str
    custom: bool
    parent_urn: str
    inputs: dict[str, Any]
    dependencies: list[str]
    secret_paths: list[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    """The id the (fake) provider gave a custom resource ("" for components)."""
    # Resource options as the engine receives them (the mocks ignore them,
    # the real engine acts on them): what a change replaces, and how.
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    protect: bool = False
    shown_inputs: dict[str, Any] = field(default_factory=dict)
    """``inputs`` with every secret value replaced by "[secret]" (what the plan prints)."""
    read: bool = False
    """Read, not managed (``ReadResource``: a ``StackReference``, a ``.get``): the engine's step is a read."""

    def script(self, step: str) -> str | None:
        """The node script of a remote command's ``create``/``update``/``delete``,
        as the file was rendered (without the run-as-root wrapping)."""
        from components.remote.command import script_of

        line = self.inputs.get(step)
        return script_of(line) if line else None

    @property
    def parent_name(self) -> str | None:
        """Name of the parent resource; None for top-level (the stack's children)."""
        if not self.parent_urn or urn_type(self.parent_urn) == "pulumi:pulumi:Stack":
            return None
        return urn_name(self.parent_urn)


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def urn_type(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def secret_paths(value, path: str = "") -> list[str]:
    """Dotted paths of the values the program marked secret."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SECRET_SIG:
            return [path or "."]
        return [p for k, v in value.items() for p in secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in secret_paths(v, f"{path}[{i}]")]
    return []


class RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, also keeping parents and dependencies."""

    def __init__(self, cloud: FakeCloud):
        super().__init__(cloud)
        self.registered: dict[str, Registered] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        raw = rpc.deserialize_properties(request.object)
        state = self.resources[response.urn].state if response.urn in self.resources else {}
        self.registered[response.urn] = Registered(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent_urn=request.parent,
            inputs=unwrap_secrets(raw),
            dependencies=list(request.dependencies),
            secret_paths=secret_paths(raw),
            outputs=unwrap_secrets(dict(state)),
            id=response.id,
            replace_on_changes=list(request.replaceOnChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
            ignore_changes=list(request.ignoreChanges),
            protect=bool(request.protect),
            shown_inputs=mask_secrets(raw),
        )
        return response

    def ReadResource(self, request):
        response = super().ReadResource(request)
        raw = rpc.deserialize_properties(request.properties)
        state = self.resources[response.urn].state
        self.registered[response.urn] = Registered(
            urn=response.urn, type=request.type, name=request.name, custom=True, parent_urn=request.parent,
            inputs=unwrap_secrets(raw), dependencies=list(request.dependencies), secret_paths=secret_paths(raw),
            outputs=unwrap_secrets(dict(state)), id=request.id, shown_inputs=mask_secrets(raw), read=True)
        return response


@dataclass
class ProgramRun:
    resources: list[Registered]
    outputs: dict[str, Any]
    secret_outputs: set[str]

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registered:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def children_of(self, parent: Registered) -> list[Registered]:
        return [r for r in self.resources if r.parent_urn == parent.urn]


def run_program(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    cloud: FakeCloud | None = None,
) -> ProgramRun:
    """Run ``program`` as ``pulumi up`` would, against a fake cloud."""
    cloud = cloud or FakeCloud()
    monitor = RecordingMonitor(cloud)
    settings.ROOT.set(None)  # a fresh stack for every run in this process
    pulumi.runtime.set_all_config(config, secret_keys)
    # The DIY backend's organization; the stack itself exists (never updated
    # unless a test recorded its outputs), as it does under `pulumi up`.
    mocks.set_mocks(cloud, project=project, stack=stack, preview=False, monitor=monitor, organization=ORGANIZATION)
    stack_exists(cloud, f"{ORGANIZATION}/{project}/{stack}")
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    try:
        _sync_await(run_pulumi_func(program))
    except Exception as err:
        # Lets callers prove that a failing program created nothing.
        err.registered_resources = list(monitor.registered.values())
        raise
    outputs, secrets = _sync_await(_resolve_stack_outputs())
    return ProgramRun(list(monitor.registered.values()), outputs, secrets)


async def _resolve_stack_outputs() -> tuple[dict[str, Any], set[str]]:
    root = settings.get_root_resource()
    values, secret = {}, set()
    for key, value in getattr(root, "outputs", {}).items():
        out = pulumi.Output.from_input(value)
        values[key] = await out.future()
        if await out.is_secret():
            secret.add(key)
    return values, secret
