"""OpenStack on the cluster (``openstack``, issue 14): OpenStack-Helm charts
pinned to one release, on the Rook-Ceph cluster of ``storage.rookCeph``.

Field rules live on the models; the rules needing the whole spec (the
release's Kubernetes range, the node groups carrying each role, Ceph, SSO
through Keycloak, exposure, the per-node memory) are ``check_openstack``,
one of the spec's ``RULES``. What is deployed and why:
``docs/openstack-helm.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field, field_validator, model_validator

from .base import SpecModel
from .errors import SpecIssue
from .inputs import reads

_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_QUANTITY = re.compile(r"^[1-9][0-9]*(Mi|Gi)$")
_IMAGE = re.compile(r"^[a-z0-9][-a-z0-9._/:]*[a-z0-9](@sha256:[0-9a-f]{64})?$")

OPENSTACK = "openstack"


def _dns_label(value: str, what: str) -> str:
    if not _K8S_NAME.match(value):
        raise ValueError(f"{what} {value!r} must be a DNS label (lowercase letters, digits, '-')")
    return value


class OpenStackServicesSpec(SpecModel):
    """Optional services; Keystone, Glance, Placement, Nova and Neutron (and
    the infrastructure under them) are always installed."""

    # Block storage (cinder-api, -scheduler, -volume on the RBD pool "volumes").
    cinder: bool = True
    # The dashboard.
    horizon: bool = True
    # prometheus-openstack-exporter, its ServiceMonitor and the alerts.
    exporter: bool = True


class OpenStackSsoSpec(SpecModel):
    """Keystone federated to the Keycloak add-on (OpenID Connect), Horizon
    offering "Keycloak" on its login page (WebSSO)."""

    enabled: bool = False
    # A Keystone image with Apache's mod_auth_openidc: the published
    # quay.io/airshipit/keystone images do not carry it (build recipe in
    # docs/openstack-helm.md).
    keystone_image: str | None = None
    # Keystone domain, group and project the federated users land in.
    domain: str = "sso"
    project: str = "sso"
    # Keystone role of the federated group on that project.
    role: str = "member"

    @field_validator("keystone_image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and not _IMAGE.match(value):
            raise ValueError(f"keystoneImage {value!r} is not an image reference such as "
                             "'registry.example.org/openstack/keystone-oidc:2025.2-ubuntu_noble'")
        return value

    @field_validator("domain", "project", "role")
    @classmethod
    def _name(cls, value: str, info) -> str:
        return _dns_label(value, info.field_name)


class OpenStackComputeSpec(SpecModel):
    # Memory each compute node keeps for instances: nova places at most this
    # much (reserved_host_memory_mb = node memory - vmMemory,
    # ram_allocation_ratio 1.0) and a placeholder pod requests it, so the
    # Kubernetes scheduler never gives it to pods.
    vm_memory: str = "1Gi"

    @field_validator("vm_memory")
    @classmethod
    def _quantity(cls, value: str) -> str:
        if not _QUANTITY.match(value):
            raise ValueError(f"vmMemory {value!r} must be a whole quantity in Mi or Gi, such as '1Gi'")
        return value


class OpenStackSpec(SpecModel):
    enabled: bool = False
    # The OpenStack-Helm release whose charts and images are installed
    # (components/openstack/releases.py lists the pinned ones).
    release: str = "2025.2"
    namespace: str = "openstack"
    # Node groups of each role; empty: derived from the node groups (labels
    # openstack-control-plane/openstack-compute-node/openvswitch=enabled
    # set on a group, else its roles; see components/openstack/labels.py).
    control_plane_groups: list[str] = Field(default_factory=list)
    compute_groups: list[str] = Field(default_factory=list)
    openvswitch_groups: list[str] = Field(default_factory=list)
    # Public DNS zone of the APIs and the dashboard: keystone.<domain>,
    # horizon.<domain>, nova.<domain>... (served by the cluster's
    # ingress-nginx with certificates from cert-manager). Absent: the
    # services stay inside the cluster.
    domain: str | None = None
    # Which region name the service catalog uses.
    region: str = "RegionOne"
    services: OpenStackServicesSpec = Field(default_factory=OpenStackServicesSpec)
    sso: OpenStackSsoSpec = Field(default_factory=OpenStackSsoSpec)
    compute: OpenStackComputeSpec = Field(default_factory=OpenStackComputeSpec)
    # Escape hatch per chart (keystone, nova, ...), merged last into its values.
    values: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("namespace")
    @classmethod
    def _ns(cls, value: str) -> str:
        return _dns_label(value, "namespace")

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_NAME.match(value):
            raise ValueError(f"domain {value!r} must be a lowercase DNS zone such as 'cloud.example.org'")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9][-A-Za-z0-9_]{0,63}$", value):
            raise ValueError(f"region {value!r} must be letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _repeats(self):
        for field in ("control_plane_groups", "compute_groups", "openvswitch_groups"):
            groups = getattr(self, field)
            if len(set(groups)) != len(groups):
                raise ValueError(f"{field}: node groups must not repeat")
        return self

    def public_host(self, service: str) -> str | None:
        """``<service>.<domain>``, None when nothing is exposed."""
        return f"{service}.{self.domain}" if self.domain else None


# -- the cross-field rule ----------------------------------------------------

def _enabled(spec) -> bool:
    openstack = getattr(spec, "openstack", None)
    return bool(openstack is not None and openstack.enabled)


@reads(OPENSTACK, "version", "storage", "addons", "nodeGroups.*")
def check_openstack(spec, catalog=None) -> Iterable[SpecIssue]:
    """The release fits the Kubernetes version, roles land on usable nodes,
    Ceph, SSO and exposure have what they need."""
    if not _enabled(spec):
        return
    # Imported here: the spec models do not import the components.
    from components.openstack.rules import openstack_issues

    yield from openstack_issues(spec, catalog)


# It places every pod of the cluster (platform, Ceph, OpenStack): it reads
# every section the platform's plans read.
@reads("name", "distribution", "version", "network", "kubernetes", "storage", "addons", "dataServices", "cost",
       OPENSTACK, "nodeGroups.*")
def check_openstack_memory(spec, catalog=None) -> Iterable[SpecIssue]:
    """Every node keeps headroom with everything placed (components/openstack/memory.py)."""
    if not _enabled(spec):
        return
    from components.openstack.rules import memory_issues, openstack_issues

    from components.storage.layout import layout_issues

    # The placement needs OpenStack settings and a Ceph layout that stand
    # (openstack_issues made sure storage is rook-ceph).
    if list(openstack_issues(spec, catalog)) or list(layout_issues(spec)):
        return
    try:
        issues = list(memory_issues(spec, catalog))
    except ValueError:
        # The platform's plans refuse this spec: the rule owning the field reports it.
        return
    yield from issues
