"""Real `pulumi preview` time against the mock plan, for growing clusters.

The same spec (K3s on existing hosts: 3 control planes plus workers) is
planned twice per size: by the program under the Pulumi mock runtime (what
`scripts/plan` and the unit tests do) and by the real engine (CLI, Python
language host, kubernetes plugin built from Go modules; stand-ins for the
command/tls/random plugins the Go proxy refuses, which a preview only asks
to Check and Diff). Existing hosts, because the Hetzner, OVH and Scaleway
plugins cannot be built here. Each mock plan runs in a fresh process.

    .venv/bin/python benchmarks/engine_preview.py [--sizes 3 30 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def mock_plan_seconds(nodes: int) -> tuple[float, int]:
    from tests.engine.program_stack import existing_hosts_spec
    from tests.stack_runner import run_spec

    start = time.perf_counter()
    run = run_spec(existing_hosts_spec(nodes), stack="bench")
    return time.perf_counter() - start, len(run.resources)


def engine_preview_seconds(engine: dict, plugins: Path, nodes: int) -> tuple[float, int]:
    from tests.engine.program_stack import ProgramStack, existing_hosts_spec

    with tempfile.TemporaryDirectory(prefix="engine-preview-") as work:
        program = ProgramStack(engine, plugins, Path(work))
        program.set_spec(existing_hosts_spec(nodes))
        seconds, steps = program.timed_preview()
    return seconds, len(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 30, 100])
    parser.add_argument("--mock-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mock_one:
        print(json.dumps(mock_plan_seconds(args.mock_one)))
        return

    from tests.engine.pulumi_cli import engine_environment, stand_in_plugins

    engine = engine_environment("cli", "python", "kubernetes")
    with tempfile.TemporaryDirectory(prefix="engine-plugins-") as plugin_dir:
        plugins = stand_in_plugins(Path(plugin_dir))
        print(f"{'nodes':>6} {'mock s':>7} {'resources':>10} {'preview s':>10} {'steps':>6} {'ratio':>6}")
        for size in args.sizes:
            out = subprocess.run([sys.executable, __file__, "--mock-one", str(size)], capture_output=True,
                                 text=True, check=True, cwd=REPO)
            mock_s, resources = json.loads(out.stdout.strip().splitlines()[-1])
            real_s, steps = engine_preview_seconds(engine, plugins, size)
            print(f"{size:>6} {mock_s:>7.2f} {resources:>10} {real_s:>10.2f} {steps:>6} {real_s / mock_s:>6.1f}")


if __name__ == "__main__":
    main()
