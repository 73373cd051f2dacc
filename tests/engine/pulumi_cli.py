"""The real Pulumi CLI, as the tests drive it: a local file backend, a
passphrase secrets provider, nothing downloaded (scripts/engine/build.sh).

``engine_environment()`` builds (or finds in its cache) the CLI and the
Python language host; ``PulumiStack`` runs up/preview/destroy/export on one
stack of a project and reads back what the engine did: the steps a preview
plans (``--json``) and the order of the operations of an update
(``--json`` events).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "scripts" / "engine" / "build.sh"
PROVIDERS = {"command": "command_provider", "tls": "tls_provider", "random": "random_provider"}


class EngineUnavailable(RuntimeError):
    pass


def engine_environment(*pieces: str) -> dict[str, str]:
    """The variables of the built engine's env.sh (PATH, PULUMI_HOME, ...)."""
    go_path = os.environ.get("PATH", "") + os.pathsep + "/usr/local/go/bin"
    if shutil.which("go", path=go_path) is None:
        raise EngineUnavailable("Go is not installed (the engine is built from Go modules)")
    built = subprocess.run(["bash", str(BUILD), *pieces], capture_output=True, text=True,
                           env={**os.environ, "PATH": go_path})
    if built.returncode != 0:
        raise EngineUnavailable(f"scripts/engine/build.sh failed:\n{built.stderr[-3000:]}")
    env_sh = built.stdout.strip().splitlines()[-1]
    dumped = subprocess.run(["bash", "-c", f'source "{env_sh}" && env -0'], capture_output=True, check=True)
    return dict(item.split("=", 1) for item in dumped.stdout.decode().split("\0") if "=" in item)


CLOUDS = ("hcloud", "ovh", "scaleway")


def stand_in_plugins(bin_dir: Path, *, clouds: bool = False) -> Path:
    """``pulumi-resource-{command,tls,random}`` launchers (tests/engine/providers);
    with ``clouds``, also hcloud, ovh and scaleway (previews only)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    launchers = dict(PROVIDERS)
    if clouds:
        launchers |= {name: f"cloud_provider {name}" for name in CLOUDS}
    for name, module in launchers.items():
        launcher = bin_dir / f"pulumi-resource-{name}"
        launcher.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" '
                            f'-m tests.engine.providers.{module} "$@"\n')
        launcher.chmod(0o755)
    return bin_dir


def policy_pack_plugin(bin_dir: Path) -> Path:
    """The repository's policy pack (policy/) as a binary analyzer plugin:
    ``pulumi preview --policy-pack <this file>`` runs it with the tests'
    interpreter, no policy/venv needed."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    launcher = bin_dir / "pulumi-analyzer-policy-sovereign"
    launcher.write_text(f'#!/bin/sh\ncd "{REPO / "policy"}" && exec "{sys.executable}" __main__.py "$@"\n')
    launcher.chmod(0o755)
    return launcher


class PulumiFailed(AssertionError):
    pass


def _errors(stdout: str) -> str:
    """The error and warning diagnostics of ``--json`` output (one document
    for preview, an event a line for up/destroy); else the output as it is."""
    try:
        diagnostics = json.loads(stdout).get("diagnostics", [])
    except (ValueError, AttributeError):
        diagnostics = []
        for line in stdout.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("diagnosticEvent"):
                diagnostics.append(event["diagnosticEvent"])
    found = [f"{d.get('urn', '')}: {d['message']}" for d in diagnostics
             if d.get("severity") in ("error", "warning") and "using pulumi-resource-" not in d.get("message", "")]
    return "\n".join(found) if found else stdout


@dataclass
class Step:
    op: str
    urn: str

    @property
    def name(self) -> str:
        return self.urn.split("::")[-1]

    @property
    def type(self) -> str:
        return self.urn.split("::")[-2].split("$")[-1]


