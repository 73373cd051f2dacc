"""StackReferences: the mocks (stacks/plan/fakes/state.py) against the real
engine. One program (stack_reference_program/) exports plain and secret
outputs from one stack and reads them from another; the same reader runs
under the mocks with the exporter's recorded outputs, and both must see the
same values, the same secret flags and the same failure for a stack the
backend does not know."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from stacks.plan.fake_cloud import FakeCloud
from stacks.plan.fakes.state import recorded_stack_outputs
from stacks.plan.runtime import ORGANIZATION, run_program
from tests.engine.pulumi_cli import PulumiFailed, PulumiStack

PROGRAM = Path(__file__).parent / "stack_reference_program"
PROJECT = "sovereign-refs"
EXPORTER = f"{ORGANIZATION}/{PROJECT}/exporter"


def secret_names(stack: PulumiStack) -> set[str]:
    """Outputs holding a secret anywhere (shown as "[secret]" without --show-secrets)."""
    shown = json.loads(stack.run("stack", "output", "--json", "--stack", stack.stack).stdout)
    return {name for name, value in shown.items() if "[secret]" in json.dumps(value)}


def mocked_reader(outputs: dict, secret: set[str], source: str = EXPORTER):
    cloud = FakeCloud()
    recorded_stack_outputs(cloud, EXPORTER, outputs, tuple(secret))
    return run_program(lambda: runpy.run_path(str(PROGRAM / "__main__.py")), project=PROJECT, stack="reader",
                       config={f"{PROJECT}:role": "reader", f"{PROJECT}:source": source}, secret_keys=[],
                       cloud=cloud)


@pytest.fixture(scope="module")
def engine_stacks(engine, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("refs")
    exporter = PulumiStack(engine, PROGRAM, workdir, "exporter")
    exporter.set_config("role", "exporter")
    exporter.up()
    reader = PulumiStack(engine, PROGRAM, workdir, "reader")
    reader.set_config("role", "reader")
    reader.set_config("source", EXPORTER)
    reader.up()
    return exporter, reader


def test_the_mocks_read_the_values_and_secret_flags_the_engine_reads(engine_stacks):
    exporter, reader = engine_stacks
    exported, exported_secret = exporter.outputs(), secret_names(exporter)
    # A map holding a secret counts as a secret output (the engine's HasSecrets).
    assert exported_secret == {"secret", "nested"}
    engine_seen, engine_secret = reader.outputs(), secret_names(reader)

    mocked = mocked_reader(exported, exported_secret)
    assert mocked.outputs == {k: engine_seen.get(k) for k in mocked.outputs}
    assert engine_seen["secretOutputNames"] == ["nested", "secret"] and "missing" not in engine_seen
    # ``outputs`` (the whole map) holds secrets: secret as a whole in both.
    assert mocked.secret_outputs == engine_secret == {"secret", "nested", "outputs"}


def test_a_reference_to_an_unknown_stack_fails_in_both(engine, engine_stacks, tmp_path):
    _, reader = engine_stacks
    unknown = f"{ORGANIZATION}/{PROJECT}/nosuch"
    reader.set_config("source", unknown)
    try:
        with pytest.raises(PulumiFailed) as engine_error:
            reader.run("preview", "--stack", reader.stack)
    finally:
        reader.set_config("source", EXPORTER)
    assert f'unknown stack "{unknown}"' in str(engine_error.value)
    with pytest.raises(Exception, match=f'unknown stack "{unknown}"'):
        mocked_reader({}, set(), source=unknown)


def test_reading_an_unknown_stack_synchronously_is_an_error_the_program_catches(engine, tmp_path):
    """The built-in readStackOutputs invoke (what stacks/fleet.py checks the
    hub with before creating anything): a caught error in both, same words."""
    unknown = f"{ORGANIZATION}/{PROJECT}/nosuch"
    invoker = PulumiStack(engine, PROGRAM, tmp_path, "invoker")
    invoker.set_config("role", "invoker")
    invoker.set_config("source", unknown)
    invoker.up()
    engine_error = invoker.outputs()["error"]
    assert engine_error.endswith(f'unknown stack "{unknown}"')

    mocked = run_program(lambda: runpy.run_path(str(PROGRAM / "__main__.py")), project=PROJECT, stack="invoker",
                         config={f"{PROJECT}:role": "invoker", f"{PROJECT}:source": unknown}, secret_keys=[],
                         cloud=FakeCloud())
    assert mocked.outputs["error"] == engine_error
