"""What the rest of the stack opens or supplies for autoscaled servers."""

from __future__ import annotations

import pulumi

from components.spec.autoscaler import autoscaled_groups

# Secret config: the Hetzner Cloud token the cluster-autoscaler creates and
# deletes servers with; default: the hcloud provider's own hcloud:token.
TOKEN_CONFIG = "hcloudAutoscalerToken"


def private_network_id(spec) -> str:
    """The ``Node.private_network`` of attached Hetzner nodes (compute/hetzner.py)."""
    return f"hetzner:{spec.providers.hetzner.network_zone}"


def api_join_sources(spec, node) -> list[str]:
    """Extra sources of a control plane's API port: the Hetzner private
    network, where a new autoscaled server registers before it is in the
    mesh (the cloud firewall does not filter private networks)."""
    if not autoscaled_groups(spec) or node.private_network != private_network_id(spec):
        return []
    return [str(spec.providers.hetzner.network_cidr)]


def autoscaler_token(config: pulumi.Config, spec) -> pulumi.Output[str] | None:
    """The autoscaler's Hetzner token (a secret); None without autoscaled groups."""
    if not autoscaled_groups(spec):
        return None
    token = config.get_secret(TOKEN_CONFIG) or pulumi.Config("hcloud").get_secret("token")
    if token is None:
        raise pulumi.RunError(
            f"nodeGroups {', '.join(autoscaled_groups(spec))} are autoscaled: the cluster-autoscaler needs a Hetzner "
            f"Cloud API token (read/write): pulumi config set --secret {TOKEN_CONFIG} <token> (or hcloud:token)")
    return token
