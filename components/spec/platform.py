"""Storage and add-on choices (extended by the platform layers)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import SpecModel


class StorageSpec(SpecModel):
    storage_class: Literal["local-path", "rook-ceph"] = Field(default="local-path", alias="class")
    default: bool = True


class AddonSpec(SpecModel):
    """An optional add-on; ``values`` is the escape hatch merged last."""

    enabled: bool = False
    values: dict[str, Any] = Field(default_factory=dict)


class AddonsSpec(SpecModel):
    cert_manager: AddonSpec = Field(default_factory=AddonSpec)
    ingress_nginx: AddonSpec = Field(default_factory=AddonSpec)
    metallb: AddonSpec = Field(default_factory=AddonSpec)
    monitoring: AddonSpec = Field(default_factory=AddonSpec)
    gitops: AddonSpec = Field(default_factory=AddonSpec)
    vault: AddonSpec = Field(default_factory=AddonSpec)
    keycloak: AddonSpec = Field(default_factory=AddonSpec)
    gpu_operator: AddonSpec = Field(default_factory=AddonSpec)