class PulumiStack:
    """One stack of a project kept in ``workdir`` (its Pulumi.yaml points at
    ``program`` with ``main``, so nothing is written into the repository)."""

    def __init__(self, engine: dict[str, str], program: Path, workdir: Path, stack: str,
                 plugins: Path | None = None):
        self.workdir, self.stack = workdir, stack
        self.project = workdir / "project"
        self.project.mkdir(parents=True, exist_ok=True)
        (workdir / "state").mkdir(exist_ok=True)
        text = (program / "Pulumi.yaml").read_text()
        relative = os.path.relpath(program, self.project)
        (self.project / "Pulumi.yaml").write_text(f"{text.rstrip()}\nmain: {relative}\n")
        path = os.pathsep.join(p for p in (str(plugins) if plugins else "", engine["PATH"]) if p)
        self.env = {**engine, "PATH": path, "PULUMI_BACKEND_URL": f"file://{workdir / 'state'}",
                    "PULUMI_PYTHON_CMD": sys.executable, "PULUMI_CONFIG_PASSPHRASE": "engine-tests",
                    "PULUMI_SKIP_CONFIRMATIONS": "true", "NO_COLOR": "1"}
        self.env.pop("PULUMI_ACCESS_TOKEN", None)
        self.run("login", self.env["PULUMI_BACKEND_URL"])
        self.run("stack", "init", stack)

    def run(self, *args: str, check: bool = True, timeout: float = 900, stdin: str | None = None
            ) -> subprocess.CompletedProcess:
        done = subprocess.run(["pulumi", "--non-interactive", *args], cwd=self.project, env=self.env,
                              capture_output=True, text=True, timeout=timeout, input=stdin)
        if check and done.returncode != 0:
            raise PulumiFailed(f"pulumi {' '.join(args)} exited {done.returncode}:\n"
                               f"{_errors(done.stdout)[-8000:]}\n{done.stderr[-3000:]}")
        return done

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        if secret:  # on stdin: never on a command line or in an error message
            self.run("config", "set", key, "--stack", self.stack, "--secret", stdin=value)
        else:
            self.run("config", "set", key, "--stack", self.stack, "--plaintext", "--", value)

    def set_config_list(self, key: str, values: list[str]) -> None:
        """An array value (``type: array`` in Pulumi.yaml), item by item."""
        self.run("config", "rm", key, "--stack", self.stack, check=False)
        for index, value in enumerate(values):
            self.run("config", "set", "--path", f"{key}[{index}]", "--stack", self.stack, "--plaintext", "--", value)

    def up(self, *extra: str) -> list[dict]:
        """``pulumi up`` (``extra``: e.g. --target/--exclude); the engine
        events of the update, in order."""
        return self._events(self.run("up", "--yes", "--skip-preview", "--json", "--stack", self.stack, *extra))

    @staticmethod
    def _events(done: subprocess.CompletedProcess) -> list[dict]:
        """``--json`` of up/destroy: one engine event a line."""
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]

    def preview(self, *extra: str) -> list[Step]:
        done = self.run("preview", "--json", "--stack", self.stack, *extra)
        plan = json.loads(done.stdout)
        return [Step(s["op"], s["urn"]) for s in plan.get("steps", [])]

    def destroy(self) -> list[dict]:
        return self._events(self.run("destroy", "--yes", "--skip-preview", "--json", "--stack", self.stack))

    def export(self) -> dict:
        return json.loads(self.run("stack", "export", "--stack", self.stack).stdout)

    def secrets_in_plain_state(self) -> list[str]:
        """Secret values of the state (the engine's own secret markers,
        decrypted with --show-secrets) that also appear in plain text in the
        ordinary ``pulumi stack export``; [] when state keeps every one
        encrypted. Also any PEM private key block."""
        shown = json.loads(self.run("stack", "export", "--show-secrets", "--stack", self.stack).stdout)
        plain_export = json.dumps(self.export())
        found = []
        for value in _secret_plaintexts(shown):
            if len(value) >= 8 and not _public(value) and value in plain_export:
                found.append(value[:12] + "...")
        if "PRIVATE KEY-----" in plain_export:
            found.append("a PEM private key")
        if re.search(r"client-key-data: [A-Za-z0-9+/=]{16}", plain_export):
            found.append("a kubeconfig's client key")
        return found

    def outputs(self) -> dict:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets", "--stack", self.stack).stdout)


def _secret_plaintexts(node) -> list[str]:
    """Plain values of every secret in a ``stack export --show-secrets``
    document ({sig: secret, plaintext: <JSON text>})."""
    found: list[str] = []
    if isinstance(node, dict):
        if "plaintext" in node and len(node) == 2:
            value = json.loads(node["plaintext"])
            found += _strings(value)
        else:
            for child in node.values():
                found += _secret_plaintexts(child)
    elif isinstance(node, list):
        for child in node:
            found += _secret_plaintexts(child)
    return found


def _public(value: str) -> bool:
    """Parts of a secret object that are public by nature: a whole SSH
    connection is secret (pulumi-command), its host address and host key
    are not."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return value.startswith(("ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-"))


_PRIVATE_BLOCK = re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----\n(.*?)-----END", re.S)
_CREDENTIAL = re.compile(r"(?:KEY|TOKEN|PASSWORD|SECRET)[A-Z_]*=['\"]?([^'\"\s]{8,})", re.I)


def _strings(value) -> list[str]:
    """A secret's text, and the parts of it that must stay secret on their
    own: private key blocks, values of NAME=... credentials (a bundle also
    holds certificates and addresses, which are public)."""
    if isinstance(value, str):
        parts = [value]
        for kind, block in _PRIVATE_BLOCK.findall(value):
            lines = block.split()
            parts.append("".join(lines))
            # EC/Ed25519: the first line holds the private scalar; the rest
            # encodes the public point, which the public key PEM repeats.
            if kind.strip() != "RSA" and lines:
                parts.append(lines[0])
        parts += _CREDENTIAL.findall(value)
        return parts
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def operations(events: list[dict]) -> list[tuple[str, str]]:
    """(op, resource name) of every step the engine finished, in order."""
    done = []
    for event in events:
        outputs = event.get("resOutputsEvent")
        if outputs:
            meta = outputs["metadata"]
            done.append((meta["op"], meta["urn"].split("::")[-1]))
    return done
