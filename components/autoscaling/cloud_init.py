"""User data of an autoscaled server (the ``cloudInit`` of its node pool).

Small on purpose (Hetzner caps user data at 32 KiB): the cluster CA, the
two credentials, and autoscale-bootstrap.sh, which fetches the group's
script bundle from the cluster and checks its SHA-256 against the one
written here. cloud-init only starts the join as a systemd unit: the
baseline script waits for cloud-init to finish (it installs the same
packages), so running the join inside cloud-init would wait for itself.
Failures show in ``journalctl -u sovereign-autoscale-join`` and in the unit's
failed state, not in a silently half-configured server (hetzner-k3s #466).
"""

from __future__ import annotations

import yaml

from components.compute.cloud_init import BOOTSTRAP_PACKAGES
from components.remote.script import render_script

from .bundle import CA_FILE, K3S_TOKEN_FILE, SCRIPTS_DIR, TOKEN_FILE
from .registry import NAMESPACE, SCRIPTS

BOOTSTRAP = "/usr/local/lib/sovereign/autoscale-bootstrap.sh"
JOIN_UNIT = "sovereign-autoscale-join"


def render_autoscaled_user_data(*, control_planes: list[tuple[str, str]], ca_pem: str, registrar_token: str,
                                 k3s_token: str, bundle: str, bundle_sha256: str, ssh_public_key: str) -> str:
    """A ``#cloud-config`` document (valid for ``cloud-init schema``).

    ``control_planes``: (private address, mesh address) of each control
    plane on the private network. The result holds two credentials: a
    Pulumi secret wherever it goes.
    """
    bootstrap = render_script(SCRIPTS / "autoscale-bootstrap.sh", {
        "CONTROL_PLANES": [f"{private} {mesh}" for private, mesh in control_planes],
        "API_PORT": 6443,
        "CA_FILE": CA_FILE,
        "TOKEN_FILE": TOKEN_FILE,
        "NAMESPACE": NAMESPACE,
        "BUNDLE": bundle,
        "BUNDLE_SHA256": bundle_sha256,
        "SCRIPTS_DIR": SCRIPTS_DIR,
    })
    config = {
        "ssh_pwauth": False,
        "disable_root": False,
        "users": [{"name": "root", "ssh_authorized_keys": [ssh_public_key]}],
        "package_update": True,
        "packages": [*BOOTSTRAP_PACKAGES, "python3"],
        "write_files": [
            {"path": CA_FILE, "content": ca_pem, "permissions": "0644"},
            {"path": TOKEN_FILE, "content": registrar_token, "permissions": "0600"},
            {"path": K3S_TOKEN_FILE, "content": k3s_token, "permissions": "0600"},
            {"path": BOOTSTRAP, "content": bootstrap, "permissions": "0700"},
        ],
        "runcmd": [["systemd-run", "--unit", JOIN_UNIT, "--no-block", "/bin/bash", BOOTSTRAP]],
    }
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)
