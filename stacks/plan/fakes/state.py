"""What a stack's state already holds for a resource, for day-2 tests.

Under mocks every resource is created afresh, so its outputs echo the
program's inputs. A real ``pulumi up`` on an existing stack sees the
*deployed* values of inputs the program ignores (``ignore_changes``): a
server keeps the image it was built from. ``deployed_state`` records such
values for one fake cloud; the fakes of the server types return them.
"""

from __future__ import annotations

from .registry import INVOKE_FAKES, RESOURCE_FAKES


def deployed_state(cloud, resource_name: str, **outputs) -> None:
    """Pretend ``resource_name`` already exists in ``cloud`` with these output properties (camelCase)."""
    _table(cloud)[resource_name] = dict(outputs)


def deployed(cloud, resource_name: str) -> dict:
    """The recorded outputs of ``resource_name`` (empty for a new resource)."""
    return dict(_table(cloud).get(resource_name, {}))


def _table(cloud) -> dict:
    if not hasattr(cloud, "_deployed_state"):
        cloud._deployed_state = {}
    return cloud._deployed_state


# -- stack outputs (what a StackReference or readStackOutputs sees) ---------

def recorded_stack_outputs(cloud, stack: str, outputs: dict, secret: tuple[str, ...] = ()) -> None:
    """Pretend ``stack`` (``org/project/stack``) exists and its last update exported ``outputs``."""
    _stacks(cloud)[stack] = (dict(outputs), tuple(sorted(secret)))


def stack_recorded(cloud, stack: str) -> bool:
    """``stack`` exists for this cloud (recorded, or the stack being run)."""
    return stack in _stacks(cloud)


def stack_exists(cloud, stack: str) -> None:
    """``stack`` exists; with no outputs unless some were recorded."""
    _stacks(cloud).setdefault(stack, ({}, ()))


def _stacks(cloud) -> dict:
    if not hasattr(cloud, "_stack_outputs"):
        cloud._stack_outputs = {}
    return cloud._stack_outputs


def _recorded(cloud, stack: str) -> tuple[dict, tuple[str, ...]]:
    """(outputs, secret names) of a stack that exists; an unknown one is an error."""
    if stack not in _stacks(cloud):
        raise Exception(f'unknown stack "{stack}"')  # the DIY backend's words (engine 3.274)
    return _stacks(cloud)[stack]


def read_stack_outputs(cloud, args: dict) -> dict:
    """The engine's built-in invoke: a stack it does not know is an error,
    a stack never updated has no outputs."""
    name = args.get("name")
    outputs, secret = _recorded(cloud, name)
    return {"name": name, "outputs": outputs, "secretOutputNames": list(secret)}


INVOKE_FAKES["pulumi:pulumi:readStackOutputs"] = read_stack_outputs


def stack_reference(cloud, name: str, inputs: dict, raw: dict):
    """``pulumi:pulumi:StackReference`` as the engine's built-in provider
    reads it (pkg/resource/deploy/builtins.go, ``readStackReference``): the
    referenced stack's outputs, only those it has, each secret one still a
    secret, and ``secretOutputNames`` sorted; an unknown stack is an error.
    The id is the stack name (the SDK reads the resource by it)."""
    from ..fake_cloud import SECRET_SIG, SPECIAL_SIG_KEY  # (fake_cloud imports this package)

    stack = inputs.get("name")
    outputs, secret = _recorded(cloud, stack)
    shown = {k: {SPECIAL_SIG_KEY: SECRET_SIG, "value": v} if k in secret else v for k, v in outputs.items()}
    return stack, {"name": stack, "outputs": shown, "secretOutputNames": sorted(secret)}


RESOURCE_FAKES["pulumi:pulumi:StackReference"] = stack_reference
