"""kubeadm-packages.sh on a minimal image (issue 11, item 9): the
pkgs.k8s.io key is stored ASCII-armored (``.asc``, which apt >= 1.4 reads
itself), so the script needs no ``gpg --dearmor`` and no gnupg package,
which minimal Debian/Ubuntu images do not have. Run in a sandbox where
``gpg`` is absent (a stand-in that fails as a missing command would)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from components.remote.script import render_script

SCRIPT = Path(__file__).resolve().parents[2] / "components" / "cluster" / "kubeadm" / "scripts" / "kubeadm-packages.sh"
ARMORED_KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGMHoXcBEADUKEY\n-----END PGP PUBLIC KEY BLOCK-----"


def _tool(bin_dir: Path, name: str, body: str) -> None:
    (bin_dir / name).write_text("#!/usr/bin/env bash\n" + body)
    (bin_dir / name).chmod(0o755)


def run_packages(tmp_path: Path, *, key: str = ARMORED_KEY) -> tuple[subprocess.CompletedProcess, str, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log"
    log.touch()
    _tool(bin_dir, "gpg", 'echo "gpg $*" >> "$FAKE_LOG"; echo "gpg: command not found" >&2; exit 127\n')
    _tool(bin_dir, "curl", f'echo "curl $*" >> "$FAKE_LOG"; printf "%s\\n" "{key}"\n')
    _tool(bin_dir, "apt-get", 'echo "apt-get $*" >> "$FAKE_LOG"\n')
    _tool(bin_dir, "apt-mark", 'echo "apt-mark $*" >> "$FAKE_LOG"\n')
    _tool(bin_dir, "dpkg-query", "exit 1\n")  # nothing installed yet
    (tmp_path / "systemd").mkdir()
    apt = tmp_path / "etc-apt"
    script = render_script(SCRIPT, {"K8S_VERSION": "1.31.4", "K8S_MINOR": "v1.31"})
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env={
        **os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log),
        "KUBE_DIR": str(tmp_path / "etc-kubernetes"), "APT_ETC": str(apt), "SYSTEMD_DIR": str(tmp_path / "systemd")})
    return out, log.read_text(), apt


def test_the_repository_key_is_kept_armored_without_gnupg(tmp_path):
    out, log, apt = run_packages(tmp_path)
    assert "gpg" not in log.replace("kubernetes-apt-keyring", "")
    keyring = apt / "keyrings" / "kubernetes-apt-keyring.asc"
    assert keyring.read_text() == ARMORED_KEY + "\n"
    assert oct(keyring.stat().st_mode & 0o777) == "0o644"  # apt reads it as _apt
    assert (apt / "sources.list.d" / "kubernetes.list").read_text() == (
        f"deb [signed-by={keyring}] https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /\n")
    assert "apt-get install -y -qq --allow-downgrades containerd kubelet=1.31.4-1.1 kubeadm=1.31.4-1.1" in log
    # (The stand-in apt installs nothing, so the script stops at its check.)
    assert out.returncode == 1 and "kubelet 1.31.4-1.1 is not installed" in out.stderr


def test_a_download_that_is_not_a_key_is_refused(tmp_path):
    out, log, apt = run_packages(tmp_path, key="<html>captive portal</html>")
    assert out.returncode == 1 and "Release.key is not an ASCII-armored OpenPGP key" in out.stderr
    assert not (apt / "sources.list.d" / "kubernetes.list").exists()
