"""Rolling upgrades (components/cluster/upgrade): which version changes are
allowed, the order of the per-node commands under mocks, and the scripts
themselves in a sandbox with stand-in kubectl, k3s, kubeadm and systemctl."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.cluster.upgrade import change_problem, version_change_issues
from components.remote.script import render_script
from stacks.plan.runtime import urn_name
from tests.stack_runner import example_spec, run_spec

from .cluster_support import deps, param
from .test_k3s_cluster import AGENTS, SERVERS, with_agents

UPGRADE = Path(__file__).resolve().parents[2] / "components" / "cluster" / "upgrade" / "scripts"
K3S_INSTALL = UPGRADE.parents[1] / "k3s" / "scripts" / "k3s-install.sh"
FAKE_API = Path(__file__).with_name("fake_cluster_api.py")


# -- which changes -------------------------------------------------------------

@pytest.mark.parametrize("deployed, wanted", [
    ("1.31.4", "1.31.4"), ("1.31.4", "1.31.9"), ("1.31.4", "1.32.0"), ("v1.31.4+k3s1", "v1.31.4+k3s2"),
    ("v1.31.9+k3s1", "v1.32.1+k3s1"), ("1.31.4-1.1", "1.32.1"),
])
def test_one_minor_version_at_a_time_is_allowed(deployed, wanted):
    assert change_problem(deployed, wanted) is None
    assert version_change_issues(deployed, wanted) == []


def test_skipping_a_minor_version_is_refused_with_the_intermediate_release_as_fix():
    [issue] = version_change_issues("1.31.4", "1.33.0")
    assert issue.path == "version"
    assert "skips minor version 1.32" in issue.message
    assert "latest 1.32.x first" in issue.fix


@pytest.mark.parametrize("wanted", ["1.30.9", "1.31.3", "v1.31.4+k3s0"])
def test_a_downgrade_is_refused(wanted):
    [issue] = version_change_issues("v1.31.4+k3s1", wanted)
    assert "cannot be downgraded" in issue.message and "set version back to v1.31.4+k3s1" in issue.fix


def test_nothing_to_check_on_a_stack_never_deployed():
    assert version_change_issues(None, "1.33.0") == []


# -- the order, under mocks ----------------------------------------------------

def chain(run, prefix: str, nodes: list[str]) -> None:
    """Each node: drain -> upgrade -> uncordon, the next node's drain after it."""
    previous = None
    for node in nodes:
        drain, upgrade, uncordon = (run.named(f"{prefix}-{node}-upgrade{s}") for s in ("-drain", "", "-uncordon"))
        if previous is not None:
            assert previous in deps(run, drain), (node, deps(run, drain))
        steps = lambda r: {d for d in deps(run, r) if "-upgrade" in d}  # noqa: E731 (besides machines, keys)
        assert steps(upgrade) == {drain.name} and steps(uncordon) == {upgrade.name}
        previous = uncordon.name


@pytest.fixture(scope="module")
def k3s_run():
    return run_spec(with_agents(), stack="budget")


def test_k3s_upgrades_servers_one_at_a_time_then_agents(k3s_run):
    chain(k3s_run, "budget", SERVERS + AGENTS)
    first = k3s_run.named("budget-vps-1-upgrade-drain")
    assert not any(d.endswith("-upgrade-uncordon") for d in deps(k3s_run, first))


def test_k3s_drain_and_uncordon_run_on_the_first_server_the_upgrade_on_the_node(k3s_run):
    hosts = {n: k3s_run.named(f"budget-{n}-k3s-install").inputs["connection"]["host"] for n in SERVERS + AGENTS}
    assert len(set(hosts.values())) == len(hosts)
    for node in SERVERS + AGENTS:
        for step in ("drain", "uncordon"):
            cmd = k3s_run.named(f"budget-{node}-upgrade-{step}")
            assert cmd.inputs["connection"]["host"] == hosts["vps-1"]
            assert param(cmd.script("create"), "STEP") == step
            assert param(cmd.script("create"), "TARGET_VERSION") == "v1.31.4+k3s1"
            assert param(cmd.script("update"), "NODE_NAME") == node
        upgrade = k3s_run.named(f"budget-{node}-upgrade")
        assert upgrade.inputs["connection"]["host"] == hosts[node]
        script = upgrade.script("update")
        assert param(script, "K3S_ROLE") == ("server" if node in SERVERS else "agent")
        assert param(param(script, "INSTALL_SCRIPT"), "UPGRADE") == "true"
        assert "delete" not in upgrade.inputs  # a node leaving is its member's business


