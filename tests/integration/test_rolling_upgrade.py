"""The rolling upgrade's commands over SSH on real test hosts, in the order
Pulumi resolves them (the chain of ``rolling_upgrade`` under mocks whose
``command:remote:Command`` runs its script on the host).

Real: the hosts (network namespaces, sshd, a non-root user with sudo), the
SSH sessions, ``as_root``, the scripts upgrade-kubectl.sh, k3s-upgrade.sh
and the air-gapped path of k3s-install.sh, process restarts without
systemd, the rollback. Stand-ins: K3s itself (not installable offline) is a
small script that reports its version and, started, marks its node Ready at
that version in a shared JSON "API"; kubectl is tests/unit/fake_cluster_api.py
over that JSON, which records every call.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pulumi
import pytest

from components.compute.node import Node, SshConnection
from components.cluster.upgrade import rolling_upgrade
from components.cluster.upgrade.chain import SCRIPTS
from components.remote.script import render_script
from stacks.plan.fake_cloud import FakeCloud
from tests.stack_runner import run_components
from tests.testhosts.remote import run_remote_command

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FAKE_API = ROOT / "tests" / "unit" / "fake_cluster_api.py"
K3S_INSTALL = ROOT / "components" / "cluster" / "k3s" / "scripts" / "k3s-install.sh"
OLD, NEW = "v1.31.4+k3s1", "v1.32.1+k3s1"

# A stand-in K3s: started, it marks its node Ready at its version (or, broken, exits).
FAKE_K3S = """#!/usr/bin/env bash
case "$1" in
  --version) echo "k3s version {version} (abcdef12)" ;;
  kubectl) exit 0 ;;
  server | agent)
    {broken}
    python3 - <<'PY'
