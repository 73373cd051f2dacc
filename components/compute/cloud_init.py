"""First-boot configuration as cloud-init user data.

Only what must exist before Pulumi can SSH in and run the node scripts:
the admin user and key, no password logins, the packages the scripts use.
Everything else is done by idempotent scripts over SSH, so that a re-run
converges on machines whose user data can no longer change.
"""

from __future__ import annotations

import yaml

# Packages the mesh, baseline and firewall scripts call.
BOOTSTRAP_PACKAGES = (
    "wireguard-tools",
    "nftables",
    "iproute2",
    "curl",
    "ca-certificates",
    "chrony",
    "unattended-upgrades",
)


def render_user_data(*, hostname: str, ssh_user: str, ssh_public_key: str,
                     host_key_private: str, host_key_public: str) -> str:
    """Return a ``#cloud-config`` document (valid for ``cloud-init schema``).

    The host key is the node's own, made in the stack: cloud-init deletes
    the image's keys and generates no others, so sshd offers only the key
    Pulumi pins.
    """
    config: dict = {
        "hostname": hostname,
        "preserve_hostname": False,
        "manage_etc_hosts": True,
        "ssh_pwauth": False,
        "ssh_deletekeys": True,
        # Only the type given: its key exists already, so none is generated.
        "ssh_genkeytypes": ["ed25519"],
        "ssh_keys": {"ed25519_private": host_key_private, "ed25519_public": host_key_public},
        "disable_root": ssh_user != "root",
        "package_update": True,
        "packages": list(BOOTSTRAP_PACKAGES),
    }
    if ssh_user == "root":
        config["users"] = [{"name": "root", "ssh_authorized_keys": [ssh_public_key]}]
    else:
        config["users"] = [
            "default",
            {
                "name": ssh_user,
                "groups": ["sudo"],
                "shell": "/bin/bash",
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "lock_passwd": True,
                "ssh_authorized_keys": [ssh_public_key],
            },
        ]
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)
