"""Fixtures of the real-engine tests: the engine built from Go modules
(cached outside the repo) and the stand-in plugins; a missing engine is a
skip on a developer machine and a failure under CI=true."""

from __future__ import annotations

import os

import pytest

from tests.engine.pulumi_cli import EngineUnavailable, engine_environment, stand_in_plugins


def engine_or_skip(*pieces: str) -> dict[str, str]:
    try:
        return engine_environment(*pieces)
    except EngineUnavailable as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def engine() -> dict[str, str]:
    return engine_or_skip("cli", "python")


@pytest.fixture(scope="session")
def plugins(tmp_path_factory):
    return stand_in_plugins(tmp_path_factory.mktemp("plugins"))
