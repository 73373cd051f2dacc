"""Every node script of every component: a bash shebang, strict mode, and
shellcheck-clean (mesh, node, cluster/* and any script directory added later)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
SCRIPTS = sorted(COMPONENTS.glob("**/scripts/*.sh"))


def _id(path: Path) -> str:
    return str(path.relative_to(COMPONENTS))


def test_every_script_directory_is_covered():
    directories = {p.parent.relative_to(COMPONENTS).as_posix() for p in SCRIPTS}
    assert {"mesh/scripts", "node/scripts", "cluster/common/scripts", "cluster/k3s/scripts",
            "cluster/kubeadm/scripts", "cluster/etcd/scripts"} <= directories
    names = {p.name for p in SCRIPTS}
    assert {"baseline.sh", "firewall.sh", "wg-apply.sh", "api-lb.sh", "k3s-node.sh", "kubeadm-init.sh"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=_id)
def test_bash_shebang_and_strict_mode(script):
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines


@pytest.mark.parametrize("script", SCRIPTS, ids=_id)
def test_shellcheck_clean(script):
    shellcheck = require_tool("shellcheck")
    result = subprocess.run([shellcheck, "-x", str(script)], capture_output=True, text=True, cwd=script.parent)
    assert result.returncode == 0, result.stdout + result.stderr
