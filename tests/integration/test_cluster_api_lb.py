"""The node-local API load balancer on real test hosts.

Hosts are bootstrapped by the real program (baseline, firewall, mesh), then
``api_load_balancers`` runs the real api-lb.sh over SSH on every host.
Three hosts play control planes with a stand-in API server on
mesh_ip:6443 (K3s/kubeadm are not available here): HTTPS with a
self-signed certificate, ``/readyz`` answering 200 or, while a flag file
exists, 500 (an API server that still accepts TCP but lost etcd), and any
other path answering the host's name. A worker must reach the API through
127.0.0.1:7445 while any one control plane is not ready or down.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import time
from pathlib import Path

import pulumi
import pytest

from components.cluster.common.endpoint import LOCAL_LB_PORT
from components.cluster.common.local_lb import api_load_balancers
from components.remote.command import as_root
from components.spec import catalog_for, parse_cluster_spec
from stacks.plan.fake_cloud import FakeCloud
from stacks.sovereign import build_cloud
from tests.conftest import require_tool
from tests.integration.mesh_lab import WG_PORT
from tests.stack_runner import run_components
from tests.testhosts.remote import run_remote_command, run_remote_delete, run_script

pytestmark = pytest.mark.integration

# argv: bind address, certificate, key, "not ready" flag file, check log.
FAKE_API = r"""
import os, ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ip, cert, key, unready, checks = sys.argv[1:6]
name = os.uname().nodename.encode() + b"\n"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/readyz":
            with open(checks, "a") as log:
                log.write(self.requestline + "\n")
            code, body = (500, b"[-]etcd failed\n") if os.path.exists(unready) else (200, b"ok")
        else:
            code, body = 200, name
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server = Server((ip, 6443), Handler)
# The TLS handshake happens in each connection's thread, not in accept().
server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
server.serve_forever()
"""


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "apiserver.crt", directory / "apiserver.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def spec(hosts) -> dict:
    entry = lambda h: {"name": h.name, "address": h.public_ip, "hostKey": h.host_public_key}  # noqa: E731
    return {
        "name": "lab", "distribution": "k3s", "version": "1.31.4",
        "network": {"meshCidr": "10.42.0.0/16", "wireguardPort": WG_PORT},
        "ssh": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC lab"},
        "nodeGroups": {
            "cp": {"provider": "existing", "roles": ["control-plane"], "sshUser": hosts[0].ssh_user, "hosts": [entry(h) for h in hosts[:3]]},
            "nodes": {"provider": "existing", "roles": ["worker"], "sshUser": hosts[0].ssh_user, "hosts": [entry(h) for h in hosts[3:]]},
        },
    }


def bootstrap(hosts):
    data = spec(hosts)

    def program():
        parsed = parse_cluster_spec(data, catalog=catalog_for(data))
        cloud = build_cloud(parsed, ssh_private_key=pulumi.Output.secret(hosts[0].ssh_private_key), catalog=catalog_for(data))
        cps = [n for n in cloud.nodes if n.is_control_plane]
        api_load_balancers("lab", cloud.nodes, cps, health_check="readyz", airgap=False,
                           artifacts_dir="/var/lib/sovereign/airgap",
                           after={k: [v] for k, v in cloud.mesh.ready.items()}, parent=None)
        pulumi.export("nodes", cloud.node_table())

    return run_components(program, stack="lab", cloud=FakeCloud(command_handler=run_remote_command))


def answers(host, tries: int = 30) -> list[str]:
    """Who answers on the local endpoint, one fresh connection (and TLS session) per try."""
    script = (f"for i in $(seq {tries}); do "
              f"curl -fsk --max-time 2 https://127.0.0.1:{LOCAL_LB_PORT}/ || echo FAILED; done")
    return host.run(["bash", "-c", script], timeout=120).stdout.split()


def settles(host, expected: set[str], timeout: float = 20) -> list[str]:
    """Answers once the balancer has caught up (checks every 2 s, 2 to change
    state): every answer from ``expected``, each of them seen, none failed."""
    deadline = time.monotonic() + timeout
    while True:
        seen = answers(host, tries=12)
        if set(seen) == expected:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout}s still {sorted(set(seen))}, expected {sorted(expected)}")
        time.sleep(0.5)


def test_the_api_stays_reachable_through_the_local_lb_when_a_control_plane_dies(lab_factory):
    require_tool("haproxy")
    require_tool("curl")
    lab = lab_factory(4)
    run = bootstrap(lab.hosts)
    mesh = {n["name"]: n["mesh_ip"] for n in run.outputs["nodes"]}
    cps, worker = lab.hosts[:3], lab.hosts[3]
    names = {h.name for h in cps}
    cert, key = self_signed(lab.workdir)
    unready = {h.name: lab.workdir / f"{h.name}.unready" for h in cps}
    checks = {h.name: lab.workdir / f"{h.name}.checks" for h in cps}
    servers = {h.name: h.popen([sys.executable, "-c", FAKE_API, mesh[h.name], str(cert), str(key),
                                str(unready[h.name]), str(checks[h.name])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for h in cps}
    try:
        settles(worker, names)
        assert set(answers(worker)) == names
        # Every node has its own balancer, control planes included.
        assert set(answers(cps[1], tries=10)) <= names
        # The balancers ask every API server for /readyz, over TLS.
        for h in cps:
            assert "GET /readyz" in checks[h.name].read_text()

        # Not ready (etcd lost) but still accepting TCP, and still answering
        # other requests: taken out of rotation all the same.
        unready[cps[0].name].touch()
        direct = worker.run(["curl", "-fsk", "--max-time", "2", f"https://{mesh[cps[0].name]}:6443/"])
        assert direct.stdout.strip() == cps[0].name
        settles(worker, names - {cps[0].name})
        seen = answers(worker)
        assert "FAILED" not in seen
        assert set(seen) == {cps[1].name, cps[2].name}

        # Ready again: back in rotation.
        unready[cps[0].name].unlink()
        settles(worker, names)
        assert set(answers(worker)) == names

        # A control plane lost entirely (the machine dies: API server,
        # WireGuard, link): the others still serve the API.
        lab.kill(cps[0])
        servers[cps[0].name].wait(timeout=10)
        settles(worker, names - {cps[0].name})
        seen = answers(worker)
        assert "FAILED" not in seen
        assert set(seen) == {cps[1].name, cps[2].name}

        # A second run of the same script changes nothing.
        lb = run.named(f"lab-{worker.name}-api-lb")
        again = run_script(lb.inputs["connection"], lb.inputs["create"], name=lb.name)
        assert again["stdout"].endswith("(changed=false)")

        # A new backend list (a control plane removed) is applied by a reload.
        fewer = re.sub(r"export BACKENDS='[^']*'", "export BACKENDS='" + "\n".join(
            f"{h.name} {mesh[h.name]}:6443" for h in cps[1:]) + "'", lb.script("create"))
        changed = run_script(lb.inputs["connection"], as_root(fewer, lb.inputs["connection"]["user"]), name=lb.name)
        assert changed["stdout"].endswith("-> 2 control plane(s) (changed=true)")
        assert set(answers(worker)) == {cps[1].name, cps[2].name}

        # Removing the node's balancer stops it.
        run_remote_delete(lb.name, lb.inputs)
        assert set(answers(worker, tries=3)) == {"FAILED"}
    finally:
        for proc in servers.values():
            proc.kill()
            proc.wait()
