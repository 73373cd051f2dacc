"""Scheduled etcd snapshots, one command per etcd member.

Shared by the dedicated members of ``ExternalEtcd`` and by kubeadm's
stacked etcd (the static pods of the control planes): the same scripts
(``etcd-snapshot.sh``, installed and scheduled by
``etcd-snapshot-schedule.sh``, stopped by ``etcd-snapshot-unschedule.sh``)
run on both. The snapshot script reaches the local member through
``/etc/etcd/etcdctl.env``: written by ``etcd-member.sh`` on dedicated
members; on stacked control planes the schedule step writes it itself
(``etcdctl_env``) and installs etcdctl.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
import pulumi_command as command

from components.compute.node import Node
from components.remote.command import node_command
from components.remote.script import render_script
from components.spec.kubernetes import EtcdSnapshotSpec

from ..common.secrets import stdin_secrets
from .schedule import interval_seconds

SCRIPTS = Path(__file__).parent / "scripts"
DEFAULT_SNAPSHOT_DIR = "/var/lib/etcd-snapshots"
DEFAULT_ARTIFACTS_DIR = "/var/lib/sovereign/airgap"


def etcd_snapshot_commands(
    name: str,
    nodes: Sequence[Node],
    spec: EtcdSnapshotSpec | None,
    *,
    after: Mapping[str, Sequence[pulumi.Resource]],
    parent: pulumi.Resource,
    s3_credentials: tuple[pulumi.Input[str], pulumi.Input[str]] | None = None,
    snapshot_dir: str = DEFAULT_SNAPSHOT_DIR,
    etcdctl_env: str | None = None,
    airgap: bool = False,
    artifacts_dir: str = DEFAULT_ARTIFACTS_DIR,
) -> dict[str, command.remote.Command]:
    """``<name>-<node>-etcd-snapshots`` on every node of ``nodes``, each
    after ``after[node]`` (its etcd member: deleting the member deletes the
    schedule first). Only the leader takes a snapshot (the script checks).

    ``snapshot_dir``: ``{node}`` is replaced by the node name.
    ``etcdctl_env``: the ``/etc/etcd/etcdctl.env`` to write (stacked etcd);
    etcdctl is then installed too (Debian ``etcd-client``, or
    ``<artifacts_dir>/etcd/etcdctl`` when ``airgap``). None: the member
    wrote its own (dedicated members).
    Nothing when ``spec`` is None or disabled.
    """
    if spec is None or not spec.enabled:
        return {}
    interval = interval_seconds(spec.schedule)
    s3 = spec.s3
    if s3 is not None and s3_credentials is None:
        raise ValueError(
            "kubernetes.etcdSnapshots.s3 is set but the secret config keys "
            "sovereign-cloud:etcdS3AccessKey / etcdS3SecretKey are missing"
        )
    stdin = stdin_secrets({"S3_ACCESS_KEY": s3_credentials[0], "S3_SECRET_KEY": s3_credentials[1]}) \
        if s3 is not None else None
    stacked = etcdctl_env is not None
    # Only stacked members get the extra parameters: the dedicated members'
    # scripts stay as they were.
    client = {"ETCDCTL_ENV": etcdctl_env, "INSTALL_ETCDCTL": True, "AIRGAP": airgap,
              "ARTIFACTS_DIR": artifacts_dir} if stacked else {}
    unschedule = render_script(SCRIPTS / "etcd-snapshot-unschedule.sh",
                               {"REMOVE_ETCDCTL_ENV": True} if stacked else None)
    commands = {}
    for node in nodes:
        snapshot_script = render_script(SCRIPTS / "etcd-snapshot.sh", {
            "ETCD_NAME": node.name,
            "SNAPSHOT_DIR": per_node(snapshot_dir, node),
            "RETENTION": spec.retention,
            "S3_ENDPOINT": s3.endpoint if s3 else "",
            "S3_BUCKET": s3.bucket if s3 else "",
            "S3_REGION": s3.region if s3 else "",
            "S3_FOLDER": s3.folder if s3 else "",
            "S3_SKIP_SSL_VERIFY": s3.skip_ssl_verify if s3 else False,
        })
        schedule = render_script(SCRIPTS / "etcd-snapshot-schedule.sh", {
            "SNAPSHOT_SCRIPT": snapshot_script,
            "SCHEDULE": spec.schedule,
            "INTERVAL_SECONDS": interval,
            "S3": s3 is not None,
            **client,
        })
        commands[node.name] = node_command(
            f"{name}-{node.name}-etcd-snapshots",
            node.ssh,
            create=schedule,
            update=schedule,
            stdin=stdin,
            # A member leaving the spec: no snapshot loop, cron entry or
            # timer left behind (deleted before the member itself).
            delete=unschedule,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after.get(node.name, []))),
        )
    return commands


def per_node(path: str, node: Node) -> str:
    """``path`` with ``{node}`` replaced by the node name; absolute paths only."""
    if not path.startswith("/"):
        raise ValueError(f"etcd directory {path!r} must be an absolute path")
    return path.replace("{node}", node.name)
