"""Running commands in the root namespace and inside test hosts."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


def sh(*cmd: str, check: bool = True, timeout: float = 30, input: str | None = None) -> subprocess.CompletedProcess:
    """Run a command in the root namespace; raise with its stderr on failure."""
    result = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def netns_pids(netns: str) -> list[int]:
    out = sh("ip", "netns", "pids", netns, check=False).stdout
    return [int(p) for p in out.split()]


def kill_netns_processes(netns: str) -> None:
    """Every process inside a network namespace (daemonized ones included)."""
    for sig in ("-TERM", "-KILL"):
        pids = netns_pids(netns)
        if not pids:
            return
        sh("kill", sig, *map(str, pids), check=False)
        for _ in range(20):
            if not netns_pids(netns):
                return
            subprocess.run(["sleep", "0.05"])


def as_list(cmd: str | Sequence[str]) -> list[str]:
    return ["bash", "-c", cmd] if isinstance(cmd, str) else list(cmd)
