"""Existing machines (on-prem or rented elsewhere): nothing to create, reached over SSH."""

from __future__ import annotations

import ipaddress

import pulumi

from .node import Node
from .pool import NodePoolArgs, node_from_plan


class ExistingNodes(pulumi.ComponentResource):
    """Adopts existing hosts as nodes; they cost what the spec says."""

    nodes: list[Node]
    """The nodes, in spec order."""

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        # Their placement as inputs of the component: known at preview (the
        # commands that label the nodes are not), so policies can check it.
        placement = [{"name": planned.name, "labels": dict(planned.labels)} for planned in args["nodes"]]
        super().__init__("sovereign:compute:ExistingNodes", name, {"hosts": placement}, opts)
        self.nodes = [
            node_from_plan(
                args, planned,
                # Bare literal: SSH and the mesh add brackets/ports themselves.
                public_address=pulumi.Output.from_input(_unbracketed(planned.host.address)),
                resource=None,
                underlay_mtu=planned.host.underlay_mtu,
                host_key=planned.host.host_key,
                behind_nat=planned.host.behind_nat,
                ssh_port=planned.host.ssh_port,
                public_ip_version=_ip_version(_unbracketed(planned.host.address)),
            )
            for planned in args["nodes"]
        ]
        # Outputs replace the inputs in state: the placement stays visible there too.
        self.register_outputs({"hosts": placement, "nodeNames": [n.name for n in self.nodes]})


def _unbracketed(address: str | None) -> str | None:
    """``[2001:db8::1]`` -> ``2001:db8::1``; anything else unchanged."""
    if address is None:
        return None
    text = address.strip()
    return text[1:-1] if text.startswith("[") and text.endswith("]") else text


def _ip_version(address: str | None) -> int | None:
    """4 or 6 for an IP literal, None for a DNS name (it may resolve to either)."""
    try:
        return ipaddress.ip_address(address or "").version
    except ValueError:
        return None
