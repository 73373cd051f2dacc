"""Labels and taints of joined nodes, kept equal to the spec in place.

kubelet applies its registration labels and taints only once (K3s re-adds
its labels at start but never removes one, nor touches taints), so a
change in the spec would never reach a node that already joined. One
``<c>-<node>-placement`` command per node, on the first control plane,
sets them through the API after the node registered (see
``scripts/node-placement.sh``). A change of labels or taints is an update
of that command only: it never re-runs a join, nor replaces a member.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script

from .labels import label_args, labels_of, taint_arg, taints_of

SCRIPTS = Path(__file__).parent / "scripts"


def placement_script(node: Node, *, kubectl: str, kubeconfig: str) -> str:
    return render_script(SCRIPTS / "node-placement.sh", {
        "NODE_NAME": node.name,
        "LABELS": label_args(labels_of(node)),
        "TAINTS": [taint_arg(t) for t in taints_of(node)],
        "KUBECTL": kubectl,
        "KUBECONFIG": kubeconfig,
    })


def placement_commands(
    name: str,
    first: Node,
    nodes: list[Node],
    *,
    after: dict[str, list[pulumi.Resource]],
    kubectl: str,
    kubeconfig: str,
    parent: pulumi.Resource,
) -> dict[str, command.remote.Command]:
    """Per node, ``<name>-<node>-placement`` on ``first``, after ``after[node]``
    (the node's registration: its member, or the first's own init/start)."""
    commands = {}
    for node in nodes:
        script = placement_script(node, kubectl=kubectl, kubeconfig=kubeconfig)
        commands[node.name] = node_command(
            f"{name}-{node.name}-placement",
            first.ssh,
            create=script,
            update=script,
            # No delete: the node's member removes the node itself.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=after[node.name]),
        )
    return commands
