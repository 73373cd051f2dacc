"""Fake answers of the compute layer: Hetzner, Scaleway, remote commands (OVH: ``ovh``)."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import uuid

from components.topology.addressing import stable_hash

from . import ovh  # noqa: F401  (registers the OVH fakes)
from .registry import FAKE_STDOUT, INVOKE_FAKES, RESOURCE_FAKES
from .state import deployed, deployed_state  # noqa: F401  (deployed_state: for tests of day-2 runs)


def fake_wireguard_key(seed: str) -> str:
    """A well-formed (32-byte base64) WireGuard public key."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def _hcloud_server(cloud, name, inputs, raw):
    ip = cloud.address_for(name)
    return cloud.numeric_id(name), {
        **raw, "ipv4Address": ip, "ipv6Address": f"2a01:4f8:{stable_hash(name) % 0xffff:x}::1",
        "status": "running", "datacenter": f"{inputs.get('location', 'fsn1')}-dc14",
        "networks": [{"networkId": n.get("networkId"), "ip": f"10.0.0.{2 + stable_hash(name) % 250}"} for n in inputs.get("networks") or []],
        **deployed(cloud, name),
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
    return f"{zone}/{rid}", {**raw, "state": "started", **deployed(cloud, name)}


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


def _ssh_key_blob(public_key: str) -> bytes:
    """The key blob of an OpenSSH public key line, checked like Hetzner does."""
    parts = (public_key or "").split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
        length = int.from_bytes(blob[:4], "big")
        valid = parts[0] in _SSH_KEY_TYPES and blob[4:4 + length].decode() == parts[0]
    except (IndexError, ValueError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise ValueError("invalid input in field 'public_key' (invalid_input): not an OpenSSH public key")
    return blob


_SSH_KEY_TYPES = {"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"}


def _hcloud_keys(cloud) -> dict:
    """SSH keys of the fake Hetzner project: (stack, resource name) -> key."""
    if not hasattr(cloud, "_hcloud_ssh_keys"):
        cloud._hcloud_ssh_keys = {}
    return cloud._hcloud_ssh_keys


def _hcloud_ssh_key(cloud, name, inputs, raw):
    """Like the Hetzner API: name and fingerprint are each unique in a project.

    The same stack registering the same resource again is an update, not a
    second key; anybody else (another stack, another resource) collides.
    """
    import pulumi

    blob = _ssh_key_blob(inputs.get("publicKey"))
    fingerprint = ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())  # noqa: S324 (Hetzner's fingerprint)
    owner = (pulumi.get_stack(), name)
    keys = _hcloud_keys(cloud)
    for other_owner, other in keys.items():
        if other_owner == owner:
            continue
        if other["name"] == inputs.get("name"):
            raise ValueError(f"hcloud SSH key {inputs.get('name')!r}: name {other['name']!r} is already used "
                             "(uniqueness_error)")
        if other["fingerprint"] == fingerprint:
            raise ValueError(f"hcloud SSH key {inputs.get('name')!r}: SSH key with the same fingerprint {fingerprint} "
                             f"already exists: {other['name']!r} (uniqueness_error)")
    key_id = keys[owner]["id"] if owner in keys else cloud.numeric_id(f"{owner[0]}/{name}")
    keys[owner] = {"id": key_id, "name": inputs.get("name"), "fingerprint": fingerprint,
                   "publicKey": inputs.get("publicKey"), "labels": inputs.get("labels") or {}}
    return key_id, {**raw, "fingerprint": fingerprint}


def _get_hcloud_ssh_keys(cloud, args):
    """Every key of the project, or those whose labels match ``withSelector`` (k=v,...)."""
    wanted = dict(part.split("=", 1) for part in (args.get("withSelector") or "").split(",") if "=" in part)
    keys = [{**k, "id": int(k["id"])} for k in _hcloud_keys(cloud).values()
            if all(k["labels"].get(l) == v for l, v in wanted.items())]
    return {"id": "ssh-keys", "withSelector": args.get("withSelector"), "sshKeys": keys}


def _remote_command(cloud, name, inputs, raw):
    return cloud.run_command(name, inputs, raw)


RESOURCE_FAKES.update({
    "hcloud:index/server:Server": _hcloud_server,
    "hcloud:index/sshKey:SshKey": _hcloud_ssh_key,
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
    "command:remote:Command": _remote_command,
})
INVOKE_FAKES["hcloud:index/getSshKeys:getSshKeys"] = _get_hcloud_ssh_keys
FAKE_STDOUT["-wg-key"] = fake_wireguard_key
