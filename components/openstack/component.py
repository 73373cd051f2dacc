"""The ``OpenStackHelm`` component: OpenStack-Helm on the cluster's Rook-Ceph.

Creates, from the plan (``plan.py``), after the platform (its Rook cluster,
cert-manager issuer, Keycloak, ingress and monitoring CRDs) and the cluster:

- the OpenStack labels of the nodes (``labels.py``), server-side applied
  (``NodePatch``: the fields are this component's, removed with it; the
  nodes' other labels stay their owners');
- random credentials for every database, RabbitMQ and Keystone user
  (``pulumi_random``, secrets end to end);
- the namespace, the Ceph pools, the instances' memory placeholder, the
  certificates, the exporter's monitor and alerts;
- the releases in order, each after what it names; every release after
  the node labels (their pods select on them).

Outputs: ``releases`` and ``objects`` by plan key, ``endpoints`` (public
URLs of the exposed services).
"""

from __future__ import annotations

from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.platform.model import Release
from components.platform.plan import unique_items
from components.platform.resources import manifest_object, release

from . import sso
from .charts import PUBLIC, public_hosts, resolve_secrets, secrets_in
from .labels import node_labels
from .plan import inputs_from_spec, plan, waits

# OpenStack-Helm's jobs (db-sync of nova and neutron) take long on old CPUs.
RELEASE_TIMEOUT = 1800


class OpenStackHelmArgs(TypedDict):
    spec: Any
    """The validated ClusterSpec (``openstack`` enabled)."""
    provider: Any
    """The cluster's Kubernetes provider."""
    nodes: list
    """Compute ``Node``s of the cluster (those of the role groups get labels)."""
    platform: Any
    """The ``Platform`` component: its context (mesh MTU, priority classes,
    the Keycloak client secret)."""
    catalog: Any
    """The price catalog (memory of cloud instance types, for nova)."""
    after: list[pulumi.Resource]
    """What everything here waits for (the cluster ready, the platform)."""


class OpenStackHelm(pulumi.ComponentResource):
    releases: dict[str, k8s.helm.v3.Release]
    objects: dict[str, pulumi.CustomResource]
    labels: dict[str, k8s.core.v1.NodePatch]
    """Node name -> the patch giving it its OpenStack labels."""
    endpoints: dict[str, str]
    """Endpoint type -> public https URL (empty when nothing is exposed)."""

    def __init__(self, name: str, args: OpenStackHelmArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:openstack:OpenStackHelm", name, {}, opts)
        spec, provider, platform = args["spec"], args["provider"], args["platform"]
        ctx = platform.context
        from components.storage.layout import ceph_layout

        inp = inputs_from_spec(spec, args["catalog"], ctx.mesh_mtu, priority=ctx.priority(critical=True))

        the_plan = plan(inp, ceph_layout(spec), monitoring=spec.addons.monitoring.enabled,
                        exposed=bool(spec.openstack.domain))
        child = pulumi.ResourceOptions(parent=self)
        secrets: dict[str, Any] = {
            s: pulumi.Output.secret(random.RandomPassword(f"{name}-{s}", length=32, special=False, opts=child).result)
            for s in the_plan.secrets}
        if sso.enabled(spec):
            if sso.CLIENT_SECRET not in ctx.secrets:
                raise ValueError(f"openstack.sso: the platform made no secret {sso.CLIENT_SECRET!r}: its Keycloak "
                                 "realm has no keystone client (components/platform/addons/keycloak.py sso_clients)")
            secrets[sso.CLIENT_SECRET] = ctx.secrets[sso.CLIENT_SECRET]
        after = list(args["after"])
        self.labels = {
            node: k8s.core.v1.NodePatch(f"{name}-labels-{node}", metadata={"name": node, "labels": labels},
                                        opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=after))
            for node, labels in node_labels(spec, args["nodes"]).items()}
        self.releases, self.objects = {}, {}
        created: dict[str, pulumi.Resource] = {}
        for item in unique_items([the_plan]):
            deps = after + [created[k] for k in item.after]
            res_name = f"{name}-{item.key.replace('/', '-')}"
            if isinstance(item, Release):
                deps += list(self.labels.values())
                opts_ = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=deps)
                created[item.key] = self.releases[item.key] = _release(res_name, item, secrets, opts_)
            else:
                opts_ = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=deps)
                created[item.key] = self.objects[item.key] = manifest_object(res_name, item, opts_)
        self.endpoints = {ep: f"https://{host}" for ep, host in public_hosts(spec).items() if ep in PUBLIC}
        self.register_outputs({"charts": list(self.releases), "endpoints": self.endpoints})


def _release(name: str, item: Release, secrets: dict[str, Any], opts: pulumi.ResourceOptions):
    """A Helm release of the plan; its secret tokens become the Pulumi secrets."""
    missing = sorted(secrets_in(item.values) - set(secrets))
    if missing:
        raise ValueError(f"{item.key}: no secret for {missing}")
    # Without waiting (libvirt, nova: charts.py), a failed install cannot roll back.
    return release(name, item, opts, values=resolve_secrets(item.values, secrets), wait=waits(item.key),
                   timeout=RELEASE_TIMEOUT)
