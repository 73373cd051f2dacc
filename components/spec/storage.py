"""The Rook-Ceph part of the spec (``storage.rookCeph``): which node groups
hold OSDs and on which devices, where the monitors run, the replica count
and failure domain, and the optional filesystem and object classes.

Field rules live on the models (devices by /dev/disk/by-id path, a regex
that compiles); the rules that need the whole spec (groups that exist,
layouts that can hold the replica count, stretch latency, memory of the
storage nodes) are ``check_rook_ceph`` below, one of the spec's ``RULES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import SpecModel
from .errors import SpecIssue
from .inputs import reads

BY_ID = "/dev/disk/by-id/"
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _by_id(paths: list[str]) -> list[str]:
    for path in paths:
        if not path.startswith(BY_ID) or path == BY_ID:
            raise ValueError(
                f"device {path!r} must be a {BY_ID}... path (kernel names such as /dev/sdb change between boots "
                f"and would let Ceph wipe the wrong disk); find it with `ls -l {BY_ID}` on the node, "
                "or use deviceFilter")
    if len(set(paths)) != len(paths):
        raise ValueError("devices must not repeat")
    return paths


class CephGroupSpec(SpecModel):
    """OSD devices of one storage node group."""

    # The same by-id paths on every node of the group (identical disks of a
    # provider volume type), or ...
    devices: list[str] = Field(default_factory=list)
    # ... per node (by-id paths carry serial numbers, so they differ per machine):
    # node name -> its devices.
    node_devices: dict[str, list[str]] = Field(default_factory=dict)
    # ... or a regex on kernel device names (``^sd[b-c]$``), matched on every node.
    device_filter: str | None = None
    # OSDs a node of the group is expected to hold with deviceFilter (for the
    # per-node memory table; with devices it is their count).
    osds_per_node: int = Field(default=1, ge=1, le=16)
    # ceph-volume rejects USB disks (udev ID_BUS=usb, seed 001's sticks):
    # install a udev rule on these nodes presenting them as SCSI disks.
    usb_as_scsi: bool = False

    @field_validator("devices")
    @classmethod
    def _devices(cls, value: list[str]) -> list[str]:
        return _by_id(value)

    @field_validator("node_devices")
    @classmethod
    def _node_devices(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for node, paths in value.items():
            if not paths:
                raise ValueError(f"nodeDevices.{node} is empty; list its {BY_ID}... paths or remove the node")
            _by_id(paths)
        return value

    @field_validator("device_filter")
    @classmethod
    def _filter(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"deviceFilter {value!r} is not a regular expression: {err}") from None
        if value in ("", ".*", "^.*$", "."):
            raise ValueError(f"deviceFilter {value!r} matches every disk (the system disk included); "
                             "name the data disks, e.g. '^sd[b-c]$'")
        return value

    @model_validator(mode="after")
    def _one_source(self):
        if self.device_filter is not None and (self.devices or self.node_devices):
            raise ValueError("give either devices/nodeDevices (by-id paths) or deviceFilter, not both")
        if self.device_filter is None and not (self.devices or self.node_devices):
            raise ValueError("a storage group needs devices (by-id paths), nodeDevices or deviceFilter: "
                             "Rook never takes every disk of a node here")
        return self


class CephClassSpec(SpecModel):
    enabled: bool = False
    class_name: str

    @field_validator("class_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _K8S_NAME.match(value):
            raise ValueError(f"StorageClass name {value!r} must be a DNS label (lowercase letters, digits, '-')")
        return value


class CephFilesystemSpec(CephClassSpec):
    class_name: str = "replicated-fs"


class CephObjectStoreSpec(CephClassSpec):
    class_name: str = "replicated-bucket"


# Largest round-trip time between the two data zones of a stretch cluster:
# every write waits for both zones (Ceph's stretch mode guidance: low
# latency links between the data sites).
STRETCH_MAX_RTT_MS = 10.0


class RookCephSpec(SpecModel):
    """Replicated Ceph storage through Rook (``storage.class: rook-ceph``)."""

    # Node groups holding OSDs, and their devices. The nodes get the label
    # ``sovereign.cloud/ceph-osd: "true"``.
    storage_groups: dict[str, CephGroupSpec] = Field(alias="groups")
    # Node groups where monitors and managers may run (labelled
    # ``sovereign.cloud/ceph-mon: "true"``); default: the storage groups.
    # A stretch cluster needs one in a third zone (the arbiter).
    mon_groups: list[str] = Field(default_factory=list)
    replicas: int = Field(default=3, ge=1, le=7)
    # auto: host within one zone, zone across zones (stretch with two data
    # zones and an arbiter zone).
    failure_domain: Literal["auto", "host", "zone", "region"] = "auto"
    # The block StorageClass (RBD), the cluster default when storage.default.
    class_name: str = "replicated"
    filesystem: CephFilesystemSpec = Field(default_factory=CephFilesystemSpec)
    object_store: CephObjectStoreSpec = Field(default_factory=CephObjectStoreSpec)
    dashboard: bool = False
    # Escape hatches merged last: rook-ceph-cluster and rook-ceph chart values.
    values: dict[str, Any] = Field(default_factory=dict)
    operator_values: dict[str, Any] = Field(default_factory=dict)

    @field_validator("class_name")
    @classmethod
    def _class(cls, value: str) -> str:
        if not _K8S_NAME.match(value):
            raise ValueError(f"StorageClass name {value!r} must be a DNS label (lowercase letters, digits, '-')")
        return value

    @field_validator("storage_groups")
    @classmethod
    def _groups(cls, value: dict[str, CephGroupSpec]) -> dict[str, CephGroupSpec]:
        if not value:
            raise ValueError("name at least one node group holding OSDs")
        return value

    @property
    def monitor_groups(self) -> list[str]:
        return self.mon_groups or list(self.storage_groups or {})


# -- the cross-field rule ----------------------------------------------------

ROOK = "storage.rookCeph"


@reads("storage", "addons.profile", "addons.monitoring.enabled", "network.latencies", "network.meshCidr",
       "kubernetes.reserved", "cost.catalogOverrides", "nodeGroups.*")
def check_rook_ceph(spec, catalog=None) -> Iterable[SpecIssue]:
    """The storage layout can hold its replicas, and fits its nodes."""
    storage = spec.storage
    if storage.storage_class != "rook-ceph":
        if storage.rook_ceph is not None:
            yield SpecIssue(ROOK, f"is set but storage.class is {storage.storage_class!r}: it would be ignored",
                            "set storage.class: rook-ceph, or remove storage.rookCeph")
        return
    if storage.rook_ceph is None:
        yield SpecIssue(ROOK, "storage.class rook-ceph needs the storage layout",
                        "add storage.rookCeph.groups: the node groups holding OSDs and their devices "
                        f"({BY_ID}... paths or a deviceFilter)")
        return
    # Imported here: the layout reads the topology plan.
    from components.storage.layout import layout_issues
    from components.storage.memory import memory_issues

    issues = list(layout_issues(spec))
    yield from issues
    if not issues:
        yield from memory_issues(spec, catalog)
