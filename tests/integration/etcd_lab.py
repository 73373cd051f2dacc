"""ExternalEtcd on test hosts: the real program (compute, baseline, mesh)
plus the etcd component, every remote command run over SSH."""

from __future__ import annotations

from contextlib import contextmanager

import hashlib
import hmac
import json
import re
from pathlib import Path

import pulumi

from components.cluster.etcd import ExternalEtcd
from components.spec import catalog_for, parse_cluster_spec
from components.spec.kubernetes import EtcdSnapshotSpec
from stacks.plan.fake_cloud import FakeCloud
from stacks.plan.runtime import ProgramRun
from stacks.sovereign import build_cloud
from tests.integration.mesh_lab import lab_spec
from tests.stack_runner import run_components
from tests.testhosts.remote import run_remote_command, run_remote_delete
from tests.conftest import require_tool
from tests.testhosts.fixtures import require_test_hosts
from tests.testhosts.lab import Lab
from tests.testhosts.shell import netns_pids

ETCD = "lab-etcd"
PKI = "/etc/etcd/pki"


@contextmanager
def etcd_test_hosts(n_hosts: int, *tools: str):
    """``n_hosts`` started test hosts for etcd (skipped locally, failed in CI,
    without them or ``tools``); the etcd logs they leave in the machine's
    shared /var are removed with them."""
    require_test_hosts()
    for tool in tools:
        require_tool(tool)
    lab = Lab(n_hosts).__enter__()
    ours = new_logs(lab.hosts)
    try:
        yield lab
    finally:
        lab.teardown()
        for path in ours:
            path.unlink(missing_ok=True)


def build_lab_etcd(spec_data: dict, ssh_private_key, members: list[str], workdir: str, *,
                   snapshots: EtcdSnapshotSpec | None = None, s3_credentials=None) -> None:
    """The program: the mesh on every host of ``spec_data``, etcd on
    ``members``. Shared by the mocks-driven lab and the real engine's lab
    program (tests/engine/lab_program)."""
    spec = parse_cluster_spec(spec_data, catalog=catalog_for(spec_data))
    cloud = build_cloud(spec, ssh_private_key=ssh_private_key, catalog=catalog_for(spec_data))
    by_name = {n.name: n for n in cloud.nodes}
    nodes = [by_name[name] for name in members]
    etcd = ExternalEtcd(ETCD, {
        "nodes": nodes,
        "after": {n.name: [cloud.mesh.ready[n.name]] for n in nodes},
        "data_dir": f"{workdir}/etcd-data-{{node}}",
        "snapshot_dir": f"{workdir}/etcd-snapshots-{{node}}",
        "snapshots": snapshots,
        "s3_credentials": s3_credentials,
    })
    pulumi.export("nodes", cloud.node_table())
    pulumi.export("endpoints", etcd.endpoints)
    pulumi.export("clientKey", etcd.client_key_pem)
    pulumi.export("clientCert", etcd.client_cert_pem)
    pulumi.export("ca", etcd.ca_cert_pem)


def bootstrap_etcd(lab, members, *, snapshots: EtcdSnapshotSpec | None = None,
                   s3_credentials: tuple[str, str] | None = None) -> ProgramRun:
    """``pulumi up``: the mesh on every lab host, etcd on ``members``.

    Test hosts share /var and /tmp: data and snapshots live in per-member
    directories under the lab's work directory (removed with the lab).
    ``s3_credentials``: (access key, secret key) for ``snapshots.s3``, passed
    as secrets like the stack's secret config.
    """
    spec_data = lab_spec(lab.hosts)
    key = lab.hosts[0].ssh_private_key

    def program() -> None:
        build_lab_etcd(spec_data, pulumi.Output.secret(key), [h.name for h in members], str(lab.workdir),
                       snapshots=snapshots,
                       s3_credentials=None if s3_credentials is None
                       else (pulumi.Output.secret(s3_credentials[0]), pulumi.Output.secret(s3_credentials[1])))

    return run_components(program, stack="lab", cloud=FakeCloud(command_handler=run_remote_command))


