"""Storage and add-on choices (the platform layer above the cluster).

Every add-on is opt-in (``enabled``) and keeps ``values``, the escape hatch
deep-merged last into the chart values the project builds; the typed fields
are the settings the project itself understands and validates.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import SpecModel
from .errors import SpecIssue
from .inputs import reads
from .storage import RookCephSpec

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"


# Storage the platform itself provides: K3s bundles local-path, and on
# kubeadm the platform installs rancher's local-path-provisioner
# (components/platform/addons/storage.py); rook-ceph is installed by the
# RookCeph component (components/storage/), its block class named by
# ``storage.rookCeph.className`` (``replicated``).
PROVIDED_STORAGE_CLASSES = ("local-path", "rook-ceph")


class StorageSpec(SpecModel):
    # What backs every volume of the platform (Vault's Raft data, Keycloak's
    # PostgreSQL); each claim names the StorageClass explicitly.
    storage_class: Literal["local-path", "rook-ceph"] = Field(default="local-path", alias="class")
    # Make it the cluster's default StorageClass (kubeadm: the annotation on
    # the class the project installs; K3s marks its local-path default itself;
    # rook-ceph: its block class).
    default: bool = True
    # storage.class rook-ceph: OSD nodes and devices, monitors, replicas.
    rook_ceph: RookCephSpec | None = None

    @property
    def class_name(self) -> str:
        """The StorageClass the platform's claims name."""
        if self.storage_class == "rook-ceph" and self.rook_ceph is not None:
            return self.rook_ceph.class_name
        return self.storage_class


class AddonSpec(SpecModel):
    """An optional add-on; ``values`` is the escape hatch merged last."""

    enabled: bool = False
    values: dict[str, Any] = Field(default_factory=dict)


class CniSettings(SpecModel):
    """Settings of the CNI chosen by ``network.cni`` (always installed)."""

    # Cilium only: Hubble relay (flows observability); the UI is left to ``values``.
    hubble: bool = False
    # Calico only: the baseline GlobalNetworkPolicy set (DNS egress allowed;
    # namespaces labelled sovereign.cloud/isolated default-deny ingress
    # except from ingress-nginx and monitoring).
    network_policies: bool = True
    values: dict[str, Any] = Field(default_factory=dict)


class AcmeIssuerSpec(SpecModel):
    email: str
    server: str = LETSENCRYPT
    # Ingress class answering the HTTP-01 challenges.
    ingress_class: str = "nginx"

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"ACME account email {value!r} is not an email address")
        return value

    @field_validator("server")
    @classmethod
    def _server(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError(f"ACME server {value!r} must be an https:// directory URL")
        return value


class CaIssuerSpec(SpecModel):
    """A private CA: an existing ``kubernetes.io/tls`` Secret in the
    cert-manager namespace, or (absent) a self-signed root bootstrapped by
    cert-manager itself."""

    secret_name: str | None = None
    common_name: str = "sovereign-cloud private CA"


class CertManagerSpec(AddonSpec):
    issuer: Literal["acme", "ca"] = "ca"
    issuer_name: str = "default"
    acme: AcmeIssuerSpec | None = None
    ca: CaIssuerSpec = Field(default_factory=CaIssuerSpec)

    @model_validator(mode="after")
    def _acme(self):
        if self.enabled and self.issuer == "acme" and self.acme is None:
            raise ValueError("issuer 'acme' needs acme.email (and optionally acme.server, acme.ingressClass)")
        return self


class IngressNginxSpec(AddonSpec):
    # DaemonSet on hostPorts 80/443 (nodes publish them, no load balancer
    # needed) or a Deployment behind a LoadBalancer Service (MetalLB).
    kind: Literal["DaemonSet", "Deployment"] = "DaemonSet"
    replicas: int = Field(default=2, ge=1)
    class_name: str = "nginx"
    # Only on these node groups (empty: every worker).
    node_groups: list[str] = Field(default_factory=list)


class BgpPeerSpec(SpecModel):
    address: ipaddress.IPv4Address
    asn: int = Field(ge=1, le=4294967295)
    name: str | None = None


class MetallbSpec(AddonSpec):
    addresses: list[str] = Field(default_factory=list)
    # With peers: BGP (seed 001's FRR routers); without: L2 announcements.
    peers: list[BgpPeerSpec] = Field(default_factory=list)
    my_asn: int | None = Field(default=None, ge=1, le=4294967295)

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                if "-" in item:
                    start, end = (ipaddress.ip_address(p.strip()) for p in item.split("-", 1))
                    if int(end) < int(start):
                        raise ValueError
                else:
                    ipaddress.ip_network(item)
            except ValueError:
                raise ValueError(f"MetalLB address {item!r} must be a CIDR or a 'first-last' range") from None
        return value

    @model_validator(mode="after")
    def _complete(self):
        if self.enabled and not self.addresses:
            raise ValueError("metallb needs addresses (CIDRs or ranges the load balancers may use)")
        if self.peers and self.my_asn is None:
            raise ValueError("metallb peers need myAsn (the cluster's own AS number)")
        return self


class AlertEmailSpec(SpecModel):
    """Alert mails through an SMTP relay that accepts the cluster without a
    password (authenticated relays: Alertmanager's ``auth_*`` settings in
    ``addons.monitoring.values``, whose values are plain text there)."""

    to: str
    sender: str = Field(alias="from")
    # host:port of the SMTP relay.
    smarthost: str
    require_tls: bool = True

    @field_validator("to", "sender")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("smarthost")
    @classmethod
    def _smarthost(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"smarthost {value!r} must be host:port, such as 'smtp.example.org:587'")
        return value


class AlertmanagerSpec(SpecModel):
    """Where Alertmanager sends alerts. Both absent (the default): the
    chart's ``null`` receiver, alerts are visible in Alertmanager's UI and
    Grafana only, nobody is notified."""

    # Alertmanager's webhook payload, POSTed to this URL (a chat bridge, an
    # incident tool). The URL may carry a token: it is plain spec config.
    webhook_url: str | None = None
    email: AlertEmailSpec | None = None

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"webhookUrl {value!r} must be an http(s):// URL")
        return value


