"""Evaluation time and peak memory of the offline plan for growing clusters.

Each size runs in a fresh process (so peak RSS is that size's own), with the
real program under the Pulumi mock runtime. Target: 300 nodes under 20 s on
a 2-core machine, resources growing linearly with nodes.

    .venv/bin/python benchmarks/plan_scale.py [--sizes 3 30 100 300]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC bench@example"


def spec_for(nodes: int) -> dict:
    """A k3s cluster: 3 servers (hyperconverged when that is all) + workers."""
    groups = {"cp": {"provider": "hetzner", "region": "fsn1", "instanceType": "cx33", "count": 3,
                     "roles": ["control-plane"] + (["worker"] if nodes == 3 else [])}}
    if nodes > 3:
        groups["workers"] = {"provider": "hetzner", "region": "nbg1", "instanceType": "cx43",
                             "count": nodes - 3, "roles": ["worker"]}
    return {"name": "bench", "distribution": "k3s", "version": "1.31.4", "ha": True,
            "ssh": {"publicKey": KEY}, "nodeGroups": groups}


def measure_one(nodes: int) -> dict:
    from tests.stack_runner import run_spec

    start = time.perf_counter()
    run = run_spec(spec_for(nodes), stack="bench")
    elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"nodes": nodes, "seconds": round(elapsed, 2), "peak_mib": round(peak_mib, 1),
            "resources": len(run.resources), "resources_per_node": round(len(run.resources) / nodes, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 30, 100, 300])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return
    rows = []
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True, cwd=REPO)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'nodes':>6} {'seconds':>8} {'peak MiB':>9} {'resources':>10} {'per node':>9}")
    for r in rows:
        print(f"{r['nodes']:>6} {r['seconds']:>8} {r['peak_mib']:>9} {r['resources']:>10} {r['resources_per_node']:>9}")


if __name__ == "__main__":
    main()
