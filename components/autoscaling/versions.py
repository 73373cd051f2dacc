"""Pinned cluster-autoscaler chart and images (no Pulumi: the spec rules read it).

The chart's Hetzner support (``--nodes=min:max:type:region:name`` from
``autoscalingGroups[].instanceType/region``) arrived with chart 9.36.0
(kubernetes/autoscaler#6502); 9.46.6 is run against Hetzner by others
(devantler-tech/platform#1457). The image follows the cluster's Kubernetes
minor, as the autoscaler's scheduler simulation must (one table, bumped
deliberately). ``HCLOUD_CLUSTER_CONFIG`` (per-pool cloud-init, labels and
taints) needs 1.29 or later.
"""

from __future__ import annotations

CHART_NAME = "cluster-autoscaler"
CHART_REPO = "https://kubernetes.github.io/autoscaler"
CHART_VERSION = "9.46.6"
NAMESPACE = "kube-system"
IMAGE_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler"
IMAGE_TAGS = {
    (1, 31): "v1.31.2",
    (1, 32): "v1.32.7",
    (1, 33): "v1.33.5",
}


def image_tag(kubernetes_version: tuple[int, int, int]) -> str | None:
    """The pinned image for the cluster's minor, or None when none is pinned."""
    return IMAGE_TAGS.get(kubernetes_version[:2])
