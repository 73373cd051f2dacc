"""kubeadm join credentials on the first control plane (kubeadm-join-credentials.sh,
the refresher kubeadm-join-refresh.sh it installs, kubeadm-member.sh clearing
a pending join), run for real against stub kubeadm, kubectl and systemctl.

The stub cluster keeps the bootstrap token's expiration in a file, as the
token's Secret keeps it; "time passing" is that expiration moved."""

from __future__ import annotations

import base64
import datetime
import os
import subprocess
from pathlib import Path

import pytest

from components.cluster.kubeadm.config import JOIN_MIN_VALID_SECONDS, JOIN_REFRESH_SECONDS, TOKEN_TTL_SECONDS
from components.remote.script import render_script

SCRIPTS = Path(__file__).resolve().parents[2] / "components" / "cluster" / "kubeadm" / "scripts"
TOKEN = "abcdef.0123456789abcdef"
UNIT = "sovereign-kubeadm-join-refresh"

FAKE_KUBECTL = r"""#!/usr/bin/env bash
echo "kubectl $*" >> "$FAKE_LOG"
[ ! -f "$FAKE_DIR/api-down" ] || { echo "connection refused" >&2; exit 1; }
case "$*" in
  *"get secret bootstrap-token-"*)
    name="$(printf '%s\n' "$@" | grep '^bootstrap-token-')"
    [ -f "$FAKE_DIR/token-expiration" ] || exit 0
    printf '%s %s' "$name" "$(printf '%s' "$(cat "$FAKE_DIR/token-expiration")" | base64 -w0)" ;;
  *"patch secret bootstrap-token-"*)
    printf '%s\n' "$@" | sed -n 's/.*"expiration":"\([^"]*\)".*/\1/p' > "$FAKE_DIR/token-expiration" ;;
  *"get node "*)
    [ -f "$FAKE_DIR/node-${*: -1}" ] ;;
esac
"""

FAKE_KUBEADM = r"""#!/usr/bin/env bash
echo "kubeadm $*" >> "$FAKE_LOG"
case "$1 $2" in
  "token create")
    [ ! -f "$FAKE_DIR/token-expiration" ] || { echo "token already exists" >&2; exit 1; }
    ttl="${5%s}"
    date -u -d "@$(( $(date +%s) + ttl ))" +%Y-%m-%dT%H:%M:%SZ > "$FAKE_DIR/token-expiration" ;;
  "token delete") rm -f "$FAKE_DIR/token-expiration" ;;
esac
"""

FAKE_SYSTEMCTL = r"""#!/usr/bin/env bash
echo "systemctl $*" >> "$FAKE_LOG"
case "$*" in
  *is-active*) [ -f "$FAKE_DIR/timer-active" ] ;;
  *disable*) rm -f "$FAKE_DIR/timer-active" ;;
  *"enable --now"* | *restart*) touch "$FAKE_DIR/timer-active" ;;
esac
"""


