"""The mesh join of an autoscaled node on real test hosts.

Two hosts are bootstrapped by the real program (static nodes, real
wireguard-go mesh); a third plays a server the cluster-autoscaler created,
unknown to Pulumi. The registry scripts run as rendered by
components/autoscaling. There is no Kubernetes API offline: the registry is
tests/testhosts/fake_kubectl.py (a directory with create/replace/delete
semantics and jsonpath output), so what is proven here is everything
around it: the address claim, the WireGuard peers appearing on the static
nodes and disappearing on scale-down, and Pulumi's own re-runs keeping them.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest

from components.autoscaling import registry
from components.mesh.wireguard import SCRIPTS as MESH_SCRIPTS
from components.remote.script import render_script
from tests.integration.mesh_lab import WG_PORT, bootstrap, mesh_ips, ping_eventually

pytestmark = pytest.mark.integration

FAKE_KUBECTL = Path(__file__).resolve().parents[1] / "testhosts" / "fake_kubectl.py"
SLOTS = ["10.42.99.254", "10.42.99.253"]
LEASE_SECONDS = 4
# Test hosts share /usr and /var with the machine: the agent's files go to their private /run.
AGENT_ENV = {"LIB_DIR": "/run/sovereign-mesh-lib"}


def run(host, script: str, env: dict | None = None) -> str:
    prefix = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in (env or {}).items())
    result = host.run(["bash", "-c", f"{prefix} bash -c {shlex.quote(script)}"], check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def peers(host) -> set[str]:
    return set(host.run("wg show wg0 peers").stdout.split())


def test_an_autoscaled_node_joins_the_static_mesh_and_leaves_it_on_scale_down(lab_factory, tmp_path):
    lab = lab_factory(3)
    static, new = lab.hosts[:2], lab.hosts[2]
    program = bootstrap(static)
    ips = mesh_ips(program)
    keys = {n: program.outputs["keys"][n].strip() for n in ips}
    kube = tmp_path / "kube"
    kubectl = f"env FAKE_KUBE_DIR={kube} python3 {FAKE_KUBECTL}"
    common = {"NAMESPACE": registry.NAMESPACE, "KUBECTL": kubectl, "KUBECONFIG": "/dev/null"}

    # Pulumi's ConfigMap of static peers (what the component writes).
    static_lines = "\n".join(registry.static_peer_line(h.name, ips[h.name], keys[h.name], h.public_ip, None, None)
                             for h in static)
    configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": registry.STATIC_CONFIGMAP, "namespace": registry.NAMESPACE},
                 "data": {"peers": static_lines}}
    run(static[0], f"{kubectl} create -f - <<'EOF'\n{json.dumps(configmap)}\nEOF")

    def sync(host, **extra):
        return render_script(registry.SCRIPTS / "mesh-sync.sh", {
            **common, "LISTEN_PORT": WG_PORT, "SLOTS": [f"{ip} burst" for ip in SLOTS],
            "PEER_LABEL": registry.PEER_LABEL, "KEEPALIVE": 25, **extra})

    def register(host, name: str, state: str = "/run/sovereign-mesh-state") -> str:
        script = render_script(registry.SCRIPTS / "mesh-register.sh", {
            **common, "NODE_NAME": name, "NODE_GROUP": "burst", "SLOTS": SLOTS, "PEER_LABEL": registry.PEER_LABEL,
            "LEASE_SECONDS": LEASE_SECONDS, "PUBLIC_ADDRESS": host.public_ip, "STATE_DIR": state})
        return run(host, script).strip()

    # Static nodes follow the registry (background loop: no systemd here).
    for host in static:
        run(host, registry.agent_install_script(sync(host)).replace("export SYNC_SECONDS=15", "export SYNC_SECONDS=1"),
            env=AGENT_ENV)

    # The new server: its key made on it, an address claimed, its interface up.
    run(new, render_script(MESH_SCRIPTS / "wg-keys.sh", {"WG_INTERFACE": "wg0"}))
    address = register(new, "dev-burst-aaaa")
    assert address in SLOTS
    run(new, render_script(MESH_SCRIPTS / "wg-apply.sh", {
        "WG_INTERFACE": "wg0", "MESH_ADDRESS": f"{address}/16", "LISTEN_PORT": WG_PORT, "MTU": 1420, "PEERS": [],
        "RELAY": False, "PRUNE_SCRIPT": render_script(MESH_SCRIPTS / "wg-prune.sh", {"WG_INTERFACE": "wg0"})}))
    out = run(new, sync(new, STATIC_CONFIGMAP=registry.STATIC_CONFIGMAP))
    assert "2 dynamic peers" in out
    new_key = new.run("wg show wg0 public-key").stdout.strip()

    # Within a sync period every static node has it as a peer, both ways.
    deadline = time.monotonic() + 10
    while not all(new_key in peers(h) for h in static) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert all(new_key in peers(h) for h in static)
    assert all(ping_eventually(h, address) for h in static)
    assert all(ping_eventually(new, ips[h.name]) for h in static)

    # A second server cannot take a held address: it gets the other slot,
    # a third finds none.
    other = register(static[1], "dev-burst-bbbb", state="/run/other-state")
    assert other != address and other in SLOTS
    third = static[1].run(["bash", "-c", render_script(registry.SCRIPTS / "mesh-register.sh", {
        **common, "NODE_NAME": "dev-burst-cccc", "NODE_GROUP": "burst", "SLOTS": SLOTS,
        "PEER_LABEL": registry.PEER_LABEL, "LEASE_SECONDS": 60, "PUBLIC_ADDRESS": "192.0.2.9",
        "STATE_DIR": "/run/third-state"})], check=False)
    assert third.returncode != 0 and "all 2 autoscaled slots" in third.stderr
    run(static[1], f"{kubectl} -n {registry.NAMESPACE} delete lease mesh-{other.replace('.', '-')}")

    # `pulumi up` changing the static mesh (here its MTU) keeps the dynamic peer.
    wg_apply = program.named(f"lab-mesh-{static[0].name}-wg-apply").script("create")
    run(static[0], wg_apply.replace("export MTU=", "export MTU=1300 #", 1))
    assert new_key in peers(static[0]) and ping_eventually(static[0], address)

    # Renewal keeps it; a graceful leave (shutdown) drops it at the next sync.
    register(new, "dev-burst-aaaa")
    run(new, render_script(registry.SCRIPTS / "mesh-leave.sh", {**common, "NODE_NAME": "dev-burst-aaaa",
                                                                 "STATE_DIR": "/run/sovereign-mesh-state"}))
    deadline = time.monotonic() + 10
    while any(new_key in peers(h) for h in static) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(new_key in peers(h) for h in static)

    # It registers again (same name: same first choice), then the server is
    # deleted without a shutdown: its Lease expires and the peer goes.
    assert register(new, "dev-burst-aaaa") == address
    deadline = time.monotonic() + 10
    while not all(new_key in peers(h) for h in static) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert all(new_key in peers(h) for h in static)
    lab.kill(new)
    deadline = time.monotonic() + LEASE_SECONDS + 10
    while any(new_key in peers(h) for h in static) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(new_key in peers(h) for h in static)
    assert ping_eventually(static[0], ips[static[1].name])  # the static mesh is untouched

    # The agent's delete path stops it and drops what it added.
    for host in static:
        assert "mesh agent removed" in run(host, registry.agent_remove_script(), env=AGENT_ENV)
