"""OVHcloud: VPS ordered through ``ovh.vps.Vps`` and Public Cloud instances.

A VPS is an *order* (billing), not an API-created VM: it has no user data
and no cloud firewall, so its first boot relies on the SSH key given with
the order and the node-level nftables firewall of the baseline layer. The
key is only installed with an ``image_id`` (the provider rebuilds the new
VPS from it): the image of the ordered OS, from the catalog or
``providers.ovh.vpsImageIds``.
"""

from __future__ import annotations

import pulumi
import pulumi_ovh as ovh

from .host_key import new_host_key, scanned_host_key
from .images import rebuild_nodes, report_image, server_options
from .node import Node
from .pool import NodePoolArgs, node_from_plan, server_name, user_data_for


# Inputs that only matter when a machine is installed (Pulumi property names):
# a VPS reinstalls itself when image_id changes (pulumi_ovh vps/vps.py), a
# Public Cloud instance boots its image, user data and key pair once.
VPS_INSTALL_TIME = ["imageId", "publicSshKey", "doNotSendPassword"]
VPS_ORDER = ("plans",)  # the order itself: never re-ordered
INSTANCE_INSTALL_TIME = ["bootFrom", "userData", "sshKeyCreate"]


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
        self.rebuilding = rebuild_nodes(args["spec"])
        self._offers: dict[str, tuple] = {}
        self.nodes = []
        for planned in args["nodes"]:
            itype = catalog.instance_type("ovh", planned.instance_type)
            make = self._vps if itype.product == "vps" else self._cloud_instance
            self.nodes.append(make(name, args, planned, itype))
        self.register_outputs({"nodeNames": [n.name for n in self.nodes]})

    def _vps(self, name, args, planned, itype) -> Node:
        spec = args["spec"]
        settings = spec.providers.ovh
        os_name = spec.node_groups[planned.group].image or settings.vps_image
        image_id = vps_image_id(spec, args["catalog"], planned.group, planned.region)
        rebuilding = planned.name in self.rebuilding
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
                    ovh.vps.VpsPlanConfigurationArgs(label="vps_os", value=os_name),
                ],
            )],
            image_id=image_id,
            public_ssh_key=spec.ssh.public_key,
            # The key is the way in: no root password by e-mail.
            do_not_send_password=True,
            opts=server_options(self, VPS_INSTALL_TIME, rebuilding=rebuilding, always_ignored=VPS_ORDER),
        )
        # Compared by OS name: a VPS ordered without image_id runs its order's vps_os.
        names = vps_image_names(spec, args["catalog"])
        deployed = pulumi.Output.all(vps.image_id, vps.plans).apply(
            lambda a: names.get(a[0], a[0]) if a[0] else _ordered_os(a[1]))
        report_image(vps, node=planned.name, field=_image_field(spec, planned.group, "vpsImage"), wanted=os_name,
                     deployed=deployed, rebuilding=rebuilding)
        info = ovh.vps.get_vps_output(service_name=vps.service_name, opts=pulumi.InvokeOutputOptions(parent=self))
        region = args["catalog"].region("ovh", planned.region)
        address = info.ips.apply(_first_ipv4)
        host_key = scanned_host_key(name, planned.name, address, ssh_port=22, parent=self, after=[vps])
        return node_from_plan(args, planned, public_address=address, resource=vps, host_key=host_key,
                              underlay_mtu=region.underlay_mtu if region else 1500)

    def _cloud_instance(self, name, args, planned, itype) -> Node:
        spec = args["spec"]
        settings = spec.providers.ovh
        flavors, images = self._offers_in(settings.cloud_project, planned.region)
        image_name = spec.node_groups[planned.group].image or settings.cloud_image
        flavor_id = flavors.apply(lambda fs: _pick(fs, planned.instance_type, what="flavor", region=planned.region,
                                                   field=f"nodeGroups.{planned.group}.instanceType"))
        image_id = images.apply(lambda im: _pick(im, image_name, what="image", region=planned.region,
                                                 field=_image_field(spec, planned.group, "cloudImage")))
        rebuilding = planned.name in self.rebuilding
        host_key = new_host_key(name, planned.name, self)
        instance = ovh.cloudproject.Instance(
            f"{name}-{planned.name}",
            name=server_name(spec, planned),
            service_name=settings.cloud_project,
            region=planned.region,
            billing_period="monthly",
            flavor=ovh.cloudproject.InstanceFlavorArgs(flavor_id=flavor_id),
            boot_from=ovh.cloudproject.InstanceBootFromArgs(image_id=image_id),
            network=ovh.cloudproject.InstanceNetworkArgs(public=True),
            ssh_key_create=ovh.cloudproject.InstanceSshKeyCreateArgs(name=server_name(spec, planned), public_key=spec.ssh.public_key),
            user_data=user_data_for(spec, planned, host_key),
            opts=server_options(self, INSTANCE_INSTALL_TIME, rebuilding=rebuilding),
        )
        # Compared by name: the deployed id, named from the region's list
        # (an id OVH no longer lists stays an id).
        deployed = instance.boot_from.apply(lambda boot: _deployed_image(boot, images))
        report_image(instance, node=planned.name, field=_image_field(spec, planned.group, "cloudImage"),
                     wanted=image_name, deployed=deployed, rebuilding=rebuilding)
        region = args["catalog"].region("ovh", planned.region)
        return node_from_plan(args, planned, public_address=instance.addresses.apply(_first_ipv4), resource=instance,
                              host_key=host_key.public,
                              underlay_mtu=region.underlay_mtu if region else 1500)

    def _offers_in(self, project: str, region: str):
        """The flavors and Linux images OVH offers in ``region`` (one look-up per region)."""
        if region not in self._offers:
            invoke = pulumi.InvokeOutputOptions(parent=self)
            self._offers[region] = (
                ovh.cloudproject.get_flavors_output(service_name=project, region=region, opts=invoke).flavors,
                ovh.cloudproject.get_images_output(service_name=project, region=region, os_type="linux",
                                                   opts=invoke).images,
            )
        return self._offers[region]


