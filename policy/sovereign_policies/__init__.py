"""Sovereignty policies of the sovereign-cloud program (CrossGuard, Python).

Importable without side effects: ``policy/__main__.py`` builds the
``PolicyPack`` (which blocks), tests call the validators directly.
"""

from __future__ import annotations

from .fleet import submariner_encrypted_once
from .labels import residency_labels
from .ports import no_public_control_plane_ports
from .regions import allowed_node_regions, allowed_regions
from .secrets import secrets_policy

PACK_NAME = "sovereign-cloud"

POLICIES = [
    allowed_regions,
    allowed_node_regions,
    no_public_control_plane_ports,
    residency_labels,
    secrets_policy,
    submariner_encrypted_once,
]

__all__ = ["PACK_NAME", "POLICIES"]
