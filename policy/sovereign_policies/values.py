"""Reading resource properties as pulumi-policy hands them over.

``args.props`` is a proxy that raises ``UnknownValueError`` on a value not
known during preview. The helpers below turn "unknown" and "unset" into
sentinels, so one unknown id does not abort a whole validation; numbers
arrive as floats (protobuf ``Struct``), hence ``as_int``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

MISSING = object()
UNKNOWN = object()


def field(props: Any, *path: str | int) -> Any:
    """``props[path[0]][path[1]]...``, or MISSING (unset/None) or UNKNOWN (preview)."""
    value = props
    for key in path:
        try:
            value = value[key]
        except UnknownValueError:
            return UNKNOWN
        except (KeyError, IndexError, TypeError):
            return MISSING
        if value is None:
            return MISSING
    return value


def elements(props: Any, *path: str | int) -> Iterator[tuple[int, Any]]:
    """(index, item) of a list property; unknown items are skipped (known at `up`)."""
    value = field(props, *path)
    if value is MISSING or value is UNKNOWN or isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return
    for i in range(len(value)):
        item = field(value, i)
        if item is not UNKNOWN and item is not MISSING:
            yield i, item


def is_set(value: Any) -> bool:
    return value is not MISSING and value is not UNKNOWN


def as_int(value: Any) -> int | None:
    """A port number: the engine sends numbers as floats, some SDKs as strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def setting(args: Any, key: str, default: Any) -> Any:
    """A policy config value; the engine fills schema defaults, direct calls may not."""
    config = args.get_config() or {}
    value = config.get(key)
    return default if value is None else value