def _deployed_image(boot_from, images: pulumi.Output) -> pulumi.Output[str | None] | None:
    """Name of the image an instance was booted from (its id if OVH lists it no more)."""
    image_id = _field(boot_from, "image_id", "imageId")
    if not image_id:
        return None
    return images.apply(lambda im: next((i.name for i in im if i.id == image_id), image_id))


def _image_field(spec, group: str, setting: str) -> str:
    return f"nodeGroups.{group}.image" if spec.node_groups[group].image else f"providers.ovh.{setting}"


def vps_image_id(spec, catalog, group: str, region: str) -> str:
    """The ``image_id`` installing the group's VPS OS in ``region``."""
    settings = spec.providers.ovh
    os_name = spec.node_groups[group].image or settings.vps_image
    if os_name in settings.vps_image_ids:
        return settings.vps_image_ids[os_name]
    known = catalog.vps_image(os_name, region)
    if known is not None:
        return known.image_id
    raise ValueError(
        f"{_image_field(spec, group, 'vpsImage')}: no image id is known for the OVH VPS OS {os_name!r} in {region}, "
        "and without one the order installs no SSH key; fix: set providers.ovh.vpsImageIds: "
        f"{{{os_name!r}: <id>}} with the id GET /vps/{{serviceName}}/images/available lists on a VPS of this "
        f"range, or use an OS with a known id: {catalog.vps_image_names(region) or 'none'}")


def vps_image_names(spec, catalog) -> dict[str, str]:
    """VPS image id -> OS name, for every id the program knows."""
    p = catalog.provider("ovh")
    names = {i.image_id: i.name for i in (p.vps_images if p else ())}
    return names | {image: os_name for os_name, image in spec.providers.ovh.vps_image_ids.items()}


def _field(value, name: str, camel: str):
    """An output object's property (a dict where the state held no type).

    Output types are dicts too, whose ``get`` of a property name logs a
    warning on every run ("Key 'imageId' not found in InstanceBootFrom"):
    their property getter is read instead.
    """
    if value is None:
        return None
    if isinstance(getattr(type(value), name, None), property):
        return getattr(value, name)
    return value.get(camel, value.get(name)) if isinstance(value, dict) else getattr(value, name, None)


def _ordered_os(plans) -> str | None:
    for plan in plans or []:
        for item in _field(plan, "configurations", "configurations") or []:
            if _field(item, "label", "label") == "vps_os":
                return _field(item, "value", "value")
    return None


def _pick(items, wanted: str, *, what: str, region: str, field: str) -> str:
    """Id of the flavor or image named ``wanted`` among what OVH offers in ``region``."""
    items = [i for i in items if getattr(i, "os_type", None) in (None, "linux")]  # not the win-* flavors
    for item in items:
        if item.name == wanted:
            return item.id
    names = sorted({i.name for i in items})
    raise ValueError(f"{field}: OVH offers no {what} {wanted!r} in {region} (this project lists: "
                     f"{', '.join(names) or 'nothing'}); fix: choose one of them or another region")
