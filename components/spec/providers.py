"""Provider-wide settings (accounts, images, private networks, SSH keys)."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator

from .base import SpecModel

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class HetznerSettings(SpecModel):
    image: str = "debian-12"
    # Private network for groups with ``privateNetwork: true``.
    network_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.0.0.0/16")
    network_zone: str = "eu-central"
    # An SSH key already in the Hetzner project, installed on new servers
    # instead of uploading ssh.publicKey as "<cluster>-admin": Hetzner
    # refuses a second key with the same fingerprint, so stacks sharing a
    # project and a key name one of them (or a key uploaded by hand).
    ssh_key_name: str | None = None

    @field_validator("ssh_key_name")
    @classmethod
    def _key_name(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("sshKeyName is empty; give the name of an SSH key of the Hetzner project "
                             "(`hcloud ssh-key list`) or remove sshKeyName to upload ssh.publicKey")
        return value


class OvhSettings(SpecModel):
    subsidiary: str = "FR"
    # Public Cloud project id (``serviceName``) for public-cloud instance types.
    cloud_project: str | None = None
    vps_image: str = "Debian 12"
    cloud_image: str = "Debian 12"
    vps_duration: str = "P1M"
    # VPS OS name -> image id (``image_id`` of ovh.vps.Vps, which installs
    # the SSH key), for an OS the catalog has no id for, or to override it.
    vps_image_ids: dict[str, str] = Field(default_factory=dict)

    @field_validator("vps_image_ids")
    @classmethod
    def _image_ids(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {os: image for os, image in value.items() if not _UUID.match(image)}
        if bad:
            raise ValueError(f"{bad} are no VPS image ids; use the ids (UUIDs such as "
                             "45b2f222-ab10-44ed-863f-720942762b6f) that GET /vps/{serviceName}/images/available "
                             "lists for a VPS of the same range")
        return value


class ScalewaySettings(SpecModel):
    # Project every Scaleway resource is created in; default: the API key's project.
    project_id: str | None = None
    image: str = "debian_bookworm"
    private_network_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("172.16.0.0/22")

    @field_validator("project_id")
    @classmethod
    def _project_id(cls, value: str | None) -> str | None:
        if value is not None and not _UUID.match(value):
            raise ValueError(f"project id {value!r} is not a Scaleway project id; use the project's ID (a UUID) "
                             "shown by `scw account project list` or in the console's project settings")
        return value


class ProvidersSpec(SpecModel):
    hetzner: HetznerSettings = Field(default_factory=HetznerSettings)
    ovh: OvhSettings = Field(default_factory=OvhSettings)
    scaleway: ScalewaySettings = Field(default_factory=ScalewaySettings)
    # Cloud nodes to rebuild from their group's current image on the next
    # `pulumi up` (their disk is wiped; see components/compute/images.py).
    # An image change is otherwise never applied to existing nodes.
    rebuild_nodes: list[str] = Field(default_factory=list)


class SshSpec(SpecModel):
    """How Pulumi reaches nodes. The private key is the secret config key
    ``sovereign-cloud:sshPrivateKey``, never part of this spec."""

    public_key: str
    user: str = "root"
