"""The keys a spec model accepts, for typo hints and for walking raw data."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo


def key_of(name: str, field: FieldInfo) -> str:
    """The camelCase key of a field, as written in the stack file."""
    return field.alias or name


def field_named(model: type[BaseModel], key: Any) -> tuple[str, FieldInfo] | None:
    """The field a raw key sets (its camelCase key or, accepted too, its name)."""
    for name, field in model.model_fields.items():
        if key in (name, key_of(name, field)):
            return name, field
    return None


def closest(key: Any, allowed: list[str]) -> str | None:
    """The accepted key ``key`` is most likely a misspelling of, if any."""
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return close[0] if close else None


def known_keys(model: type[BaseModel], parts: list[str]) -> list[str]:
    """camelCase keys accepted at ``parts`` below ``model`` (for typo hints).

    A part that is not a field name is a dict key or list index of the
    container reached before it, so it is skipped.
    """
    current: Any = model
    for part in parts:
        found = field_named(current, part)
        if found is not None:
            current = inner_model(found[1].annotation)
            if current is None:
                return []
    return [key_of(n, f) for n, f in current.model_fields.items()]


def inner_model(annotation) -> type[BaseModel] | None:
    """The first model class inside an annotation (``X``, ``X | None``, ``dict[str, X]``...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = inner_model(arg)
        if found is not None:
            return found
    return None
