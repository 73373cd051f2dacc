"""Fake OVHcloud: VPS orders and Public Cloud instances, flavors, images.

Lookups answer from ``ovh_offers`` (what OVH sells per region), never by
echoing the requested name, so a flavor or image OVH does not offer fails
under mocks as it would for real. Resources refuse what the provider
documents as invalid.
"""

from __future__ import annotations

import re
import uuid

from components.topology.addressing import stable_hash

from .ovh_offers import FLAVORS, IMAGE_REGIONS, LINUX_IMAGES, WINDOWS_FLAVORS, WINDOWS_IMAGES
from .registry import INVOKE_FAKES, RESOURCE_FAKES
from .state import deployed

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _id(*parts: str) -> str:
    return str(uuid.UUID(int=stable_hash("/".join(parts)) << 64 | stable_hash("/".join(parts) + "#")))


def _ovh_vps(cloud, name, inputs, raw):
    # pulumi_ovh vps.py: "public_ssh_key - if set, then `image_id` must also be set".
    if inputs.get("publicSshKey") and not inputs.get("imageId"):
        raise ValueError(f"ovh:Vps/vps:Vps {name}: public_ssh_key is set, so image_id must also be set "
                         "(the key is installed by a rebuild from that image)")
    image = inputs.get("imageId")
    if image is not None and not _UUID.match(str(image)):
        raise ValueError(f"ovh:Vps/vps:Vps {name}: image_id {image!r} is not an image id "
                         "(GET /vps/{serviceName}/images/available lists them)")
    service = f"vps-{stable_hash(name) % 0xffffffff:08x}.vps.ovh.net"
    cloud._addresses.setdefault(service, cloud.address_for(name))
    return service, {**raw, "serviceName": service, "state": "running", **deployed(cloud, name)}


def _ovh_instance(cloud, name, inputs, raw):
    rid = str(uuid.UUID(int=stable_hash(name) << 64 | stable_hash(name + "/")))
    return rid, {**raw, "addresses": [{"ip": cloud.address_for(name), "version": 4}], "status": "ACTIVE",
                 **deployed(cloud, name)}


def _get_vps(cloud, args):
    service = args.get("serviceName")
    return {"serviceName": service, "ips": [cloud._addresses.get(service, cloud.address_for(service)), "2001:41d0::1"]}


def _flavor(name: str, region: str, size: tuple, os_type: str) -> dict:
    vcpus, ram, disk, kind = size
    return {
        "id": _id("flavor", region, name), "name": name, "region": region, "available": True, "capabilities": [],
        "disk": disk, "inboundBandwidth": 1000, "outboundBandwidth": 1000, "osType": os_type,
        "planCodes": {"hourly": f"{name}.consumption", "monthly": f"{name}.monthly"},
        "quota": 20, "ram": ram, "type": kind, "vcpus": vcpus,
    }


def _get_flavors(cloud, args):
    region = args.get("region")
    regions = [region] if region else list(FLAVORS)
    flavors = []
    for r in regions:
        offered = FLAVORS.get(r, {})
        flavors += [_flavor(n, r, size, "linux") for n, size in offered.items()]
        flavors += [_flavor(f"win-{n}", r, offered[n], "windows") for n in WINDOWS_FLAVORS if n in offered]
    wanted = args.get("nameFilter")
    if wanted:  # "strict equality" (pulumi_ovh get_flavors.py)
        flavors = [f for f in flavors if f["name"] == wanted]
    return {"serviceName": args.get("serviceName"), "region": region, "nameFilter": wanted, "flavors": flavors}


def _image(name: str, region: str, os_type: str, user: str) -> dict:
    return {
        "id": _id("image", region, name), "name": name, "region": region, "creationDate": "2026-06-01T00:00:00Z",
        "flavorType": None, "minDisk": 10, "minRam": 0, "planCode": "", "size": 2.5, "status": "active",
        "tags": [], "type": os_type, "user": user, "visibility": "public",
    }


def _get_images(cloud, args):
    region = args.get("region")
    regions = [region] if region else list(IMAGE_REGIONS)
    users = dict(LINUX_IMAGES)
    images = []
    for r in regions:
        images += [_image(n, r, "linux", users[n]) for n in IMAGE_REGIONS.get(r, [])]
        if r in IMAGE_REGIONS:
            images += [_image(n, r, "windows", "Administrator") for n in WINDOWS_IMAGES]
    if args.get("osType"):
        images = [i for i in images if i["type"] == args["osType"]]
    return {"serviceName": args.get("serviceName"), "region": region, "osType": args.get("osType"), "images": images}


RESOURCE_FAKES.update({
    "ovh:Vps/vps:Vps": _ovh_vps,
    "ovh:CloudProject/instance:Instance": _ovh_instance,
})
INVOKE_FAKES.update({
    "ovh:Vps/getVps:getVps": _get_vps,
    "ovh:CloudProject/getFlavors:getFlavors": _get_flavors,
    "ovh:CloudProject/getImages:getImages": _get_images,
})
