"""Stand-in for the pulumi-command 1.2.1 plugin: ``command:remote:Command``
and ``command:local:Command``.

The Go module proxy refuses github.com/pulumi/pulumi-command/provider (see
scripts/engine/versions.env), so the real engine runs this instead. It
follows the provider's documented behaviour (provider/pkg/provider/remote
and common in pulumi-command, the SDK docstrings in pulumi_command/remote):

- inputs: connection (secret), environment, triggers (replace on change),
  create, update, delete, stdin, addPreviousOutputInEnv (default true),
  logging; outputs: the inputs plus stdout and stderr, one trailing newline
  trimmed;
- any other input change is an update: ``update`` runs, or ``create`` again
  when there is no ``update``; ``delete`` runs on delete and replace;
- stdout/stderr of the previous run reach update and delete as
  PULUMI_COMMAND_STDOUT/PULUMI_COMMAND_STDERR, environment variables are sent
  with the SSH "env" request (sshd drops them without AcceptEnv), stdin only
  when non-empty;
- connection defaults: port 22, user root, dialErrorLimit 10, perDialTimeout
  15 s; the host key is verified only when ``hostKey`` is given;
- a failing command fails the step with "Process exited with status N",
  the command and its output; a failed create stays in state (init error), so
  the next ``up`` runs it again as an update.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import socket
import subprocess
import time

import paramiko

from tests.engine.providers.protocol import UNKNOWN, ResourceFailed, ResourceKind, StandInProvider, serve

VERSION = "1.2.1"
# Set by tests that drive a whole stack through the engine with no machine
# behind it: scripts are not run, their output comes from the plan's fakes.
PLAN_ONLY = os.environ.get("SOVEREIGN_STANDIN_PLAN_ONLY") == "true"
INPUTS = frozenset({"connection", "environment", "triggers", "create", "update", "delete", "stdin",
                    "addPreviousOutputInEnv", "logging"})
LOGGING = {"stdout", "stderr", "stdoutAndStderr", "none"}


def _check(news: dict) -> tuple[dict, list[tuple[str, str]]]:
    failures = []
    connection = news.get("connection")
    if connection == UNKNOWN:  # preview: the machine's address is not known yet
        return news, failures
    if not isinstance(connection, dict):
        failures.append(("connection", "missing required property 'connection'"))
        return news, failures
    checked = dict(news)
    conn = dict(connection)
    if not conn.get("host"):
        failures.append(("connection.host", "missing required property 'host'"))
    conn.setdefault("port", 22)
    conn.setdefault("user", "root")
    conn.setdefault("dialErrorLimit", 10)
    conn.setdefault("perDialTimeout", 15)
    checked["connection"] = conn
    checked.setdefault("addPreviousOutputInEnv", True)
    if "logging" in news and news["logging"] not in LOGGING:
        failures.append(("logging", f"'{news['logging']}' is not one of {sorted(LOGGING)}"))
    return checked, failures


class _PinnedKey(paramiko.MissingHostKeyPolicy):
    """``connection.hostKey``: the server must present exactly this key."""

    def __init__(self, expected: str):
        parts = expected.split()
        self.kind, self.blob = parts[0], parts[1] if len(parts) > 1 else ""

    def missing_host_key(self, client, hostname, key) -> None:
        if (key.get_name(), key.get_base64()) != (self.kind, self.blob):
            raise paramiko.SSHException("ssh: handshake failed: ssh: host key mismatch")


def _private_key(text: str, password: str | None):
    for loader in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return loader.from_private_key(io.StringIO(text), password=password)
        except (paramiko.SSHException, ValueError):
            continue
    raise ResourceFailed("ssh: no key found (connection.privateKey is not a private key paramiko can read)")


def _dial(conn: dict) -> paramiko.SSHClient:
    key = _private_key(conn["privateKey"], conn.get("privateKeyPassword")) if conn.get("privateKey") else None
    limit = int(conn.get("dialErrorLimit", 10))
    attempts = 0
    while True:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(_PinnedKey(conn["hostKey"]) if conn.get("hostKey")
                                           else paramiko.AutoAddPolicy())
        try:
            client.connect(conn["host"], port=int(conn.get("port", 22)), username=conn.get("user", "root"),
                           pkey=key, password=conn.get("password"), timeout=float(conn.get("perDialTimeout", 15)),
                           allow_agent=False, look_for_keys=False)
            return client
        except paramiko.AuthenticationException as error:
            client.close()
            raise ResourceFailed(f"ssh: handshake failed: {error}") from error
        except (OSError, socket.timeout, paramiko.SSHException) as error:
            client.close()
            attempts += 1
            if "host key mismatch" in str(error) or (limit >= 0 and attempts >= limit):
                raise ResourceFailed(f"Error while dialing {conn['host']}:{conn.get('port', 22)} "
                                     f"after {attempts} attempt(s): {error}") from error
            time.sleep(1)


def _run(state: dict, script: str, previous: dict | None) -> tuple[str, str]:
    client = _dial(state["connection"])
    try:
        env = dict(state.get("environment") or {})
        if previous and state.get("addPreviousOutputInEnv", True):
            if previous.get("stdout"):
                env["PULUMI_COMMAND_STDOUT"] = previous["stdout"]
            if previous.get("stderr"):
                env["PULUMI_COMMAND_STDERR"] = previous["stderr"]
        stdin, stdout, stderr = client.exec_command(script, environment=env or None)
        if state.get("stdin"):
            stdin.write(state["stdin"])
        stdin.channel.shutdown_write()
        out = stdout.read().decode()
        err = stderr.read().decode()
        code = stdout.channel.recv_exit_status()
    finally:
        client.close()
    if code != 0:
        raise ResourceFailed(f"Process exited with status {code}: running {json.dumps(script)}:\n{out}{err}",
                             state={**state, "stdout": "", "stderr": ""})
    return out.removesuffix("\n"), err.removesuffix("\n")


def _planned(name: str) -> tuple[str, str]:
    """PLAN_ONLY: what the script would print, from the offline plan's fakes
    (stacks/plan), without running it; for engine tests of whole stacks
    whose machines do not exist. The plan's kubeconfig carries marked fake
    PEM; here it gets a real (throw-away) CA and client certificate, so the
    kubernetes provider can load it (its API address answers nothing)."""
    from stacks.plan.fake_cloud import fake_command_stdout

    stdout = fake_command_stdout(name)
    if name.endswith("-kubeconfig"):
        stdout = _loadable_kubeconfig(stdout)
    return stdout, ""


def _loadable_kubeconfig(kubeconfig: str) -> str:
    import base64
    import datetime

    import yaml
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "engine-test-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()
    key_pem = base64.b64encode(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())).decode()
    config = yaml.safe_load(kubeconfig)
    config["clusters"][0]["cluster"]["certificate-authority-data"] = pem
    config["users"][0]["user"].update({"client-certificate-data": pem, "client-key-data": key_pem})
    return yaml.safe_dump(config, sort_keys=False)


def _create(name: str, inputs: dict) -> tuple[str, dict]:
    id_ = f"{name}{secrets.token_hex(4)}"
    state = {**inputs, "stdout": "", "stderr": ""}
    if inputs.get("create") and PLAN_ONLY:
        state["stdout"], state["stderr"] = _planned(name)
    elif inputs.get("create"):
        try:
            state["stdout"], state["stderr"] = _run(state, inputs["create"], None)
        except ResourceFailed as failed:
            failed.state = state  # created (an id exists) but failed: kept, retried as an update
            raise
    return id_, state


def _update(id_: str, olds: dict, news: dict) -> dict:
    state = {**news, "stdout": olds.get("stdout", ""), "stderr": olds.get("stderr", "")}
    script = news.get("update") or news.get("create")
    if script and not PLAN_ONLY:  # plan only: the planned output stays what it was
        state["stdout"], state["stderr"] = _run(state, script, olds)
    return state


def _delete(id_: str, olds: dict) -> None:
    if olds.get("delete") and not PLAN_ONLY:
        _run(olds, olds["delete"], olds)


# -- command:local:Command: the same life cycle, run where Pulumi runs --------
LOCAL_INPUTS = frozenset({"create", "update", "delete", "dir", "environment", "interpreter", "stdin", "triggers",
                          "addPreviousOutputInEnv", "logging", "assetPaths", "archivePaths"})


def _run_local(state: dict, script: str, previous: dict | None) -> tuple[str, str]:
    env = {**os.environ, **(state.get("environment") or {})}
    if previous and state.get("addPreviousOutputInEnv", True):
        env |= {k: v for k, v in (("PULUMI_COMMAND_STDOUT", previous.get("stdout")),
                                  ("PULUMI_COMMAND_STDERR", previous.get("stderr"))) if v}
    interpreter = state.get("interpreter") or ["/bin/sh", "-c"]
    done = subprocess.run([*interpreter, script], cwd=state.get("dir") or None, env=env, input=state.get("stdin"),
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise ResourceFailed(f"exit status {done.returncode}: running {json.dumps(script)}:\n"
                             f"{done.stdout}{done.stderr}", state={**state, "stdout": "", "stderr": ""})
    return done.stdout.removesuffix("\n"), done.stderr.removesuffix("\n")


def _create_local(name: str, inputs: dict) -> tuple[str, dict]:
    state = {**inputs, "stdout": "", "stderr": ""}
    if inputs.get("create"):
        state["stdout"], state["stderr"] = _run_local(state, inputs["create"], None)
    return f"{name}{secrets.token_hex(4)}", state


def _update_local(id_: str, olds: dict, news: dict) -> dict:
    state = {**news, "stdout": olds.get("stdout", ""), "stderr": olds.get("stderr", "")}
    script = news.get("update") or news.get("create")
    if script:
        state["stdout"], state["stderr"] = _run_local(state, script, olds)
    return state


def _delete_local(id_: str, olds: dict) -> None:
    if olds.get("delete"):
        _run_local(olds, olds["delete"], olds)


LOCAL_COMMAND = ResourceKind(
    inputs=LOCAL_INPUTS, create=_create_local, update=_update_local, delete=_delete_local,
    check=lambda news: ({"addPreviousOutputInEnv": True, **news}, []),
    replace_on=frozenset({"triggers"}), preview_outputs=frozenset({"stdout", "stderr"}))

REMOTE_COMMAND = ResourceKind(
    inputs=INPUTS, create=_create, update=_update, delete=_delete, check=_check,
    replace_on=frozenset({"triggers"}), secret_outputs=frozenset({"connection"}),
    preview_outputs=frozenset({"stdout", "stderr"}))

PROVIDER = StandInProvider("command", VERSION, {"command:remote:Command": REMOTE_COMMAND,
                                                "command:local:Command": LOCAL_COMMAND})

if __name__ == "__main__":
    serve(PROVIDER)
