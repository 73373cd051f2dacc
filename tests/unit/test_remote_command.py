"""Node commands run as root, keep stdin, and re-run in place (no replacement).

The command line is executed here as sshd would (``sh -c`` in the login
shell), with a stand-in ``sudo`` that enforces what real sudo does for
these calls: ``-n`` (never prompt), the argument vector after ``--``, a
reset environment.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from components.remote.command import SCRIPT_NAME, as_root
from tests.stack_runner import example_spec, host_key_for, run_spec

FAKE_SUDO = """#!/bin/sh
# Test stand-in: passwordless sudo for user "debian" only, like /etc/sudoers.d.
[ "$1" = "-n" ] || { echo "sudo: a password is required" >&2; exit 1; }
shift
[ "$(cat "$SUDO_ALLOWED_FILE")" = yes ] || { echo "sudo: a password is required" >&2; exit 1; }
[ "$1" = "true" ] && exit 0
[ "$1" = "--" ] || { echo "unexpected sudo arguments: $*" >&2; exit 2; }
shift
# Real sudo resets the environment (env_reset): the script must not need it.
exec env -i PATH="$PATH" FAKE_SUDO_RAN=yes "$@"
"""

SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
declare -A seen=()            # bash only: fails if run by dash
read -r secret
seen[x]="$secret"
echo "ran=${FAKE_SUDO_RAN:-no} secret=${seen[x]} name=$0 args=$#"
"""


