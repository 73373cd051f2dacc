"""Recover the parts of a spec that did validate when the whole did not.

pydantic returns no value for a model with any error, and skips a model's
own validators while one of its fields fails, so one bad field would hide
every cross-field rule. ``salvage`` validates a model and, on failure,
validates again without what failed, until it gets a value:

- an unknown key is removed (it sets nothing); the field it most likely
  misspells, when that field is absent, is marked unknown;
- a sub-model (``network``) or a node group with errors is salvaged the
  same way, recursively;
- any other failing field is dropped: a subclass of the model holds
  ``None`` there instead of a value.

The result is a model instance whose fields hold validated values except at
the ``broken`` locations, with every error found on the way. An error that
only shows once something was dropped is reported only when it cannot come
from what was dropped (a model validator reading a dropped field would
otherwise report a problem the user does not have).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from .keys import closest, field_named, key_of

Loc = tuple[Any, ...]  # keys (and list indexes) from the spec root, like pydantic's ``loc``


@dataclass
class Salvaged:
    value: Any = None  # None: nothing of it is usable
    broken: set[Loc] = field(default_factory=set)
    errors: list[dict] = field(default_factory=list)  # pydantic error dicts, ``loc`` from the root

    @property
    def exact(self) -> bool:
        """Every field holds the user's own validated value."""
        return self.value is not None and not self.broken


def salvage(model: type[BaseModel], data: dict, loc: Loc = ()) -> Salvaged:
    """Validate ``data`` as ``model``, keeping what validates when it does not all."""
    return _Rounds(model, data, loc).run()


class _Rounds:
    """Validation rounds of one model, each removing what failed in the last."""

    def __init__(self, model: type[BaseModel], data: dict, loc: Loc):
        self.model, self.data, self.loc = model, dict(data), loc
        self.out = Salvaged()
        self.dropped: set[str] = set()  # field names now holding None
        self.salvaged: set[str] = set()  # field names whose value was replaced by its salvaged value
        self.inexact: set[str] = set()  # field names not holding exactly what the user wrote
        self.first = True

    def run(self) -> Salvaged:
        # Each round removes an unknown key, salvages a field or drops one.
        for _ in range(2 * len(self.data) + len(self.model.model_fields) + 1):
            try:
                self.out.value = _partial(self.model, frozenset(self.dropped)).model_validate(self.data)
                return self.out
            except ValidationError as err:
                errors = err.errors(include_url=False)
            if not self._settle(errors):
                break
            self.first = False
        self.out.value = None
        self.out.broken.add(self.loc)
        return self.out

    def _settle(self, errors: list[dict]) -> bool:
        """Remove what failed; False when the model as a whole failed."""
        by_key: dict[Any, list[dict]] = {}
        for err in errors:
            by_key.setdefault(err["loc"][0] if err["loc"] else None, []).append(err)
        if None in by_key:  # a validator of the model itself
            self._report(by_key[None], real=self.first or not self.inexact)
            return False
        for key, errs in by_key.items():
            found = field_named(self.model, key)
            if found is None:
                self._unknown_key(key, errs)
            elif found[0] in self.salvaged or not self._salvage_field(key, *found, errs):
                self._drop(key, *found, errs)
        return True

    def _unknown_key(self, key: Any, errs: list[dict]) -> None:
        self._report(errs, real=True)
        del self.data[key]
        keys = {key_of(n, f): n for n, f in self.model.model_fields.items()}
        meant = closest(key, list(keys))
        if meant is not None and not {meant, keys[meant]} & set(self.data):
            # Probably a misspelling of this absent field: its value is unknown.
            self.out.broken.add((*self.loc, meant))
            self.inexact.add(keys[meant])

    def _salvage_field(self, key: Any, name: str, info, errs: list[dict]) -> bool:
        """Salvage a sub-model, or a mapping of them, whose errors lie inside."""
        value = self.data.get(key)
        if not isinstance(value, dict) or any(len(e["loc"]) < 2 for e in errs):
            return False
        here = (*self.loc, key_of(name, info))
        if (model := _model_of(info.annotation)) is not None:
            sub = salvage(model, value, here)
        elif (model := _mapping_of(info.annotation)) is not None:
            sub = _salvage_mapping(model, value, here, errs)
        else:
            return False
        self.salvaged.add(name)
        self.out.errors += sub.errors
        self.out.broken |= sub.broken
        if sub.value is None:
            self._drop(key, name, info, [])
        else:
            self.data[key] = sub.value
            if not sub.exact:
                self.inexact.add(name)
        return True

    def _drop(self, key: Any, name: str, info, errs: list[dict]) -> None:
        self._report(errs, real=self.first or name not in self.inexact)
        for k in (key, name, key_of(name, info)):
            self.data.pop(k, None)
        self.dropped.add(name)
        self.inexact.add(name)
        self.out.broken.add((*self.loc, key_of(name, info)))

    def _report(self, errs: list[dict], *, real: bool) -> None:
        if real:
            self.out.errors += [{**e, "loc": (*self.loc, *e["loc"])} for e in errs]


def _salvage_mapping(model: type[BaseModel], mapping: dict, loc: Loc, errs: list[dict]) -> Salvaged:
    """Salvage each failing entry of a ``dict[str, Model]``; drop the hopeless ones."""
    out = Salvaged(value=dict(mapping))
    for entry in dict.fromkeys(e["loc"][1] for e in errs):
        entry_errs = [e for e in errs if e["loc"][1] == entry]
        raw = mapping.get(entry)
        if isinstance(raw, dict) and all(len(e["loc"]) > 2 and e["loc"][2] != "[key]" for e in entry_errs):
            sub = salvage(model, raw, (*loc, entry))
            out.errors += sub.errors
            out.broken |= sub.broken
            if sub.value is not None:
                out.value[entry] = sub.value
                continue
        else:
            out.errors += [{**e, "loc": (*loc, *e["loc"][1:])} for e in entry_errs]
            out.broken.add((*loc, entry))
        out.value.pop(entry, None)
    return out


def _model_of(annotation) -> type[BaseModel] | None:
    """``Model`` for a field annotated ``Model`` or ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _model_of(args[0])
    return None


def _mapping_of(annotation) -> type[BaseModel] | None:
    """``Model`` for a field annotated ``dict[str, Model]``."""
    if typing.get_origin(annotation) is dict:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[0] is str:
            return _model_of(args[1])
    return None


@cache
def _partial(model: type[BaseModel], dropped: frozenset[str]) -> type[BaseModel]:
    """``model`` with the ``dropped`` fields holding None, unvalidated."""
    if not dropped:
        return model
    fields = {name: (Any, Field(default=None, alias=model.model_fields[name].alias)) for name in sorted(dropped)}
    return create_model(model.__name__, __base__=model, __module__=model.__module__, **fields)
