"""Existing machines (on-prem or rented elsewhere): nothing to create, reached over SSH."""

from __future__ import annotations

import pulumi

from .node import Node
from .pool import NodePoolArgs, node_from_plan


class ExistingNodes(pulumi.ComponentResource):
    """Adopts existing hosts as nodes; they cost what the spec says."""

    nodes: list[Node]
    """The nodes, in spec order."""

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:compute:ExistingNodes", name, {}, opts)
        self.nodes = [
            node_from_plan(
                args, planned,
                public_address=pulumi.Output.from_input(planned.host.address),
                resource=None,
                underlay_mtu=planned.host.underlay_mtu,
                behind_nat=planned.host.behind_nat,
                ssh_port=planned.host.ssh_port,
            )
            for planned in args["nodes"]
        ]
        self.register_outputs({"nodeNames": [n.name for n in self.nodes]})