def test_k3s_every_install_waits_for_its_own_upgrade(k3s_run):
    for node in SERVERS + AGENTS:
        install = k3s_run.named(f"budget-{node}-k3s-install")
        assert f"budget-{node}-upgrade-uncordon" in deps(k3s_run, install)
        assert "export UPGRADE=" not in install.script("create")  # it still refuses a version change


def test_a_version_change_changes_every_upgrade_command():
    spec = with_agents()
    spec["version"] = "v1.32.1+k3s1"
    run = run_spec(spec, stack="budget")
    for node in SERVERS + AGENTS:
        assert param(run.named(f"budget-{node}-upgrade-drain").script("update"), "TARGET_VERSION") == "v1.32.1+k3s1"
        assert param(run.named(f"budget-{node}-upgrade").script("update"), "K3S_VERSION") == "v1.32.1+k3s1"


@pytest.fixture(scope="module")
def kubeadm_run():
    return run_spec(example_spec("prod"), stack="prod")


def test_kubeadm_upgrades_the_first_control_plane_with_apply_the_others_with_node(kubeadm_run):
    upgrades = [r for r in kubeadm_run.resources if r.name.endswith("-upgrade")]
    roles = {urn_name(r.urn).removeprefix("prod-").removesuffix("-upgrade"): param(r.script("create"), "ROLE")
             for r in upgrades}
    assert list(roles.values()).count("first") == 1
    first = next(n for n, role in roles.items() if role == "first")
    control_planes = [n for n, role in roles.items() if role == "control-plane"]
    workers = [n for n, role in roles.items() if role == "worker"]
    assert control_planes and workers
    # No etcd-only node is a Kubernetes node to upgrade.
    assert not any(n.startswith("etcd-") for n in roles)
    order = [first, *control_planes, *workers]
    chain(kubeadm_run, "prod", order)
    script = kubeadm_run.named(f"prod-{first}-upgrade").script("create")
    assert param(script, "EXTERNAL_ETCD") == "true"
    assert param(param(script, "PACKAGES_SCRIPT"), "UPGRADE") == "true"
    assert param(kubeadm_run.named(f"prod-{first}-upgrade-drain").script("create"), "TARGET_VERSION") == "v1.31.4"
    for node in order:
        assert f"prod-{node}-upgrade-uncordon" in deps(kubeadm_run, kubeadm_run.named(f"prod-{node}-k8s-packages"))


# -- upgrade-kubectl.sh (drain / uncordon) against a stand-in API ----------------

@pytest.fixture
def api(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f"#!{sys.executable}\nimport runpy; runpy.run_path({str(FAKE_API)!r}, run_name='__main__')\n")
    kubectl.chmod(0o755)
    state, log, kubeconfig = tmp_path / "cluster.json", tmp_path / "log", tmp_path / "admin.conf"
    log.touch()
    kubeconfig.write_text("apiVersion: v1\n")
    state.write_text(json.dumps({"nodes": {
        "cp-1": {"version": "v1.31.4", "control_plane": True},
        "cp-2": {"version": "v1.31.4", "control_plane": True},
        "w-1": {"version": "v1.31.4"},
    }}))
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_CLUSTER": str(state),
           "FAKE_LOG": str(log)}

    class Api:
        def step(self, step: str, node: str, target: str, **extra) -> subprocess.CompletedProcess:
            script = render_script(UPGRADE / "upgrade-kubectl.sh", {
                "STEP": step, "NODE_NAME": node, "TARGET_VERSION": target, "KUBECONFIG": kubeconfig,
                "CONTROL_PLANE": node.startswith("cp-"), "WAIT_SECONDS": 1, **extra})
            return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)

        def nodes(self) -> dict:
            return json.loads(state.read_text())["nodes"]

        def set(self, node: str, **values) -> None:
            data = json.loads(state.read_text())
            data["nodes"][node].update(values)
            state.write_text(json.dumps(data))

        def calls(self) -> list[str]:
            return log.read_text().splitlines()

    return Api()


def mutations(calls: list[str]) -> list[str]:
    return [c for c in calls if c.split()[1] in ("cordon", "uncordon", "drain", "annotate")]


def test_drain_refuses_a_skipped_minor_version_before_changing_anything(api):
    out = api.step("drain", "cp-1", "v1.33.0")
    assert out.returncode == 1
    assert "skips minor version 1.32" in out.stderr and "Nothing was changed" in out.stderr
    assert mutations(api.calls()) == []


