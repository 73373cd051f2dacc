"""PostgreSQL streaming replication on test hosts, over the WireGuard mesh.

The hosts are bootstrapped by the real program (baseline, firewall, mesh:
``mesh_lab.bootstrap``); then each runs its own PostgreSQL from the Debian
packages, started with ``pg_ctl`` as the ``postgres`` user (no systemd in a
test host), its data directory under the lab's work directory (test hosts
share the machine's filesystem except /etc and /run), listening on its mesh
address only. One primary, streaming replicas that take a base backup from
it and stream through a physical replication slot each.

The port: the node firewall opens cluster ports on the mesh interface only
and 5432 is not among them, on purpose. In the cluster, CloudNativePG
instances are pods and stream pod to pod (the CNI over the mesh); a replica
cluster in another Kubernetes cluster reaches the source through a Service,
i.e. a NodePort (30000-32767, open over the mesh only). The lab's PostgreSQL
listens on a port of that range, so replication takes the path the program
already opens, and no port is added to the firewall for it.

Latency: ``set_rtt`` delays half the round trip on each direction of the
host's link to the bridge, so a replica at 40 ms RTT from the primary is
20 ms away each way, as across Europe; Europe-USA ~110 ms. ``tc netem``
where the kernel has it; else (this project's machines: no ``sch_netem``)
the userspace relay of tests/testhosts/delay.py.

Lag is measured with the machine's one clock (the hosts share the kernel):
each row carries the primary's ``clock_timestamp()`` at insert, and a
watcher inside each replica notes, server side, when the rows become
visible there. ``replay_lag`` is sampled from ``pg_stat_replication`` on the
primary (it includes the way back of the standby's reply: about one RTT at
the least).
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import shlex
import statistics
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import require_tool
from tests.testhosts.delay import delay_host_link, netem_available
from tests.testhosts.fixtures import require_test_hosts
from tests.testhosts.lab import Lab
from tests.testhosts.shell import netns_pids, sh

# In the NodePort range: open over the mesh only (components/node/ports.py).
PG_PORT = 30432
REPLICATION_USER = "replicator"
MESH_CIDR = "10.42.0.0/16"
EUROPE_RTT_MS = 40
TRANSATLANTIC_RTT_MS = 110
SEED_LAG_CLAIM_S = 7.0  # seed 000: "PostgreSQL BDR : < 7 secondes de lag"
LAG_TABLE = "geo_lag"


def pg_bindir() -> str | None:
    """The newest Debian PostgreSQL server's bin directory (not on PATH)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(re.sub(r"\D", "", d) or 0))
    return next((d for d in reversed(dirs) if os.access(f"{d}/pg_ctl", os.X_OK)), None)


def require_postgres() -> str:
    """The server's bin directory; skipped locally, a failure in CI, without it."""
    require_tool("psql")
    require_tool("runuser")
    bindir = pg_bindir()
    for tool in ("initdb", "pg_ctl", "postgres", "pg_basebackup", "pgbench"):
        # An absolute path: found if the Debian package installed it.
        require_tool(f"{bindir}/{tool}" if bindir else tool)
    return bindir or ""


