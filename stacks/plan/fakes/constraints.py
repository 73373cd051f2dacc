"""What the Hetzner, Scaleway and OVH APIs refuse, refused by the fakes too.

Each check is written from the provider SDK's docstrings (the pinned
``pulumi_hcloud`` and ``pulumiverse_scaleway``, ``pulumi_ovh`` in site-packages) or the
provider's documented limits, named beside it, so that a call the real API
would reject fails under mocks as well: enums, arguments required or
forbidden together, unique names in a project, per-group limits, resources
that must live in the same zone. The checks wrap the fakes of
``compute`` and ``ovh`` (registered there first; the OVH VPS fake checks its
own image/key rule); the answers themselves are unchanged.

Uniqueness is per fake cloud (one Hetzner project / Scaleway project shared
by every stack run against it): the same stack registering the same
resource again is an update, anybody else with the name collides.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from .registry import RESOURCE_FAKES

# RFC 1123 host name (pulumi_hcloud server.py: "a valid hostname as per RFC 1123").
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
HCLOUD_USER_DATA_LIMIT = 32 * 1024      # server.py: "This field is limited to 32KiB."
HCLOUD_SPREAD_GROUP_LIMIT = 10          # Hetzner docs, Placement groups: 10 servers per spread group
SCALEWAY_PLACEMENT_GROUP_LIMIT = 20     # Scaleway docs, Placement groups: 20 Instances per group


class ProviderRefused(ValueError):
    """What the provider's API would answer with an error."""


def _refuse(kind: str, name: str, why: str) -> None:
    raise ProviderRefused(f"{kind} {name!r}: {why}")


def _table(cloud, key: str) -> dict:
    if not hasattr(cloud, "_constraints"):
        cloud._constraints = {}
    return cloud._constraints.setdefault(key, {})


def _owner(name: str) -> tuple[str, str]:
    import pulumi

    return pulumi.get_stack(), name


def _unique(cloud, kind: str, name: str, value: str | None, scope: str = "") -> None:
    """``value`` (a provider-side name) is unique among ``kind`` in the project (and ``scope``)."""
    if value is None:
        return
    taken = _table(cloud, f"names/{kind}/{scope}")
    owner = _owner(name)
    for other_owner, other in taken.items():
        if other_owner != owner and other == value:
            _refuse(kind, name, f"name {value!r} is already used (uniqueness_error)")
    taken[owner] = value


def _cidr(kind: str, name: str, field: str, value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value)
    except (TypeError, ValueError):
        _refuse(kind, name, f"{field} {value!r} is not an IP address or CIDR")
        raise  # unreachable


def _members(cloud, group_key: str, limit: int, kind: str, name: str, group_id: str | None) -> None:
    """One more server in ``group_id``; refuse past the provider's limit."""
    if not group_id:
        return
    members = _table(cloud, group_key).setdefault(group_id, set())
    members.add(_owner(name))
    if len(members) > limit:
        _refuse(kind, name, f"placement group {group_id} would hold {len(members)} servers (at most {limit})")


# -- Hetzner Cloud -----------------------------------------------------------------

_HCLOUD_PROTOCOLS = {"tcp", "udp", "icmp", "gre", "esp"}   # _inputs.py FirewallRuleArgs.protocol
_HCLOUD_ZONES = {"eu-central", "us-east", "us-west", "ap-southeast"}  # Hetzner docs, Networks: network zones
_PORT = re.compile(r"^(any|\d{1,5}(-\d{1,5})?)$")


def _hcloud_firewall(cloud, name, inputs):
    kind = "hcloud Firewall"
    _unique(cloud, kind, name, inputs.get("name"))
    for i, rule in enumerate(inputs.get("rules") or []):
        where = f"rules[{i}]"
        direction, protocol, port = rule.get("direction"), rule.get("protocol"), rule.get("port")
        if direction not in ("in", "out"):
            _refuse(kind, name, f"{where}.direction {direction!r} is not 'in' or 'out'")
        if protocol not in _HCLOUD_PROTOCOLS:
            _refuse(kind, name, f"{where}.protocol {protocol!r} is not one of {sorted(_HCLOUD_PROTOCOLS)}")
        # FirewallRuleArgs.port: "Required when protocol is tcp or udp"; the API refuses it otherwise.
        if protocol in ("tcp", "udp"):
            if not port or not _PORT.match(str(port)) or any(
                    not 1 <= int(p) <= 65535 for p in str(port).split("-") if p != "any"):
                _refuse(kind, name, f"{where}.port {port!r}: a port, a range 'from-to' or 'any' is required "
                                    f"for {protocol}")
        elif port is not None:
            _refuse(kind, name, f"{where}.port is only allowed for tcp and udp, not {protocol}")
        # source_ips for "in" rules, destination_ips for "out" rules.
        wanted, other = ("sourceIps", "destinationIps") if direction == "in" else ("destinationIps", "sourceIps")
        if not rule.get(wanted) or rule.get(other):
            _refuse(kind, name, f"{where}: a rule of direction {direction!r} takes {wanted} (and no {other})")
        for cidr in rule.get(wanted):
            _cidr(kind, name, f"{where}.{wanted}", cidr)