def member_output(run: ProgramRun, host) -> str:
    return run.named(f"{ETCD}-{host.name}-etcd").outputs.get("stdout", "")


def remove_member(run: ProgramRun, host) -> dict | None:
    """What the engine runs when the member leaves the spec: its delete script."""
    resource = run.named(f"{ETCD}-{host.name}-etcd")
    return run_remote_delete(resource.name, resource.inputs)


def etcdctl(host, endpoints, *args: str, cert: bool = True, check: bool = False, timeout: float = 30):
    """etcdctl on ``host`` with the health-check client certificate (or none)."""
    creds = f"--cacert {PKI}/ca.crt" + (f" --cert {PKI}/healthcheck-client.crt --key {PKI}/healthcheck-client.key" if cert else "")
    eps = ",".join(endpoints) if isinstance(endpoints, (list, tuple)) else endpoints
    cmd = f"ETCDCTL_API=3 etcdctl {creds} --dial-timeout=2s --command-timeout=5s --endpoints {eps} {' '.join(args)}"
    return host.run(cmd, check=check, timeout=timeout)


def etcd_pids(host) -> list[int]:
    """etcd processes of this host (pgrep would see every host's)."""
    pids = []
    for pid in netns_pids(host.netns):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "etcd":
                    pids.append(pid)
        except OSError:
            pass
    return pids


def kill_etcd(host) -> None:
    for pid in etcd_pids(host):
        host.run(f"kill -9 {pid}", check=False)


def healthy_endpoints(host, endpoints) -> list[str]:
    out = etcdctl(host, endpoints, "endpoint health", timeout=60)
    return sorted(line.split(" is healthy")[0] for line in (out.stdout + out.stderr).splitlines() if " is healthy" in line)


def new_logs(hosts) -> set[Path]:
    """The logs the etcd scripts will write for ``hosts`` that do not exist
    yet (test hosts share /var/log): for the lab to remove when it ends."""
    logs = {Path(f"/var/log/{kind}-{h.name}.log") for h in hosts for kind in ("etcd", "etcd-snapshot")}
    return {p for p in logs if not p.exists()}


# -- a fake S3 endpoint -------------------------------------------------------------

# Records every PUT (method, path, headers, body digest) as a JSON line and
# answers 200, like a bucket accepting the upload; checking the request is
# the test's job (``sigv4_check``).
S3_SERVER = """
import hashlib, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

address, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]

class Bucket(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # answers curl's Expect: 100-continue

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                                "body_sha256": hashlib.sha256(body).hexdigest(), "body_size": len(body)}) + "\\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer((address, port), Bucket).serve_forever()
"""

AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<access_key>.+)/(?P<day>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
                           r"/aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?Signature=(?P<signature>[0-9a-f]{64})")


def sigv4_check(request: dict, secret_key: str) -> dict:
    """What S3 checks of a header-signed PUT (AWS Signature Version 4,
    single chunk): the ``x-amz-content-sha256`` header is there and is the
    body's digest, and the signature is the one ``secret_key`` makes over
    the canonical request. Returns the Authorization fields plus
    ``payload_ok`` and ``signature_ok``."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    match = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if match is None:
        return {"payload_ok": False, "signature_ok": False}
    fields = match.groupdict()
    signed = fields["signed"].split(";")
    payload = headers.get("x-amz-content-sha256")
    payload_ok = payload == request["body_sha256"] and "x-amz-content-sha256" in signed
    canonical = "\n".join([
        request["method"], request["path"].split("?")[0], request["path"].partition("?")[2],
        "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed),
        fields["signed"], payload or "",
    ])
    scope = f"{fields['day']}/{fields['region']}/{fields['service']}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers.get("x-amz-date", ""), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret_key}".encode()
    for part in (fields["day"], fields["region"], fields["service"], "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {**fields, "payload_ok": payload_ok, "signature_ok": hmac.compare_digest(expected, fields["signature"])}


def s3_requests(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
