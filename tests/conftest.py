"""Shared fixtures: the program under mocks, per example stack."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.stack_runner import EXAMPLE_STACKS, example_spec, run_spec

IN_CI = os.environ.get("CI") == "true"


def require_tool(name: str) -> str:
    """Path of a validator tool; skipped locally, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (scripts/test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


_RUNS: dict = {}


@pytest.fixture(params=EXAMPLE_STACKS)
def example_run(request):
    """(stack name, spec dict, ProgramRun) of every example stack, run once per session."""
    stack = request.param
    if stack not in _RUNS:
        spec = example_spec(stack)
        _RUNS[stack] = (stack, spec, run_spec(spec, stack=stack))
    return _RUNS[stack]


@pytest.fixture
def stack_run():
    """Factory: run any spec dict through the real program under mocks."""
    return run_spec


@pytest.fixture
def no_systemd():
    """Sandboxed node-script runs would talk to this machine's systemd: skipped
    locally where systemd runs, a failure in CI (never a silent pass)."""
    from pathlib import Path

    if Path("/run/systemd/system").is_dir():
        message = "systemd runs here: the sandboxed script run would start real units"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
