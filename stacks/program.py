"""The Pulumi program: read config, validate it all, then build."""

from __future__ import annotations

import pulumi

from components.autoscaling.reach import autoscaler_token
from components.cluster.upgrade.recorded import OUTPUT as DEPLOYED_VERSION_OUTPUT
from components.cluster.upgrade.recorded import check_version_change
from components.spec import SpecError, catalog_for, parse_cluster_spec
from components.state.outputs import previous_outputs
from components.topology.history import OUTPUT as MESH_HISTORY_OUTPUT
from components.topology.history import parse_history

from .config import CLUSTER_KEY, ETCD_S3_ACCESS_KEY, ETCD_S3_SECRET_KEY, GITOPS_REPO_SSH_KEY, SSH_PRIVATE_KEY
from .environments import BASE_KEY, base_paths, compose
from .fleet import export_hub, hub_secrets
from .sovereign import build_autoscaler, build_cloud, build_cluster, build_openstack, build_platform


def main() -> None:
    config = pulumi.Config()
    composed = None
    try:
        # Base files, then this stack's own overrides (docs/environments.md).
        composed = compose(config.require_object(CLUSTER_KEY), base_paths(config.get(BASE_KEY)),
                           stack_label=f"Pulumi.{pulumi.get_stack()}.yaml")
        catalog = catalog_for(composed.data)
        spec = parse_cluster_spec(composed.data, catalog=catalog)
    except SpecError as err:
        # RunError: Pulumi prints the message without a traceback and
        # creates nothing, which is what an invalid spec must do.
        raise pulumi.RunError(str(composed.explain(err) if composed else err)) from None
    # Existing hosts keep the mesh addresses they were given (read before
    # anything uses an address; exported again below).
    previous = previous_outputs()
    spec = spec.with_mesh_history(parse_history(previous.get(MESH_HISTORY_OUTPUT)))
    try:
        # One minor version at a time, never down, from what this stack last deployed.
        check_version_change(spec.version, previous.get(DEPLOYED_VERSION_OUTPUT))
    except SpecError as err:
        raise pulumi.RunError(str(err)) from None
    # Checked before anything is created, like the spec.
    etcd_s3 = _etcd_s3_credentials(config, spec)
    gitops_repo_ssh_key = _gitops_repo_ssh_key(config, spec)
    data_secrets = _data_service_secrets(config, spec)
    _warn_data_services(spec)
    hcloud_token = autoscaler_token(config, spec)
    # A fleet spoke reads the hub's stack (StackReference) before building anything.
    fleet_secrets = hub_secrets(spec)
    cloud = build_cloud(spec, ssh_private_key=config.require_secret(SSH_PRIVATE_KEY), catalog=catalog)
    pulumi.export("nodes", cloud.node_table())
    pulumi.export("meshCidr", str(spec.network.mesh_cidr))
    pulumi.export(MESH_HISTORY_OUTPUT, {n.name: n.mesh_ip for n in cloud.nodes})
    pulumi.export(DEPLOYED_VERSION_OUTPUT, spec.version)
    pulumi.export("meshMtu", cloud.mesh.mtu)
    pulumi.export("meshPublicKeys", cloud.mesh.public_keys)
    cluster = build_cluster(spec, cloud, etcd_s3_credentials=etcd_s3)
    pulumi.export("apiEndpoint", cluster.external_endpoint)
    # Admin credentials: a secret stack output, never plain.
    pulumi.export("kubeconfig", pulumi.Output.secret(cluster.kubeconfig))
    platform = build_platform(spec, cluster, cloud.nodes, gitops_repo_ssh_key=gitops_repo_ssh_key,
                              data_secrets=data_secrets, fleet_secrets=fleet_secrets)
    pulumi.export("podMtu", platform.pod_mtu)
    pulumi.export("addons", platform.installed)
    export_hub(spec, cluster, platform)
    build_autoscaler(spec, cloud, cluster, hcloud_token=hcloud_token, after=[platform])
    openstack = build_openstack(spec, cluster, cloud.nodes, platform, catalog=catalog)
    if openstack is not None:
        pulumi.export("openstackEndpoints", openstack.endpoints)


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


def _data_service_secrets(config: pulumi.Config, spec) -> dict:
    """Platform secret name -> secret config value of every credential the
    data services need (backups' S3 keys, MinIO's root login); every
    missing key is named at once."""
    from components.data.secrets import missing_message, needed_secrets, problems

    needed = needed_secrets(spec)
    # Plain values only to check them; what the platform gets is secret.
    plain = {s: config.get(s.config_key) for s in needed}
    missing = [s for s, v in plain.items() if v is None]
    if missing:
        raise pulumi.RunError(missing_message(missing))
    found = problems(plain)
    if found:
        raise pulumi.RunError("; ".join(found))
    return {s.name: config.get_secret(s.config_key) for s in needed}


def _warn_data_services(spec) -> None:
    """Plan-time warnings of dataServices that are valid but worth a look."""
    pg = spec.data_services.postgres
    if pg.enabled and pg.replica_regions and pg.synchronous_region is None:
        pulumi.log.warn("dataServices.postgres: replication to the replica regions is asynchronous; losing the "
                        "primary region loses what it had not yet sent (the lag). Set synchronousRegion to lose nothing.")
    store = spec.data_services.object_store
    if store.enabled and store.engine == "minio":
        from components.data.minio import warning

        pulumi.log.warn(warning())
