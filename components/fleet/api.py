"""The shape of the Open Cluster Management objects the fleet writes that
../shared/crd-schemas has no schema for (it holds only the Work API:
ManifestWork, AppliedManifestWork, ManifestWorkReplicaSet, against which
the tests validate ManifestWorks). These follow the documented API of OCM
1.3 (open-cluster-management-io/api: cluster/v1 ManagedCluster,
cluster/v1beta2 ManagedClusterSet and ManagedClusterSetBinding,
cluster/v1beta1 Placement; operator/v1 ClusterManager as its CRD in the
cluster-manager chart), limited to the fields the project sets; unknown
fields are errors, as a strict server-side apply would make them.

``check`` validates an object built by the fleet plan, so a wrong shape
fails the plan rather than a `pulumi up` against a live hub.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CLUSTER_V1 = "cluster.open-cluster-management.io/v1"
CLUSTER_V1BETA1 = "cluster.open-cluster-management.io/v1beta1"
CLUSTER_V1BETA2 = "cluster.open-cluster-management.io/v1beta2"
OPERATOR_V1 = "operator.open-cluster-management.io/v1"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Metadata(Strict):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Requirement(Strict):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = Field(default_factory=list)


class LabelSelector(Strict):
    match_labels: dict[str, str] = Field(default_factory=dict, alias="matchLabels")
    match_expressions: list[Requirement] = Field(default_factory=list, alias="matchExpressions")


class _Object(Strict):
    api_version: str = Field(alias="apiVersion")
    kind: str
    metadata: Metadata


class _Namespaced(_Object):
    @model_validator(mode="after")
    def _namespaced(self):
        if not self.metadata.namespace:
            raise ValueError(f"a {self.kind} is namespaced")
        return self


# -- cluster.open-cluster-management.io -----------------------------------------

class ManagedClusterSpec(Strict):
    hub_accepts_client: bool = Field(alias="hubAcceptsClient")
    lease_duration_seconds: int | None = Field(default=None, alias="leaseDurationSeconds", ge=1)


class ManagedCluster(_Object):
    api_version: Literal["cluster.open-cluster-management.io/v1"] = Field(alias="apiVersion")
    kind: Literal["ManagedCluster"]
    spec: ManagedClusterSpec


class ClusterSelector(Strict):
    selector_type: Literal["ExclusiveClusterSetLabel", "LabelSelector"] = Field(alias="selectorType")
    label_selector: LabelSelector | None = Field(default=None, alias="labelSelector")


class ManagedClusterSetSpec(Strict):
    cluster_selector: ClusterSelector = Field(alias="clusterSelector")


class ManagedClusterSet(_Object):
    api_version: Literal["cluster.open-cluster-management.io/v1beta2"] = Field(alias="apiVersion")
    kind: Literal["ManagedClusterSet"]
    spec: ManagedClusterSetSpec


class SetBindingSpec(Strict):
    cluster_set: str = Field(alias="clusterSet", min_length=1)


class ManagedClusterSetBinding(_Namespaced):
    api_version: Literal["cluster.open-cluster-management.io/v1beta2"] = Field(alias="apiVersion")
    kind: Literal["ManagedClusterSetBinding"]
    spec: SetBindingSpec

    @model_validator(mode="after")
    def _named_after_its_set(self):
        # "It must match the instance name of the ManagedClusterSetBinding."
        if self.metadata.name != self.spec.cluster_set:
            raise ValueError("a ManagedClusterSetBinding is named after its clusterSet")
        return self


class RequiredClusterSelector(Strict):
    label_selector: LabelSelector = Field(default_factory=LabelSelector, alias="labelSelector")


class Predicate(Strict):
    required_cluster_selector: RequiredClusterSelector = Field(alias="requiredClusterSelector")


class PlacementSpec(Strict):
    cluster_sets: list[str] = Field(default_factory=list, alias="clusterSets")
    number_of_clusters: int | None = Field(default=None, alias="numberOfClusters", ge=0)
    predicates: list[Predicate] = Field(default_factory=list)


class Placement(_Namespaced):
    api_version: Literal["cluster.open-cluster-management.io/v1beta1"] = Field(alias="apiVersion")
    kind: Literal["Placement"]
    spec: PlacementSpec


# -- operator.open-cluster-management.io ------------------------------------------

class FeatureGate(Strict):
    feature: str
    mode: Literal["Enable", "Disable"]


class Requests(Strict):
    cpu: str
    memory: str


class ResourceRequirements(Strict):
    requests: Requests


class ResourceRequirement(Strict):
    type: Literal["Default", "BestEffort", "ResourceRequirement"]
    resource_requirements: ResourceRequirements | None = Field(default=None, alias="resourceRequirements")


class RegistrationConfiguration(Strict):
    auto_approve_users: list[str] = Field(default_factory=list, alias="autoApproveUsers")
    feature_gates: list[FeatureGate] = Field(default_factory=list, alias="featureGates")


class WorkConfiguration(Strict):
    feature_gates: list[FeatureGate] = Field(default_factory=list, alias="featureGates")
    work_driver: Literal["kube", "mqtt", "grpc"] = Field(default="kube", alias="workDriver")


class DeployOption(Strict):
    mode: Literal["Default", "Hosted"]


class ClusterManagerSpec(Strict):
    registration_image: str = Field(alias="registrationImagePullSpec")
    work_image: str = Field(alias="workImagePullSpec")
    placement_image: str = Field(alias="placementImagePullSpec")
    addon_manager_image: str = Field(alias="addOnManagerImagePullSpec")
    deploy_option: DeployOption = Field(alias="deployOption")
    resource_requirement: ResourceRequirement | None = Field(default=None, alias="resourceRequirement")
    registration_configuration: RegistrationConfiguration = Field(alias="registrationConfiguration")
    work_configuration: WorkConfiguration | None = Field(default=None, alias="workConfiguration")


class ClusterManager(_Object):
    api_version: Literal["operator.open-cluster-management.io/v1"] = Field(alias="apiVersion")
    kind: Literal["ClusterManager"]
    spec: ClusterManagerSpec

    @model_validator(mode="after")
    def _auto_approval(self):
        # autoApproveUsers "takes effect only when ManagedClusterAutoApproval
        # feature gate is enabled" (the CRD's own description).
        config = self.spec.registration_configuration
        gates = {g.feature: g.mode for g in config.feature_gates}
        if config.auto_approve_users and gates.get("ManagedClusterAutoApproval") != "Enable":
            raise ValueError("autoApproveUsers needs the ManagedClusterAutoApproval feature gate enabled")
        return self


MODELS: dict[tuple[str, str], type[_Object]] = {
    (CLUSTER_V1, "ManagedCluster"): ManagedCluster,
    (CLUSTER_V1BETA2, "ManagedClusterSet"): ManagedClusterSet,
    (CLUSTER_V1BETA2, "ManagedClusterSetBinding"): ManagedClusterSetBinding,
    (CLUSTER_V1BETA1, "Placement"): Placement,
    (OPERATOR_V1, "ClusterManager"): ClusterManager,
}


def model_for(obj: dict) -> type[_Object] | None:
    return MODELS.get((obj.get("apiVersion"), obj.get("kind")))


def check(obj: dict) -> dict:
    """``obj`` itself if its shape is the documented one; ValueError naming
    the field otherwise (an object of another kind is not checked here)."""
    model = model_for(obj)
    if model is None:
        return obj
    try:
        model.model_validate(obj)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(object)'}: {e['msg']}"
                             for e in err.errors(include_url=False))
        raise ValueError(f"{obj['kind']} {obj['metadata'].get('name')!r}: {problems}") from None
    return obj
