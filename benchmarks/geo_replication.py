"""Geo-replicated PostgreSQL on real test hosts: replication lag (issue 15).

Three test hosts bootstrapped by the real program (baseline, firewall,
WireGuard mesh); PostgreSQL from the Debian packages: a primary and two
streaming replicas over the mesh, one 40 ms RTT away (Europe), one 110 ms
(Europe-USA). Under a bounded write load (single-row inserts at a fixed
rate, pgbench, one client) it reports per replica:

- write-to-visible: from the row's insert on the primary to the moment a
  query on the replica sees it (one machine clock; p50/p95/max);
- replay_lag: pg_stat_replication on the primary, sampled every 200 ms
  (includes the standby's reply travelling back: at least one RTT);

and compares them with seed 000's "PostgreSQL BDR : < 7 secondes de lag".
Then the commit latency a single writer sees asynchronous vs with the
40 ms replica synchronous (``remote_apply``): the price of losing nothing.

    .venv/bin/python benchmarks/geo_replication.py [--seconds 20] [--rate 200]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Runnable as a file too (like mesh.py), not only with -m.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest  # noqa: E402  (the lab helpers skip through pytest when a tool is missing)

from tests.integration.mesh_lab import bootstrap, mesh_ips  # noqa: E402
from tests.integration.postgres_lab import (  # noqa: E402
    EUROPE_RTT_MS,
    SEED_LAG_CLAIM_S,
    TRANSATLANTIC_RTT_MS,
    add_replica,
    commit_latency_ms,
    configure_sync,
    measure_lag,
    mesh_rtt_ms,
    postgres_test_hosts,
    set_rtt,
    start_primary,
    wait_streaming,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="duration of the write load")
    parser.add_argument("--rate", type=int, default=200, help="inserts per second")
    args = parser.parse_args()
    try:
        hosts = postgres_test_hosts(3)
        lab = hosts.__enter__()
    except pytest.skip.Exception as missing:
        raise SystemExit(str(missing)) from None
    try:
        ips = mesh_ips(bootstrap(lab.hosts))
        paris, florence, houston = lab.hosts
        how = {set_rtt(lab, florence, EUROPE_RTT_MS), set_rtt(lab, houston, TRANSATLANTIC_RTT_MS)}
        rtts = {florence.name: mesh_rtt_ms(paris, ips[florence.name]), houston.name: mesh_rtt_ms(paris, ips[houston.name])}
        rs = start_primary(lab, paris, ips[paris.name])
        add_replica(lab, rs, florence, ips[florence.name])
        add_replica(lab, rs, houston, ips[houston.name])
        wait_streaming(rs.primary, {florence.name, houston.name})
        results = measure_lag(rs, seconds=args.seconds, rate=args.rate)
        async_commit = commit_latency_ms(rs)
        configure_sync(rs.primary, florence.name, "remote_apply")
        wait_streaming(rs.primary, {florence.name, houston.name}, sync={florence.name})
        sync_commit = commit_latency_ms(rs)
    finally:
        hosts.__exit__(None, None, None)

    print(f"write load: {args.rate} single-row inserts/s for {args.seconds} s "
          f"({next(iter(results.values())).rows} rows), asynchronous streaming; delays by {', '.join(sorted(how))}")
    print(f"{'replica':<18} {'mesh RTT ms':>11} {'visible p50':>11} {'p95':>7} {'max':>7} "
          f"{'replay_lag mean':>15} {'max':>7} {'unseen':>6}  vs seed < {SEED_LAG_CLAIM_S:.0f} s")
    for label, host, nominal in (("Europe", florence, EUROPE_RTT_MS), ("Europe-USA", houston, TRANSATLANTIC_RTT_MS)):
        r = results[host.name]
        worst = max(r.visible_max, r.replay_lag_max)
        print(f"{label + f' ({nominal} ms)':<18} {rtts[host.name]:>11.1f} {r.visible_p50 * 1000:>9.0f}ms "
              f"{r.visible_p95 * 1000:>5.0f}ms {r.visible_max * 1000:>5.0f}ms {r.replay_lag_mean * 1000:>13.0f}ms "
              f"{r.replay_lag_max * 1000:>5.0f}ms {r.unseen:>6}  {SEED_LAG_CLAIM_S / worst:.0f}x below")
    print()
    print(f"{'commit latency, one writer':<40} {'ms':>6}")
    print(f"{'asynchronous':<40} {async_commit:>6.1f}")
    print(f"{'synchronous remote_apply, 40 ms replica':<40} {sync_commit:>6.1f}")


if __name__ == "__main__":
    main()
