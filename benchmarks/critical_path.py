"""Deploy-time model: the longest chain of sequential steps to a ready cluster.

The program runs under mocks; its dependency graph (what each resource waits
for) is weighted with the latency model below and the longest path is the
estimated time of `pulumi up` from nothing to a ready cluster, assuming the
engine's default unbounded parallelism. It is a model, not a measurement:
the figures are the stated assumptions, chosen from provider documentation
and common reports, and are printed with the result.

    .venv/bin/python benchmarks/critical_path.py [--sizes 3 10 50 200]
"""

from __future__ import annotations

import argparse
import sys
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.plan_scale import spec_for  # noqa: E402

# Seconds per step. Resource type first, then command-name suffix.
BY_TYPE = {
    "hcloud:index/server:Server": 35,  # create + boot to SSH
    "scaleway:instance/server:Server": 45,
    "ovh:CloudProject/instance:Instance": 90,
    "ovh:Vps/vps:Vps": 600,  # an order: delivery takes minutes
    "hcloud:index/firewall:Firewall": 2,
    "hcloud:index/placementGroup:PlacementGroup": 1,
    "hcloud:index/sshKey:SshKey": 1,
    "kubernetes:helm.sh/v3:Release": 90,
}
BY_SUFFIX = {
    "-baseline": 40,  # sysctls, modules, sshd reload (packages came with cloud-init)
    "-firewall": 3,
    "-wg-key": 2,
    "-wg-apply": 3,
    "-install": 45,  # download + install of the Kubernetes distribution
    "-init": 60,  # first control plane up
    "-join": 40,  # a server or agent joins
    "-kubeconfig": 2,
}
DEFAULT = 1


def step_seconds(resource) -> float:
    if not resource.custom:
        return 0  # components take no time themselves
    if resource.type in BY_TYPE:
        return BY_TYPE[resource.type]
    for suffix, seconds in BY_SUFFIX.items():
        if resource.name.endswith(suffix):
            return seconds
    return DEFAULT


def critical_path(run) -> tuple[float, list[str]]:
    by_urn = {r.urn: r for r in run.resources}

    @lru_cache(maxsize=None)
    def finish(urn: str) -> tuple[float, tuple[str, ...]]:
        r = by_urn[urn]
        best = (0.0, ())
        for dep in r.dependencies:
            if dep in by_urn:
                best = max(best, finish(dep))
        return best[0] + step_seconds(r), best[1] + ((r.name,) if step_seconds(r) else ())

    total, chain = max((finish(u) for u in by_urn), default=(0.0, ()))
    return total, list(chain)


def main() -> None:
    from tests.stack_runner import run_spec

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 10, 50, 200])
    args = parser.parse_args()
    print(f"{'nodes':>6} {'steps':>6} {'minutes':>8}  longest chain")
    base = None
    for size in args.sizes:
        total, chain = critical_path(run_spec(spec_for(size), stack="bench"))
        base = base or total
        print(f"{size:>6} {len(chain):>6} {total / 60:>8.1f}  {' -> '.join(chain)}")
    print(f"\ngrowth from {args.sizes[0]} to {args.sizes[-1]} nodes: {100 * (total - base) / base:.0f}% (target < 20%)")
    print("model (s):", {**BY_TYPE, **BY_SUFFIX})


if __name__ == "__main__":
    main()
