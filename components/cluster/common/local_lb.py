"""The local API load balancer on every node (see endpoint.py for why)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script

from .endpoint import API_PORT, LOCAL_LB_PORT

SCRIPTS = Path(__file__).parent / "scripts"


def backends(control_planes: list[Node]) -> list[str]:
    """One ``name mesh_ip:6443`` line per control plane, in spec order."""
    return [f"{n.name} {n.mesh_ip}:{API_PORT}" for n in control_planes]


def api_load_balancers(
    name: str,
    nodes: list[Node],
    control_planes: list[Node],
    *,
    health_check: Literal["readyz", "tcp"],
    airgap: bool,
    artifacts_dir: str,
    after: dict[str, list[pulumi.Resource]],
    parent: pulumi.Resource,
) -> dict[str, command.remote.Command]:
    """One ``<name>-<node>-api-lb`` command per node, after the node's mesh.

    Adding or removing a control plane changes BACKENDS on every node; the
    update path reloads haproxy in place, one node's change never waits
    for another's.

    ``health_check``: ``readyz`` takes an API server out of rotation as soon
    as its anonymous HTTPS ``/readyz`` stops answering 200 (it may still
    accept TCP: etcd lost, starting up); ``tcp`` only for API servers that
    refuse anonymous requests (K3s sets ``--anonymous-auth=false``).
    """
    if health_check not in ("readyz", "tcp"):
        raise ValueError(f"health_check must be 'readyz' or 'tcp', got {health_check!r}")
    script = render_script(SCRIPTS / "api-lb.sh", {
        "LB_PORT": LOCAL_LB_PORT,
        "BACKENDS": backends(control_planes),
        "HEALTH_CHECK": health_check,
        "AIRGAP": airgap,
        "ARTIFACTS_DIR": artifacts_dir,
    })
    remove = render_script(SCRIPTS / "api-lb-remove.sh")
    return {
        node.name: node_command(
            f"{name}-{node.name}-api-lb",
            node.ssh,
            create=script,
            update=script,
            delete=remove,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=after.get(node.name, [])),
        )
        for node in nodes
    }
