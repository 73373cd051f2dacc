"""Where nodes and the Pulumi runner reach the Kubernetes API.

Inside the cluster every node runs a local TCP load balancer on
127.0.0.1:LOCAL_LB_PORT that health-checks every control plane's
mesh_ip:6443 (as Kubespray's localhost proxy or Talos KubePrism do): no
single server's address is ever written into a kubelet, agent or CNI
configuration, so losing any one control plane leaves the API reachable.

Outside the mesh (the Pulumi runner) the kubeconfig points at
``https://<api_dns_name>:6443`` when the spec sets a DNS name (round-robin
or a health-checked record over the control planes), else at the first
control plane's public address, which is not highly available.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

API_PORT = 6443
LOCAL_LB_HOST = "127.0.0.1"
# Talos KubePrism's port; free on both distributions (k3s's own agent
# load balancer uses 6444, the API servers 6443).
LOCAL_LB_PORT = 7445

NOT_HA_WARNING = (
    "kubernetes.apiDnsName is not set: the kubeconfig output points at the public address of the "
    "first control plane ({node}), which is not highly available for clients outside the mesh; "
    "set kubernetes.apiDnsName to a name resolving to every control plane"
)
MESH_ONLY_API_WARNING = (
    "kubernetes.apiSourceCidrs is empty: the firewall keeps the Kubernetes API on the mesh, so the "
    "platform layer (and kubectl with the kubeconfig output) only works from a machine on the mesh; "
    "set kubernetes.apiSourceCidrs to the addresses `pulumi up` and your operators run from (e.g. the CI runner)"
)


@dataclass(frozen=True)
class ApiEndpoints:
    """The API as seen from a node, and as seen from outside the mesh."""

    local_host: str = LOCAL_LB_HOST
    local_port: int = LOCAL_LB_PORT

    @property
    def in_cluster(self) -> str:
        return f"https://{self.local_host}:{self.local_port}"

    @property
    def host_port(self) -> str:
        return f"{self.local_host}:{self.local_port}"


def external_server(api_dns_name: str | None, first_public_address: str) -> str:
    """The kubeconfig ``server`` for clients outside the mesh."""
    host = api_dns_name or first_public_address
    return f"https://{host}:{API_PORT}"


def rewrite_kubeconfig(text: str, server: str, cluster_name: str) -> str:
    """Point every cluster entry at ``server`` and name things after the cluster.

    K3s writes ``https://127.0.0.1:6443`` and kubeadm the local load
    balancer; neither is reachable from the Pulumi runner.
    """
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"the kubeconfig read from the first control plane is not YAML: {err}") from None
    if not isinstance(config, dict) or not config.get("clusters"):
        raise ValueError("the kubeconfig read from the first control plane has no clusters")
    renames = {}
    for entry in config["clusters"]:
        renames[entry["name"]] = cluster_name
        entry["name"] = cluster_name
        entry["cluster"]["server"] = server
    user_renames = {}
    for entry in config.get("users") or []:
        user_renames[entry["name"]] = f"{cluster_name}-admin"
        entry["name"] = f"{cluster_name}-admin"
    for entry in config.get("contexts") or []:
        ctx = entry["context"]
        ctx["cluster"] = renames.get(ctx.get("cluster"), ctx.get("cluster"))
        ctx["user"] = user_renames.get(ctx.get("user"), ctx.get("user"))
        entry["name"] = cluster_name
    config["current-context"] = cluster_name
    return yaml.safe_dump(config, sort_keys=False)
