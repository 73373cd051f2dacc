"""Stack outputs read synchronously, before anything is created.

The engine's built-in ``readStackOutputs`` invoke is what a StackReference
reads; calling it directly gives plain values while the program is still
deciding what to build (mesh addresses, the deployed version, a hub's
outputs). A stack never updated has no outputs; an unknown stack or an
unreachable backend fails the invoke, which stops the program before
anything is created (the SDK reports a failed invoke as the program's error).
"""

from __future__ import annotations

import time

import pulumi

READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"


def this_stack() -> str:
    """The fully qualified name a StackReference to this stack would use."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


# The DIY (file) backend saves a checkpoint atomically, but rewrites its
# `.attrs` sidecar in place (gocloud fileblob setAttrs: truncate, then write);
# a read in between decodes an empty sidecar: "failed to load checkpoint: EOF"
# (seen in CI under load). That read is retried; any other failure is final.
TRANSIENT = "failed to load checkpoint"
READ_ATTEMPTS = 5


def read_stack_outputs(stack: str) -> tuple[dict, set[str]]:
    """(outputs, names of the secret ones) of ``stack`` (``org/project/stack``)."""
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": stack})
            break
        except Exception as err:  # the engine's error, as the SDK raises it
            if TRANSIENT not in str(err) or attempt == READ_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    value = result.value or {}
    return dict(value.get("outputs") or {}), set(value.get("secretOutputNames") or [])


def previous_outputs() -> dict:
    """This stack's outputs from its last update ({} on its first)."""
    return read_stack_outputs(this_stack())[0]
