"""cluster-autoscaler chart values and its Hetzner cluster config (pure).

Each autoscaled group is one autoscaler node pool ``<cluster>-<group>``
holding only the servers above the group's static floor: ``0`` to
``maxReplicas - minReplicas``. The static nodes carry no ``hcloud/node-group``
label, so the autoscaler never deletes a server Pulumi manages.

``HCLOUD_CLUSTER_CONFIG`` (base64 JSON; hetzner_manager.go ``ClusterConfig``):
``imagesForArch`` and, per pool, ``cloudInit``, ``labels`` and ``taints``.
The autoscaler only uses labels and taints for its template of a new node
(kubernetes/autoscaler#8492: they are not applied to the server); the
kubelet registers the very same ones (``bundle.node_labels_and_taints``).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from components.platform.values import deep_merge
from components.spec.autoscaler import autoscaled_groups, pool_name

from .bundle import AUTOSCALED_LABEL
from .versions import IMAGE_REPOSITORY, image_tag

SECRET = "cluster-autoscaler-hetzner"
TOKEN_KEY = "token"
CONFIG_KEY = "cluster-config"


def cluster_config(spec, pools: dict[str, dict[str, Any]]) -> str:
    """The ``HCLOUD_CLUSTER_CONFIG`` value. ``pools``: per group, its
    ``cloudInit`` (user data), ``labels`` and ``taints``."""
    groups = autoscaled_groups(spec)
    first = next(iter(groups.values()))
    image = first.image or spec.providers.hetzner.image
    config = {
        # Hetzner names images per architecture (debian-12 exists for both).
        "imagesForArch": {"amd64": image, "arm64": image},
        "nodeConfigs": {
            pool_name(spec, name): {
                "cloudInit": pools[name]["cloudInit"],
                "labels": pools[name]["labels"],
                "taints": [{"key": t["key"], "value": t.get("value") or "", "effect": t["effect"]}
                           for t in pools[name]["taints"]],
            }
            for name in groups
        },
    }
    return base64.b64encode(json.dumps(config, sort_keys=True).encode()).decode()


def max_nodes_total(spec) -> int:
    """Every node the spec allows at once: static ones plus every pool at its max."""
    return sum(max(g.max_replicas or 0, g.size) if not g.is_existing else len(g.hosts)
               for g in spec.node_groups.values())


def chart_values(spec, *, network: str, firewall: str, ssh_key: str, config_sha256: str) -> dict[str, Any]:
    a = spec.autoscaler
    groups = autoscaled_groups(spec)
    values = {
        "cloudProvider": "hetzner",
        "autoscalingGroups": [
            {"name": pool_name(spec, name), "minSize": 0, "maxSize": g.max_replicas - g.size,
             "instanceType": g.instance_type, "region": g.region}
            for name, g in groups.items()
        ],
        "image": {"repository": IMAGE_REPOSITORY, "tag": image_tag(spec.kubernetes_version)},
        "extraArgs": {
            "scale-down-unneeded-time": a.scale_down_unneeded_time,
            "scale-down-delay-after-add": a.scale_down_delay_after_add,
            "max-nodes-total": max_nodes_total(spec),
            "expander": "least-waste",
        },
        "extraEnv": {
            "HCLOUD_NETWORK": network,
            "HCLOUD_FIREWALL": firewall,
            "HCLOUD_SSH_KEY": ssh_key,
            "HCLOUD_PUBLIC_IPV4": "true",
            "HCLOUD_PUBLIC_IPV6": "false",
        },
        "extraEnvSecrets": {
            "HCLOUD_TOKEN": {"name": SECRET, "key": TOKEN_KEY},
            "HCLOUD_CLUSTER_CONFIG": {"name": SECRET, "key": CONFIG_KEY},
        },
        # A changed config (env from a Secret) only reaches a new pod.
        "podAnnotations": {"sovereign.cloud/cluster-config-sha256": config_sha256},
        # Never on a node it may remove itself.
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": AUTOSCALED_LABEL, "operator": "DoesNotExist"}]}]}}},
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    }
    return deep_merge(values, a.values)
