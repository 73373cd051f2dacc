"""Mesh benchmark on real test hosts (root; see tests/testhosts).

For 3, 5 and 10 hosts: time from the start of the bootstrap (the real
program, every remote command over SSH) to full-mesh connectivity (every
ordered pair answers a ping over mesh IPs), split into the bootstrap itself
and the wait for the last pair. Then packets lost between two hosts pinging
each other every 10 ms while a host is added and another removed.

    .venv/bin/python benchmarks/mesh.py [--sizes 3 5 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# Runnable as a file too (like plan_scale.py), not only with -m.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.mesh_lab import bootstrap, continuous_ping, mesh_ips, ping, remove_from_mesh  # noqa: E402
from tests.testhosts.fixtures import missing_requirements  # noqa: E402
from tests.testhosts.lab import Lab  # noqa: E402


def time_to_full_mesh(n_hosts: int) -> tuple[float, float]:
    with Lab(n_hosts) as lab:
        start = time.monotonic()
        run = bootstrap(lab.hosts)
        bootstrapped = time.monotonic()
        ips = mesh_ips(run)
        pending = {(a.name, b.name) for a in lab.hosts for b in lab.hosts if a is not b}
        by_name = {h.name: h for h in lab.hosts}
        deadline = bootstrapped + 60
        while pending and time.monotonic() < deadline:
            pending = {(a, b) for a, b in pending if not ping(by_name[a], ips[b], wait=0.2)}
        if pending:
            raise RuntimeError(f"{len(pending)} pairs never connected: {sorted(pending)[:5]}")
        return bootstrapped - start, time.monotonic() - start


def loss_during_live_change(n_hosts: int = 5) -> dict[str, tuple[int, int]]:
    with Lab(n_hosts) as lab:
        run = bootstrap(lab.hosts)
        ips = mesh_ips(run)
        a, b, leaving = lab.hosts[0], lab.hosts[1], lab.hosts[-1]
        results = {}
        with continuous_ping(a, ips[b.name], interval=0.01) as added:
            lab.add_host()
            grown = bootstrap(lab.hosts)
        results["add a host"] = (added["sent"], added["sent"] - added["received"])
        with continuous_ping(a, ips[b.name], interval=0.01) as removed:
            bootstrap([h for h in lab.hosts if h is not leaving])
            remove_from_mesh(grown, leaving.name)
        results["remove a host"] = (removed["sent"], removed["sent"] - removed["received"])
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 5, 10])
    args = parser.parse_args()
    missing = missing_requirements()
    if missing:
        raise SystemExit(f"test hosts need: {', '.join(missing)}")
    print(f"{'hosts':>5} {'bootstrap s':>12} {'full mesh s':>12}")
    for n in args.sizes:
        boot, full = time_to_full_mesh(n)
        print(f"{n:>5} {boot:>12.2f} {full:>12.2f}")
    print()
    print(f"{'live change (5 hosts)':<22} {'sent':>6} {'lost':>6}")
    for change, (sent, lost) in loss_during_live_change().items():
        print(f"{change:<22} {sent:>6} {lost:>6}")


if __name__ == "__main__":
    main()
