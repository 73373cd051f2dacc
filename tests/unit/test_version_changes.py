"""Outside the rolling upgrade a version change is refused on the node: the
install steps run on every node at once, so a new ``version`` would upgrade
agents before servers and kubelets ahead of the API server. Only the rolling
upgrade (components/cluster/upgrade, which runs before them) passes
UPGRADE=true. The scripts run here in a sandbox with stand-in tools."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from components.remote.script import render_script

ROOT = Path(__file__).resolve().parents[2] / "components" / "cluster"


def run_bash(text: str, env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", text], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)


@pytest.fixture
def sandbox(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log"
    log.touch()
    # Anything that would download or install records itself and fails.
    for name in ("curl", "apt-get", "apt-mark", "dpkg", "systemctl", "install"):
        tool(bin_dir, name, f'echo "{name} $*" >> "$FAKE_LOG"; exit 1\n')
    return tmp_path, {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log)}, log


# -- K3s ------------------------------------------------------------------------

def k3s_node(tmp_path: Path, *, running: str, configured: bool) -> dict:
    k3s = tmp_path / "usr-local-bin" / "k3s"
    k3s.parent.mkdir()
    k3s.write_text(f'#!/usr/bin/env bash\necho "k3s version {running} (abcdef12)"\necho "go version go1.22"\n')
    k3s.chmod(0o755)
    etc = tmp_path / "etc-rancher-k3s"
    etc.mkdir()
    if configured:
        (etc / "config.yaml").write_text("node-name: vps-1\n")
    return {"K3S_BIN": str(k3s), "K3S_ETC": str(etc), "K3S_DATA": str(tmp_path / "var-lib-k3s")}


def k3s_install(env: dict, version: str, **params) -> subprocess.CompletedProcess:
    return run_bash(render_script(ROOT / "k3s/scripts/k3s-install.sh", {"K3S_VERSION": version, **params}), env)


def test_k3s_node_of_the_cluster_refuses_another_version_before_touching_anything(sandbox):
    tmp_path, env, log = sandbox
    paths = k3s_node(tmp_path, running="v1.31.4+k3s1", configured=True)
    before = Path(paths["K3S_BIN"]).read_text()
    out = k3s_install({**env, **paths}, "v1.32.1+k3s1")
    assert out.returncode == 1
    assert "this node runs v1.31.4+k3s1 and cluster.version asks for v1.32.1+k3s1" in out.stderr
    assert "set cluster.version back to v1.31.4+k3s1" in out.stderr.lower()
    assert "components/cluster/upgrade/README.md" in out.stderr
    assert log.read_text() == "" and Path(paths["K3S_BIN"]).read_text() == before


def test_k3s_the_rolling_upgrade_may_replace_the_binary_of_a_node_of_the_cluster(sandbox):
    tmp_path, env, log = sandbox
    paths = k3s_node(tmp_path, running="v1.31.4+k3s1", configured=True)
    out = k3s_install({**env, **paths}, "v1.32.1+k3s1", UPGRADE=True)
    assert "refusing" not in out.stderr
    assert "v1.32.1%2Bk3s1/k3s" in log.read_text()  # the download of the new release started


def test_k3s_same_version_changes_nothing(sandbox):
    tmp_path, env, log = sandbox
    paths = k3s_node(tmp_path, running="v1.31.4+k3s1", configured=True)
    out = k3s_install({**env, **paths}, "v1.31.4+k3s1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "k3s v1.31.4+k3s1 installed (changed=false)" and log.read_text() == ""


def test_k3s_a_node_not_yet_in_the_cluster_still_gets_the_version_of_the_spec(sandbox):
    """A binary left by an earlier attempt, never configured: replaced."""
    tmp_path, env, log = sandbox
    paths = k3s_node(tmp_path, running="v1.30.0+k3s1", configured=False)
    out = k3s_install({**env, **paths}, "v1.31.4+k3s1")
    assert "refusing" not in out.stderr
    assert "curl -fsSL --retry 5" in log.read_text()  # the download started (and the stand-in failed)


# -- kubeadm --------------------------------------------------------------------

def kubeadm_node(tmp_path: Path, *, kubelet: str, joined: bool) -> dict:
    bin_dir = tmp_path / "bin"
    tool(bin_dir, "dpkg-query", f'[ "${{*: -1}}" = kubelet ] && printf %s "{kubelet}"\n')
    kube = tmp_path / "etc-kubernetes"
    kube.mkdir()
    if joined:
        (kube / "kubelet.conf").write_text("apiVersion: v1\n")
    systemd = tmp_path / "run-systemd-system"
    systemd.mkdir()
    return {"KUBE_DIR": str(kube), "SYSTEMD_DIR": str(systemd), "APT_ETC": str(tmp_path / "etc-apt")}


def packages(env: dict, version: str, **params) -> subprocess.CompletedProcess:
    major, minor, _ = version.split(".")
    return run_bash(render_script(ROOT / "kubeadm/scripts/kubeadm-packages.sh",
                                  {"K8S_VERSION": version, "K8S_MINOR": f"v{major}.{minor}", **params}), env)


def test_joined_kubeadm_node_refuses_another_version_before_touching_anything(sandbox):
    tmp_path, env, log = sandbox
    paths = kubeadm_node(tmp_path, kubelet="1.31.4-1.1", joined=True)
    out = packages({**env, **paths}, "1.32.1")
    assert out.returncode == 1
    assert "this node runs kubelet 1.31.4-1.1 and cluster.version asks for 1.32.1-1.1" in out.stderr
    assert "Set cluster.version back to 1.31.4" in out.stderr
    assert "components/cluster/upgrade/README.md" in out.stderr
    assert log.read_text() == ""  # no apt, no hold change, no restart


def test_joined_kubeadm_node_upgrades_only_the_packages_the_rolling_upgrade_asks_for(sandbox):
    tmp_path, env, log = sandbox
    paths = kubeadm_node(tmp_path, kubelet="1.31.4-1.1", joined=True)
    # pkgs.k8s.io answers; apt records what it is asked to install.
    tool(tmp_path / "bin", "curl", 'echo "-----BEGIN PGP PUBLIC KEY BLOCK-----"\n')
    for name in ("apt-get", "apt-mark"):
        tool(tmp_path / "bin", name, f'echo "{name} $*" >> "$FAKE_LOG"\n')
    out = packages({**env, **paths}, "1.32.1", UPGRADE=True, PACKAGES="kubeadm")
    assert "refusing" not in out.stderr
    installs = [line for line in log.read_text().splitlines() if line.startswith("apt-get install")]
    assert installs and installs[-1].endswith("containerd kubeadm=1.32.1-1.1"), installs
    assert (Path(paths["APT_ETC"]) / "sources.list.d/kubernetes.list").read_text().strip().endswith(
        "core:/stable:/v1.32/deb/ /")
    # The stand-in dpkg still reports no kubeadm 1.32.1: the script says so rather than going on.
    assert out.returncode == 1 and "kubeadm 1.32.1-1.1 is not installed" in out.stderr


def test_a_fresh_kubeadm_node_installs_the_version_of_the_spec(sandbox):
    """Older packages on a machine that never joined: installed over."""
    tmp_path, env, log = sandbox
    paths = kubeadm_node(tmp_path, kubelet="1.30.2-1.1", joined=False)
    out = packages({**env, **paths}, "1.31.4")
    assert "refusing" not in out.stderr
    # On its way to pkgs.k8s.io (the stand-in tools fail there).
    assert any(step in log.read_text() for step in ("curl", "apt-get"))


# -- etcd (when a version is pinned) --------------------------------------------

def test_an_etcd_member_with_data_refuses_another_pinned_version(sandbox):
    import base64

    tmp_path, env, log = sandbox
    bin_dir = tmp_path / "bin"
    tool(bin_dir, "dpkg-query", 'printf %s "3.4.30-1"\n')
    for name in ("etcd", "etcdctl"):
        tool(bin_dir, name, 'echo "$0 $*" >> "$FAKE_LOG"\n')
    data = tmp_path / "data"
    (data / "member").mkdir(parents=True)
    script = render_script(ROOT / "etcd/scripts/etcd-member.sh", {
        "ETCD_NAME": "etcd-a", "MESH_IP": "10.42.1.1", "CLUSTER": ["etcd-a 10.42.1.1"],
        "INITIAL_CLUSTER_TOKEN": "t", "DATA_DIR": data, "ETCD_CONFIG": "name: etcd-a", "ETCD_VERSION": "3.5.16"})
    stdin = "".join(f"{k}={base64.b64encode(b'x').decode()}\n"
                    for k in ("CA", "SERVER_CERT", "SERVER_KEY", "PEER_CERT", "PEER_KEY", "CLIENT_CERT", "CLIENT_KEY"))
    conf = tmp_path / "etc-etcd"
    out = run_bash(script, {**env, "CONF_DIR": str(conf)}, stdin=stdin)
    assert out.returncode == 1
    assert "runs etcd-server 3.4.30-1 and the version asked is 3.5.16" in out.stderr
    assert not conf.exists() and log.read_text() == ""
