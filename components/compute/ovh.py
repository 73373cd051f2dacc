"""OVHcloud: VPS ordered through ``ovh.vps.Vps`` and Public Cloud instances.

A VPS is an *order* (billing), not an API-created VM: it has no user data
and no cloud firewall, so its first boot relies on the SSH key given with
the order and the node-level nftables firewall of the baseline layer.
"""

from __future__ import annotations

import pulumi
import pulumi_ovh as ovh

from .node import Node
from .pool import NodePoolArgs, node_from_plan, server_name, user_data_for


def _first_ipv4(addresses) -> str:
    for address in addresses or []:
        text = address if isinstance(address, str) else address.get("ip")
        if text and ":" not in text:
            return text
    raise ValueError(f"no IPv4 address among {addresses}")


class OvhNodes(pulumi.ComponentResource):
    """All OVHcloud nodes of a cluster (VPS and Public Cloud)."""

    nodes: list[Node]
    """The nodes, in spec order."""

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("sovereign:compute:OvhNodes", name, {}, opts)
        catalog = args["catalog"]
        self.nodes = []
        for planned in args["nodes"]:
            itype = catalog.instance_type("ovh", planned.instance_type)
            make = self._vps if itype.product == "vps" else self._cloud_instance
            self.nodes.append(make(name, args, planned, itype))
        self.register_outputs({"nodeNames": [n.name for n in self.nodes]})

    def _vps(self, name, args, planned, itype) -> Node:
        spec = args["spec"]
        settings = spec.providers.ovh
        vps = ovh.vps.Vps(
            f"{name}-{planned.name}",
            display_name=server_name(spec, planned),
            ovh_subsidiary=settings.subsidiary,
            plans=[ovh.vps.VpsPlanArgs(
                plan_code=itype.plan_code,
                duration=settings.vps_duration,
                pricing_mode="default",
                configurations=[
                    ovh.vps.VpsPlanConfigurationArgs(label="vps_datacenter", value=planned.region),
                    ovh.vps.VpsPlanConfigurationArgs(label="vps_os", value=spec.node_groups[planned.group].image or settings.vps_image),
                ],
            )],
            public_ssh_key=spec.ssh.public_key,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["plans"]),
        )
        info = ovh.vps.get_vps_output(service_name=vps.service_name, opts=pulumi.InvokeOutputOptions(parent=self))
        region = args["catalog"].region("ovh", planned.region)
        return node_from_plan(args, planned, public_address=info.ips.apply(_first_ipv4), resource=vps,
                              underlay_mtu=region.underlay_mtu if region else 1500)

    def _cloud_instance(self, name, args, planned, itype) -> Node:
        spec = args["spec"]
        settings = spec.providers.ovh
        invoke = pulumi.InvokeOutputOptions(parent=self)
        flavors = ovh.cloudproject.get_flavors_output(
            service_name=settings.cloud_project, region=planned.region, name_filter=planned.instance_type, opts=invoke)
        images = ovh.cloudproject.get_images_output(
            service_name=settings.cloud_project, region=planned.region, os_type="linux", opts=invoke)
        image_name = spec.node_groups[planned.group].image or settings.cloud_image
        instance = ovh.cloudproject.Instance(
            f"{name}-{planned.name}",
            name=server_name(spec, planned),
            service_name=settings.cloud_project,
            region=planned.region,
            billing_period="monthly",
            flavor=ovh.cloudproject.InstanceFlavorArgs(flavor_id=flavors.flavors.apply(lambda fs: _pick(fs, "name", planned.instance_type))),
            boot_from=ovh.cloudproject.InstanceBootFromArgs(image_id=images.images.apply(lambda im: _pick(im, "name", image_name))),
            network=ovh.cloudproject.InstanceNetworkArgs(public=True),
            ssh_key_create=ovh.cloudproject.InstanceSshKeyCreateArgs(name=server_name(spec, planned), public_key=spec.ssh.public_key),
            user_data=user_data_for(spec, planned),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["userData", "bootFrom"]),
        )
        region = args["catalog"].region("ovh", planned.region)
        return node_from_plan(args, planned, public_address=instance.addresses.apply(_first_ipv4), resource=instance,
                              underlay_mtu=region.underlay_mtu if region else 1500)


def _pick(items, key: str, wanted: str) -> str:
    """Id of the item whose ``key`` equals ``wanted`` (flavor or image lookup)."""
    for item in items:
        if getattr(item, key) == wanted:
            return item.id
    names = sorted({getattr(i, key) for i in items})
    raise ValueError(f"OVH has no {key} {wanted!r} here; available: {names}")