@dataclass
class Postgres:
    """One PostgreSQL server on one test host."""

    host: object  # TestHost
    mesh_ip: str
    datadir: Path
    bindir: str

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def socket_dir(self) -> Path:
        """Outside the data directory: a base backup would copy the socket's lock file."""
        return self.datadir.with_suffix(".sock")

    @property
    def log(self) -> Path:
        return self.datadir.with_suffix(".log")

    def as_postgres(self, cmd: str, *, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """``cmd`` inside the host as the postgres user, the server's tools on PATH."""
        return self.host.run(["runuser", "-u", "postgres", "--", "env", f"PATH={self.bindir}:/usr/bin:/bin",
                              "bash", "-c", cmd], check=check, timeout=timeout)

    def run_sql(self, sql: str, *, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """One statement over the local socket (peer authentication); unaligned, tuples only."""
        return self.as_postgres(f"psql -X -q -At -v ON_ERROR_STOP=1 -h {self.socket_dir} -p {PG_PORT} -d postgres "
                                f"-c {shlex.quote(sql)}", check=check, timeout=timeout)

    def psql(self, sql: str, *, check: bool = True, timeout: float = 60) -> str:
        return self.run_sql(sql, check=check, timeout=timeout).stdout.strip()

    def psql_argv(self, *args: str) -> list[str]:
        """argv for a long-running psql in the host (for ``host.popen``)."""
        return ["runuser", "-u", "postgres", "--", f"{self.bindir}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                "-h", str(self.socket_dir), "-p", str(PG_PORT), "-d", "postgres", *args]

    def start(self) -> None:
        started = self.as_postgres(f"pg_ctl -D {self.datadir} -l {self.log} -w -t 60 start", check=False)
        if started.returncode != 0:
            raise RuntimeError(f"postgres did not start on {self.name}: {started.stderr.strip()}\n"
                               + "\n".join(self.log.read_text().splitlines()[-15:]))

    def promote(self) -> None:
        self.as_postgres(f"pg_ctl -D {self.datadir} -w -t 60 promote")

    def pids(self) -> list[int]:
        """This host's postgres processes (pgrep would see every host's)."""
        return [pid for pid in netns_pids(self.host.netns) if _comm(pid) == "postgres"]

    def kill9(self) -> None:
        """The primary dies: SIGKILL to the postmaster and every backend at once."""
        pids = self.pids()
        if pids:
            sh("kill", "-9", *map(str, pids), check=False)
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)

    def in_recovery(self) -> bool:
        return self.psql("SELECT pg_is_in_recovery()") == "t"


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def set_rtt(lab: Lab, host, rtt_ms: float) -> str:
    """``rtt_ms`` between ``host`` and every undelayed host, half each way.
    With ``tc netem`` where the kernel has it, else the userspace relay of
    tests/testhosts/delay.py; returns which ("netem" or "relay")."""
    if netem_available(lab):
        lab.add_latency(host, rtt_ms / 2)  # leaving the host
        sh("ip", "netns", "exec", lab.hub, "tc", "qdisc", "replace", "dev", host.hub_veth, "root", "netem",
           "delay", f"{rtt_ms / 2}ms")  # arriving at it
        return "netem"
    lab.delay_relays.append(delay_host_link(lab, host, rtt_ms / 2, rtt_ms / 2))
    return "relay"


def mesh_rtt_ms(host, address: str, count: int = 5) -> float:
    """Average ping RTT over the mesh (after a first packet for the handshake)."""
    host.run(f"ping -q -c 1 -W 2 {address}", check=False)
    out = host.run(f"ping -q -c {count} -i 0.2 -W 2 {address}").stdout
    return float(re.search(r"= [\d.]+/([\d.]+)/", out)[1])


@contextmanager
def postgres_test_hosts(n_hosts: int):
    """A started lab for PostgreSQL (skipped locally, failed in CI, without
    test hosts or the Debian packages). What a killed postmaster leaves in
    the machine's shared IPC (SysV segments, /dev/shm) goes with the lab."""
    require_test_hosts()
    bindir = require_postgres()
    before_shm, before_sysv = set(os.listdir("/dev/shm")), _postgres_sysv_segments()
    lab = Lab(n_hosts).__enter__()
    lab.pg_bindir = bindir
    lab.delay_relays = []
    try:
        yield lab
    finally:
        for relay in lab.delay_relays:
            relay.kill()
            relay.wait()
        lab.teardown()
        for leftover in set(os.listdir("/dev/shm")) - before_shm:
            if leftover.startswith("PostgreSQL."):
                Path("/dev/shm", leftover).unlink(missing_ok=True)
        for shmid, nattch in _postgres_sysv_segments().items():
            if shmid not in before_sysv and nattch == 0:
                sh("ipcrm", "-m", shmid, check=False)


def _postgres_sysv_segments() -> dict[str, int]:
    """shmid -> attached processes, for the postgres user's SysV segments."""
    out = sh("ipcs", "-m", check=False).stdout
    return {f[1]: int(f[5]) for f in (line.split() for line in out.splitlines()) if len(f) >= 6 and f[2] == "postgres"}


@dataclass
class ReplicationSet:
    primary: Postgres
    replicas: list[Postgres] = field(default_factory=list)
    password: str = ""


def _postgres(lab: Lab, host, mesh_ip: str) -> Postgres:
    datadir = lab.workdir / f"pg-{host.name}"
    host.run(f"install -d -o postgres -g postgres -m 700 {datadir} {datadir.with_suffix('.sock')}")
    host.run(f"install -o postgres -g postgres -m 600 /dev/null {datadir.with_suffix('.log')}")
    return Postgres(host=host, mesh_ip=mesh_ip, datadir=datadir, bindir=lab.pg_bindir)


def _settings(pg: Postgres) -> str:
    return "\n".join([
        f"listen_addresses = '{pg.mesh_ip}'",
        f"port = {PG_PORT}",
        f"unix_socket_directories = '{pg.socket_dir}'",
        "shared_buffers = 32MB",
        "max_connections = 30",
        "max_wal_senders = 10",
        "max_replication_slots = 10",
        "wal_level = replica",
        "hot_standby = on",
        "hot_standby_feedback = on",
        "wal_receiver_status_interval = 1s",
        "password_encryption = 'scram-sha-256'",
        "logging_collector = off",
        "",
    ])


def start_primary(lab: Lab, host, mesh_ip: str) -> ReplicationSet:
    """initdb, the replication role and its mesh-only access, then start."""
    pg = _postgres(lab, host, mesh_ip)
    pg.as_postgres(f"initdb -D {pg.datadir} -U postgres --auth-local=peer --auth-host=scram-sha-256 "
                   f"--no-sync -E UTF8 --locale=C.UTF-8 > /dev/null")
    conf = _settings(pg)
    hba = f"host replication {REPLICATION_USER} {MESH_CIDR} scram-sha-256\n"
    pg.as_postgres(f"printf '%s' {shlex.quote(conf)} >> {pg.datadir}/postgresql.conf && "
                   f"printf '%s' {shlex.quote(hba)} >> {pg.datadir}/pg_hba.conf")
    pg.start()
    password = secrets.token_hex(16)
    pg.psql(f"CREATE ROLE {REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD '{password}'")
    return ReplicationSet(primary=pg, password=password)


def add_replica(lab: Lab, rs: ReplicationSet, host, mesh_ip: str) -> Postgres:
    """A streaming replica: base backup from the primary over the mesh, its own
    slot, ``application_name`` = the host name (what synchronous_standby_names names)."""
    pg = _postgres(lab, host, mesh_ip)
    passfile = pg.datadir.with_suffix(".pgpass")
    line = f"{rs.primary.mesh_ip}:{PG_PORT}:*:{REPLICATION_USER}:{rs.password}\n"
    host.run(f"install -o postgres -g postgres -m 600 /dev/null {passfile} && printf '%s' {shlex.quote(line)} > {passfile}")
    conninfo = (f"host={rs.primary.mesh_ip} port={PG_PORT} user={REPLICATION_USER} "
                f"passfile={passfile} application_name={host.name}")
    pg.as_postgres(f"pg_basebackup -D {pg.datadir} -d {shlex.quote(conninfo)} -R -X stream -C -S {host.name} "
                   "--no-sync -c fast", timeout=180)
    pg.as_postgres(f"printf '%s' {shlex.quote(_settings(pg))} >> {pg.datadir}/postgresql.conf")
    pg.start()
    rs.replicas.append(pg)
    return pg


def replication_rows(primary: Postgres) -> list[dict]:
    """pg_stat_replication on the primary, one dict per standby."""
    out = primary.psql("SELECT application_name, client_addr, state, sync_state, "
                       "coalesce(extract(epoch from replay_lag), -1) FROM pg_stat_replication ORDER BY 1")
    rows = []
    for line in out.splitlines():
        name, addr, state, sync, lag = line.split("|")
        rows.append({"name": name, "client_addr": addr, "state": state, "sync_state": sync, "replay_lag": float(lag)})
    return rows


def wait_streaming(primary: Postgres, names: set[str], *, sync: set[str] = frozenset(), timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    rows: list[dict] = []
    while time.monotonic() < deadline:
        rows = replication_rows(primary)
        streaming = {r["name"] for r in rows if r["state"] == "streaming"}
        synced = {r["name"] for r in rows if r["sync_state"] == "sync"}
        if names <= streaming and sync <= synced:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"replicas {sorted(names)} not streaming (sync {sorted(sync)}) after {timeout}s: {rows}")


def wait_visible(replica: Postgres, sql: str, expected: str, timeout: float = 30) -> float:
    """Seconds until ``sql`` on ``replica`` answers ``expected``."""
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        last = replica.psql(sql, check=False)
        if last == expected:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{replica.name}: {sql!r} answered {last!r}, not {expected!r}, after {timeout}s")


def configure_sync(primary: Postgres, standby_names: str, synchronous_commit: str) -> None:
    primary.psql(f"ALTER SYSTEM SET synchronous_standby_names = '{standby_names}'")
    primary.psql(f"ALTER SYSTEM SET synchronous_commit = '{synchronous_commit}'")
    primary.psql("SELECT pg_reload_conf()")


# -- lag under a write load -----------------------------------------------------------

# Watchers poll with psql's \watch, each poll a short transaction of its own
# (a long one on a standby can hold back replay). The times are the server's
# clock_timestamp(), so a slow client costs resolution, not accuracy.
WATCH_REPLICA = "SELECT 'seen', coalesce(max(id), 0), extract(epoch from clock_timestamp()) FROM {table} \\watch 0.005\n"
WATCH_PRIMARY = ("SELECT 'lag', application_name, extract(epoch from replay_lag) FROM pg_stat_replication "
                 "WHERE replay_lag IS NOT NULL \\watch 0.2\n")


def _watch(pg: Postgres, sql: str, seconds: float) -> tuple[subprocess.Popen, Path, Path]:
    """psql polling ``sql`` in ``pg``'s host for ``seconds`` (then SIGINT ends
    the \\watch and psql exits). Its output goes to files, not pipes: a pipe
    nobody reads until the end fills up and stalls the poller (that was a
    7-16 s "lag" in a first version)."""
    base = pg.datadir.with_suffix(f".watch-{secrets.token_hex(3)}")
    script, out, err = (base.with_suffix(s) for s in (".sql", ".out", ".err"))
    script.write_text(sql)
    script.chmod(0o644)
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = pg.host.popen(["timeout", "-s", "INT", "-k", "5", str(seconds),
                              *pg.psql_argv("-F", " ", "-f", str(script))], stdout=stdout, stderr=stderr)
    return proc, out, err


@dataclass
class LagResult:
    replica: str
    rows: int
    visible_p50: float
    visible_p95: float
    visible_max: float
    replay_lag_mean: float
    replay_lag_max: float
    unseen: int


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def measure_lag(rs: ReplicationSet, *, seconds: int = 20, rate: int = 200) -> dict[str, LagResult]:
    """``rate`` single-row inserts a second for ``seconds`` on the primary
    (pgbench, one client: ids commit in order; rate limited), watched on every replica and in
    pg_stat_replication. Per replica: write-to-visible quantiles and replay_lag."""
    primary = rs.primary
    primary.psql(f"DROP TABLE IF EXISTS {LAG_TABLE}")
    primary.psql(f"CREATE TABLE {LAG_TABLE} (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL "
                 f"DEFAULT clock_timestamp(), payload text)")
    for replica in rs.replicas:
        wait_visible(replica, f"SELECT to_regclass('{LAG_TABLE}') IS NOT NULL", "t")
    script = primary.datadir.with_suffix(".pgbench.sql")
    primary.host.run(f"install -o postgres -g postgres -m 644 /dev/null {script} && echo "
                     f"{shlex.quote(f'INSERT INTO {LAG_TABLE} (payload) VALUES (md5(random()::text));')} > {script}")
    watch_for = seconds + 3
    watchers = {r.name: _watch(r, WATCH_REPLICA.format(table=LAG_TABLE), watch_for) for r in rs.replicas}
    lag_watch = _watch(primary, WATCH_PRIMARY, watch_for)
    try:
        time.sleep(0.5)
        primary.as_postgres(f"pgbench -n -f {script} -c 1 -j 1 -R {rate} -T {seconds} "
                            f"-h {primary.socket_dir} -p {PG_PORT} postgres > /dev/null", timeout=seconds + 60)
        for proc, _, _ in (*watchers.values(), lag_watch):
            proc.wait(timeout=watch_for + 30)
        outputs = {name: (out.read_text(), err.read_text()) for name, (_, out, err) in watchers.items()}
        lag_out = (lag_watch[1].read_text(), lag_watch[2].read_text())
    finally:
        for proc, _, _ in (*watchers.values(), lag_watch):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    created = {}
    for line in primary.psql(f"SELECT id, extract(epoch from created_at) FROM {LAG_TABLE}").splitlines():
        row_id, at = line.split("|")
        created[int(row_id)] = float(at)
    replay: dict[str, list[float]] = {r.name: [] for r in rs.replicas}
    for match in re.finditer(r"^lag (\S+) ([\d.]+)$", lag_out[0], re.M):
        replay.setdefault(match[1], []).append(float(match[2]))
    errors = {name: [line for line in err.splitlines() if "ERROR" in line or "FATAL" in line or "DETAIL" in line]
              for name, (_, err) in {**outputs, primary.name: lag_out}.items()}
    if any(errors.values()):
        raise RuntimeError(f"a lag watcher failed: {errors}")
    results = {}
    for replica in rs.replicas:
        seen = [(int(m[1]), float(m[2])) for m in re.finditer(r"^seen (\d+) ([\d.]+)$", outputs[replica.name][0], re.M)]
        visible: list[float] = []
        previous = 0
        for top, at in seen:
            visible += [at - created[i] for i in range(previous + 1, top + 1) if i in created]
            previous = top
        lags = replay.get(replica.name) or [float("nan")]
        results[replica.name] = LagResult(
            replica=replica.name, rows=len(created),
            visible_p50=_quantile(visible, 0.5), visible_p95=_quantile(visible, 0.95),
            visible_max=max(visible) if visible else float("nan"),
            replay_lag_mean=statistics.fmean(lags), replay_lag_max=max(lags),
            unseen=len([i for i in created if i > previous]))
    return results


def commit_latency_ms(rs: ReplicationSet, *, seconds: int = 5) -> float:
    """Average commit latency of single-row inserts from one client on the
    primary (pgbench, unthrottled, bounded by ``seconds``): what a
    synchronous setting costs the writer."""
    primary = rs.primary
    primary.psql(f"CREATE TABLE IF NOT EXISTS {LAG_TABLE} (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL "
                 f"DEFAULT clock_timestamp(), payload text)")
    script = primary.datadir.with_suffix(".pgbench.sql")
    primary.host.run(f"install -o postgres -g postgres -m 644 /dev/null {script} && echo "
                     f"{shlex.quote(f'INSERT INTO {LAG_TABLE} (payload) VALUES (md5(random()::text));')} > {script}")
    out = primary.as_postgres(f"pgbench -n -f {script} -c 1 -j 1 -T {seconds} -h {primary.socket_dir} "
                              f"-p {PG_PORT} postgres", timeout=seconds + 60).stdout
    return float(re.search(r"latency average = ([\d.]+) ms", out)[1])
