"""Services shared across clusters: the hub delivers each ``fleet.services``
entry to its exporting spoke as a ManifestWork holding the namespace and a
ServiceExport (the Kubernetes multicluster API, multicluster.x-k8s.io,
which Submariner Lighthouse implements). Lighthouse then offers the service
as ``<name>.<namespace>.svc.clusterset.local`` to the clusters of the same
broker, that is of the same data domain only (components/fleet/submariner.py).

Deleting an export (the entry leaves the spec) deletes the ServiceExport on
the spoke but orphans the namespace: the workloads in it are not the
fleet's to remove.
"""

from __future__ import annotations

from components.platform.model import Manifest
from components.platform.objects import metadata
from components.spec.fleet import FleetSpec

from .names import DOMAIN_LABEL, REGION_LABEL

WORK_V1 = "work.open-cluster-management.io/v1"
MCS_V1ALPHA1 = "multicluster.x-k8s.io/v1alpha1"


def export_works(fleet: FleetSpec, *, after: list[str]) -> list[Manifest]:
    works = []
    for svc in fleet.services:
        member = svc.from_member
        labels = {REGION_LABEL: fleet.members[member].region, DOMAIN_LABEL: fleet.domain(member)}
        name = f"export-{svc.namespace}-{svc.name}"
        manifests = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": svc.namespace}},
            {"apiVersion": MCS_V1ALPHA1, "kind": "ServiceExport",
             "metadata": {"name": svc.name, "namespace": svc.namespace, "labels": labels}},
        ]
        works.append(Manifest(f"fleet/work-{member}-{svc.namespace}-{svc.name}", {
            "apiVersion": WORK_V1, "kind": "ManifestWork", "metadata": metadata(name, member, labels),
            "spec": {
                "workload": {"manifests": manifests},
                "deleteOption": {"propagationPolicy": "SelectivelyOrphan", "selectivelyOrphans": {
                    "orphaningRules": [{"group": "", "resource": "namespaces", "name": svc.namespace}]}},
            },
        }, after=[*after, f"fleet/cluster-{member}"]))
    return works
