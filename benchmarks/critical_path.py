"""Deploy-time model: the longest chain of sequential steps to a ready cluster.

The program runs under mocks; its dependency graph (what each resource waits
for) is weighted with the latency model below and the longest path is the
estimated time of `pulumi up` from nothing to a ready cluster (every node
joined), assuming the CLI's default unbounded parallelism. One contention
term is added to the pure graph: nodes registering at the same time are
served in waves of JOIN_CONCURRENCY (an assumption about what a control
plane absorbs at once: certificate signing, node objects, the first image
pulls), so the 51st agent waits for the first wave. It is a model, not a
measurement: every figure is an assumption stated here and printed.

    .venv/bin/python benchmarks/critical_path.py [--sizes 3 10 50 200] [--compare 500]
"""

from __future__ import annotations

import argparse
import re
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
    "kubernetes:helm.sh/v4:Chart": 90,
    "random:index/randomPassword:RandomPassword": 0,
    "pulumi:providers:kubernetes": 0,
}
BY_SUFFIX = {
    "-baseline": 40,  # sysctls, modules, sshd reload (packages came with cloud-init)
    "-firewall": 3,
    "-wg-key": 2,
    "-wg-apply": 3,
    "-api-lb": 15,  # apt-get install haproxy, config, start
    "-k3s-install": 20,  # ~70 MB k3s binary from GitHub, checksum
    "-k3s-server": 40,  # a server joins: etcd learner, promotion, API ready
    "-k3s-agent": 25,  # agent registration, kubelet up
    "-k8s-packages": 60,  # apt: containerd + kubelet/kubeadm/kubectl
    "-gpu-runtime": 30,  # GPU nodes: apt nvidia-container-toolkit, containerd restart
    "-kubeadm-init": 90,  # image pulls + control plane up
    "-join-credentials": 5,  # per joiner, on the first control plane: token kept valid, certificates uploaded
    "-kubeadm-join": 40,  # a worker joins (control planes: see ROLE_OVERRIDES)
    "-member": 3,  # the node object is visible on the first server
    "-placement": 3,  # kubectl label/taint of one node on the first control plane
    "-kubeconfig": 2,
    "-etcd": 30,  # external etcd member (install + start), kubeadm stacks
    "-etcd-snapshots": 10,  # snapshot schedule (stacked etcd: apt etcd-client first)
    # Rolling-upgrade steps: no-ops on a first deploy, which is what this
    # models (a version change takes minutes per node, one node at a time).
    "-upgrade-drain": 1,
    "-upgrade": 1,
    "-upgrade-uncordon": 1,
}
# Steps whose time depends on what the script does, recognised from its inputs.
ROLE_OVERRIDES = (
    ("-k3s-server", "export FIRST_SERVER=true", 45),  # --cluster-init: etcd bootstrap, API ready
    ("-kubeadm-join", "export ROLE=control-plane", 60),  # certificates download, static pods
)
JOINS = ("-k3s-agent", "-kubeadm-join")
JOIN_CONCURRENCY = 50
# The verdict rests on JOIN_CONCURRENCY: the table is repeated for these.
SENSITIVITY = (10, 20, 50, 100)
DEFAULT = 1
HETZNER_K3S_CLAIMS = {3: (2.0, 3.0), 500: (None, 11.0)}  # minutes (from its README)


def step_seconds(resource) -> float:
    if not resource.custom:
        return 0  # components take no time themselves
    if resource.type in BY_TYPE:
        return BY_TYPE[resource.type]
    create = str(resource.inputs.get("create", ""))
    for suffix, marker, seconds in ROLE_OVERRIDES:
        if resource.name.endswith(suffix) and marker in create:
            return seconds
    for suffix, seconds in BY_SUFFIX.items():
        if resource.name.endswith(suffix):
            return seconds
    return DEFAULT