class Lab:
    """The first control plane's state directory, units and stub tools."""

    def __init__(self, tmp_path: Path):
        self.dir = tmp_path
        self.state = tmp_path / "state"
        self.units = tmp_path / "units"
        self.log = tmp_path / "log"
        self.log.touch()
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name, text in (("kubectl", FAKE_KUBECTL), ("kubeadm", FAKE_KUBEADM), ("systemctl", FAKE_SYSTEMCTL)):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        self.env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(self.log),
                    "FAKE_DIR": str(tmp_path)}
        self.refresh_script = render_script(SCRIPTS / "kubeadm-join-refresh.sh", {
            "STATE_DIR": self.state, "TOKEN_TTL_SECONDS": TOKEN_TTL_SECONDS, "MIN_VALID_SECONDS": JOIN_MIN_VALID_SECONDS,
            "INIT_CONFIG": tmp_path / "kubeadm-init.yaml", "KUBECONFIG": tmp_path / "admin.conf",
        })

    def bash(self, script: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", script], check=False, input=stdin, capture_output=True, text=True, timeout=60,
                              env=self.env)

    def credentials(self, step: str, node: str, role: str = "worker", token: str = TOKEN):
        """What `<c>-<node>-join-credentials` runs (create/update: mark; delete: forget)."""
        script = render_script(SCRIPTS / "kubeadm-join-credentials.sh", {
            "STEP": step, "NODE_NAME": node, "ROLE": role, "REFRESH_SCRIPT": self.refresh_script,
            "REFRESH_SECONDS": JOIN_REFRESH_SECONDS, "STATE_DIR": self.state, "UNIT_DIR": self.units,
        })
        stdin = f"BOOTSTRAP_TOKEN={base64.b64encode(token.encode()).decode()}\n" if token else ""
        return self.bash(script, stdin)

    def timer_fires(self) -> subprocess.CompletedProcess:
        """What the systemd timer runs: the unit's ExecStart."""
        service = (self.units / f"{UNIT}.service").read_text()
        exec_start = next(line.split("=", 1)[1] for line in service.splitlines() if line.startswith("ExecStart="))
        return subprocess.run([exec_start], check=False, capture_output=True, text=True, timeout=60, env=self.env)

    def member(self, node: str) -> subprocess.CompletedProcess:
        """What `<c>-<node>-member` runs once the join succeeded."""
        (self.dir / f"node-{node}").touch()
        return self.bash(render_script(SCRIPTS / "kubeadm-member.sh", {"NODE_NAME": node, "STATE_DIR": self.state}))

    def token_expires_in(self, seconds: int | None) -> None:
        """The cluster's token: expiring ``seconds`` from now; None: gone."""
        path = self.dir / "token-expiration"
        if seconds is None:
            path.unlink(missing_ok=True)
        else:
            at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
            path.write_text(at.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def token_valid_for(self) -> float:
        at = datetime.datetime.strptime((self.dir / "token-expiration").read_text().strip(), "%Y-%m-%dT%H:%M:%SZ")
        return (at.replace(tzinfo=datetime.UTC) - datetime.datetime.now(datetime.UTC)).total_seconds()

    def calls(self, clear: bool = True) -> list[str]:
        lines = self.log.read_text().splitlines()
        if clear:
            self.log.write_text("")
        return lines

    def pending(self) -> dict[str, str]:
        return {p.name: p.read_text().strip() for p in (self.state / "pending").iterdir()}


@pytest.fixture
def lab(tmp_path):
    return Lab(tmp_path)


def about(seconds: float, expected: int) -> bool:
    """Within the time a test takes (and the stub's whole-second times)."""
    return expected - 60 <= seconds <= expected + 5


def test_a_worker_join_gets_a_token_when_the_cluster_has_none(lab):
    out = lab.credentials("mark", "w1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("w1 (worker): pending since ")
    assert out.stdout.rstrip().endswith(
        "join credentials for 1 pending join(s): token created, certificates uploaded=false")
    calls = lab.calls()
    assert f"kubeadm token create {TOKEN} --ttl 7200s --description sovereign-cloud joins" in calls
    assert not [c for c in calls if "upload-certs" in c]
    assert about(lab.token_valid_for(), TOKEN_TTL_SECONDS)
    token = lab.state / "token"
    assert token.read_text() == TOKEN + "\n" and oct(token.stat().st_mode & 0o777) == "0o600"
    assert lab.pending() == {"w1": "worker"}


def test_a_valid_token_is_kept_and_a_token_about_to_expire_extended_in_place(lab):
    lab.token_expires_in(TOKEN_TTL_SECONDS - 60)
    kept = lab.credentials("mark", "w1")
    assert "token kept" in kept.stdout, kept.stderr
    assert not [c for c in lab.calls() if c.startswith(("kubeadm token", "kubectl -n kube-system patch"))]

    lab.token_expires_in(10 * 60)  # less than MIN_VALID_SECONDS left
    extended = lab.credentials("mark", "w2")
    assert "join credentials for 2 pending join(s): token extended" in extended.stdout, extended.stderr
    calls = lab.calls()
    # Patched, not deleted and created again: a join using it right now goes on.
    assert [c for c in calls if "patch secret bootstrap-token-abcdef --type merge" in c]
    assert not [c for c in calls if c.startswith("kubeadm token")]
    assert about(lab.token_valid_for(), TOKEN_TTL_SECONDS)


def test_an_expired_token_is_created_afresh(lab):
    lab.token_expires_in(-3600)
    out = lab.credentials("mark", "w1")
    assert "token created" in out.stdout, out.stderr
    calls = [c for c in lab.calls() if c.startswith("kubeadm token")]
    assert calls == [f"kubeadm token delete {TOKEN}",
                     f"kubeadm token create {TOKEN} --ttl 7200s --description sovereign-cloud joins"]
    assert about(lab.token_valid_for(), TOKEN_TTL_SECONDS)


def test_a_control_plane_join_gets_the_certificates_uploaded(lab):
    lab.token_expires_in(TOKEN_TTL_SECONDS)
    out = lab.credentials("mark", "cp2", role="control-plane")
    assert out.stdout.startswith("cp2 (control-plane): pending since "), out.stderr
    assert "certificates uploaded=true" in out.stdout
    assert f"kubeadm init phase upload-certs --upload-certs --config {lab.dir}/kubeadm-init.yaml" in lab.calls()


def test_a_failed_join_retried_the_next_day_finds_valid_credentials(lab):
    """The join fails after its credentials step; Pulumi does not run that
    step again on the retry (nothing changed), yet the join must find a
    valid token and uploaded certificates: the timer keeps them while the
    join is pending, and stops once the member saw the node registered."""
    assert lab.credentials("mark", "cp2", role="control-plane").returncode == 0
    assert (lab.dir / "timer-active").exists()
    lab.calls()
    # The join fails; hours pass. The token is gone (expired, cleaned up).
    lab.token_expires_in(None)
    fired = lab.timer_fires()
    assert fired.returncode == 0, fired.stderr
    assert fired.stdout == "join credentials for 1 pending join(s): token created, certificates uploaded=true\n"
    calls = lab.calls()
    assert [c for c in calls if c.startswith("kubeadm token create")]
    assert [c for c in calls if "upload-certs" in c]
    # Later still: about to expire again, extended by the next run.
    lab.token_expires_in(20 * 60)
    assert "token extended" in lab.timer_fires().stdout
    assert lab.token_valid_for() > JOIN_MIN_VALID_SECONDS

    # The retried join succeeds; its member clears the pending mark.
    registered = lab.member("cp2")
    assert registered.returncode == 0 and registered.stdout == "node cp2 registered\n", registered.stderr
    assert lab.pending() == {}
    lab.calls()
    # Nothing pending: nothing refreshed (the token expires on its own), timer stopped.
    idle = lab.timer_fires()
    assert idle.stdout == "join credentials: no join pending, nothing refreshed\n", idle.stderr
    assert [c for c in lab.calls() if not c.startswith("systemctl")] == []
    assert not (lab.dir / "timer-active").exists()


def test_the_timer_runs_the_installed_refresher_every_period(lab):
    lab.credentials("mark", "w1")
    timer = (lab.units / f"{UNIT}.timer").read_text()
    assert f"OnUnitActiveSec={JOIN_REFRESH_SECONDS}" in timer and f"OnActiveSec={JOIN_REFRESH_SECONDS}" in timer
    assert (lab.state / "refresh.sh").read_text() == lab.refresh_script + ("" if lab.refresh_script.endswith("\n") else "\n")
    assert oct((lab.state / "refresh.sh").stat().st_mode & 0o777) == "0o700"
    calls = lab.calls()
    assert "systemctl daemon-reload" in calls and f"systemctl restart {UNIT}.timer" in calls
    # The refresher keeps the token above MIN_VALID_SECONDS, which outlasts a period.
    assert JOIN_MIN_VALID_SECONDS > JOIN_REFRESH_SECONDS


def test_marking_again_changes_no_unit_but_says_so_anew(lab):
    first = lab.credentials("mark", "w1")
    lab.calls()
    again = lab.credentials("mark", "w1")
    assert again.returncode == 0, again.stderr
    calls = lab.calls()
    assert "systemctl daemon-reload" not in calls
    assert not [c for c in calls if "enable" in c or "restart" in c]  # the timer is running
    # A new output each run: the member command's trigger.
    assert again.stdout != first.stdout


def test_a_stopped_timer_is_started_again_by_the_next_mark(lab):
    lab.credentials("mark", "w1")
    lab.member("w1")
    lab.timer_fires()  # nothing pending: stops itself
    assert not (lab.dir / "timer-active").exists()
    lab.calls()
    lab.credentials("mark", "w2")
    assert f"systemctl enable --now --quiet {UNIT}.timer" in lab.calls()
    assert (lab.dir / "timer-active").exists()


def test_forget_clears_the_pending_join_of_a_removed_node(lab):
    lab.credentials("mark", "w1")
    lab.credentials("mark", "cp2", role="control-plane")
    out = lab.credentials("forget", "cp2", token="")
    assert out.returncode == 0 and out.stdout == "join credentials: cp2 no longer pending\n", out.stderr
    assert lab.pending() == {"w1": "worker"}
    lab.calls()
    # Only a worker pending now: no more certificate uploads.
    assert "certificates uploaded=false" in lab.timer_fires().stdout


def test_an_unreachable_api_fails_the_refresh_instead_of_guessing(lab):
    (lab.dir / "api-down").touch()
    out = lab.credentials("mark", "w1")
    assert out.returncode != 0
    assert not [c for c in lab.calls() if c.startswith("kubeadm token create")]


@pytest.mark.parametrize(("step", "role", "token", "error"), [
    ("mark", "worker", "", "BOOTSTRAP_TOKEN missing on stdin"),
    ("mark", "etcd", TOKEN, "ROLE must be control-plane or worker, got etcd"),
    ("join", "worker", TOKEN, "STEP must be mark or forget, got join"),
])
def test_refuses_bad_input(lab, step, role, token, error):
    out = lab.credentials(step, "w1", role=role, token=token)
    assert out.returncode == 1 and error in out.stderr
    assert not (lab.state / "pending" / "w1").exists()
