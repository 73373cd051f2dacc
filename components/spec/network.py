"""Network part of the spec: address plans, CNI, mesh MTU and firewall."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from .base import SpecModel


class LatencySpec(SpecModel):
    """Expected round-trip latency between two regions (for the topology view)."""

    from_region: str = Field(alias="from")
    to_region: str = Field(alias="to")
    ms: float = Field(gt=0)


class NetworkSpec(SpecModel):
    """Address plan and data-plane choices of the cluster."""

    mesh_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.42.0.0/16")
    pod_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.244.0.0/16")
    service_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.96.0.0/12")
    cni: Literal["cilium", "calico"] = "cilium"
    # "mesh": pod traffic rides the WireGuard mesh only (encrypted once);
    # "cni": the CNI encrypts too (encrypted twice, smaller pod MTU); "none".
    encryption: Literal["mesh", "cni", "none"] = "mesh"
    mtu: Literal["auto"] | int = "auto"
    wireguard_port: int = Field(default=51820, ge=1, le=65535)
    ssh_source_cidrs: list[ipaddress.IPv4Network] = Field(
        default_factory=lambda: [ipaddress.IPv4Network("0.0.0.0/0")]
    )
    latencies: list[LatencySpec] = Field(default_factory=list)

    @field_validator("mesh_cidr")
    @classmethod
    def _mesh_size(cls, value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        # Node groups get /24 blocks of the mesh; block 0 is kept for virtual IPs.
        if not 8 <= value.prefixlen <= 22:
            raise ValueError(
                f"mesh CIDR {value} must be between /8 and /22 so node groups get /24 blocks; "
                "use e.g. 10.42.0.0/16"
            )
        return value

    @field_validator("mtu")
    @classmethod
    def _mtu_range(cls, value):
        if value != "auto" and not 1280 <= value <= 8920:
            raise ValueError(f"mesh MTU {value} must be 'auto' or between 1280 and 8920")
        return value
