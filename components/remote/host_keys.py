"""SSH host keys: the one check that the machine Pulumi talks to is ours.

Sessions carry the K3s token, the kubeadm certificate key, etcd keys and
S3 credentials, so every connection pins the node's host key: generated
before boot and given to cloud-init for cloud nodes, declared in the spec
(``hostKey``) for existing hosts.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization

# What pulumi-command's ``host_key`` takes: one authorized_keys-style line.
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")

HOW_TO_READ = ("the line of `ssh-keyscan -t ed25519 HOST` without the host name, "
               "or /etc/ssh/ssh_host_ed25519_key.pub read on the host itself")


def normalize_host_key(text: str) -> str:
    """``"<type> <base64>"`` of a host public key; a leading host name (as
    ``ssh-keyscan`` prints it) and a trailing comment are dropped.

    Raises ValueError naming what is wrong.
    """
    words = text.split()
    if words and words[0] not in KEY_TYPES and len(words) > 1:
        words = words[1:]  # "host ssh-ed25519 AAAA..." from ssh-keyscan
    if len(words) < 2 or words[0] not in KEY_TYPES:
        raise ValueError(f"not an SSH public host key (expected '<type> <base64>', type one of {', '.join(KEY_TYPES)})")
    kind, blob = words[0], words[1]
    try:
        serialization.load_ssh_public_key(f"{kind} {blob}".encode())
        embedded = base64.b64decode(blob, validate=True)
    except ValueError as err:
        raise ValueError(f"{kind} key does not parse: {err}") from None
    # The blob names its own type: a pasted key of another type is refused.
    if not embedded[4:4 + len(kind)] == kind.encode():
        raise ValueError(f"the key data is not of type {kind}")
    return f"{kind} {blob}"
