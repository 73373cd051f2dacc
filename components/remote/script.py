"""Render a node script file with explicit parameters.

Scripts are real files (shellcheck-clean, ``set -euo pipefail``) that read
their parameters from environment variables with ``${NAME:?}``. Rendering
only prepends ``export NAME='value'`` lines after the shebang, so what runs
on the node is the file as reviewed plus a visible parameter block; no
script logic is ever assembled in Python.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path

_PARAM_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def render_script(path: Path | str, params: Mapping[str, object] | None = None) -> str:
    """Return the script at ``path`` with ``params`` exported at its top.

    Values are shell-quoted; booleans become ``true``/``false`` and lists are
    joined with newlines (one item a line, e.g. one WireGuard peer a line).
    """
    text = Path(path).read_text()
    lines = text.splitlines(keepends=True)
    if not lines or not lines[0].startswith("#!"):
        raise ValueError(f"{path}: a node script must start with a shebang line")
    block = []
    for name, value in (params or {}).items():
        if not _PARAM_NAME.match(name):
            raise ValueError(f"{path}: parameter name {name!r} must be UPPER_SNAKE_CASE")
        block.append(f"export {name}={shlex.quote(_as_text(value))}\n")
    return "".join([lines[0], *block, *lines[1:]])


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "\n".join(_as_text(v) for v in value)
    if value is None:
        return ""
    return str(value)
