"""Kubernetes-layer settings: API endpoint, air-gap, etcd snapshots, reservations."""

from __future__ import annotations

import ipaddress

from pydantic import Field

from .base import SpecModel


class AirgapSpec(SpecModel):
    """Install from binaries and images pre-staged on the nodes (no internet)."""

    enabled: bool = False
    artifacts_dir: str = "/var/lib/sovereign/airgap"


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


class KubernetesSpec(SpecModel):
    # A public DNS name for the API, added to the TLS SANs.
    api_dns_name: str | None = None
    # Sources allowed to reach the API on the public interface (the Pulumi
    # runner, CI); empty: the API is reachable over the mesh only.
    api_source_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)
    airgap: AirgapSpec = Field(default_factory=AirgapSpec)
    etcd_snapshots: EtcdSnapshotSpec = Field(default_factory=EtcdSnapshotSpec)
    reserved: ReservedSpec = Field(default_factory=ReservedSpec)
