"""Type tokens and property names as the engine sends them to the pack.

Tokens and camelCase names come from the pinned provider SDKs (pulumi_hcloud
1.43.3, pulumiverse_scaleway 1.60.0, pulumi_ovh 2.22.0, pulumi_command
1.2.1, pulumi_kubernetes 4.34.2); tests/unit/test_policy_pack.py checks
every one of them against those SDKs, so a rename upstream fails a test
instead of silently disabling a policy.
"""

from __future__ import annotations

HCLOUD_SERVER = "hcloud:index/server:Server"
HCLOUD_FIREWALL = "hcloud:index/firewall:Firewall"
SCALEWAY_SERVER = "scaleway:instance/server:Server"
SCALEWAY_SECURITY_GROUP = "scaleway:instance/securityGroup:SecurityGroup"
SCALEWAY_SECURITY_GROUP_RULES = "scaleway:instance/securityGroupRules:SecurityGroupRules"
OVH_VPS = "ovh:Vps/vps:Vps"
OVH_INSTANCE = "ovh:CloudProject/instance:Instance"
REMOTE_COMMAND = "command:remote:Command"
LOCAL_COMMAND = "command:local:Command"
K8S_SERVICE = "kubernetes:core/v1:Service"
K8S_SECRET = "kubernetes:core/v1:Secret"
K8S_PROVIDER = "pulumi:providers:kubernetes"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
# The program's own component adopting existing hosts (components/compute/existing.py).
EXISTING_NODES = "sovereign:compute:ExistingNodes"

# Top-level inputs each policy reads, per type.
PROPERTIES: dict[str, tuple[str, ...]] = {
    HCLOUD_SERVER: ("location", "datacenter", "labels", "userData"),
    HCLOUD_FIREWALL: ("rules",),
    SCALEWAY_SERVER: ("zone", "tags", "userData"),
    SCALEWAY_SECURITY_GROUP: ("inboundDefaultPolicy", "inboundRules"),
    SCALEWAY_SECURITY_GROUP_RULES: ("inboundRules",),
    OVH_VPS: ("plans",),
    OVH_INSTANCE: ("region", "userData"),
    REMOTE_COMMAND: ("create", "update", "stdin"),
    LOCAL_COMMAND: ("stdin",),
    K8S_SERVICE: ("spec",),
    K8S_SECRET: ("data", "stringData"),
    K8S_PROVIDER: ("kubeconfig",),
    HELM_RELEASE: ("chart", "name", "values"),
    EXISTING_NODES: ("hosts",),
}

# Fields of nested input objects the policies read: (type, top-level input) -> names.
NESTED_PROPERTIES: dict[tuple[str, str], tuple[str, ...]] = {
    (HCLOUD_FIREWALL, "rules"): ("direction", "protocol", "port", "sourceIps"),
    (SCALEWAY_SECURITY_GROUP, "inboundRules"): ("action", "protocol", "port", "portRange", "ipRange", "ip"),
    (SCALEWAY_SECURITY_GROUP_RULES, "inboundRules"): ("action", "protocol", "port", "portRange", "ipRange", "ip"),
    (OVH_VPS, "plans"): ("configurations",),
    (OVH_VPS, "plans.configurations"): ("label", "value"),
    (K8S_SERVICE, "spec"): ("type", "ports", "loadBalancerSourceRanges"),
    (K8S_SERVICE, "spec.ports"): ("port", "targetPort", "nodePort", "protocol"),
}

# The ``vps_datacenter`` configuration of an OVH VPS order is its location.
OVH_VPS_DATACENTER = "vps_datacenter"

# Labels the program sets on every Kubernetes node (components/topology/plan.py).
REGION_LABEL = "topology.kubernetes.io/region"
PROVIDER_LABEL = "sovereign.cloud/provider"
ON_PREM_LABEL = "sovereign.cloud/on-prem"
