"""Where the fake answers live; see ``stacks/plan/fake_cloud.py`` for the protocol.

- ``RESOURCE_FAKES[type] = fn(cloud, name, inputs, raw_inputs) -> (id, state)``
- ``INVOKE_FAKES[token] = fn(cloud, args) -> dict``
- ``FAKE_STDOUT[name_suffix] = fn(resource_name) -> str``: stdout of a
  ``command:remote:Command`` whose name ends with the suffix (plan mode only;
  on test hosts the real script runs).
"""

from __future__ import annotations

from collections.abc import Callable

RESOURCE_FAKES: dict[str, Callable] = {}
INVOKE_FAKES: dict[str, Callable] = {}
FAKE_STDOUT: dict[str, Callable[[str], str]] = {}
