"""Fake answers of what runs where `pulumi up` runs: host key scans.

A scan answers only for a machine the fake cloud handed an address to,
with that machine's own key, as ssh-keyscan would; a scan of any other
address fails like a scan of a machine that does not exist.
"""

from __future__ import annotations

import hashlib
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .registry import RESOURCE_FAKES

_ADDRESS = re.compile(r"^export ADDRESS='?([^'\n]+)'?$", re.MULTILINE)


def machine_host_key(seed: str) -> str:
    """The ed25519 host public key of a fake machine (e.g. seeded by its address)."""
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"fake-machine/{seed}".encode()).digest())
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def _local_command(cloud, name, inputs, raw):
    if not name.endswith("-host-key-scan"):
        raise ValueError(f"command:local:Command {name}: no fake answer for this local command")
    match = _ADDRESS.search(inputs.get("create") or "")
    address = match.group(1) if match else None
    if address not in cloud._addresses.values():
        raise ValueError(f"{name}: ssh-keyscan found no machine at {address!r}")
    return f"{name}-id", {**raw, "stdout": machine_host_key(address), "stderr": ""}


RESOURCE_FAKES["command:local:Command"] = _local_command
