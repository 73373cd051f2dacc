"""Kubernetes-layer settings: API endpoint, air-gap, etcd snapshots, reservations."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator

from .base import SpecModel


_QUANTITY = r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?"
_RESERVATION = re.compile(rf"^(cpu|memory|ephemeral-storage|pid)={_QUANTITY}(,(cpu|memory|ephemeral-storage|pid)={_QUANTITY})*$")
_EVICTION = re.compile(rf"^[a-z.]+<({_QUANTITY}|[0-9]+(\.[0-9]+)?%)(,[a-z.]+<({_QUANTITY}|[0-9]+(\.[0-9]+)?%))*$")
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class AirgapSpec(SpecModel):
    """Install from binaries and images pre-staged on the nodes (no internet).

    Layout under ``artifacts_dir``: ``k3s/k3s[-arm64]`` and
    ``k3s/k3s-airgap-images-<arch>.tar*``; ``kubeadm/*.deb`` (containerd,
    kubelet, kubeadm, kubectl and dependencies) and ``kubeadm/images/*.tar``;
    ``haproxy/*.deb`` (the local API load balancer); ``etcd/etcd`` and
    ``etcd/etcdctl`` (dedicated etcd members; ``etcdctl`` also on kubeadm
    control planes with stacked etcd, for snapshots); ``node/*.deb`` (the node
    baseline's packages: WireGuard tools, nftables, time sync, ...);
    ``nvidia/*.deb`` (GPU nodes: nvidia-container-toolkit and its libraries).
    """

    enabled: bool = False
    artifacts_dir: str = "/var/lib/sovereign/airgap"

    @field_validator("artifacts_dir")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or "'" in value:
            raise ValueError(f"artifacts directory {value!r} must be an absolute path")
        return value


class EtcdS3Spec(SpecModel):
    """S3-compatible target of etcd snapshots. Credentials are the secret
    config keys ``sovereign-cloud:etcdS3AccessKey`` / ``etcdS3SecretKey``."""

    endpoint: str
    bucket: str
    region: str = "us-east-1"
    folder: str = "etcd-snapshots"
    skip_ssl_verify: bool = False


class EtcdSnapshotSpec(SpecModel):
    enabled: bool = True
    schedule: str = "0 */6 * * *"
    retention: int = Field(default=28, ge=1)
    s3: EtcdS3Spec | None = None


class ReservedSpec(SpecModel):
    """Resources kept away from pods, so workloads cannot starve the node
    (essential on hyperconverged server+worker nodes)."""

    kube_reserved: str = "cpu=250m,memory=512Mi"
    system_reserved: str = "cpu=250m,memory=512Mi"
    eviction_hard: str = "memory.available<200Mi,nodefs.available<10%"

    @field_validator("kube_reserved", "system_reserved")
    @classmethod
    def _reservation(cls, value: str) -> str:
        if not _RESERVATION.match(value):
            raise ValueError(f"{value!r} is not a kubelet reservation; use e.g. 'cpu=250m,memory=512Mi'")
        return value

    @field_validator("eviction_hard")
    @classmethod
    def _eviction(cls, value: str) -> str:
        if not _EVICTION.match(value):
            raise ValueError(f"{value!r} is not a kubelet eviction threshold list; use e.g. 'memory.available<200Mi,nodefs.available<10%'")
        return value


class KubernetesSpec(SpecModel):
    # A public DNS name for the API, added to the TLS SANs.
    api_dns_name: str | None = None
    # Sources allowed to reach the API on the public interface (the Pulumi
    # runner, CI); empty: the API is reachable over the mesh only.
    api_source_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)
    airgap: AirgapSpec = Field(default_factory=AirgapSpec)
    etcd_snapshots: EtcdSnapshotSpec = Field(default_factory=EtcdSnapshotSpec)
    reserved: ReservedSpec = Field(default_factory=ReservedSpec)
    # false: no kube-proxy; the CNI replaces it (Cilium's kube-proxy
    # replacement, which reaches the API through the node-local endpoint
    # the cluster contract exposes as api_host/api_port).
    kube_proxy: bool = True

    @field_validator("api_dns_name")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_NAME.match(value):
            raise ValueError(f"API DNS name {value!r} must be a lowercase DNS name such as 'api.example.org'")
        return value