def test_drain_refuses_a_downgrade_before_changing_anything(api):
    out = api.step("drain", "w-1", "v1.30.9")
    assert out.returncode == 1 and "cannot be downgraded" in out.stderr
    assert mutations(api.calls()) == []


def test_drain_cordons_records_and_drains_respecting_disruption_budgets(api):
    out = api.step("drain", "w-1", "v1.32.0", DRAIN_TIMEOUT_SECONDS=120)
    assert out.returncode == 0, out.stderr
    node = api.nodes()["w-1"]
    assert node["unschedulable"] is True
    assert node["annotations"] == {"sovereign.cloud/upgrading": "v1.32.0,cordoned"}
    [drain] = [c for c in api.calls() if c.startswith("kubectl drain")]
    # Evictions (never --disable-eviction, never --force): PodDisruptionBudgets hold.
    assert drain == "kubectl drain w-1 --ignore-daemonsets --delete-emptydir-data --timeout=120s"


def test_a_blocked_drain_puts_the_node_back_in_service_and_fails(api):
    api.set("w-1", drain="blocked")
    out = api.step("drain", "w-1", "v1.32.0")
    assert out.returncode == 1
    assert "the node was put back in service and the upgrade stops here" in out.stderr
    node = api.nodes()["w-1"]
    assert node["unschedulable"] is False and node["annotations"] == {}


def test_a_node_cordoned_by_somebody_else_stays_cordoned(api):
    api.set("w-1", unschedulable=True)
    assert api.step("drain", "w-1", "v1.32.0").returncode == 0
    assert api.nodes()["w-1"]["annotations"] == {"sovereign.cloud/upgrading": "v1.32.0"}
    api.set("w-1", version="v1.32.0")
    assert api.step("uncordon", "w-1", "v1.32.0").returncode == 0
    assert api.nodes()["w-1"]["unschedulable"] is True and api.nodes()["w-1"]["annotations"] == {}


def test_a_control_plane_is_not_drained_while_another_is_not_ready(api):
    api.set("cp-2", ready=False)
    out = api.step("drain", "cp-1", "v1.32.0")
    assert out.returncode == 1 and "cp-2=False" in out.stderr and "quorum" in out.stderr
    assert mutations(api.calls()) == []
    # A worker may still go: its drain does not touch etcd.
    assert api.step("drain", "w-1", "v1.32.0").returncode == 0


def test_uncordon_waits_for_the_node_ready_at_the_new_version(api):
    assert api.step("drain", "w-1", "v1.32.0").returncode == 0
    # Still the old kubelet: not uncordoned, and the chain stops.
    out = api.step("uncordon", "w-1", "v1.32.0")
    assert out.returncode == 1 and "not Ready at v1.32.0 after 1s (now: v1.31.4 True)" in out.stderr
    assert api.nodes()["w-1"]["unschedulable"] is True
    # At the new version but not Ready yet: still waiting.
    api.set("w-1", version="v1.32.0", ready=False)
    assert api.step("uncordon", "w-1", "v1.32.0").returncode == 1
    api.set("w-1", ready=True)
    out = api.step("uncordon", "w-1", "v1.32.0")
    assert out.returncode == 0 and out.stdout.strip() == "w-1: Ready at v1.32.0, uncordoned"
    assert api.nodes()["w-1"]["unschedulable"] is False and api.nodes()["w-1"]["annotations"] == {}


def test_a_node_at_the_target_version_is_left_alone(api):
    for step in ("drain", "uncordon"):
        out = api.step(step, "w-1", "v1.31.4")
        assert out.returncode == 0, out.stderr
    assert mutations(api.calls()) == []


def test_nothing_to_do_for_a_node_not_yet_in_the_cluster_or_without_a_cluster(api, tmp_path):
    for step in ("drain", "uncordon"):
        out = api.step(step, "w-9", "v1.32.0")
        assert out.returncode == 0 and "not in the cluster yet" in out.stdout
        out = api.step(step, "w-1", "v1.32.0", KUBECONFIG=tmp_path / "absent.conf")
        assert out.returncode == 0 and "no cluster on this control plane yet" in out.stdout
    assert mutations(api.calls()) == []


# -- k3s-upgrade.sh on one node ------------------------------------------------------

FAKE_K3S = """#!/usr/bin/env bash
# A stand-in k3s {version}: a server/agent that serves (or, broken, exits at once).
case "$1" in
  --version) echo "k3s version {version} (abcdef12)" ;;
  kubectl) exit 0 ;;
  server | agent) {run} ;;
esac
"""


