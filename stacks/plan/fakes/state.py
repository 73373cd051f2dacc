"""What a stack's state already holds for a resource, for day-2 tests.

Under mocks every resource is created afresh, so its outputs echo the
program's inputs. A real ``pulumi up`` on an existing stack sees the
*deployed* values of inputs the program ignores (``ignore_changes``): a
server keeps the image it was built from. ``deployed_state`` records such
values for one fake cloud; the fakes of the server types return them.
"""

from __future__ import annotations


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
