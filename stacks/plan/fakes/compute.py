"""Fake answers of the compute layer: Hetzner, Scaleway, OVH, remote commands."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import uuid

from components.topology.addressing import stable_hash

from .registry import FAKE_STDOUT, INVOKE_FAKES, RESOURCE_FAKES


def fake_wireguard_key(seed: str) -> str:
    """A well-formed (32-byte base64) WireGuard public key."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def _hcloud_server(cloud, name, inputs, raw):
    ip = cloud.address_for(name)
    return cloud.numeric_id(name), {
        **raw, "ipv4Address": ip, "ipv6Address": f"2a01:4f8:{stable_hash(name) % 0xffff:x}::1",
        "status": "running", "datacenter": f"{inputs.get('location', 'fsn1')}-dc14",
        "networks": [{"networkId": n.get("networkId"), "ip": f"10.0.0.{2 + stable_hash(name) % 250}"} for n in inputs.get("networks") or []],
    }


def _numeric(cloud, name, inputs, raw):
    return cloud.numeric_id(name), dict(raw)


def _uuid(cloud, name, inputs, raw):
    return str(uuid.UUID(int=stable_hash(name) << 64 | stable_hash(name + "/"))), dict(raw)


def _scaleway_ip(cloud, name, inputs, raw):
    zone = inputs.get("zone", "fr-par-1")
    rid, _ = _uuid(cloud, name, inputs, raw)
    return f"{zone}/{rid}", {**raw, "address": cloud.address_for(name)}


def _scaleway_zoned(cloud, name, inputs, raw):
    zone = inputs.get("zone", "fr-par-1")
    rid, _ = _uuid(cloud, name, inputs, raw)
    return f"{zone}/{rid}", {**raw, "state": "started"}


def _scaleway_regional(cloud, name, inputs, raw):
    region = inputs.get("region", "fr-par")
    rid, _ = _uuid(cloud, name, inputs, raw)
    return f"{region}/{rid}", {**raw, "region": region}


def _private_subnets(cloud) -> dict:
    """Private network id -> (subnet, addresses handed out), per fake cloud."""
    if not hasattr(cloud, "_scaleway_private_subnets"):
        cloud._scaleway_private_subnets = {}
    return cloud._scaleway_private_subnets


def _scaleway_private_network(cloud, name, inputs, raw):
    rid, state = _scaleway_regional(cloud, name, inputs, raw)
    subnet = ipaddress.IPv4Network((inputs.get("ipv4Subnet") or {}).get("subnet") or "172.16.0.0/22")
    ula = ipaddress.IPv6Network(f"fd{stable_hash(name) % 0xff:02x}:{stable_hash(name + '/6') % 0xffff:x}:{stable_hash(rid) % 0xffff:x}:1::/64")
    _private_subnets(cloud)[rid] = (subnet, ula, set())
    return rid, {
        **state,
        "ipv4Subnet": {"subnet": str(subnet), "address": str(subnet.network_address), "prefixLength": subnet.prefixlen,
                       "subnetMask": str(subnet.netmask)},
        "ipv6Subnets": [{"subnet": str(ula), "address": str(ula.network_address), "prefixLength": 64}],
    }


def _scaleway_private_nic(cloud, name, inputs, raw):
    """Like Scaleway's IPAM: one IPv4 from the private network's subnet (after the
    network and gateway addresses) and one IPv6 from its ULA /64."""
    zone = inputs.get("zone", "fr-par-1")
    rid, _ = _uuid(cloud, name, inputs, raw)
    subnet, ula, taken = _private_subnets(cloud)[inputs["privateNetworkId"]]
    size = subnet.num_addresses - 3  # network, gateway (.1), broadcast
    offset = stable_hash(name) % size
    while offset in taken:
        offset = (offset + 1) % size
    taken.add(offset)
    region = zone.rsplit("-", 1)[0]
    return f"{zone}/{inputs['serverId'].split('/')[-1]}/{rid}", {
        **raw,
        "macAddress": "02:00:00:" + ":".join(f"{b:02x}" for b in stable_hash(name).to_bytes(8, "big")[-3:]),
        "privateIps": [
            {"id": f"{region}/{_uuid(cloud, name + '/v4', inputs, raw)[0]}", "address": str(subnet.network_address + 2 + offset)},
            {"id": f"{region}/{_uuid(cloud, name + '/v6', inputs, raw)[0]}", "address": str(ula.network_address + 2 + offset)},
        ],
    }


