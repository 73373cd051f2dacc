"""Realistic provider answers for the mock runtime (no cloud, no CLI).

Addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarks), so a
plan can never point at anybody's real machine.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import uuid
from collections.abc import Callable

import pulumi

from components.topology.addressing import stable_hash

FAKE_PUBLIC_NET = ipaddress.IPv4Network("198.18.0.0/15")
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"

CommandHandler = Callable[[str, dict], dict]


def fake_wireguard_key(seed: str) -> str:
    """A well-formed (32-byte base64) WireGuard public key."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def unwrap_secrets(value):
    """Inputs as the program gave them, with secret markers removed."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SECRET_SIG:
            return unwrap_secrets(value.get("value"))
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


class FakeCloud(pulumi.runtime.Mocks):
    """Answers every resource and invoke the program makes, like the clouds would."""

    def __init__(self, command_handler: CommandHandler | None = None):
        self._addresses: dict[str, str] = {}
        self._taken: set[int] = set()
        # (name, inputs) -> outputs of a command:remote:Command, e.g. a real
        # SSH execution on test hosts; None gives the plan's fake outputs.
        self.command_handler = command_handler

    # -- helpers ---------------------------------------------------------
    def address_for(self, name: str) -> str:
        if name not in self._addresses:
            size = FAKE_PUBLIC_NET.num_addresses - 2
            offset = stable_hash(name) % size
            while offset in self._taken:
                offset = (offset + 1) % size
            self._taken.add(offset)
            self._addresses[name] = str(FAKE_PUBLIC_NET.network_address + 1 + offset)
        return self._addresses[name]

    @staticmethod
    def numeric_id(name: str) -> str:
        return str(10_000_000 + stable_hash(name) % 89_999_999)

    # -- resources -------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = unwrap_secrets(args.inputs)
        handler = _RESOURCES.get(args.typ)
        if handler is None:
            return f"{args.name}-id", dict(args.inputs)
        return handler(self, args.name, inputs, args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        handler = _INVOKES.get(args.token)
        if handler is None:
            return {}
        return handler(self, args.args)

    # -- per type ----------------------------------------------------------
    def _hcloud_server(self, name, inputs, raw):
        ip = self.address_for(name)
        return self.numeric_id(name), {
            **raw, "ipv4Address": ip, "ipv6Address": f"2a01:4f8:{stable_hash(name) % 0xffff:x}::1",
            "status": "running", "datacenter": f"{inputs.get('location', 'fsn1')}-dc14",
            "networks": [{"networkId": n.get("networkId"), "ip": f"10.0.0.{2 + stable_hash(name) % 250}"} for n in inputs.get("networks") or []],
        }

    def _numeric(self, name, inputs, raw):
        return self.numeric_id(name), dict(raw)

    def _uuid(self, name, inputs, raw):
        return str(uuid.UUID(int=stable_hash(name) << 64 | stable_hash(name + "/"))), dict(raw)

    def _scaleway_ip(self, name, inputs, raw):
        zone = inputs.get("zone", "fr-par-1")
        rid, _ = self._uuid(name, inputs, raw)
        return f"{zone}/{rid}", {**raw, "address": self.address_for(name)}

    def _scaleway_zoned(self, name, inputs, raw):
        zone = inputs.get("zone", "fr-par-1")
        rid, _ = self._uuid(name, inputs, raw)
        return f"{zone}/{rid}", {**raw, "state": "started"}

    def _ovh_vps(self, name, inputs, raw):
        service = f"vps-{stable_hash(name) % 0xffffffff:08x}.vps.ovh.net"
        self._addresses.setdefault(service, self.address_for(name))
        return service, {**raw, "serviceName": service, "state": "running"}

    def _ovh_instance(self, name, inputs, raw):
        rid, _ = self._uuid(name, inputs, raw)
        return rid, {**raw, "addresses": [{"ip": self.address_for(name), "version": 4}], "status": "ACTIVE"}

    def _remote_command(self, name, inputs, raw):
        if self.command_handler is not None:
            result = self.command_handler(name, inputs)
        else:
            result = {"stdout": fake_command_stdout(name), "stderr": ""}
        return f"{name}-id", {**raw, **result}

    # -- invokes -------------------------------------------------------------
    def _get_vps(self, args):
        service = args.get("serviceName")
        return {"serviceName": service, "ips": [self._addresses.get(service, self.address_for(service)), "2001:41d0::1"]}

    def _get_flavors(self, args):
        name = args.get("nameFilter") or "b3-8"
        region = args.get("region", "GRA11")
        return {"serviceName": args.get("serviceName"), "flavors": [{
            "id": str(uuid.UUID(int=stable_hash(f"{name}/{region}"))), "name": name, "region": region,
            "available": True, "capabilities": [], "disk": 50, "inboundBandwidth": 1000, "outboundBandwidth": 1000,
            "osType": "linux", "planCodes": {"hourly": f"{name}.consumption", "monthly": f"{name}.monthly"},
            "quota": 10, "ram": 8, "type": "ovh.ssd.eg", "vcpus": 2,
        }]}

    def _get_images(self, args):
        region = args.get("region", "GRA11")
        names = ["Debian 12", "Debian 13", "Ubuntu 24.04"]
        return {"serviceName": args.get("serviceName"), "images": [{
            "id": str(uuid.UUID(int=stable_hash(f"{n}/{region}"))), "name": n, "region": region,
            "creationDate": "2026-01-01", "flavorType": "", "minDisk": 10, "minRam": 0, "planCode": "",
            "size": 2.5, "status": "active", "tags": [], "type": "linux", "user": "debian", "visibility": "public",
        } for n in names]}


def fake_command_stdout(name: str) -> str:
    """What a node script prints, for the kinds of scripts whose output is used."""
    for suffix, make in FAKE_STDOUT.items():
        if name.endswith(suffix):
            return make(name)
    return ""


# Layers register fake outputs of their scripts here by resource-name suffix.
FAKE_STDOUT: dict[str, Callable[[str], str]] = {
    "-wg-key": fake_wireguard_key,
}

_RESOURCES = {
    "hcloud:index/server:Server": FakeCloud._hcloud_server,
    "hcloud:index/sshKey:SshKey": FakeCloud._numeric,
    "hcloud:index/firewall:Firewall": FakeCloud._numeric,
    "hcloud:index/placementGroup:PlacementGroup": FakeCloud._numeric,
    "hcloud:index/network:Network": FakeCloud._numeric,
    "hcloud:index/networkSubnet:NetworkSubnet": FakeCloud._numeric,
    "scaleway:instance/ip:Ip": FakeCloud._scaleway_ip,
    "scaleway:instance/server:Server": FakeCloud._scaleway_zoned,
    "scaleway:instance/securityGroup:SecurityGroup": FakeCloud._scaleway_zoned,
    "scaleway:instance/placementGroup:PlacementGroup": FakeCloud._scaleway_zoned,
    "ovh:Vps/vps:Vps": FakeCloud._ovh_vps,
    "ovh:CloudProject/instance:Instance": FakeCloud._ovh_instance,
    "command:remote:Command": FakeCloud._remote_command,
}

_INVOKES = {
    "ovh:Vps/getVps:getVps": FakeCloud._get_vps,
    "ovh:CloudProject/getFlavors:getFlavors": FakeCloud._get_flavors,
    "ovh:CloudProject/getImages:getImages": FakeCloud._get_images,
}