def fake_k3s(path: Path, version: str, *, healthz: Path, broken: bool = False) -> None:
    run = "exit 1" if broken else f'touch "{healthz}"; exec sleep 600'
    path.write_text(FAKE_K3S.format(version=version, run=run))
    path.chmod(0o755)


@pytest.fixture
def k3s_node(tmp_path):
    """A node without systemd running the stand-in k3s v1.31.4+k3s1 as a
    server; the new release staged as air-gapped artifacts."""
    root = tmp_path
    bin_path, etc, run_dir = root / "bin" / "k3s", root / "etc", root / "run"
    for d in (bin_path.parent, etc, run_dir, root / "log", root / "airgap" / "k3s"):
        d.mkdir(parents=True)
    (etc / "config.yaml").write_text("node-name: cp-1\n")
    healthz = root / "healthz"
    fake_k3s(bin_path, "v1.31.4+k3s1", healthz=healthz)
    server = subprocess.Popen([str(bin_path), "server"])
    (run_dir / "k3s.pid").write_text(str(server.pid))
    deadline = time.monotonic() + 10
    while not healthz.exists() and time.monotonic() < deadline:  # serving
        time.sleep(0.05)
    locations = {"K3S_BIN": bin_path, "K3S_ETC": etc, "K3S_DATA": root / "data", "RUN_DIR": run_dir,
                 "LOG_DIR": root / "log"}

    def upgrade(version: str, *, broken: bool = False) -> subprocess.CompletedProcess:
        staged = root / "airgap" / "k3s" / "k3s"
        fake_k3s(staged, version, healthz=healthz, broken=broken)
        healthz.unlink(missing_ok=True)
        install = render_script(K3S_INSTALL, {"K3S_VERSION": version, "AIRGAP": True,
                                              "ARTIFACTS_DIR": root / "airgap", "UPGRADE": True})
        script = render_script(UPGRADE / "k3s-upgrade.sh", {
            "K3S_VERSION": version, "K3S_ROLE": "server", "INSTALL_SCRIPT": install, "WAIT_SECONDS": 5,
            "HEALTHZ_URL": f"file://{healthz}", **locations})
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)

    def running() -> str:
        pid = (run_dir / "k3s.pid").read_text().strip()
        return subprocess.run(["bash", "-c", f"kill -0 {pid} && {bin_path} --version"], capture_output=True,
                              text=True).stdout.split()[2]

    yield upgrade, running, etc, bin_path
    subprocess.run(["bash", "-c", f"kill $(cat {run_dir}/k3s.pid) 2>/dev/null"], check=False)
    server.kill()
    server.wait()


def test_k3s_node_upgrade_replaces_the_binary_restarts_and_records_the_version(k3s_node):
    upgrade, running, etc, _ = k3s_node
    out = upgrade("v1.32.1+k3s1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "k3s server: upgraded v1.31.4+k3s1 -> v1.32.1+k3s1"
    assert running() == "v1.32.1+k3s1"
    # k3s-node.sh finds the version it writes: no second restart.
    assert (etc / ".sovereign-version").read_text() == "v1.32.1+k3s1\n"
    again = upgrade("v1.32.1+k3s1")
    assert again.returncode == 0 and again.stdout.strip() == "k3s server: already at v1.32.1+k3s1"


def test_k3s_node_refuses_a_skipped_minor_version_before_changing_anything(k3s_node):
    upgrade, running, etc, bin_path = k3s_node
    before = bin_path.read_text()
    out = upgrade("v1.33.0+k3s1")
    assert out.returncode == 1 and "refused" in out.stderr and "Nothing was changed" in out.stderr
    assert bin_path.read_text() == before and running() == "v1.31.4+k3s1"


def test_k3s_node_that_does_not_serve_at_the_new_version_goes_back_to_the_old_one(k3s_node):
    upgrade, running, etc, bin_path = k3s_node
    out = upgrade("v1.32.1+k3s1", broken=True)
    assert out.returncode == 1
    assert "the previous binary was put back, it serves at v1.31.4+k3s1 again" in out.stderr
    assert running() == "v1.31.4+k3s1"
    assert not (etc / ".sovereign-version").exists()


# -- kubeadm-upgrade.sh on one node -------------------------------------------------

@pytest.fixture
def kubeadm_node(tmp_path):
    bin_dir, kube = tmp_path / "bin", tmp_path / "kube"
    bin_dir.mkdir()
    kube.mkdir()
    (kube / "kubelet.conf").write_text("apiVersion: v1\n")
    log = tmp_path / "log"
    log.touch()
    tools = {
        "dpkg-query": 'printf %s "$(cat "$FAKE_KUBELET")"',
        "kubeadm": 'echo "kubeadm $*" >> "$FAKE_LOG"; [ "$FAKE_KUBEADM" != fail ]',
        "systemctl": 'echo "systemctl $*" >> "$FAKE_LOG"',
        "curl": 'exit 0',
    }
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    kubelet = tmp_path / "kubelet-version"
    kubelet.write_text("1.31.4-1.1")
    # The packages step: records what it is asked for (its own tests cover it).
    packages = '#!/usr/bin/env bash\necho "packages ${PACKAGES}" >> "$FAKE_LOG"\n' \
               '[[ "$PACKAGES" != *kubelet* ]] || printf %s "${K8S_VERSION}-1.1" > "$FAKE_KUBELET"\n'

    def upgrade(version: str, role: str, **env) -> subprocess.CompletedProcess:
        script = render_script(UPGRADE / "kubeadm-upgrade.sh", {
            "K8S_VERSION": version, "ROLE": role, "PACKAGES_SCRIPT": packages, "KUBE_DIR": kube,
            "EXTERNAL_ETCD": True, "WAIT_SECONDS": 2})
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env={
            **os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log),
            "FAKE_KUBELET": str(kubelet), "K8S_VERSION": version, **env})

    return upgrade, lambda: log.read_text().splitlines()


