"""Execute ``command:remote:Command`` resources for real, over SSH.

Plugged into the mock runtime (``FakeCloud(command_handler=...)``), it makes
the real program bootstrap test hosts in the order Pulumi resolves it,
returning stdout/stderr as pulumi-command does (trailing newline stripped).
"""

from __future__ import annotations

import io
import socket
import time

import paramiko


class RemoteCommandFailed(RuntimeError):
    def __init__(self, name: str, host: str, code: int, stderr: str):
        self.code, self.stderr = code, stderr
        super().__init__(f"{name} on {host} exited {code}: {stderr.strip()[-2000:]}")


class HostKeyMismatch(paramiko.SSHException):
    pass


class PinnedHostKey(paramiko.MissingHostKeyPolicy):
    """pulumi-command's ``host_key``: the server must present exactly this key."""

    def __init__(self, expected: str):
        self.kind, self.blob = expected.split()[:2]

    def missing_host_key(self, client, hostname, key) -> None:
        if (key.get_name(), key.get_base64()) != (self.kind, self.blob):
            raise HostKeyMismatch(f"{hostname} presented {key.get_name()} {key.get_base64()[:16]}..., "
                                  f"not the pinned {self.kind} {self.blob[:16]}...")


def _connect(conn: dict, attempts: int = 25) -> paramiko.SSHClient:
    key = paramiko.Ed25519Key.from_private_key(io.StringIO(conn["privateKey"])) if "OPENSSH" in conn["privateKey"] \
        else paramiko.PKey.from_private_key(io.StringIO(conn["privateKey"]))
    if not conn.get("hostKey"):
        # The program pins every node's key; an unpinned session is a bug.
        raise AssertionError(f"connection to {conn['host']} has no hostKey: it would trust any machine")
    for attempt in range(attempts):
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(PinnedHostKey(conn["hostKey"]))
        try:
            client.connect(conn["host"], port=int(conn.get("port", 22)), username=conn.get("user", "root"),
                           pkey=key, timeout=5, allow_agent=False, look_for_keys=False)
            return client
        except HostKeyMismatch:
            client.close()
            raise
        except (OSError, socket.timeout, paramiko.SSHException):
            client.close()
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)  # a host that just booted
    raise AssertionError("unreachable")


def run_script(conn: dict, script: str, *, name: str = "command", stdin: str | None = None, timeout: float = 120) -> dict:
    client = _connect(conn)
    try:
        channel_in, channel_out, channel_err = client.exec_command(script, timeout=timeout)
        if stdin:
            channel_in.write(stdin)
        channel_in.channel.shutdown_write()
        stdout = channel_out.read().decode()
        stderr = channel_err.read().decode()
        code = channel_out.channel.recv_exit_status()
    finally:
        client.close()
    if code != 0:
        raise RemoteCommandFailed(name, conn["host"], code, stderr)
    return {"stdout": stdout.rstrip("\n"), "stderr": stderr.rstrip("\n")}


def run_remote_command(name: str, inputs: dict) -> dict:
    """The create step, as pulumi-command runs it."""
    return run_script(inputs["connection"], inputs["create"], name=name, stdin=inputs.get("stdin"))


def run_remote_delete(name: str, inputs: dict) -> dict | None:
    """The delete step (what the engine runs when the resource goes away)."""
    if not inputs.get("delete"):
        return None
    return run_script(inputs["connection"], inputs["delete"], name=f"{name} (delete)")