def _hcloud_placement_group(cloud, name, inputs):
    kind = "hcloud PlacementGroup"
    if inputs.get("type") != "spread":  # placement_group.py: the only type
        _refuse(kind, name, f"type {inputs.get('type')!r} is not 'spread'")
    _unique(cloud, kind, name, inputs.get("name"))


def _hcloud_network(cloud, name, inputs):
    kind = "hcloud Network"
    # network.py: "Must be one of the private ipv4 ranges of RFC1918."
    net = _cidr(kind, name, "ip_range", inputs.get("ipRange"))
    if net.version != 4 or not any(net.subnet_of(ipaddress.ip_network(r)) for r in
                                   ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")):
        _refuse(kind, name, f"ip_range {net} is not inside an RFC 1918 private IPv4 range")
    _unique(cloud, kind, name, inputs.get("name"))
    _table(cloud, "hcloud/networks")[name] = net


def _hcloud_network_subnet(cloud, name, inputs):
    kind = "hcloud NetworkSubnet"
    if inputs.get("type") not in ("cloud", "server", "vswitch"):  # network_subnet.py
        _refuse(kind, name, f"type {inputs.get('type')!r} is not server, cloud or vswitch")
    if inputs.get("networkZone") not in _HCLOUD_ZONES:
        _refuse(kind, name, f"network_zone {inputs.get('networkZone')!r} is not one of {sorted(_HCLOUD_ZONES)}")
    subnet = _cidr(kind, name, "ip_range", inputs.get("ipRange"))
    # network_subnet.py: "Must be a subnet of the ip_range of the Network".
    networks = list(_table(cloud, "hcloud/networks").values())
    if networks and not any(subnet.version == n.version and subnet.subnet_of(n) for n in networks):
        _refuse(kind, name, f"ip_range {subnet} is not inside the network's ip_range")


def _hcloud_server(cloud, name, inputs):
    kind = "hcloud Server"
    server_name = inputs.get("name")
    if not server_name or not _HOSTNAME.match(server_name):
        _refuse(kind, name, f"name {server_name!r} is not a valid hostname (RFC 1123)")
    _unique(cloud, kind, name, server_name)
    for field in ("serverType", "image"):  # server.py: required to create a server
        if not inputs.get(field):
            _refuse(kind, name, f"{field} is required to create a server")
    if len((inputs.get("userData") or "").encode()) > HCLOUD_USER_DATA_LIMIT:
        _refuse(kind, name, f"user_data is limited to {HCLOUD_USER_DATA_LIMIT} bytes")
    for i, net in enumerate(inputs.get("networks") or []):
        if not net.get("networkId") and not net.get("subnetId"):
            _refuse(kind, name, f"networks[{i}] needs network_id or subnet_id")
    group = inputs.get("placementGroupId")
    _members(cloud, "hcloud/placement", HCLOUD_SPREAD_GROUP_LIMIT, kind, name, str(group) if group else None)


# -- Scaleway ----------------------------------------------------------------------

def _zone_of(resource_id: str | None) -> str | None:
    """Zoned Scaleway ids read "fr-par-1/<uuid>"."""
    return resource_id.split("/", 1)[0] if resource_id and "/" in resource_id else None


def _scaleway_ip(cloud, name, inputs):
    if inputs.get("type") not in ("routed_ipv4", "routed_ipv6"):  # instance/ip.py
        _refuse("scaleway instance Ip", name, f"type {inputs.get('type')!r} is not routed_ipv4 or routed_ipv6")


def _scaleway_security_group(cloud, name, inputs):
    kind = "scaleway SecurityGroup"
    for policy in ("inboundDefaultPolicy", "outboundDefaultPolicy"):  # security_group.py
        if inputs.get(policy) not in (None, "accept", "drop"):
            _refuse(kind, name, f"{policy} {inputs.get(policy)!r} is not accept or drop")
    for direction in ("inboundRules", "outboundRules"):
        for i, rule in enumerate(inputs.get(direction) or []):
            where = f"{direction}[{i}]"
            # _inputs.py SecurityGroupInboundRuleArgs
            if rule.get("action") not in ("accept", "drop"):
                _refuse(kind, name, f"{where}.action {rule.get('action')!r} is not accept or drop")
            if rule.get("protocol", "TCP") not in ("TCP", "UDP", "ICMP", "ANY"):
                _refuse(kind, name, f"{where}.protocol {rule.get('protocol')!r} is not TCP, UDP, ICMP or ANY")
            if rule.get("port") is not None and rule.get("portRange"):
                _refuse(kind, name, f"{where}: only one of port and port_range")
            if rule.get("ip") and rule.get("ipRange"):
                _refuse(kind, name, f"{where}: only one of ip and ip_range")
            if rule.get("ipRange"):
                _cidr(kind, name, f"{where}.ip_range", rule["ipRange"])
            if rule.get("port") is not None and not 1 <= int(rule["port"]) <= 65535:
                _refuse(kind, name, f"{where}.port {rule['port']} is out of range")


def _scaleway_placement_group(cloud, name, inputs):
    kind = "scaleway PlacementGroup"
    if inputs.get("policyType") not in (None, "low_latency", "max_availability"):  # placement_group.py
        _refuse(kind, name, f"policy_type {inputs.get('policyType')!r} is not low_latency or max_availability")
    if inputs.get("policyMode") not in (None, "optional", "enforced"):
        _refuse(kind, name, f"policy_mode {inputs.get('policyMode')!r} is not optional or enforced")


def _scaleway_server(cloud, name, inputs):
    kind = "scaleway Server"
    zone = inputs.get("zone")
    # An Instance's flexible IP, security group and placement group are zonal
    # resources of its own zone (Scaleway Instances API: all under /zones/{zone}/).
    for field in ("ipId", "securityGroupId", "placementGroupId"):
        other = _zone_of(inputs.get(field))
        if zone and other and other != zone:
            _refuse(kind, name, f"{field} is in {other}, the server in {zone}")
    if inputs.get("ipId") and inputs.get("ipIds"):  # server.py: "Cannot be used with ip_id"
        _refuse(kind, name, "ip_ids cannot be used with ip_id")
    user_data = inputs.get("userData")
    if user_data is not None and not isinstance(user_data, dict):  # server.py: a map, key "cloud-init"
        _refuse(kind, name, "user_data is a map (its cloud-init key holds the cloud-config)")
    _members(cloud, "scaleway/placement", SCALEWAY_PLACEMENT_GROUP_LIMIT, kind, name, inputs.get("placementGroupId"))


def _scaleway_private_nic(cloud, name, inputs):
    kind = "scaleway PrivateNic"
    zone, server_zone = inputs.get("zone"), _zone_of(inputs.get("serverId"))
    if zone and server_zone and zone != server_zone:
        _refuse(kind, name, f"the server is in {server_zone}, the NIC in {zone}")
    # Private networks are regional: a NIC in fr-par-2 attaches to one of fr-par.
    network_region = _zone_of(inputs.get("privateNetworkId"))
    if zone and network_region and zone.rsplit("-", 1)[0] != network_region:
        _refuse(kind, name, f"private network of {network_region} cannot be attached in {zone}")


# -- OVHcloud Public Cloud -------------------------------------------------------------

def _ovh_instance(cloud, name, inputs):
    kind = "ovh cloudproject Instance"
    if inputs.get("billingPeriod") not in ("hourly", "monthly"):  # instance.py: "hourly or monthly"
        _refuse(kind, name, f"billing_period {inputs.get('billingPeriod')!r} is not hourly or monthly")
    # terraform-provider-ovh#841: one of ssh_key (an existing key pair) or ssh_key_create is mandatory.
    keys = [k for k in ("sshKey", "sshKeyCreate") if inputs.get(k)]
    if len(keys) != 1:
        _refuse(kind, name, f"exactly one of ssh_key and ssh_key_create is required (got {keys or 'none'})")
    create = inputs.get("sshKeyCreate") or {}
    if keys == ["sshKeyCreate"] and not (create.get("name") and create.get("publicKey")):
        _refuse(kind, name, "ssh_key_create needs name and public_key")
    boot = inputs.get("bootFrom") or {}
    if bool(boot.get("imageId")) == bool(boot.get("volumeId")):  # _inputs.py InstanceBootFromArgs
        _refuse(kind, name, "boot_from takes an image_id or a volume_id")
    if not (inputs.get("flavor") or {}).get("flavorId"):
        _refuse(kind, name, "flavor.flavor_id is required")


CHECKS: dict[str, Callable] = {
    "ovh:CloudProject/instance:Instance": _ovh_instance,
    "hcloud:index/firewall:Firewall": _hcloud_firewall,
    "hcloud:index/placementGroup:PlacementGroup": _hcloud_placement_group,
    "hcloud:index/network:Network": _hcloud_network,
    "hcloud:index/networkSubnet:NetworkSubnet": _hcloud_network_subnet,
    "hcloud:index/server:Server": _hcloud_server,
    "scaleway:instance/ip:Ip": _scaleway_ip,
    "scaleway:instance/securityGroup:SecurityGroup": _scaleway_security_group,
    "scaleway:instance/placementGroup:PlacementGroup": _scaleway_placement_group,
    "scaleway:instance/server:Server": _scaleway_server,
    "scaleway:instance/privateNic:PrivateNic": _scaleway_private_nic,
}


def _checked(check: Callable, answer: Callable) -> Callable:
    def fake(cloud, name, inputs, raw):
        check(cloud, name, inputs)
        return answer(cloud, name, inputs, raw)

    fake.__wrapped__ = answer
    return fake


def install() -> None:
    for type_, check in CHECKS.items():
        answer = RESOURCE_FAKES[type_]
        RESOURCE_FAKES[type_] = _checked(check, getattr(answer, "__wrapped__", answer))


install()