@pytest.fixture
def fake_sudo(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sudo = bin_dir / "sudo"
    sudo.write_text(FAKE_SUDO)
    sudo.chmod(0o755)
    allowed = tmp_path / "allowed"
    allowed.write_text("yes")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SUDO_ALLOWED_FILE": str(allowed)}
    return env, allowed


def login_shell(line: str, env: dict, stdin: str) -> subprocess.CompletedProcess:
    # dash: what /bin/sh is on Debian, and many a non-root login shell.
    shell = "/bin/dash" if Path("/bin/dash").exists() else "/bin/sh"
    return subprocess.run([shell, "-c", line], input=stdin, capture_output=True, text=True, env=env, timeout=30)


def test_a_non_root_user_runs_the_script_through_sudo_with_bash_and_stdin(fake_sudo):
    env, _ = fake_sudo
    out = login_shell(as_root(SCRIPT, "debian"), env, stdin="s3cr3t\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"ran=yes secret=s3cr3t name={SCRIPT_NAME} args=0"


def test_root_runs_the_script_with_bash_without_sudo(fake_sudo):
    env, _ = fake_sudo
    out = login_shell(as_root(SCRIPT, "root"), env, stdin="s3cr3t\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"ran=no secret=s3cr3t name={SCRIPT_NAME} args=0"


def test_a_user_without_passwordless_sudo_gets_the_fix_and_nothing_runs(fake_sudo):
    env, allowed = fake_sudo
    allowed.write_text("no")
    out = login_shell(as_root(SCRIPT, "ubuntu"), env, stdin="s3cr3t\n")
    assert out.returncode == 97
    assert out.stdout == ""
    assert "ubuntu cannot run sudo without a password" in out.stderr
    assert "NOPASSWD" in out.stderr and "sshUser" in out.stderr


def test_the_rerun_digest_reaches_the_script_as_an_argument_only(fake_sudo):
    env, _ = fake_sudo
    out = login_shell(as_root(SCRIPT, "debian", rerun_digest="0123abcd"), env, stdin="x\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("args=1")


def test_scripts_with_quotes_survive_the_wrapping(fake_sudo):
    env, _ = fake_sudo
    script = "#!/usr/bin/env bash\nread -r _\necho \"it's \\\"quoted\\\" \\$HOME stays literal: '$((1+1))'\"\n"
    out = login_shell(as_root(script, "debian"), env, stdin="\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "it's \"quoted\" $HOME stays literal: '2'"


def _commands(run):
    return run.of_type("command:remote:Command")


@pytest.mark.parametrize("user", ["admin", "root"])
def test_every_node_command_of_the_program_runs_as_root_for_the_group_user(user):
    spec = example_spec("dev")
    for group in spec["nodeGroups"].values():
        group["sshUser"] = user
    run = run_spec(spec, stack="dev")
    commands = _commands(run)
    assert commands
    for cmd in commands:
        assert cmd.inputs["connection"]["user"] == user
        for step in ("create", "update", "delete"):
            line = cmd.inputs.get(step)
            if not line:
                continue
            if user == "root":
                assert line.startswith("bash -c "), (cmd.name, step)
            else:
                assert line.startswith("sudo -n true 2>/dev/null || {"), (cmd.name, step)
                assert " exec sudo -n -- bash -c " in line, (cmd.name, step)


def test_every_connection_pins_the_key_its_machine_was_given():
    spec = example_spec("prod")
    run = run_spec(spec, stack="prod")
    address = {n["name"]: n["public_address"] for n in run.outputs["nodes"]}
    declared = {h["name"]: h["hostKey"] for g in spec["nodeGroups"].values() for h in g.get("hosts", [])}
    # Cloud nodes: the key generated in the stack and written by cloud-init.
    generated = {}
    for key in run.of_type("tls:index/privateKey:PrivateKey"):
        if key.name.endswith("-host-key"):
            node = next(n for n in address if key.name.endswith(f"-{n}-host-key"))
            generated[node] = " ".join(key.outputs["publicKeyOpenssh"].split()[:2])
    for server in run.of_type("hcloud:index/server:Server") + run.of_type("scaleway:instance/server:Server"):
        assert "userData" in server.secret_paths or "userData.cloud-init" in server.secret_paths, server.name
        data = server.inputs["userData"]
        cloud_config = yaml.safe_load(data["cloud-init"] if isinstance(data, dict) else data)
        node = server.inputs["name"].removeprefix(f"{spec['name']}-")
        assert cloud_config["ssh_keys"]["ed25519_public"] == generated[node]
        assert cloud_config["ssh_genkeytypes"] == ["ed25519"] and cloud_config["ssh_deletekeys"] is True
    # OVH VPS orders take no user data: scanned once, then pinned.
    scanned = {s.name: s.outputs["stdout"] for s in run.of_type("command:local:Command")}
    expected = {**generated, **declared}
    for name in address:
        if name not in expected:
            scan = next(v for k, v in scanned.items() if k.endswith(f"-{name}-host-key-scan"))
            expected[name] = scan
    assert set(expected) == set(address)
    by_address = {address[n]: key for n, key in expected.items()}
    commands = _commands(run)
    assert commands
    for cmd in commands:
        conn = cmd.inputs["connection"]
        assert conn.get("hostKey") == by_address[conn["host"]], cmd.name


def test_spec_without_host_key_for_an_existing_host_is_refused_with_the_fix():
    from tests.stack_runner import spec_issues

    spec = example_spec("prod")
    del spec["nodeGroups"]["onprem-paris"]["hosts"][0]["hostKey"]
    spec["nodeGroups"]["gpu-houston"]["hosts"][0]["hostKey"] = "ssh-ed25519 AAAAnotakey"
    issues = spec_issues(spec)
    # Both at once, each naming its field and the fix.
    missing = issues["cluster.nodeGroups.onprem-paris.hosts.0.hostKey"]
    assert "no SSH host key" in missing and "ssh-keyscan -t ed25519" in missing
    broken = issues["cluster.nodeGroups.gpu-houston.hosts.0.hostKey"]
    assert "does not parse" in broken and "ssh-keyscan -t ed25519" in broken


def test_host_keys_from_ssh_keyscan_output_are_accepted():
    from components.remote.host_keys import normalize_host_key

    key = host_key_for("x")
    assert normalize_host_key(f"203.0.113.7 {key}") == key
    assert normalize_host_key(f"{key} root@x") == key
    rsa_label_on_ed25519 = "ssh-rsa " + key.split()[1]
    with pytest.raises(ValueError, match="not of type ssh-rsa|does not parse"):
        normalize_host_key(rsa_label_on_ed25519)
