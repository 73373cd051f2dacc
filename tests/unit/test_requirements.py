"""README command one installs requirements.txt only: everything the
program and the offline plan import must be pinned there, not only in
requirements-dev.txt (the test venv has both, so a gap would go unseen)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_CODE = ("components", "stacks", "__main__.py")


def _top_level_imports() -> set[str]:
    names: set[str] = set()
    files = [p for part in RUNTIME_CODE for p in ((ROOT / part).rglob("*.py") if (ROOT / part).is_dir() else [ROOT / part])]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"components", "stacks", "__future__"}


def _pinned(requirements: Path) -> set[str]:
    return {re.split(r"[=<>~!\[ ]", line, maxsplit=1)[0].strip().lower().replace("_", "-")
            for line in requirements.read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-r"))}


def test_everything_the_program_imports_is_a_runtime_requirement():
    distributions = importlib.metadata.packages_distributions()
    needed = {dist.lower().replace("_", "-") for module in _top_level_imports() for dist in distributions[module]}
    missing = needed - _pinned(ROOT / "requirements.txt")
    assert not missing, f"imported by the program but not pinned in requirements.txt: {sorted(missing)}"
