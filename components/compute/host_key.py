"""Host keys of the nodes the program creates, made before they boot.

A cloud node gets an ed25519 host key generated in the stack (a Pulumi
secret) and handed to cloud-init in its user data, so the very first SSH
session already pins it. The key belongs to the node's name, not to one
server: a replaced machine boots with the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_tls as tls

from components.remote.host_keys import normalize_host_key
from components.remote.script import render_script

SCRIPTS = Path(__file__).parent / "scripts"


@dataclass(frozen=True)
class HostKeyPair:
    private_openssh: pulumi.Output[str]
    """OpenSSH private key (secret): goes to cloud-init only."""
    public: pulumi.Output[str]
    """"ssh-ed25519 AAAA...": what every SSH session pins."""


def new_host_key(resource_prefix: str, node_name: str, parent: pulumi.Resource) -> HostKeyPair:
    key = tls.PrivateKey(f"{resource_prefix}-{node_name}-host-key", algorithm="ED25519",
                         opts=pulumi.ResourceOptions(parent=parent))
    return HostKeyPair(private_openssh=pulumi.Output.secret(key.private_key_openssh),
                       public=key.public_key_openssh.apply(normalize_host_key))


def scanned_host_key(resource_prefix: str, node_name: str, address: pulumi.Input[str], *, ssh_port: int,
                     parent: pulumi.Resource, after: list[pulumi.Resource]) -> pulumi.Output[str]:
    """Trust on first use, for machines that take no user data: the key read
    once from the new machine (where `pulumi up` runs), then pinned."""
    pulumi.log.warn(TOFU_WARNING.format(node=node_name))
    scan = command.local.Command(
        f"{resource_prefix}-{node_name}-host-key-scan",
        create=pulumi.Output.from_input(address).apply(lambda a: render_script(SCRIPTS / "host-key-scan.sh", {
            "ADDRESS": a, "SSH_PORT": ssh_port, "WAIT_SECONDS": 900,
        })),
        interpreter=["/bin/bash", "-c"],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
    )
    return scan.stdout.apply(normalize_host_key)


TOFU_WARNING = ("{node}: an OVH VPS order takes no user data, so its SSH host key is read from the machine at "
                "its first boot (trust on first use) and pinned from then on; compare it with the key in the "
                "OVH control panel's KVM console (cat /etc/ssh/ssh_host_ed25519_key.pub) if in doubt")
