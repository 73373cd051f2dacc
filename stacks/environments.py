"""Environment stacks from one base: the stack config names base files
(``sovereign-cloud:clusterBase``), its own ``cluster`` object overrides them.

    config:
      sovereign-cloud:clusterBase: [environments/base.yaml]   # applied in order
      sovereign-cloud:cluster:
        name: staging
        nodeGroups: {main: {count: 3}}

A base file holds one key, ``cluster``, a partial spec. The layers merge
by the rule of ``stacks/layers.py`` and the result is validated like any
stack's spec; every error names the file its field came from. Pulumi ESC
environments (``environment:`` in a stack file, deep-merged ``imports``) do
the same in Pulumi Cloud, which this project cannot reach offline; these
are plain files in the repository, read by the program itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from components.spec import SpecError, SpecIssue, parse_cluster_spec

from .config import REPO_ROOT
from .layers import LayerError, Origins, merge_layers

BASE_KEY = "clusterBase"
ROOT = "cluster"


@dataclass(frozen=True)
class Composed:
    """A stack's cluster object after its layers merged, and where each value came from."""

    data: dict
    origins: Origins
    layers: tuple[str, ...]

    @property
    def layered(self) -> bool:
        return len(self.layers) > 1

    def explain(self, err: SpecError) -> SpecError:
        """``err`` with each issue naming the file(s) its field came from."""
        if not self.layered:
            return err
        return SpecError([self._sourced(i) for i in err.issues])

    def _sourced(self, issue: SpecIssue) -> SpecIssue:
        parts = issue.path.split(".")
        if issue.source or parts[0] != ROOT:
            return issue
        found = self.origins.at(parts[1:])
        source = ", ".join(layer for layer in self.layers if layer in found)
        if not source:  # set nowhere: name every layer it could go in
            source = "not set in " + " nor ".join(self.layers)
        return SpecIssue(issue.path, issue.message, issue.fix, source)


def compose(overrides, bases: list[str], *, stack_label: str, root: Path | None = None) -> Composed:
    """Merge the base files (in order, paths relative to ``root``, the
    project) and the stack's own ``cluster`` object."""
    if not bases:
        return Composed(overrides, Origins(stack_label), (stack_label,))
    layers = [(_label(b), read_base(b, root)) for b in bases]
    layers.append((stack_label, overrides if overrides is not None else {}))
    try:
        data, origins = merge_layers(layers)
    except LayerError as err:
        raise SpecError([SpecIssue(err.path, err.message, err.fix, err.layer)]) from None
    return Composed(data, origins, tuple(name for name, _ in layers))


def parse(composed: Composed, *, catalog=None):
    """The validated ``ClusterSpec``; errors name the file of each field."""
    try:
        return parse_cluster_spec(composed.data, catalog=catalog)
    except SpecError as err:
        raise composed.explain(err) from None


def base_paths(raw) -> list[str]:
    """``clusterBase`` as Pulumi config hands it over: absent, or a list of
    paths (a JSON array in the runtime's string form). Pulumi.yaml declares
    it an array, so the engine refuses a bare path: so does this."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise _base_error(f"{raw!r} is not a list of paths", f"write it as a list: [{raw}]") from None
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise _base_error(f"must be a list of paths, got {raw!r}", "e.g. [environments/base.yaml]")
    if len(set(raw)) != len(raw):
        raise _base_error(f"lists a file twice: {raw}")
    return raw


def read_base(path: str, root: Path | None = None) -> dict:
    """The ``cluster`` mapping of a base file (a path relative to the project)."""
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or relative.suffix not in (".yaml", ".yml"):
        raise _base_error(f"{path!r} must be a .yaml file inside the project, relative to Pulumi.yaml",
                          "e.g. environments/base.yaml")
    file = (root or REPO_ROOT) / relative
    try:
        document = yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise _base_error(f"{path} does not exist", f"create it or fix {BASE_KEY}") from None
    except yaml.YAMLError as err:
        raise _base_error(f"{path} is not valid YAML: {err}") from None
    if not isinstance(document, dict) or set(document) != {ROOT} or not isinstance(document[ROOT], dict):
        keys = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise _base_error(f"{path} must hold exactly one key, '{ROOT}', a mapping (found {keys})",
                          f"put the shared spec under '{ROOT}:'")
    return document[ROOT]


def _label(path: str) -> str:
    return str(PurePosixPath(path))


def _base_error(message: str, fix: str = "") -> SpecError:
    return SpecError([SpecIssue(BASE_KEY, message, fix)])
