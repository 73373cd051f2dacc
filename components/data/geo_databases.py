"""The ``GeoDatabases`` component (``sovereign:data:GeoDatabases``): the
items of ``plan.plan`` (the ``geo-databases`` AddonPlan) as resources, under
one parent, through the cluster's provider, in the platform's install order.

The ``Platform`` creates it when the first of its items comes in install
order (as it does ``RookCeph``), handing it the resources its items wait
for (the CNI, the CloudNativePG operator of Keycloak, cert-manager and its
issuer, the Rook-Ceph cluster release, kube-prometheus-stack).

Switchover (PostgreSQL, CloudNativePG distributed topology), two ``pulumi up``:

1. ``dataServices.postgres.switchover: {to: <replica region>}``: every
   Cluster but the target now names the target as ``replica.primary``; the
   old primary demotes itself (stops accepting writes, archives and streams
   what it has) and publishes ``status.demotionToken``; the target still
   follows it. ``kubectl -n <ns> get cluster <old> -o jsonpath='{.status.demotionToken}'``.
2. ``switchover: {to: <region>, promotionToken: <that token>}``: the target
   names itself primary and promotes only once it has replayed up to the
   token's LSN: nothing committed is lost, and the old primary rejoins as a
   replica without a rebuild.
3. Set ``primaryRegion: <region>`` and remove ``switchover`` (sources and
   backups follow the new primary; bootstrap sections are never changed
   after creation: ``ignore_changes``).

An unplanned failover (the primary region lost) is step 2 without a token:
the target promotes at once; with ``synchronousRegion`` being the target,
every acknowledged commit is there (measured, docs/geo-databases.md).
"""

from __future__ import annotations

from typing import Any, TypedDict

import pulumi

from components.platform.model import Release
from components.platform.resources import manifest_object, release


class GeoDatabasesArgs(TypedDict):
    plan: Any  # components.platform.model.AddonPlan (plan.NAME)
    provider: pulumi.ProviderResource
    after: dict[str, pulumi.Resource]
    """Resources of other plans the items wait for, by key."""
    ready: list[pulumi.Resource]


class GeoDatabases(pulumi.ComponentResource):
    resources: dict[str, pulumi.Resource]

    def __init__(self, name: str, args: GeoDatabasesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:data:GeoDatabases", name, {}, opts)
        plan = args["plan"]
        created: dict[str, pulumi.Resource] = dict(args["after"])
        self.resources = {}
        for item in _in_order(plan):
            missing = [k for k in item.after if k not in created]
            if missing:
                raise ValueError(f"{item.key} must install after {missing}, which nothing created")
            opts_ = pulumi.ResourceOptions(
                parent=self, provider=args["provider"],
                depends_on=list(args["ready"]) + [created[k] for k in item.after],
                # Bootstrap happens once, at creation: a switchover must not
                # rewrite (or replace) a running cluster's bootstrap section.
                ignore_changes=["spec.bootstrap"] if _is_pg_cluster(item) else None)
            res_name = f"{name}-{item.key.replace('/', '-')}"
            res = release(res_name, item, opts_) if isinstance(item, Release) else manifest_object(res_name, item, opts_)
            created[item.key] = self.resources[item.key] = res
        self.register_outputs({"items": sorted(self.resources)})


def _is_pg_cluster(item) -> bool:
    obj = getattr(item, "obj", None)
    return bool(obj) and obj["apiVersion"].startswith("postgresql.cnpg.io/") and obj["kind"] == "Cluster"


def _in_order(plan):
    """The plan's items, each after the items of the plan it names (the
    others' keys are given resources)."""
    items = {i.key: i for i in plan.items}
    done: list[str] = []
    pending = list(items)
    while pending:
        ready = [k for k in pending if all(a in done or a not in items for a in items[k].after)]
        if not ready:
            raise ValueError(f"geo-databases install order has a cycle among {pending}")
        for k in ready:
            done.append(k)
            pending.remove(k)
    return [items[k] for k in done]
