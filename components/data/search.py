"""Search across regions: Elasticsearch through ECK, with zone awareness.

Cross-cluster replication (a follower cluster per region, the shape for
Europe-USA) is not offered: Elastic's CCR needs a paid licence on both
clusters; OpenSearch's cross-cluster replication plugin (Apache 2.0) is the
open alternative, a follow-up (no OpenSearch operator CRD in the project's
schema set yet). ``docs/geo-databases.md`` says which to choose when.
"""

from __future__ import annotations

from typing import Any

from components.platform.addons.storage import storage_class, volume_after
from components.platform.charts import CHARTS
from components.platform.model import Manifest, PlatformContext, Release, Workload
from components.platform.objects import custom, namespace
from components.platform.profiles import requests

from .placement import label, region_affinity, region_groups, tolerations

ECK = "eck-operator"


def _pod_spec(ctx: PlatformContext, region: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "affinity": {"nodeAffinity": region_affinity(region)},
        "containers": [{"name": "elasticsearch", "resources": requests(ctx.profile, "elasticsearch")}],
    }
    if ctx.spec.data_services.tolerations:
        spec["tolerations"] = tolerations(ctx.spec)
    if ctx.priority():
        spec["priorityClassName"] = ctx.priority()
    return spec


def search_items(ctx: PlatformContext, ns: str) -> tuple[list[Release], list[Manifest], list[Workload]]:
    """One Elasticsearch cluster, one node set per region (pinned there),
    shard allocation awareness on the region attribute, forced so a region's
    loss does not pile every replica into the others."""
    data = ctx.spec.data_services
    search = data.search
    eck_ns = namespace(CHARTS[ECK].namespace)
    operator = Release(ECK, CHARTS[ECK], {
        "resources": requests(ctx.profile, "eck-operator"),
        # Only the data namespace: the operator watches nothing else.
        "managedNamespaces": [data.namespace],
    }, after=[eck_ns.key] + ([ns] if ns else []))
    regions = ",".join(search.regions)
    node_sets = []
    for region in search.regions:
        node_sets.append({
            "name": label(region), "count": search.nodes_per_region,
            "config": {
                "node.attr.region": region,
                "cluster.routing.allocation.awareness.attributes": "region",
                "cluster.routing.allocation.awareness.force.region.values": regions,
                # No vm.max_map_count change on the nodes (a privileged init
                # container otherwise): niofs instead of mmap.
                "node.store.allow_mmap": False,
            },
            "podTemplate": {"spec": _pod_spec(ctx, region)},
            "volumeClaimTemplates": [{
                "metadata": {"name": "elasticsearch-data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class(ctx, "dataServices.search"),
                         "resources": {"requests": {"storage": search.storage_size}}},
            }],
        })
    es = custom("geo/search", "elasticsearch.k8s.elastic.co/v1", "Elasticsearch", search.name,
                {"version": search.version, "nodeSets": node_sets},
                namespace=data.namespace, after=[ECK, ns, *volume_after(ctx)])
    # placement "all": the groups are already the ones whose taints the data pods tolerate.
    workloads = [Workload(ECK, "elastic-operator", "StatefulSet", ("resources",))] + [
        Workload(es.key, f"{search.name}-es-{label(r)}", "StatefulSet",
                 ("spec", "nodeSets", i, "podTemplate", "spec", "containers", 0, "resources"),
                 replicas=search.nodes_per_region, placement="all", groups=region_groups(ctx.spec, r))
        for i, r in enumerate(search.regions)]
    return [operator], [eck_ns, es], workloads
