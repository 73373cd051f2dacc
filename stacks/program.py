"""The Pulumi program: read config, validate it all, then build."""

from __future__ import annotations

import pulumi

from components.spec import SpecError, catalog_for, parse_cluster_spec
from components.topology.history import OUTPUT as MESH_HISTORY_OUTPUT
from components.topology.history import read_mesh_history

from .config import (CLUSTER_KEY, DATA_BACKUP_S3_ACCESS_KEY, DATA_BACKUP_S3_SECRET_KEY, ETCD_S3_ACCESS_KEY,
                     ETCD_S3_SECRET_KEY, GITOPS_REPO_SSH_KEY, SSH_PRIVATE_KEY)
from .sovereign import build_cloud, build_cluster, build_platform


def main() -> None:
    config = pulumi.Config()
    data = config.require_object(CLUSTER_KEY)
    try:
        catalog = catalog_for(data)
        spec = parse_cluster_spec(data, catalog=catalog)
    except SpecError as err:
        # RunError: Pulumi prints the message without a traceback and
        # creates nothing, which is what an invalid spec must do.
        raise pulumi.RunError(str(err)) from None
    # Existing hosts keep the mesh addresses they were given (read before
    # anything uses an address; exported again below).
    spec = spec.with_mesh_history(read_mesh_history())
    # Checked before anything is created, like the spec.
    etcd_s3 = _etcd_s3_credentials(config, spec)
    gitops_repo_ssh_key = _gitops_repo_ssh_key(config, spec)
    data_backup_s3 = _data_backup_credentials(config, spec)
    _warn_data_services(spec)
    cloud = build_cloud(spec, ssh_private_key=config.require_secret(SSH_PRIVATE_KEY), catalog=catalog)
    pulumi.export("nodes", cloud.node_table())
    pulumi.export("meshCidr", str(spec.network.mesh_cidr))
    pulumi.export(MESH_HISTORY_OUTPUT, {n.name: n.mesh_ip for n in cloud.nodes})
    pulumi.export("meshMtu", cloud.mesh.mtu)
    pulumi.export("meshPublicKeys", cloud.mesh.public_keys)
    cluster = build_cluster(spec, cloud, etcd_s3_credentials=etcd_s3)
    pulumi.export("apiEndpoint", cluster.external_endpoint)
    # Admin credentials: a secret stack output, never plain.
    pulumi.export("kubeconfig", pulumi.Output.secret(cluster.kubeconfig))
    platform = build_platform(spec, cluster, cloud.nodes, gitops_repo_ssh_key=gitops_repo_ssh_key,
                              data_backup_s3_credentials=data_backup_s3)
    pulumi.export("podMtu", platform.pod_mtu)
    pulumi.export("addons", platform.installed)


def _etcd_s3_credentials(config: pulumi.Config, spec):
    """(access, secret) for etcd snapshots to S3, from secret config; None when unused."""
    snapshots = spec.kubernetes.etcd_snapshots
    if not (snapshots.enabled and snapshots.s3 is not None):
        return None
    access, secret = config.get_secret(ETCD_S3_ACCESS_KEY), config.get_secret(ETCD_S3_SECRET_KEY)
    if access is None or secret is None:
        raise pulumi.RunError(
            f"kubernetes.etcdSnapshots.s3 is set: set the secret config keys {ETCD_S3_ACCESS_KEY} and "
            f"{ETCD_S3_SECRET_KEY} (pulumi config set --secret {ETCD_S3_ACCESS_KEY} ...)"
        )
    return access, secret


def _gitops_repo_ssh_key(config: pulumi.Config, spec):
    """The deploy key of an SSH ``addons.gitops.repoUrl``, from secret config;
    None when the repository is not fetched over SSH."""
    from components.platform.addons.gitops import needs_ssh_key

    gitops = spec.addons.gitops
    if not needs_ssh_key(gitops):
        return None
    key = config.get_secret(GITOPS_REPO_SSH_KEY)
    if key is None:
        raise pulumi.RunError(
            f"addons.gitops.repoUrl {gitops.repo_url!r} is an SSH URL, which cannot be fetched without a key: "
            f"set the secret config key {GITOPS_REPO_SSH_KEY} to the repository's deploy key "
            f"(pulumi config set --secret {GITOPS_REPO_SSH_KEY} < deploy_key), or use an https:// repoUrl"
        )
    return key


def _data_backup_credentials(config: pulumi.Config, spec):
    """(access, secret) of dataServices.postgres.backups, from secret config; None when unused."""
    from components.data.plan import needs_backup_credentials

    if not needs_backup_credentials(spec):
        return None
    access, secret = config.get_secret(DATA_BACKUP_S3_ACCESS_KEY), config.get_secret(DATA_BACKUP_S3_SECRET_KEY)
    if access is None or secret is None:
        raise pulumi.RunError(
            f"dataServices.postgres.backups is enabled: set the secret config keys {DATA_BACKUP_S3_ACCESS_KEY} and "
            f"{DATA_BACKUP_S3_SECRET_KEY} (pulumi config set --secret {DATA_BACKUP_S3_ACCESS_KEY} ...), "
            "or set dataServices.postgres.backups.enabled: false"
        )
    return access, secret


def _warn_data_services(spec) -> None:
    """Plan-time warnings of dataServices that are valid but worth a look."""
    pg = spec.data_services.postgres
    if pg.enabled and pg.replica_regions and pg.synchronous_region is None:
        pulumi.log.warn("dataServices.postgres: replication to the replica regions is asynchronous; losing the "
                        "primary region loses what it had not yet sent (the lag). Set synchronousRegion to lose nothing.")
