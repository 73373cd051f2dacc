"""Provider-wide settings (accounts, images, private networks)."""

from __future__ import annotations

import ipaddress

from pydantic import Field

from .base import SpecModel


class HetznerSettings(SpecModel):
    image: str = "debian-12"
    # Private network for groups with ``privateNetwork: true``.
    network_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.0.0.0/16")
    network_zone: str = "eu-central"


class OvhSettings(SpecModel):
    subsidiary: str = "FR"
    # Public Cloud project id (``serviceName``) for public-cloud instance types.
    cloud_project: str | None = None
    vps_image: str = "Debian 12"
    cloud_image: str = "Debian 12"
    vps_duration: str = "P1M"


class ScalewaySettings(SpecModel):
    project_id: str | None = None
    image: str = "debian_bookworm"
    private_network_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("172.16.0.0/22")


class ProvidersSpec(SpecModel):
    hetzner: HetznerSettings = Field(default_factory=HetznerSettings)
    ovh: OvhSettings = Field(default_factory=OvhSettings)
    scaleway: ScalewaySettings = Field(default_factory=ScalewaySettings)


class SshSpec(SpecModel):
    """How Pulumi reaches nodes. The private key is the secret config key
    ``sovereign-cloud:sshPrivateKey``, never part of this spec."""

    public_key: str
    user: str = "root"