def _ovh_vps(cloud, name, inputs, raw):
    service = f"vps-{stable_hash(name) % 0xffffffff:08x}.vps.ovh.net"
    cloud._addresses.setdefault(service, cloud.address_for(name))
    return service, {**raw, "serviceName": service, "state": "running"}


def _ovh_instance(cloud, name, inputs, raw):
    rid, _ = _uuid(cloud, name, inputs, raw)
    return rid, {**raw, "addresses": [{"ip": cloud.address_for(name), "version": 4}], "status": "ACTIVE"}


def _get_vps(cloud, args):
    service = args.get("serviceName")
    return {"serviceName": service, "ips": [cloud._addresses.get(service, cloud.address_for(service)), "2001:41d0::1"]}


def _get_flavors(cloud, args):
    name = args.get("nameFilter") or "b3-8"
    region = args.get("region", "GRA11")
    return {"serviceName": args.get("serviceName"), "flavors": [{
        "id": str(uuid.UUID(int=stable_hash(f"{name}/{region}"))), "name": name, "region": region,
        "available": True, "capabilities": [], "disk": 50, "inboundBandwidth": 1000, "outboundBandwidth": 1000,
        "osType": "linux", "planCodes": {"hourly": f"{name}.consumption", "monthly": f"{name}.monthly"},
        "quota": 10, "ram": 8, "type": "ovh.ssd.eg", "vcpus": 2,
    }]}


def _get_images(cloud, args):
    region = args.get("region", "GRA11")
    names = ["Debian 12", "Debian 13", "Ubuntu 24.04"]
    return {"serviceName": args.get("serviceName"), "images": [{
        "id": str(uuid.UUID(int=stable_hash(f"{n}/{region}"))), "name": n, "region": region,
        "creationDate": "2026-01-01", "flavorType": "", "minDisk": 10, "minRam": 0, "planCode": "",
        "size": 2.5, "status": "active", "tags": [], "type": "linux", "user": "debian", "visibility": "public",
    } for n in names]}




def _remote_command(cloud, name, inputs, raw):
    return cloud.run_command(name, inputs, raw)


RESOURCE_FAKES.update({
    "hcloud:index/server:Server": _hcloud_server,
    "hcloud:index/sshKey:SshKey": _numeric,
    "hcloud:index/firewall:Firewall": _numeric,
    "hcloud:index/placementGroup:PlacementGroup": _numeric,
    "hcloud:index/network:Network": _numeric,
    "hcloud:index/networkSubnet:NetworkSubnet": _numeric,
    "scaleway:instance/ip:Ip": _scaleway_ip,
    "scaleway:instance/server:Server": _scaleway_zoned,
    "scaleway:instance/securityGroup:SecurityGroup": _scaleway_zoned,
    "scaleway:instance/placementGroup:PlacementGroup": _scaleway_zoned,
    "scaleway:instance/privateNic:PrivateNic": _scaleway_private_nic,
    "scaleway:network/vpc:Vpc": _scaleway_regional,
    "scaleway:network/privateNetwork:PrivateNetwork": _scaleway_private_network,
    "ovh:Vps/vps:Vps": _ovh_vps,
    "ovh:CloudProject/instance:Instance": _ovh_instance,
    "command:remote:Command": _remote_command,
})
INVOKE_FAKES.update({
    "ovh:Vps/getVps:getVps": _get_vps,
    "ovh:CloudProject/getFlavors:getFlavors": _get_flavors,
    "ovh:CloudProject/getImages:getImages": _get_images,
})
FAKE_STDOUT["-wg-key"] = fake_wireguard_key