import fcntl, json
with open("{cluster}", "r+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    state = json.load(f)
    state["nodes"]["{node}"].update(version="{version}", ready=True)
    f.seek(0); f.truncate(); json.dump(state, f)
PY
    echo "$(date +%s.%N) {node} {version}" >> "{starts}"
    # Healthy while it runs: the health endpoint goes with the process.
    sleep 3600 &
    trap 'rm -f "{healthz}"; kill $!; exit 0' TERM
    touch "{healthz}"
    wait ;;
esac
"""


class UpgradeLab:
    def __init__(self, lab, workdir: Path, roles: list[str]):
        self.lab, self.workdir = lab, workdir
        self.cluster, self.log, self.starts = workdir / "cluster.json", workdir / "api.log", workdir / "starts"
        self.log.touch()
        self.starts.touch()
        self.kubeconfig = workdir / "admin.conf"
        self.kubeconfig.write_text("apiVersion: v1\n")
        self.hosts = lab.hosts
        self.roles = dict(zip([h.name for h in self.hosts], roles))
        self.cluster.write_text(json.dumps({"nodes": {
            h.name: {"version": OLD, "ready": True, "control_plane": self.roles[h.name] == "server"}
            for h in self.hosts}}))
        for h in self.hosts:
            for d in ("bin", "etc", "run", "log", "airgap/k3s"):
                (self.dir(h) / d).mkdir(parents=True)
            (self.dir(h) / "etc" / "config.yaml").write_text(f"node-name: {h.name}\n")
            self.binary(h, self.dir(h) / "bin" / "k3s", OLD)
            self.stage(h, NEW)
            self.start(h)

    def dir(self, host) -> Path:
        return self.workdir / host.name

    def binary(self, host, path: Path, version: str, broken: bool = False) -> None:
        path.write_text(FAKE_K3S.format(version=version, node=host.name, cluster=self.cluster, starts=self.starts,
                                        healthz=self.dir(host) / "healthz", broken="exit 1" if broken else ""))
        path.chmod(0o755)

    def stage(self, host, version: str, broken: bool = False) -> None:
        """The release put under the host's air-gap artifacts directory."""
        self.binary(host, self.dir(host) / "airgap" / "k3s" / "k3s", version, broken)

    def start(self, host) -> None:
        d = self.dir(host)
        script = (f"nohup {d}/bin/k3s {self.roles[host.name]} >> {d}/log/k3s.log 2>&1 & "
                  f"echo $! > {d}/run/{'k3s' if self.roles[host.name] == 'server' else 'k3s-agent'}.pid")
        host.run(["bash", "-c", script])

    def running(self, host) -> str:
        """The version of the K3s process the host's pid file names, if it runs."""
        d, service = self.dir(host), "k3s" if self.roles[host.name] == "server" else "k3s-agent"
        out = host.run(["bash", "-c", f"kill -0 $(cat {d}/run/{service}.pid) && {d}/bin/k3s --version"],
                       check=False)
        return out.stdout.split()[2] if out.returncode == 0 else "not running"

    def nodes(self) -> dict:
        return json.loads(self.cluster.read_text())["nodes"]

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def program(self, target: str):
        hosts, roles = self.hosts, self.roles
        kubectl = f"env FAKE_CLUSTER={self.cluster} FAKE_LOG={self.log} {sys.executable} {FAKE_API}"

        def node_script(node: Node) -> str:
            d = self.workdir / node.name
            install = render_script(K3S_INSTALL, {"K3S_VERSION": target, "AIRGAP": True,
                                                  "ARTIFACTS_DIR": d / "airgap", "UPGRADE": True})
            return render_script(SCRIPTS / "k3s-upgrade.sh", {
                "K3S_VERSION": target, "K3S_ROLE": roles[node.name], "INSTALL_SCRIPT": install,
                "WAIT_SECONDS": 10, "HEALTHZ_URL": f"file://{d}/healthz", "K3S_BIN": d / "bin" / "k3s",
                "K3S_ETC": d / "etc", "K3S_DATA": d / "data", "RUN_DIR": d / "run", "LOG_DIR": d / "log"})

        def build():
            nodes = []
            for i, h in enumerate(hosts):
                conn = h.connection()
                ssh = SshConnection(host=conn["host"], user=conn["user"], port=conn["port"],
                                    private_key=pulumi.Output.secret(conn["privateKey"]), host_key=conn["hostKey"])
                nodes.append(Node(name=h.name, group="lab", provider="existing", region="lab", instance_type="-",
                                  roles=("control-plane",) if roles[h.name] == "server" else ("worker",),
                                  mesh_ip=f"10.42.1.{i + 1}", public_address=pulumi.Output.from_input(conn["host"]),
                                  ssh=ssh))
            rolling_upgrade("lab", nodes[0], nodes, target=target, node_script=node_script, kubectl=kubectl,
                            kubeconfig=str(self.kubeconfig), after={}, parent=None)

        return build

    def upgrade(self, target: str = NEW):
        return run_components(self.program(target), stack="lab", cloud=FakeCloud(command_handler=run_remote_command))


@pytest.fixture
def upgrade_lab(lab_factory, tmp_path):
    lab = lab_factory(4)
    ulab = UpgradeLab(lab, tmp_path, ["server", "server", "agent", "agent"])
    yield ulab
    for h in ulab.hosts:  # the stand-in K3s processes (sleep) of every host
        h.run(["bash", "-c", f"for f in {ulab.dir(h)}/run/*.pid; do kill $(cat $f) 2>/dev/null; done"], check=False)


def per_node(calls: list[str]) -> list[tuple[str, str]]:
    """(verb, node) of every call that changes a node, in order."""
    changes = []
    for call in calls:
        words = call.split()
        if words[1] in ("cordon", "uncordon", "drain"):
            changes.append((words[1], words[2]))
    return changes


def test_one_node_at_a_time_servers_first_drained_and_uncordoned(upgrade_lab):
    start = time.time()
    upgrade_lab.upgrade()
    elapsed = time.time() - start
    names = [h.name for h in upgrade_lab.hosts]
    assert per_node(upgrade_lab.calls()) == [
        step for name in names for step in (("cordon", name), ("drain", name), ("uncordon", name))]
    # Each node restarted at the new version after the one before it was Ready again.
    starts = [line.split()[1:] for line in upgrade_lab.starts.read_text().splitlines()]
    assert starts[len(names):] == [[name, NEW] for name in names]
    for h in upgrade_lab.hosts:
        assert upgrade_lab.running(h) == NEW
        assert (upgrade_lab.dir(h) / "etc" / ".sovereign-version").read_text() == f"{NEW}\n"
    assert all(n["version"] == NEW and not n.get("unschedulable") and not n.get("annotations")
               for n in upgrade_lab.nodes().values())
    print(f"4 nodes upgraded one at a time over SSH in {elapsed:.1f}s")

    # A re-run changes nothing: every step finds the node at the new version.
    before, calls = len(upgrade_lab.starts.read_text().splitlines()), len(upgrade_lab.calls())
    upgrade_lab.upgrade()
    assert len(upgrade_lab.starts.read_text().splitlines()) == before
    assert per_node(upgrade_lab.calls()[calls:]) == []


def test_the_first_failure_stops_the_chain_with_the_cluster_serving_and_a_rerun_converges(upgrade_lab):
    h0, h1, h2, h3 = upgrade_lab.hosts
    upgrade_lab.stage(h2, NEW, broken=True)  # the new release does not start on the first agent
    with pytest.raises(Exception) as failed:
        upgrade_lab.upgrade()
    assert "previous binary was put back, it serves at v1.31.4+k3s1 again" in str(failed.value)
    # Servers upgraded, the failing agent back at its old version (cordoned:
    # its uncordon step did not run), the last agent never touched.
    assert [upgrade_lab.running(h) for h in (h0, h1, h2, h3)] == [NEW, NEW, OLD, OLD]
    nodes = upgrade_lab.nodes()
    assert nodes[h2.name]["unschedulable"] is True and nodes[h2.name]["version"] == OLD
    assert not any(h3.name in call for call in upgrade_lab.calls())
    assert not nodes[h3.name].get("unschedulable") and nodes[h3.name]["ready"]

    # The release fixed, the same upgrade again: done where it stopped.
    upgrade_lab.stage(h2, NEW)
    upgrade_lab.upgrade()
    assert [upgrade_lab.running(h) for h in upgrade_lab.hosts] == [NEW] * 4
    assert not any(n.get("unschedulable") or n.get("annotations") for n in upgrade_lab.nodes().values())


def test_a_skipped_minor_version_is_refused_before_any_node_changes(upgrade_lab):
    with pytest.raises(Exception) as failed:
        upgrade_lab.upgrade("v1.33.0+k3s1")
    assert "skips minor version 1.32" in str(failed.value)
    assert per_node(upgrade_lab.calls()) == []
    assert [upgrade_lab.running(h) for h in upgrade_lab.hosts] == [OLD] * 4
