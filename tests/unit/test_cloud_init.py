"""User data passes the real `cloud-init schema` validator."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from components.compute.cloud_init import BOOTSTRAP_PACKAGES, render_user_data
from tests.conftest import require_tool

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC ops@example"


def host_key_pair() -> tuple[str, str]:
    """A real ed25519 host key, as tls.PrivateKey gives it (OpenSSH formats)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, public


def schema_check(tmp_path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "user-data.yaml"
    path.write_text(text)
    return subprocess.run([require_tool("cloud-init"), "schema", "--config-file", str(path)], capture_output=True, text=True)


@pytest.mark.parametrize("user", ["root", "debian"])
def test_user_data_is_valid_cloud_config(tmp_path, user):
    private, public = host_key_pair()
    text = render_user_data(hostname="cp-1", ssh_user=user, ssh_public_key=KEY,
                            host_key_private=private, host_key_public=public)
    result = schema_check(tmp_path, text)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(text)
    # The node boots with the host key Pulumi pins, and no other.
    assert config["ssh_keys"] == {"ed25519_private": private, "ed25519_public": public}
    assert config["ssh_genkeytypes"] == ["ed25519"] and config["ssh_deletekeys"] is True
    assert config["ssh_pwauth"] is False
    assert set(BOOTSTRAP_PACKAGES) <= set(config["packages"])
    users = [u for u in config["users"] if isinstance(u, dict)]
    assert users[0]["name"] == user and users[0]["ssh_authorized_keys"] == [KEY]


def test_validator_rejects_a_broken_document(tmp_path):
    """The check above can fail: a wrong type is reported by cloud-init."""
    result = schema_check(tmp_path, "#cloud-config\nssh_pwauth: [1, 2]\npackages: 5\n")
    assert result.returncode != 0


def test_every_cloud_node_of_the_examples_gets_valid_user_data(tmp_path, example_run):
    stack, _, run = example_run
    documents = [r.inputs["userData"] for r in run.resources if r.type == "hcloud:index/server:Server"]
    documents += [r.inputs["userData"]["cloud-init"] for r in run.resources if r.type == "scaleway:instance/server:Server"]
    documents += [r.inputs["userData"] for r in run.resources if r.type == "ovh:CloudProject/instance:Instance"]
    for text in documents:
        result = schema_check(tmp_path, text)
        assert result.returncode == 0, f"{stack}: {result.stdout}{result.stderr}"