def join_waits(run, concurrency: int = JOIN_CONCURRENCY) -> dict[str, float]:
    """Extra wait of each parallel join: its wave times the join step."""
    joins = sorted((r for r in run.resources if r.custom and r.name.endswith(JOINS)),
                   key=lambda r: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", r.name)])
    return {r.urn: (i // concurrency) * step_seconds(r) for i, r in enumerate(joins)}


def critical_path(run, concurrency: int = JOIN_CONCURRENCY) -> tuple[float, list[str]]:
    by_urn = {r.urn: r for r in run.resources}
    waits = join_waits(run, concurrency)

    @lru_cache(maxsize=None)
    def finish(urn: str) -> tuple[float, tuple[str, ...]]:
        r = by_urn[urn]
        best = (0.0, ())
        for dep in r.dependencies:
            if dep in by_urn:
                best = max(best, finish(dep))
        seconds = step_seconds(r) + waits.get(urn, 0)
        label = r.name + (f" (+{waits[urn]:.0f}s queued)" if waits.get(urn) else "")
        return best[0] + seconds, best[1] + ((label,) if seconds else ())

    total, chain = max((finish(u) for u in by_urn), default=(0.0, ()))
    return total, list(chain)


def bench_spec(size: int, distribution: str) -> dict:
    """plan_scale's spec (k3s), or the same machines with kubeadm (stacked etcd)."""
    spec = spec_for(size)
    if distribution == "kubeadm":
        spec["distribution"] = "kubeadm"
    return spec


def main() -> None:
    from tests.stack_runner import run_spec

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 10, 50, 200])
    parser.add_argument("--distribution", choices=["k3s", "kubeadm"], default="k3s")
    parser.add_argument("--compare", type=int, nargs="*", default=[500],
                        help="extra sizes for the hetzner-k3s comparison only")
    args = parser.parse_args()
    print("Latency model (seconds):")
    print("  by resource type:", BY_TYPE)
    print("  by command suffix:", BY_SUFFIX)
    print("  by role:", {f"{s} [{m}]": v for s, m, v in ROLE_OVERRIDES})
    print(f"  joins served in waves of {JOIN_CONCURRENCY}; unknown steps {DEFAULT}s; unbounded engine parallelism")
    print(f"  spec: benchmarks/plan_scale.py spec_for ({args.distribution}, Hetzner, 3 control planes + workers)\n")
    print(f"{'nodes':>6} {'steps':>6} {'minutes':>8}  longest chain")
    runs = {size: run_spec(bench_spec(size, args.distribution), stack="bench")
            for size in sorted({*args.sizes, *args.compare})}
    results = {}
    for size in args.sizes:
        total, chain = critical_path(runs[size])
        results[size] = total
        print(f"{size:>6} {len(chain):>6} {total / 60:>8.1f}  {' -> '.join(chain)}")
    first, last = args.sizes[0], args.sizes[-1]
    growth = 100 * (results[last] - results[first]) / results[first]
    verdict = "meets" if growth < 20 else "MISSES"
    print(f"\ngrowth from {first} to {last} nodes: {growth:.0f}% ({verdict} the target < 20%)")
    print("\nsensitivity to the join concurrency (minutes; growth from first to last size):")
    print(f"{'joins/wave':>10} " + " ".join(f"{s:>6}" for s in args.sizes) + "  growth")
    for concurrency in SENSITIVITY:
        minutes = [critical_path(runs[s], concurrency)[0] for s in args.sizes]
        print(f"{concurrency:>10} " + " ".join(f"{m / 60:>6.1f}" for m in minutes)
              + f"  {100 * (minutes[-1] - minutes[0]) / minutes[0]:>5.0f}%")
    for size in args.compare:
        if size not in results:
            results[size] = critical_path(runs[size])[0]
    if args.distribution != "k3s":
        return
    print("\nvs hetzner-k3s's claims (its README; Hetzner servers, k3s):")
    for size, (low, high) in HETZNER_K3S_CLAIMS.items():
        if size not in results:
            continue
        claim = f"{low:.0f}-{high:.0f} min" if low else f"< {high:.0f} min"
        ours = results[size] / 60
        where = "within" if ours <= high and (low is None or ours >= low) else ("faster than" if ours < (low or 0) else "slower than")
        print(f"  {size:>4} nodes: claim {claim}, model {ours:.1f} min ({where} the claim)")


if __name__ == "__main__":
    main()
