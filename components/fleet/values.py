"""Typed shapes of the fleet charts' values the project sets (checked with
``components.platform.chart_values.typed``). Keys as in each chart's
values.yaml: open-cluster-management-io/ocm deploy/{cluster-manager,klusterlet}/chart
(v1.3.1) and submariner-io/submariner-charts {submariner-k8s-broker,
submariner-operator}/values.yaml (the 0.24.1 packages themselves could not
be fetched offline; the keys set here are those of the repository's
values files). Secrets arrive as Pulumi Outputs, hence ``Any`` there."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from components.platform.values import Resources

_STRICT = ConfigDict(extra="forbid", strict=True)


@with_config(_STRICT)
class OcmImages(TypedDict):
    tag: str


@with_config(_STRICT)
class Create(TypedDict):
    create: bool


@with_config(_STRICT)
class ClusterManagerValues(TypedDict):
    replicaCount: int
    resources: Resources
    images: OcmImages
    # The project writes the ClusterManager itself (auto-approval, its own
    # bootstrap identity): the chart installs the operator and its CRD only.
    createBootstrapToken: bool
    createBootstrapSA: bool
    clusterManager: Create


@with_config(_STRICT)
class Requirement(TypedDict):
    type: str
    resourceRequirements: dict[str, Any]


@with_config(_STRICT)
class KlusterletSettings(TypedDict):
    create: bool
    mode: str
    clusterName: str
    resourceRequirement: Requirement


@with_config(_STRICT)
class KlusterletValues(TypedDict):
    replicaCount: int
    resources: Resources
    images: OcmImages
    bootstrapHubKubeConfig: Any
    klusterlet: KlusterletSettings


@with_config(_STRICT)
class ClientAccount(TypedDict):
    create: bool
    name: str


@with_config(_STRICT)
class BrokerAccounts(TypedDict):
    client: ClientAccount


@with_config(_STRICT)
class BrokerValues(TypedDict):
    crd: Create
    rbac: Create
    serviceAccounts: BrokerAccounts


@with_config(_STRICT)
class Broker(TypedDict):
    server: Any
    token: Any
    ca: Any
    namespace: str
    insecure: bool
    globalnet: bool


@with_config(_STRICT)
class SubmarinerImages(TypedDict):
    repository: str
    tag: str


@with_config(_STRICT)
class SubmarinerSettings(TypedDict):
    clusterId: str
    clusterCidr: str
    serviceCidr: str
    natEnabled: bool
    serviceDiscovery: bool
    cableDriver: str
    healthcheckEnabled: bool
    images: SubmarinerImages


@with_config(_STRICT)
class Ipsec(TypedDict):
    psk: Any
    ikePort: int
    natPort: int


@with_config(_STRICT)
class OperatorImage(TypedDict):
    repository: str
    tag: str


@with_config(_STRICT)
class SubmarinerOperator(TypedDict):
    image: OperatorImage
    resources: Resources


@with_config(_STRICT)
class SubmarinerOperatorValues(TypedDict):
    broker: Broker
    submariner: SubmarinerSettings
    ipsec: Ipsec
    operator: SubmarinerOperator
