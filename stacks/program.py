"""The Pulumi program: read config, validate it all, then build."""

from __future__ import annotations

import pulumi

from components.spec import SpecError, catalog_for, parse_cluster_spec

from .config import CLUSTER_KEY, SSH_PRIVATE_KEY
from .sovereign import build_cloud


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
    cloud = build_cloud(spec, ssh_private_key=config.require_secret(SSH_PRIVATE_KEY), catalog=catalog)
    pulumi.export("nodes", cloud.node_table())
    pulumi.export("meshCidr", str(spec.network.mesh_cidr))
    pulumi.export("meshMtu", cloud.mesh.mtu)
    pulumi.export("meshPublicKeys", cloud.mesh.public_keys)
