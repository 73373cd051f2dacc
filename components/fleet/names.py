"""Names the fleet's objects, outputs and secrets share between the hub's
stack and the spokes' (both sides must agree, so they live in one place)."""

from __future__ import annotations

# -- Open Cluster Management (the charts' and operators' fixed namespaces) --
OCM_NAMESPACE = "open-cluster-management"
"""The operators (cluster-manager chart on the hub, klusterlet chart on
spokes); they run the hub controllers in open-cluster-management-hub and
the agent in open-cluster-management-agent themselves."""
BOOTSTRAP_SA = "fleet-bootstrap"
BOOTSTRAP_TOKEN = "fleet-bootstrap-token"
BOOTSTRAP_ROLE = "sovereign:fleet-bootstrap"
BOOTSTRAP_USER = f"system:serviceaccount:{OCM_NAMESPACE}:{BOOTSTRAP_SA}"
"""Who the klusterlet's bootstrap kubeconfig authenticates as: the hub
auto-approves clusters registering as this user (ManagedClusterAutoApproval)."""
PLACEMENT_NAMESPACE = "fleet"
"""Hub namespace of the Placements and the cluster set bindings they use."""
CLUSTERSET_LABEL = "cluster.open-cluster-management.io/clusterset"
REGION_LABEL = "sovereign.cloud/data-region"
DOMAIN_LABEL = "sovereign.cloud/data-domain"

# -- Submariner --------------------------------------------------------------
SUBMARINER_NAMESPACE = "submariner-operator"
"""Fixed by the submariner-operator chart (its Submariner CR names it)."""
BROKER_CLIENT_SA = "submariner-broker-client"
BROKER_TOKEN = "fleet-broker-token"


def broker_namespace(domain: str) -> str:
    """One Submariner broker per data domain (an isolated region, or the shared one)."""
    return f"submariner-broker-{domain}"


# -- stack outputs of the hub, read by the spokes (StackReference) ------------
HUB_OUTPUT = "fleetHub"
"""Plain: the hub's API server and the broker namespace of each data domain."""
BOOTSTRAP_OUTPUT = "fleetBootstrapKubeconfig"
"""Secret: the kubeconfig the klusterlet registers with."""
BROKERS_OUTPUT = "fleetBrokers"
"""Secret: per data domain, the broker's server, namespace, token, CA and IPsec PSK."""

# -- platform secrets (components/platform: ``ctx.secrets``) -----------------
SECRET_BOOTSTRAP = "fleet-bootstrap-kubeconfig"
SECRET_BROKER_SERVER = "fleet-broker-server"
SECRET_BROKER_TOKEN = "fleet-broker-token"
SECRET_BROKER_CA = "fleet-broker-ca"
SECRET_IPSEC_PSK = "fleet-ipsec-psk"
SPOKE_SECRETS = (SECRET_BOOTSTRAP, SECRET_BROKER_SERVER, SECRET_BROKER_TOKEN, SECRET_BROKER_CA, SECRET_IPSEC_PSK)
"""What a spoke's platform needs from the hub (its Submariner ones with fleet.submariner)."""


def psk_secret(domain: str) -> str:
    """The hub's random IPsec pre-shared key of one data domain."""
    return f"fleet-ipsec-psk-{domain}"


def qualified_stack(stack: str, organization: str, project: str) -> str:
    """``organization/project/stack`` as a StackReference names a stack;
    ``stack`` may give the stack alone (this project) or ``project/stack``."""
    parts = stack.split("/")
    return "/".join([organization, project][: 3 - len(parts)] + parts)