class MonitoringSpec(AddonSpec):
    retention: str = "7d"
    goldpinger: bool = True
    # Alert when a node's available memory falls below this (seed 001: 200 MB).
    memory_alert_mb: int = Field(default=200, ge=1)
    # Alert when a WireGuard peer has had no handshake for this long.
    wireguard_handshake_minutes: int = Field(default=5, ge=1)
    cert_expiry_days: int = Field(default=14, ge=1)
    alertmanager: AlertmanagerSpec = Field(default_factory=AlertmanagerSpec)


_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)")


def is_ssh_url(url: str | None) -> bool:
    """``ssh://...`` or the scp-like ``git@host:org/repo.git``."""
    return bool(url) and (url.startswith("ssh://") or bool(_SCP_LIKE.match(url)))


class GitopsSpec(AddonSpec):
    tool: Literal["argocd", "flux"] = "argocd"
    repo_url: str | None = None
    path: str = "."
    revision: str = "main"
    # ArgoCD root application name ("app of apps", seed 004).
    root_app: str = "root"
    # known_hosts lines of the Git server (``ssh-keyscan <host>``) for an SSH
    # repoUrl. Flux requires them; ArgoCD knows github.com, gitlab.com,
    # bitbucket.org and Azure DevOps already and adds these. The private key
    # itself is the secret config key ``gitopsRepoSshKey``, never spec.
    ssh_known_hosts: str | None = None

    @model_validator(mode="after")
    def _repo(self):
        if self.enabled and not self.repo_url:
            raise ValueError("gitops needs repoUrl (the repository holding the root application)")
        if self.enabled and self.tool == "flux" and is_ssh_url(self.repo_url) and not self.ssh_known_hosts:
            raise ValueError("flux over SSH needs sshKnownHosts (the output of ssh-keyscan <git host>): "
                             "Flux verifies the server's host key")
        return self


class VaultSpec(AddonSpec):
    # Raft HA (3 replicas) or one standalone server.
    ha: bool = False
    replicas: int = Field(default=3, ge=1)
    storage_size: str = "10Gi"


class KeycloakSpec(AddonSpec):
    # Public host of Keycloak (issuer URL of the SSO clients).
    hostname: str | None = None
    realm: str = "sovereign"
    # Public hosts of the SSO clients (redirect URIs); Grafana and ArgoCD
    # get a client when their add-on is enabled.
    grafana_host: str | None = None
    argocd_host: str | None = None
    # Size of Keycloak's PostgreSQL volume (realms, users, sessions).
    database_size: str = "1Gi"

    @field_validator("hostname", "grafana_host", "argocd_host")
    @classmethod
    def _dns(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_NAME.match(value):
            raise ValueError(f"{value!r} must be a lowercase DNS name such as 'sso.example.org'")
        return value

    @field_validator("realm")
    @classmethod
    def _realm(cls, value: str) -> str:
        if not _K8S_NAME.match(value):
            raise ValueError(f"realm {value!r} must be lowercase letters, digits or '-'")
        return value

    @model_validator(mode="after")
    def _host(self):
        if self.enabled and not self.hostname:
            raise ValueError("keycloak needs hostname (the issuer URL of the SSO clients)")
        return self


class GpuAddonSpec(AddonSpec):
    # The bare device plugin (drivers installed on the host) or NVIDIA's
    # GPU operator (drivers and toolkit as containers).
    mode: Literal["device-plugin", "operator"] = "device-plugin"


class AddonsSpec(SpecModel):
    # Resource requests of what the project installs; "small" fits a 4 GB
    # node with >= 1 GB left for workloads (seed 001).
    profile: Literal["small", "standard"] = "standard"
    cni: CniSettings = Field(default_factory=CniSettings)
    cert_manager: CertManagerSpec = Field(default_factory=CertManagerSpec)
    ingress_nginx: IngressNginxSpec = Field(default_factory=IngressNginxSpec)
    metallb: MetallbSpec = Field(default_factory=MetallbSpec)
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
    gitops: GitopsSpec = Field(default_factory=GitopsSpec)
    vault: VaultSpec = Field(default_factory=VaultSpec)
    keycloak: KeycloakSpec = Field(default_factory=KeycloakSpec)
    gpu: GpuAddonSpec = Field(default_factory=GpuAddonSpec)


# Add-ons whose charts claim volumes (Vault's Raft data; Keycloak's PostgreSQL).
VOLUME_USERS = ("vault", "keycloak")


@reads("storage", "addons.vault.enabled", "addons.keycloak.enabled")
def check_storage(spec, catalog=None) -> Iterable[SpecIssue]:
    """Add-ons with volumes need a StorageClass the project provides: a claim
    of a class nobody installs stays Pending and the add-on's release times
    out. A cross-field rule of the whole spec (``components/spec/rules.py``
    ``RULES``)."""
    storage_class = spec.storage.storage_class
    if storage_class in PROVIDED_STORAGE_CLASSES:
        return
    for name in VOLUME_USERS:
        if getattr(spec.addons, name).enabled:
            yield SpecIssue(
                f"addons.{name}.enabled",
                f"{name} needs a volume, but storage.class {storage_class!r} is not installed by this project",
                f"use storage.class {PROVIDED_STORAGE_CLASSES[0]!r} (K3s bundles it; on kubeadm the platform "
                f"installs local-path-provisioner), or disable {name}")
