"""The rolling upgrade as Pulumi resources: one node at a time, control
planes first.

Per node three commands, chained so that each waits for the one before:

    <c>-<node>-upgrade-drain     on the first control plane: refuse a skipped
                                 minor version or a downgrade, then cordon and
                                 drain (evictions respect PodDisruptionBudgets)
    <c>-<node>-upgrade           on the node: the new binary or packages,
                                 restart, wait until it serves again
    <c>-<node>-upgrade-uncordon  on the first control plane: wait until the node
                                 is Ready at the new version, then uncordon it

and the drain of the next node depends on the uncordon of this one. The
target version is a parameter of every script, so a version change in the
spec is an update of all of them, which Pulumi runs in this dependency
order; the first failure stops the chain (Pulumi starts no dependent step),
the nodes after it are not touched and the ones before it already serve at
the new version. A node already at the target version (a re-run after a
failure, a node added later, a fresh cluster) makes all three no-ops.

The node's install step (k3s-install.sh, kubeadm-packages.sh) depends on the
node's uncordon: when it runs after a version change it finds the new
version installed and changes nothing; on its own it still refuses to
change the version of a node in the cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script

SCRIPTS = Path(__file__).parent / "scripts"

DRAIN_TIMEOUT_SECONDS = 600
"""How long a drain may wait for evictions (PodDisruptionBudgets) before the
node is uncordoned again and the upgrade stops."""
READY_TIMEOUT_SECONDS = 900
"""How long the uncordon step waits for the node Ready at the new version."""


@dataclass(frozen=True)
class NodeUpgrade:
    drain: command.remote.Command
    upgrade: command.remote.Command
    uncordon: command.remote.Command


def upgrade_order(nodes: list[Node], first: Node) -> list[Node]:
    """``first``, the other control planes, then the workers, each group in
    the order given (the kubelet may never be newer than the API server)."""
    control_planes = [n for n in nodes if n.is_control_plane and n is not first]
    workers = [n for n in nodes if not n.is_control_plane]
    return [first, *control_planes, *workers]


def kubectl_script(step: str, node: Node, *, target: str, kubectl: str, kubeconfig: str) -> str:
    return render_script(SCRIPTS / "upgrade-kubectl.sh", {
        "STEP": step,
        "NODE_NAME": node.name,
        "TARGET_VERSION": target,
        "CONTROL_PLANE": node.is_control_plane,
        "KUBECTL": kubectl,
        "KUBECONFIG": kubeconfig,
        "DRAIN_TIMEOUT_SECONDS": DRAIN_TIMEOUT_SECONDS,
        "WAIT_SECONDS": READY_TIMEOUT_SECONDS,
    })


def rolling_upgrade(
    name: str,
    first: Node,
    nodes: list[Node],
    *,
    target: str,
    node_script: Callable[[Node], str],
    kubectl: str,
    kubeconfig: str,
    after: dict[str, list[pulumi.Resource]],
    parent: pulumi.Resource,
) -> dict[str, NodeUpgrade]:
    """Per node name, its three upgrade commands, in ``upgrade_order``.

    ``target``: the version as the kubelet reports it (``v1.31.4+k3s1``,
    ``v1.31.4``); ``node_script(node)``: the rendered script upgrading that
    node in place; ``after[node]``: what must exist first (its mesh).
    """
    steps: dict[str, NodeUpgrade] = {}
    previous: list[pulumi.Resource] = []
    for node in upgrade_order(nodes, first):
        def on_first(step: str, deps: list[pulumi.Resource], node: Node = node) -> command.remote.Command:
            script = kubectl_script(step, node, target=target, kubectl=kubectl, kubeconfig=kubeconfig)
            # No delete: a node leaving is its member's business.
            return node_command(f"{name}-{node.name}-upgrade-{step}", first.ssh, create=script, update=script,
                                opts=pulumi.ResourceOptions(parent=parent, depends_on=deps))

        drain = on_first("drain", [*after.get(first.name, []), *after.get(node.name, []), *previous])
        script = node_script(node)
        upgrade = node_command(f"{name}-{node.name}-upgrade", node.ssh, create=script, update=script,
                               opts=pulumi.ResourceOptions(parent=parent, depends_on=[drain]))
        uncordon = on_first("uncordon", [upgrade])
        steps[node.name] = NodeUpgrade(drain, upgrade, uncordon)
        previous = [uncordon]
    return steps
