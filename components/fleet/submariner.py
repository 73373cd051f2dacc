"""Submariner: a broker per data domain on the hub, the operator on each spoke.

Why these settings (docs/fleet.md):

- ``cableDriver: libreswan``: IPsec between the gateways' public addresses,
  one layer of encryption. Each stack's WireGuard mesh joins only its own
  nodes, so there is no mesh between clusters to carry an unencrypted
  ``vxlan`` cable, and Submariner's ``wireguard`` driver inside a cluster's
  mesh would be WireGuard in WireGuard. Inside a cluster, Submariner's own
  VXLAN (vx-submariner, UDP 4800) between nodes and the gateway rides the
  mesh, encrypted by it once.
- One broker per data domain: clusters of an isolated region never share a
  broker with anybody else, so they learn no foreign Endpoint (no tunnel)
  and import no foreign ServiceExport (Lighthouse reads the broker).
- Brokers live on the hub (a broker "can be a dedicated cluster", Submariner
  architecture docs); the hub itself joins none.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from components.platform.chart_values import typed
from components.platform.charts import CHARTS
from components.platform.model import Manifest, PlatformContext, Release, Workload
from components.platform.objects import metadata, namespace
from components.platform.profiles import requests

from .names import (BROKER_CLIENT_SA, BROKER_TOKEN, SECRET_BROKER_CA, SECRET_BROKER_SERVER, SECRET_BROKER_TOKEN,
                    SECRET_IPSEC_PSK, SUBMARINER_NAMESPACE, broker_namespace)
from .ports import IKE_PORT, NATT_PORT
from .values import BrokerValues, SubmarinerOperatorValues

VERSION = "0.24.1"
CABLE_DRIVER = "libreswan"
WAIT_FOR_TOKEN = {"pulumi.com/waitFor": "jsonpath={.data.token}"}
"""The token controller fills a service-account-token Secret after its creation."""


def broker_items(domain: str, *, owns_crds: bool, after: list[str]) -> tuple[Release, list[Manifest]]:
    """The broker of ``domain`` (its chart release in its own namespace) and
    the token Secret of the client account spokes join with."""
    ns_name = broker_namespace(domain)
    ns = namespace(ns_name)
    chart = dataclasses.replace(CHARTS["submariner-k8s-broker"], namespace=ns_name)
    values = typed(BrokerValues, {
        # Cluster-scoped CRDs: installed by the first broker's release only.
        "crd": {"create": owns_crds},
        "rbac": {"create": True},
        "serviceAccounts": {"client": {"create": True, "name": BROKER_CLIENT_SA}},
    })
    release = Release(f"submariner-broker-{domain}", chart, values, after=[ns.key, *after])
    token = Manifest(f"fleet/broker-token-{domain}", {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": metadata(BROKER_TOKEN, ns_name, annotations={
            "kubernetes.io/service-account.name": BROKER_CLIENT_SA, **WAIT_FOR_TOKEN}),
    }, after=[release.key])
    return release, [ns, token]


def operator_items(ctx: PlatformContext, member: str, domain: str, after: list[str]
                   ) -> tuple[Release, list[Manifest], list[Workload]]:
    """The operator on a spoke, joined to its domain's broker with what the
    hub's stack exported (``ctx.secrets``, from the StackReference)."""
    spec, secrets = ctx.spec, ctx.secrets
    ns = namespace(SUBMARINER_NAMESPACE, labels={
        # Gateway and route agent pods are privileged (IPsec, routes).
        "pod-security.kubernetes.io/enforce": "privileged"})
    values: dict[str, Any] = typed(SubmarinerOperatorValues, {
        "broker": {"server": secrets.get(SECRET_BROKER_SERVER), "token": secrets.get(SECRET_BROKER_TOKEN),
                   "ca": secrets.get(SECRET_BROKER_CA), "namespace": broker_namespace(domain),
                   "insecure": False, "globalnet": False},
        "submariner": {"clusterId": member, "clusterCidr": str(spec.network.pod_cidr),
                       "serviceCidr": str(spec.network.service_cidr), "natEnabled": spec.fleet.submariner.nat,
                       "serviceDiscovery": True, "cableDriver": CABLE_DRIVER, "healthcheckEnabled": True,
                       "images": {"repository": "quay.io/submariner", "tag": VERSION}},
        "ipsec": {"psk": secrets.get(SECRET_IPSEC_PSK), "ikePort": IKE_PORT, "natPort": NATT_PORT},
        "operator": {"image": {"repository": "quay.io/submariner/submariner-operator", "tag": VERSION},
                     "resources": requests(ctx.profile, "submariner-operator")},
    })
    release = Release("submariner-operator", CHARTS["submariner-operator"], values, after=[ns.key, *after])
    # The gateway, route agent and Lighthouse pods the operator starts get
    # no requests from the chart: not counted (docs/fleet.md).
    workloads = [Workload(release.key, "submariner-operator", "Deployment", ("operator", "resources"))]
    return release, [ns], workloads
