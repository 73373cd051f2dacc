"""Where the data pods of a region run: pinned to the region's nodes, with
the tolerations the spec gives (``dataServices.tolerations``), on the node
groups ``components.spec.data.worker_regions`` found they may run on."""

from __future__ import annotations

import re
from typing import Any

from components.spec.data import worker_regions

REGION_LABEL = "topology.kubernetes.io/region"


def label(region: str) -> str:
    """A region as a DNS label (``fr-par-1`` stays, ``SBG`` -> ``sbg``)."""
    return re.sub(r"[^a-z0-9-]", "-", region.lower()).strip("-")


def region_affinity(region: str) -> dict[str, Any]:
    return {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": REGION_LABEL, "operator": "In", "values": [region]}]}]}}


def tolerations(spec) -> list[dict[str, str]]:
    return [t.as_k8s() for t in spec.data_services.tolerations]


def region_groups(spec, region: str) -> tuple[str, ...]:
    """The node groups of ``region`` a data pod may be scheduled on (the
    spec rules guarantee at least one for every region named)."""
    return tuple(worker_regions(spec).get(region, ()))
