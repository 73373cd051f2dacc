"""The ``RookCeph`` component: replicated Ceph storage through Rook.

Creates, from the add-on plan (``plan.py``):
- on each node of a ``usbAsScsi`` storage group, the udev rule presenting
  USB disks as SCSI (``scripts/ceph-usb-as-scsi.sh``; removed on delete);
- the ``rook-ceph`` namespace, the operator release (CRDs, CSI) and the
  ``rook-ceph-cluster`` release (CephCluster, the ``replicated`` pool and
  StorageClass, the optional filesystem and object store), the latter after
  the operator and after every udev rule (the OSD prepare jobs read them).

Outputs: ``storage_classes`` (block first), ``resources`` by plan key (the
platform orders the claims of the block class after the cluster release).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import pulumi

from components.platform.model import AddonPlan, Release
from components.platform.resources import manifest_object, release
from components.remote.command import node_command
from components.remote.script import render_script

from .values import CLUSTER

SCRIPTS = Path(__file__).parent / "scripts"
USB_RULE_FILE = "/etc/udev/rules.d/61-sovereign-ceph-usb-as-scsi.rules"


class RookCephArgs(TypedDict):
    plan: AddonPlan
    """The add-on plan (``components.storage.plan.plan``)."""
    nodes: list
    """Compute ``Node``s of the cluster (the udev rule goes over their SSH)."""
    usb_nodes: list[str]
    """Names of the nodes needing the USB-as-SCSI udev rule."""
    provider: Any
    """The cluster's Kubernetes provider."""
    after: list[pulumi.Resource]
    """What everything here waits for (cluster ready, the CNI, monitoring's CRDs)."""


def usb_rule_script(action: str) -> str:
    return render_script(SCRIPTS / "ceph-usb-as-scsi.sh", {"ACTION": action, "RULE_FILE": USB_RULE_FILE})


class RookCeph(pulumi.ComponentResource):
    storage_classes: list[str]
    """StorageClass names this cluster provides (the block class first)."""
    resources: dict[str, pulumi.Resource]
    """Plan key -> the release or object created for it."""
    udev_rules: dict[str, pulumi.Resource]
    """Node name -> its USB-as-SCSI udev command."""

    def __init__(self, name: str, args: RookCephArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:storage:RookCeph", name, {}, opts)
        plan, after = args["plan"], list(args["after"])
        by_name = {n.name: n for n in args["nodes"]}
        self.udev_rules = {}
        for node_name in args["usb_nodes"]:
            node = by_name[node_name]
            self.udev_rules[node_name] = node_command(
                f"{name}-usb-as-scsi-{node_name}", node.ssh,
                create=usb_rule_script("apply"), delete=usb_rule_script("remove"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=node.depends_on()))
        self.resources = {}
        for item in _ordered(plan):
            deps = after + [self.resources[k] for k in item.after if k in self.resources]
            if item.key == CLUSTER:
                deps += list(self.udev_rules.values())
            opts_ = pulumi.ResourceOptions(parent=self, provider=args["provider"], depends_on=deps)
            res_name = f"{name}-{item.key.replace('/', '-')}"
            self.resources[item.key] = (release(res_name, item, opts_) if isinstance(item, Release)
                                        else manifest_object(res_name, item, opts_))
        cluster = next(r for r in plan.releases if r.key == CLUSTER).values
        self.storage_classes = [e["storageClass"]["name"]
                                for kind in ("cephBlockPools", "cephFileSystems", "cephObjectStores")
                                for e in cluster.get(kind) or [] if e["storageClass"].get("enabled")]
        self.register_outputs({"storageClasses": self.storage_classes})


def _ordered(plan: AddonPlan):
    """The plan's items, each after the items of the plan it names."""
    items = {i.key: i for i in plan.items}
    done: list[str] = []
    while len(done) < len(items):
        ready = [k for k, i in items.items() if k not in done and all(a in done or a not in items for a in i.after)]
        if not ready:
            raise ValueError(f"rook-ceph plan order has a cycle among {sorted(set(items) - set(done))}")
        done.append(ready[0])
    return [items[k] for k in done]