def test_kubeadm_first_control_plane_follows_kubeadms_procedure_in_order(kubeadm_node):
    upgrade, calls = kubeadm_node
    out = upgrade("1.32.1", "first")
    assert out.returncode == 0, out.stderr
    assert calls() == [
        "packages kubeadm",
        "kubeadm upgrade apply v1.32.1 --yes --etcd-upgrade=false",
        "packages kubelet kubectl",
        "systemctl daemon-reload",
        "systemctl restart kubelet",
    ]
    assert upgrade("1.32.1", "first").stdout.strip() == "kubeadm first: already at 1.32.1"


def test_kubeadm_other_nodes_run_upgrade_node(kubeadm_node):
    upgrade, calls = kubeadm_node
    assert upgrade("1.31.9", "worker").returncode == 0
    assert "kubeadm upgrade node" in calls() and calls()[0] == "packages kubeadm"


def test_kubeadm_a_failed_upgrade_leaves_the_kubelet_alone(kubeadm_node):
    upgrade, calls = kubeadm_node
    out = upgrade("1.32.1", "first", FAKE_KUBEADM="fail")
    assert out.returncode == 1 and "the kubelet still runs 1.31.4" in out.stderr
    assert calls() == ["packages kubeadm", "kubeadm upgrade apply v1.32.1 --yes --etcd-upgrade=false"]


@pytest.mark.parametrize("version", ["1.33.0", "1.30.2"])
def test_kubeadm_node_refuses_a_skip_or_a_downgrade_before_anything(kubeadm_node, version):
    upgrade, calls = kubeadm_node
    out = upgrade(version, "first")
    assert out.returncode == 1 and "Nothing was changed" in out.stderr
    assert calls() == []


# -- the program: refused at preview against what the stack last deployed -------

def run_after(deployed: str | None, wanted: str):
    from stacks.plan.fake_cloud import FakeCloud
    from stacks.plan.fakes.state import recorded_stack_outputs
    from stacks.plan.runtime import ORGANIZATION
    from tests.stack_runner import PROJECT

    cloud = FakeCloud()
    if deployed is not None:
        recorded_stack_outputs(cloud, f"{ORGANIZATION}/{PROJECT}/budget", {"kubernetesVersion": deployed})
    return run_spec({**example_spec("budget"), "version": wanted}, stack="budget", cloud=cloud)


def test_the_program_refuses_a_skipped_minor_version_before_creating_anything():
    with pytest.raises(Exception) as refused:
        run_after("v1.31.4+k3s1", "v1.33.0+k3s1")
    assert "version: going from v1.31.4+k3s1 to v1.33.0+k3s1 skips minor version 1.32" in str(refused.value)
    assert "(fix: set version to the latest 1.32.x first" in str(refused.value)
    assert not [r for r in refused.value.registered_resources if r.custom]


def test_the_program_records_the_version_it_deploys_and_takes_one_minor_step():
    assert run_after(None, "v1.31.4+k3s1").outputs["kubernetesVersion"] == "v1.31.4+k3s1"
    assert run_after("v1.31.4+k3s1", "v1.32.1+k3s1").outputs["kubernetesVersion"] == "v1.32.1+k3s1"
