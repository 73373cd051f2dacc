"""The node-local API load balancer on real test hosts.

Hosts are bootstrapped by the real program (baseline, firewall, mesh), then
``api_load_balancers`` runs the real api-lb.sh over SSH on every host.
Three hosts play control planes with a stand-in API server on
mesh_ip:6443 (K3s/kubeadm are not available here); a worker must reach
the API through 127.0.0.1:7445 while any one control plane is down.
"""

from __future__ import annotations

import re
import subprocess
import time

import pulumi
import pytest

from components.cluster.common.endpoint import LOCAL_LB_PORT
from components.cluster.common.local_lb import api_load_balancers
from components.spec import catalog_for, parse_cluster_spec
from stacks.plan.fake_cloud import FakeCloud
from stacks.sovereign import build_cloud
from tests.conftest import require_tool
from tests.integration.mesh_lab import WG_PORT
from tests.stack_runner import run_components
from tests.testhosts.remote import run_remote_command, run_remote_delete, run_script

pytestmark = pytest.mark.integration

FAKE_API = (
    "import socket, os\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('{ip}', 6443)); s.listen(128)\n"
    "while True:\n"
    "    c, _ = s.accept()\n"
    "    try:\n"
    "        c.sendall(os.uname().nodename.encode() + b'\\n')\n"
    "    except OSError:\n"
    "        pass\n"
    "    c.close()\n"
)


def spec(hosts) -> dict:
    entry = lambda h: {"name": h.name, "address": h.public_ip}  # noqa: E731
    return {
        "name": "lab", "distribution": "k3s", "version": "1.31.4",
        "network": {"meshCidr": "10.42.0.0/16", "wireguardPort": WG_PORT},
        "ssh": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC lab"},
        "nodeGroups": {
            "cp": {"provider": "existing", "roles": ["control-plane"], "sshUser": "root", "hosts": [entry(h) for h in hosts[:3]]},
            "nodes": {"provider": "existing", "roles": ["worker"], "sshUser": "root", "hosts": [entry(h) for h in hosts[3:]]},
        },
    }


def bootstrap(hosts):
    data = spec(hosts)

    def program():
        parsed = parse_cluster_spec(data, catalog=catalog_for(data))
        cloud = build_cloud(parsed, ssh_private_key=pulumi.Output.secret(hosts[0].ssh_private_key), catalog=catalog_for(data))
        cps = [n for n in cloud.nodes if n.is_control_plane]
        api_load_balancers("lab", cloud.nodes, cps, airgap=False, artifacts_dir="/var/lib/sovereign/airgap",
                           after={k: [v] for k, v in cloud.mesh.ready.items()}, parent=None)
        pulumi.export("nodes", cloud.node_table())

    return run_components(program, stack="lab", cloud=FakeCloud(command_handler=run_remote_command))


def answers(host, tries: int = 30) -> list[str]:
    """Who answers on the local endpoint, one fresh connection per try."""
    script = (f"for i in $(seq {tries}); do "
              f"timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{LOCAL_LB_PORT}; head -1 <&3' || echo FAILED; done")
    return host.run(["bash", "-c", script], timeout=120).stdout.split()


def test_the_api_stays_reachable_through_the_local_lb_when_a_control_plane_dies(lab_factory):
    require_tool("haproxy")
    lab = lab_factory(4)
    run = bootstrap(lab.hosts)
    mesh = {n["name"]: n["mesh_ip"] for n in run.outputs["nodes"]}
    cps, worker = lab.hosts[:3], lab.hosts[3]
    servers = {h.name: h.popen(["python3", "-c", FAKE_API.format(ip=mesh[h.name])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for h in cps}
    try:
        time.sleep(5)  # haproxy: "rise 2" checks every 2 s
        assert set(answers(worker)) == {h.name for h in cps}
        # Every node has its own balancer, control planes included.
        assert set(answers(cps[1], tries=10)) <= {h.name for h in cps}

        servers[cps[0].name].kill()
        servers[cps[0].name].wait()
        time.sleep(5)  # "fall 2": marked down after two failed checks
        seen = answers(worker)
        assert "FAILED" not in seen
        assert set(seen) == {cps[1].name, cps[2].name}

        # A second run of the same script changes nothing.
        lb = run.named(f"lab-{worker.name}-api-lb")
        again = run_script(lb.inputs["connection"], lb.inputs["create"], name=lb.name)
        assert again["stdout"].endswith("(changed=false)")

        # A new backend list (a control plane removed) is applied by a reload.
        fewer = re.sub(r"export BACKENDS='[^']*'", "export BACKENDS='" + "\n".join(
            f"{h.name} {mesh[h.name]}:6443" for h in cps[1:]) + "'", lb.inputs["create"])
        changed = run_script(lb.inputs["connection"], fewer, name=lb.name)
        assert changed["stdout"].endswith("-> 2 control plane(s) (changed=true)")
        assert set(answers(worker)) == {cps[1].name, cps[2].name}

        # Removing the node's balancer stops it.
        run_remote_delete(lb.name, lb.inputs)
        assert set(answers(worker, tries=3)) == {"FAILED"}
    finally:
        for proc in servers.values():
            proc.kill()
            proc.wait()
