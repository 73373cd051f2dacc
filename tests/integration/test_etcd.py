"""The external etcd of the ``prod`` stack (3 dedicated members) on real test hosts.

One lab of three hosts is bootstrapped by the real program: baseline,
firewall, WireGuard mesh, then ``ExternalEtcd`` with its PKI; every remote
command (etcd-member.sh, the health gate, the snapshot schedule) runs over
SSH. The tests then observe the members with etcdctl, curl and ss, and
drive the component's own paths: a second ``pulumi up``, a member's delete
script, the snapshot script and the documented restore procedure.

The tests share the lab and run in file order: the destructive ones (a
member killed, a member added and removed, a member removed) come last.
The S3 credentials test runs first, on a one-host lab of its own (its
snapshots go to a fake S3 endpoint on that host).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.cluster.contract import ETCD_METRICS_PORT
from components.cluster.etcd.cluster import SCRIPTS
from components.remote.command import as_root
from components.remote.script import render_script
from components.spec.kubernetes import EtcdS3Spec, EtcdSnapshotSpec
from stacks.plan.runtime import ProgramRun
from tests.integration.etcd_lab import (
    ETCD,
    PKI,
    S3_SERVER,
    bootstrap_etcd,
    etcd_pids,
    etcd_test_hosts,
    etcdctl,
    healthy_endpoints,
    kill_etcd,
    member_output,
    new_logs,
    remove_member,
    s3_requests,
    sigv4_check,
)
from tests.integration.mesh_lab import mesh_ips, open_tcp_ports
from tests.testhosts.lab import Lab
from tests.testhosts.remote import RemoteCommandFailed, run_remote_delete, run_script
from tests.testhosts.shell import netns_pids

pytestmark = pytest.mark.integration

CLIENT_PORT, PEER_PORT = 2379, 2380
ETCD_PORTS = (CLIENT_PORT, PEER_PORT, ETCD_METRICS_PORT)
# The spec's default schedule (every 6 hours); a small retention to observe.
SNAPSHOTS = EtcdSnapshotSpec(schedule="0 */6 * * *", retention=2)
SNAPSHOT_SCRIPT = "/etc/etcd/etcd-snapshot.sh"


@dataclass
class Cluster:
    lab: Lab
    run: ProgramRun
    """The latest ``pulumi up``."""
    hosts: list
    """The etcd members of the spec (the lab's three hosts)."""

    @property
    def ips(self) -> dict[str, str]:
        return mesh_ips(self.run)

    def endpoint(self, host) -> str:
        return f"https://{self.ips[host.name]}:{CLIENT_PORT}"

    def endpoints(self, hosts=None) -> list[str]:
        return [self.endpoint(h) for h in (self.hosts if hosts is None else hosts)]

    def up(self) -> ProgramRun:
        """``pulumi up`` again, same spec, same lab."""
        self.run = bootstrap_etcd(self.lab, self.hosts, snapshots=SNAPSHOTS)
        return self.run

    def data_dir(self, host) -> Path:
        return self.lab.workdir / f"etcd-data-{host.name}"

    def snapshot_dir(self, host) -> Path:
        return self.lab.workdir / f"etcd-snapshots-{host.name}"


@pytest.fixture(scope="module")
def cluster():
    with etcd_test_hosts(3, "etcd", "etcdctl", "curl", "openssl") as lab:
        yield Cluster(lab, bootstrap_etcd(lab, lab.hosts, snapshots=SNAPSHOTS), list(lab.hosts))


# -- observations ---------------------------------------------------------------

def members(host, endpoints) -> list[dict]:
    """``member list``: one dict a member (id, status, name, peer, client URLs)."""
    out = etcdctl(host, endpoints, "member list", check=True).stdout
    rows = []
    for line in out.splitlines():
        if line.strip():
            member_id, status, name, peers, clients, *_ = [f.strip() for f in line.split(",")]
            rows.append({"id": member_id, "status": status, "name": name, "peers": peers, "clients": clients})
    return rows


def put(host, endpoints, key: str, value: str) -> None:
    out = etcdctl(host, endpoints, "put", key, value)
    assert out.returncode == 0 and out.stdout.strip() == "OK", out.stdout + out.stderr


def get(host, endpoint: str, key: str, *, local: bool = False) -> str | None:
    """The value of ``key``; ``local``: this member's own store (serializable read)."""
    args = ["get", key, "--print-value-only"] + (["--consistency=s"] if local else [])
    out = etcdctl(host, endpoint, *args)
    assert out.returncode == 0, out.stderr
    return out.stdout.rstrip("\n") if out.stdout.strip() else None


def wait_until(predicate, timeout: float = 60, interval: float = 1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def listening(host) -> set[tuple[str, int]]:
    """(address, port) of every TCP listener of this host's etcd."""
    found = set()
    for line in host.run("ss -Hltnp").stdout.splitlines():
        if '(("etcd"' in line:
            address, port = line.split()[3].rsplit(":", 1)
            found.add((address, int(port)))
    return found


def curl_version(host, endpoint: str, *client_cert: str):
    cert = f"--cert {client_cert[0]} --key {client_cert[1]}" if client_cert else ""
    return host.run(f"curl -sS --max-time 5 --cacert {PKI}/ca.crt {cert} {endpoint}/version", check=False)


# curl: 16 HTTP/2 error, 35 handshake error, 55 send failure, 56 receive failure.
TLS_ENDED_BY_SERVER = {16, 35, 55, 56}


class MemberLog:
    """What a member logs from now on (/var/log is shared by the test hosts)."""

    def __init__(self, host):
        self.path = Path(f"/var/log/etcd-{host.name}.log")
        self.offset = self.path.stat().st_size

    def wait_for(self, *fragments: str, timeout: float = 5) -> str | None:
        def line():
            with self.path.open() as f:
                f.seek(self.offset)
                return next((x for x in f.read().splitlines() if all(s in x for s in fragments)), None)
        return wait_until(line, timeout=timeout, interval=0.2)


def leader(cluster: Cluster):
    """The host whose member is the leader (``endpoint status``: 5th column)."""
    out = etcdctl(cluster.hosts[0], cluster.endpoints(), "endpoint status -w simple", check=True).stdout
    leaders = [line.split(", ")[0] for line in out.splitlines() if line.split(", ")[4] == "true"]
    assert len(leaders) == 1, out
    return next(h for h in cluster.hosts if cluster.endpoint(h) == leaders[0])


def snapshot_files(cluster: Cluster, host) -> list[Path]:
    directory = cluster.snapshot_dir(host)
    return sorted(directory.glob("etcd-*.db")) if directory.exists() else []


def loop_pid(host) -> int:
    return int(host.run("cat /run/etcd/snapshot-loop.pid").stdout)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:  # gone meanwhile
        return ""


def snapshot_loops(host) -> list[int]:
    """This host's snapshot loops (the scheduler without cron or systemd)."""
    return [pid for pid in netns_pids(host.netns) if cmdline(pid).startswith("bash -c while sleep ")
            and SNAPSHOT_SCRIPT in cmdline(pid)]


# -- S3 credentials (a one-host lab of its own) ---------------------------------------

S3_PORT = 9000
# The S3 target: a fake bucket on the member itself (loopback is not
# filtered); the scheduled upload would run in 6 hours only.
S3_SNAPSHOTS = EtcdSnapshotSpec(schedule="0 */6 * * *", retention=2, s3=EtcdS3Spec(
    endpoint=f"http://127.0.0.1:{S3_PORT}", bucket="lab-bucket", region="lab-1", folder="lab-etcd"))
S3_ENV = "/etc/etcd/s3.env"


@pytest.fixture
def s3_lab():
    with etcd_test_hosts(1, "etcd", "etcdctl", "curl") as lab:
        yield lab


def test_s3_credentials_with_shell_characters_reach_the_upload_as_data(s3_lab):
    lab = s3_lab
    host = lab.hosts[0]
    pwned = lab.workdir / "pwned"  # test hosts share /tmp: a path of this lab
    # Each would run a command (or break the file) if s3.env, which the
    # snapshot script sources, did not quote them for the shell.
    access_key = f"AKIA'$(touch {pwned}-by-access-key)'"
    secret_key = 'se cret"$HOME\\`x\\`' + f"`touch {pwned}-by-secret-key`"
    run = bootstrap_etcd(lab, lab.hosts, snapshots=S3_SNAPSHOTS, s3_credentials=(access_key, secret_key))
    assert member_output(run, host) == f"etcd {host.name}: bootstrapped"
    schedule = run.named(f"{ETCD}-{host.name}-etcd-snapshots")
    assert schedule.outputs["stdout"] == "loop"
    assert "S3_ACCESS_KEY" in schedule.inputs["stdin"] and access_key not in schedule.inputs["stdin"]  # base64 on stdin

    # Only root can read the keys.
    assert host.run(f"stat -c '%a %U' {S3_ENV}").stdout.strip() == "600 root"
    # Sourced as etcd-snapshot.sh does (bash, errexit, nounset), in a subshell:
    # both values come back byte for byte, nothing ran.
    sourced = host.run(["bash", "-c", f'set -euo pipefail; ( . {S3_ENV}; printf "%s\\0%s" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" )'])
    assert sourced.stdout.split("\0") == [access_key, secret_key], sourced.stdout
    assert sorted(lab.workdir.glob("pwned*")) == []

    # The snapshot script's own upload: the fake bucket receives the snapshot
    # signed with exactly these keys, as S3 checks it (signature, payload digest).
    received = lab.workdir / "s3-requests.jsonl"
    bucket = host.popen([sys.executable, "-c", S3_SERVER, "127.0.0.1", str(S3_PORT), str(received)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: host.run(f"ss -Hltn 'sport = :{S3_PORT}'").stdout.strip(), timeout=10, interval=0.1)
        snapshot = Path(host.run(f"FORCE=true {SNAPSHOT_SCRIPT}").stdout.strip())
    finally:
        bucket.terminate()
        bucket.wait(timeout=5)
    assert snapshot.parent == lab.workdir / f"etcd-snapshots-{host.name}", snapshot
    [request] = s3_requests(received)
    assert (request["method"], request["path"]) == ("PUT", f"/lab-bucket/lab-etcd/{snapshot.name}")
    assert request["body_sha256"] == hashlib.sha256(snapshot.read_bytes()).hexdigest()
    check = sigv4_check(request, secret_key)
    assert (check.get("access_key"), check.get("region"), check.get("service")) == (access_key, "lab-1", "s3"), check
    assert check["payload_ok"], f"no or a wrong x-amz-content-sha256 header: {request['headers']}"
    assert check["signature_ok"], "the upload is not signed with the secret key"
    assert not sigv4_check(request, secret_key + "x")["signature_ok"]  # control: the check discriminates
    assert sorted(lab.workdir.glob("pwned*")) == []


# -- a healthy cluster ------------------------------------------------------------

def test_three_members_are_healthy_and_listen_on_mesh_ips_only(cluster):
    hosts, ips = cluster.hosts, cluster.ips
    assert cluster.run.outputs["endpoints"] == cluster.endpoints()
    # The first member finds nobody and bootstraps; the others bootstrap with
    # it or, once two have a quorum, join it.
    assert member_output(cluster.run, hosts[0]) == f"etcd {hosts[0].name}: bootstrapped"
    for host in hosts[1:]:
        assert member_output(cluster.run, host) in {f"etcd {host.name}: bootstrapped", f"etcd {host.name}: joined"}
    assert cluster.run.named(f"{ETCD}-health").outputs["stdout"] == "3 members healthy"

    for host in hosts:
        assert healthy_endpoints(host, cluster.endpoints()) == sorted(cluster.endpoints()), host.name
    listed = members(hosts[0], cluster.endpoints())
    assert sorted((m["name"], m["status"], m["peers"], m["clients"]) for m in listed) == sorted(
        (h.name, "started", f"https://{ips[h.name]}:{PEER_PORT}", cluster.endpoint(h)) for h in hosts)

    for host in hosts:
        # etcd's own sockets (client, peer, metrics): the mesh IP and nothing
        # else (no 0.0.0.0, no loopback, no public address).
        assert listening(host) == {(ips[host.name], port) for port in ETCD_PORTS}, host.name
        # From the host itself (loopback is not filtered): nothing answers on
        # its public address or on 127.0.0.1; the mesh IP does (control).
        assert open_tcp_ports(host, host.public_ip, ETCD_PORTS) == set(), host.name
        assert open_tcp_ports(host, "127.0.0.1", ETCD_PORTS) == set(), host.name
        assert open_tcp_ports(host, ips[host.name], ETCD_PORTS) == set(ETCD_PORTS), host.name
        # From the other members and from outside: the public address is closed.
        for other in hosts:
            if other is not host:
                assert open_tcp_ports(other, host.public_ip, ETCD_PORTS) == set()
                assert open_tcp_ports(other, ips[host.name], (CLIENT_PORT, PEER_PORT)) == {CLIENT_PORT, PEER_PORT}
        assert open_tcp_ports(cluster.lab.outside, host.public_ip, ETCD_PORTS) == set()

    # Reads and writes through every member.
    for i, host in enumerate(hosts):
        put(host, cluster.endpoint(host), f"/healthy/{host.name}", f"v{i}")
    for host in hosts:
        for i, writer in enumerate(hosts):
            assert get(host, cluster.endpoint(host), f"/healthy/{writer.name}") == f"v{i}"


def test_a_client_without_a_certificate_of_the_cluster_ca_is_refused(cluster):
    h1, h2 = cluster.hosts[0], cluster.hosts[1]
    endpoint = cluster.endpoint(h1)

    # Control: the health-check client certificate gets an answer.
    ok = curl_version(h2, endpoint, f"{PKI}/healthcheck-client.crt", f"{PKI}/healthcheck-client.key")
    assert ok.returncode == 0 and '"etcdserver"' in ok.stdout, ok.stderr
    # The same request without a certificate: the server ends the TLS
    # session (curl sees an alert, a reset or a broken pipe, by timing) and
    # logs why.
    log = MemberLog(h1)
    bare = curl_version(h2, endpoint)
    assert bare.returncode in TLS_ENDED_BY_SERVER and '"etcdserver"' not in bare.stdout, bare.stderr
    assert log.wait_for(f'rejected connection from "{cluster.ips[h2.name]}:', "client didn't provide a certificate")

    # etcdctl without a certificate can neither write nor read.
    refused = etcdctl(h2, endpoint, "put", "/nocert", "x", cert=False)
    assert refused.returncode != 0 and "OK" not in refused.stdout
    assert etcdctl(h2, endpoint, "get", "/healthy/h1", cert=False).returncode != 0
    assert etcdctl(h2, endpoint, "endpoint health", cert=False).returncode != 0
    # The plain-HTTP metrics listener (for Prometheus) serves no key-value API.
    metrics = f"http://{cluster.ips[h1.name]}:{ETCD_METRICS_PORT}"
    assert h2.run(f"curl -sS --max-time 5 {metrics}/metrics").stdout.count("etcd_server_has_leader") > 0
    kv = h2.run(f"curl -s --max-time 5 -o /dev/null -w '%{{http_code}}' -X POST -d '{{\"key\":\"Lw==\"}}' "
                f"{metrics}/v3/kv/range", check=False)
    assert kv.stdout == "404", kv.stdout

    # A well-formed client certificate from another CA is refused too.
    foreign = cluster.lab.workdir / "foreign"
    h2.run(f"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=intruder "
           f"-addext extendedKeyUsage=clientAuth -keyout {foreign}.key -out {foreign}.crt 2>/dev/null")
    log = MemberLog(h1)
    intruder = curl_version(h2, endpoint, f"{foreign}.crt", f"{foreign}.key")
    assert intruder.returncode in TLS_ENDED_BY_SERVER and '"etcdserver"' not in intruder.stdout, intruder.stderr
    assert log.wait_for(f'rejected connection from "{cluster.ips[h2.name]}:', "certificate signed by unknown authority")
    intruder_put = h2.run(f"ETCDCTL_API=3 etcdctl --cacert {PKI}/ca.crt --cert {foreign}.crt --key {foreign}.key "
                          f"--dial-timeout=2s --command-timeout=5s --endpoints {endpoint} put /nocert x", check=False)
    assert intruder_put.returncode != 0 and "OK" not in intruder_put.stdout

    # The client certificate the component exports for kube-apiserver works.
    apiserver = cluster.lab.workdir / "apiserver-etcd-client"
    Path(f"{apiserver}.crt").write_text(cluster.run.outputs["clientCert"])
    Path(f"{apiserver}.key").write_text(cluster.run.outputs["clientKey"])
    Path(f"{apiserver}.key").chmod(0o600)
    assert cluster.run.outputs["ca"].strip() == h1.run(f"cat {PKI}/ca.crt").stdout.strip()
    written = h2.run(f"ETCDCTL_API=3 etcdctl --cacert {PKI}/ca.crt --cert {apiserver}.crt --key {apiserver}.key "
                     f"--dial-timeout=2s --command-timeout=5s --endpoints {endpoint} put /apiserver ok", check=False)
    assert written.returncode == 0 and written.stdout.strip() == "OK", written.stderr

    # Nothing the refused clients sent was written.
    assert get(h1, endpoint, "/nocert") is None
    assert get(h1, endpoint, "/apiserver") == "ok"


# -- snapshots and restore --------------------------------------------------------

def test_the_leader_takes_snapshots_on_the_schedule_and_keeps_the_retention(cluster):
    hosts = cluster.hosts
    for host in hosts:
        schedule = cluster.run.named(f"{ETCD}-{host.name}-etcd-snapshots")
        assert schedule.outputs["stdout"] == "loop", host.name  # no cron, no systemd on test hosts
        assert "while sleep 21600; do /etc/etcd/etcd-snapshot.sh; done" in cmdline(loop_pid(host)), host.name
    put(hosts[0], cluster.endpoints(), "/snap/a", "1")

    # The script on every member: only the leader takes the snapshot.
    the_leader = leader(cluster)
    for host in hosts:
        out = host.run(SNAPSHOT_SCRIPT).stdout.strip()
        if host is the_leader:
            assert re.fullmatch(rf"{re.escape(str(cluster.snapshot_dir(host)))}/etcd-{host.name}-\d{{8}}T\d{{6}}Z\.db", out), out
            taken = Path(out)
        else:
            assert out == "not leader", host.name
            assert snapshot_files(cluster, host) == [], host.name
    assert snapshot_files(cluster, the_leader) == [taken]
    status = the_leader.run(f"ETCDCTL_API=3 etcdctl snapshot status -w simple {taken}").stdout
    assert int(status.split(", ")[2]) > 0, status  # total keys
    assert taken.stat().st_mode & 0o077 == 0, oct(taken.stat().st_mode)  # snapshots hold every secret

    # Retention 2: a third snapshot drops the oldest.
    for _ in range(2):
        time.sleep(1.1)  # file names have a one-second resolution
        the_leader.run(SNAPSHOT_SCRIPT)
    kept = snapshot_files(cluster, the_leader)
    assert len(kept) == 2 and taken not in kept, kept

    # The schedule really runs: the same schedule resource with a 2 s period
    # restarts the loop, which then snapshots on its own.
    schedule = cluster.run.named(f"{ETCD}-{the_leader.name}-etcd-snapshots")
    before = loop_pid(the_leader)
    fast = schedule.script("create").replace("export INTERVAL_SECONDS=21600\n", "export INTERVAL_SECONDS=2\n")
    assert fast != schedule.script("create")
    try:
        user = schedule.inputs["connection"]["user"]
        assert run_script(schedule.inputs["connection"], as_root(fast, user), name=schedule.name)["stdout"] == "loop"
        assert loop_pid(the_leader) != before
        newest = max(p.stat().st_mtime for p in kept)
        assert wait_until(lambda: any(p.stat().st_mtime > newest for p in snapshot_files(cluster, the_leader)), timeout=20), \
            "the 2 s loop took no snapshot"
    finally:
        # Back to the program's schedule: the loop is restarted with it.
        assert run_script(schedule.inputs["connection"], schedule.inputs["create"], name=schedule.name)["stdout"] == "loop"
    assert "while sleep 21600;" in cmdline(loop_pid(the_leader))
    assert wait_until(lambda: snapshot_loops(the_leader) == [loop_pid(the_leader)], timeout=5), \
        f"replaced loops still running: {snapshot_loops(the_leader)}"
    assert len(snapshot_files(cluster, the_leader)) == 2


def test_a_snapshot_restores_a_key_deleted_after_it_with_the_documented_procedure(cluster):
    hosts, ips = cluster.hosts, cluster.ips
    h1 = hosts[0]
    put(h1, cluster.endpoints(), "/restore/kept", "before-snapshot")
    snapshot = Path(hosts[1].run(f"FORCE=true {SNAPSHOT_SCRIPT}").stdout.strip())  # a manual run, on a follower or not
    assert snapshot.is_file(), snapshot
    # After the snapshot: the key is deleted, another one is written.
    assert etcdctl(h1, cluster.endpoints(), "del", "/restore/kept", check=True).stdout.strip() == "1"
    put(h1, cluster.endpoints(), "/restore/after", "after-snapshot")
    assert get(h1, cluster.endpoint(h1), "/restore/kept") is None

    # The procedure (components/cluster/etcd/README.md): the snapshot on every
    # member (test hosts share the file system), then etcd-restore.sh on every
    # member with the same CLUSTER and a new token.
    members_spec = [f"{h.name} {ips[h.name]}" for h in hosts]
    token = f"{ETCD}-restored-{int(time.time())}"
    asides = {}
    for host in hosts:
        resource = cluster.run.named(f"{ETCD}-{host.name}-etcd")
        script = render_script(SCRIPTS / "etcd-restore.sh", {
            "SNAPSHOT": snapshot, "ETCD_NAME": host.name, "MESH_IP": ips[host.name], "CLUSTER": members_spec,
            "NEW_TOKEN": token, "DATA_DIR": cluster.data_dir(host),
        })
        # The operator runs it as root (sudo), like the program's own scripts.
        root_script = as_root(script, resource.inputs["connection"]["user"])
        asides[host.name] = Path(run_script(resource.inputs["connection"], root_script, name=f"restore {host.name}")["stdout"])

    endpoints = cluster.endpoints()
    assert wait_until(lambda: healthy_endpoints(h1, endpoints) == sorted(endpoints), timeout=90), \
        f"not healthy after the restore: {healthy_endpoints(h1, endpoints)}"
    for host in hosts:
        assert (asides[host.name] / "member").is_dir(), f"{host.name}: previous data not kept aside"
        # Every member's own store has the snapshot's state.
        assert get(host, cluster.endpoint(host), "/restore/kept", local=True) == "before-snapshot", host.name
        assert get(host, cluster.endpoint(host), "/restore/after", local=True) is None, host.name
    assert sorted((m["name"], m["status"]) for m in members(h1, endpoints)) == [(h.name, "started") for h in hosts]
    put(h1, endpoints, "/restore/new", "writable")
    assert get(hosts[2], cluster.endpoint(hosts[2]), "/restore/new") == "writable"

    # The next `pulumi up` keeps the restored cluster as it is.
    pids = {h.name: etcd_pids(h) for h in hosts}
    rerun = cluster.up()
    assert {h.name: member_output(rerun, h) for h in hosts} == {h.name: f"etcd {h.name}: unchanged" for h in hosts}
    assert {h.name: etcd_pids(h) for h in hosts} == pids
    assert get(h1, cluster.endpoint(h1), "/restore/kept") == "before-snapshot"


# -- faults ---------------------------------------------------------------------------

def test_writes_succeed_while_a_member_is_down_and_removing_another_is_refused(cluster):
    hosts = cluster.hosts
    victim, survivors = hosts[2], hosts[:2]
    kill_etcd(victim)
    assert wait_until(lambda: etcd_pids(victim) == [], timeout=5)
    assert healthy_endpoints(hosts[0], cluster.endpoints()) == sorted(cluster.endpoints(survivors))

    put(survivors[0], cluster.endpoints(survivors), "/down/first", "1")
    put(survivors[1], cluster.endpoints(survivors), "/down/second", "2")
    for host in survivors:
        assert get(host, cluster.endpoint(host), "/down/first") == "1"
        assert get(host, cluster.endpoint(host), "/down/second") == "2"

    # Removing a healthy member now would leave 1 healthy of 2: refused, nothing changed.
    with pytest.raises(RemoteCommandFailed, match=f"refusing to remove {survivors[0].name}:"):
        remove_member(cluster.run, survivors[0])
    assert etcd_pids(survivors[0]) != []
    assert (cluster.data_dir(survivors[0]) / "member").is_dir()
    assert len(members(survivors[0], cluster.endpoints(survivors))) == 3
    put(survivors[0], cluster.endpoints(survivors), "/down/after-refusal", "3")


def test_a_killed_member_restarts_and_catches_up_on_the_next_run(cluster):
    hosts = cluster.hosts
    victim, survivors = hosts[2], hosts[:2]
    if etcd_pids(victim):  # run alone: kill it here
        kill_etcd(victim)
        assert wait_until(lambda: etcd_pids(victim) == [], timeout=5)
    put(survivors[0], cluster.endpoints(survivors), "/down/while-away", "written-while-down")
    pids = {h.name: etcd_pids(h) for h in survivors}

    rerun = cluster.up()  # no manual step: the next `pulumi up`
    assert member_output(rerun, victim) == f"etcd {victim.name}: started"
    for host in survivors:
        assert member_output(rerun, host) == f"etcd {host.name}: unchanged"
        assert etcd_pids(host) == pids[host.name], f"{host.name} was restarted"
    assert rerun.named(f"{ETCD}-health").outputs["stdout"] == "3 members healthy"
    assert etcd_pids(victim) != []

    assert healthy_endpoints(victim, cluster.endpoints()) == sorted(cluster.endpoints())
    # Its own store (a serializable read, answered locally) has what was written while it was down.
    assert wait_until(lambda: get(victim, cluster.endpoint(victim), "/down/while-away", local=True), timeout=20) \
        == "written-while-down"
    assert get(victim, cluster.endpoint(victim), "/down/first", local=True) == "1"
    assert sorted((m["name"], m["status"]) for m in members(victim, cluster.endpoints())) == \
        [(h.name, "started") for h in hosts]
    put(victim, cluster.endpoint(victim), "/back", "yes")
    assert get(hosts[0], cluster.endpoint(hosts[0]), "/back") == "yes"


def test_a_member_added_right_after_a_restart_joins_then_leaves_through_its_delete(cluster):
    """A 4th node added to the spec (the prod topology has 3), in the same
    run that restarts a stopped member: etcd refuses `member add` for ~5 s
    after a member (re)connects ("unhealthy cluster"); the join must wait."""
    lab, hosts = cluster.lab, cluster.hosts
    restarted = hosts[-1]  # the member just before the new one in the chain
    put(hosts[0], cluster.endpoints(), "/grow/before", "1")
    new = lab.add_host()
    logs = new_logs([new])
    grown = None
    try:
        kill_etcd(restarted)
        assert wait_until(lambda: etcd_pids(restarted) == [], timeout=5)
        grown = bootstrap_etcd(lab, [*hosts, new], snapshots=SNAPSHOTS)
        assert member_output(grown, restarted) == f"etcd {restarted.name}: started"
        assert member_output(grown, new) == f"etcd {new.name}: joined"
        for host in hosts[:-1]:
            assert member_output(grown, host) == f"etcd {host.name}: unchanged"
        # It did meet the refusal, and waited it out.
        join_log = grown.named(f"{ETCD}-{new.name}-etcd").outputs["stderr"]
        assert "member add refused (etcdserver: unhealthy cluster)" in join_log, join_log
        assert grown.named(f"{ETCD}-health").outputs["stdout"] == "4 members healthy"

        ips = mesh_ips(grown)
        everyone = [*hosts, new]
        endpoints = [f"https://{ips[h.name]}:{CLIENT_PORT}" for h in everyone]
        mine = f"https://{ips[new.name]}:{CLIENT_PORT}"
        assert healthy_endpoints(new, endpoints) == sorted(endpoints)
        assert sorted((m["name"], m["status"], m["peers"], m["clients"]) for m in members(new, endpoints)) == sorted(
            (h.name, "started", f"https://{ips[h.name]}:{PEER_PORT}", f"https://{ips[h.name]}:{CLIENT_PORT}")
            for h in everyone)
        # Its own store has what was written before it joined; writes through it reach the others.
        assert wait_until(lambda: get(new, mine, "/grow/before", local=True), timeout=20) == "1"
        put(new, mine, "/grow/through-new", "2")
        for host in hosts:
            assert get(host, cluster.endpoint(host), "/grow/through-new") == "2"

        # It leaves the spec again: its snapshot schedule, then its member (the delete path).
        snapshots = grown.named(f"{ETCD}-{new.name}-etcd-snapshots")
        assert run_remote_delete(snapshots.name, snapshots.inputs)["stdout"] == "etcd snapshots: unscheduled"
        assert remove_member(grown, new)["stdout"] == f"etcd {new.name}: removed (3 members left, 3 healthy)"
        assert etcd_pids(new) == []
        assert not (lab.workdir / f"etcd-data-{new.name}").exists()
    finally:
        # The node leaves the lab whatever happened (the next tests have 3).
        if grown is not None:
            for resource in (f"{ETCD}-{new.name}-etcd-snapshots", f"{ETCD}-{new.name}-etcd", f"lab-mesh-{new.name}-wg-apply"):
                try:  # already done, or refused: nothing more to do
                    run_remote_delete(resource, grown.named(resource).inputs)
                except Exception:  # noqa: BLE001
                    pass
        lab.remove_host(new)
        for path in logs:
            path.unlink(missing_ok=True)

    # Three members again, all started and healthy, writable.
    assert sorted((m["name"], m["status"]) for m in members(hosts[0], cluster.endpoints())) == \
        [(h.name, "started") for h in hosts]
    assert healthy_endpoints(hosts[1], cluster.endpoints()) == sorted(cluster.endpoints())
    put(hosts[1], cluster.endpoints(), "/grow/after", "3")
    for host in hosts:
        assert get(host, cluster.endpoint(host), "/grow/after") == "3"
        assert get(host, cluster.endpoint(host), "/grow/through-new", local=True) == "2"


def test_removing_a_member_through_its_delete_keeps_the_cluster_healthy(cluster):
    hosts = cluster.hosts
    leaving, staying = hosts[2], hosts[:2]
    put(hosts[0], cluster.endpoints(), "/remove/before", "1")
    # Removed right after it (re)started, when etcd itself still counts it as
    # not connected (strict reconfiguration check): the delete must cope.
    kill_etcd(leaving)
    assert member_output(cluster.up(), leaving) == f"etcd {leaving.name}: started"

    # What the engine deletes when the member leaves the spec: its snapshot
    # schedule (which depends on the member), then the member.
    snapshots = cluster.run.named(f"{ETCD}-{leaving.name}-etcd-snapshots")
    assert run_remote_delete(snapshots.name, snapshots.inputs)["stdout"] == "etcd snapshots: unscheduled"
    result = remove_member(cluster.run, leaving)
    assert result["stdout"] == f"etcd {leaving.name}: removed (2 members left, 2 healthy)"

    # Its processes are stopped (etcd and the snapshot loop), its data and
    # configuration wiped; the others keep their snapshot loops.
    assert etcd_pids(leaving) == []
    assert snapshot_loops(leaving) == []
    for host in staying:
        assert len(snapshot_loops(host)) == 1, host.name
    assert not cluster.data_dir(leaving).exists()
    assert leaving.run("test -e /etc/etcd", check=False).returncode != 0
    assert open_tcp_ports(staying[0], cluster.ips[leaving.name], (CLIENT_PORT, PEER_PORT)) == set()

    remaining = cluster.endpoints(staying)
    listed = members(staying[0], remaining)
    assert sorted((m["name"], m["status"], m["clients"]) for m in listed) == \
        sorted((h.name, "started", cluster.endpoint(h)) for h in staying)
    assert healthy_endpoints(staying[1], remaining) == sorted(remaining)
    put(staying[1], remaining, "/remove/after", "2")
    for host in staying:
        assert get(host, cluster.endpoint(host), "/remove/after") == "2"
        assert get(host, cluster.endpoint(host), "/remove/before") == "1"

    # The delete is idempotent: run again, it only confirms.
    again = remove_member(cluster.run, leaving)
    assert again["stdout"] == f"etcd {leaving.name}: not configured here; removing what is left"
    assert len(members(staying[0], remaining)) == 2
