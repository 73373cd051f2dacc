"""Policy 2: etcd and kubelet ports never open to the internet.

Those ports stay on the WireGuard mesh (components/node/public_ports.py).
A cloud firewall rule, a security group rule or a Kubernetes Service that
reaches one of them from a non-private source hands out the cluster's
datastore or node API; ranges and "any port" rules count too.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .resources import (
    HCLOUD_FIREWALL,
    K8S_SERVICE,
    SCALEWAY_SECURITY_GROUP,
    SCALEWAY_SECURITY_GROUP_RULES,
)
from .values import MISSING, UNKNOWN, as_int, elements, field, setting

POLICY = "no-public-control-plane-ports"

# etcd client/peer/metrics, kubelet (and its read-only port), controller-manager, scheduler.
FORBIDDEN_PORTS = (2379, 2380, 2381, 10250, 10255, 10257, 10259)
PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "fc00::/7", "::1/128")
ANYWHERE = ("0.0.0.0/0", "::/0")
ALL_PORTS = (1, 65535)


def port_range(text: Any) -> tuple[int, int] | None:
    """"2379" or "2379-2381" as a (first, last) range; "any"/unset is every port."""
    if text is MISSING or text is None or (isinstance(text, str) and text.strip().lower() in ("", "any")):
        return ALL_PORTS
    single = as_int(text)
    if single is not None:
        return single, single
    if isinstance(text, str) and "-" in text:
        first, last = (as_int(p) for p in text.split("-", 1))
        if first is not None and last is not None:
            return first, last
    return None


def public_sources(sources: list[Any], private: list[str]) -> list[str]:
    """Sources that are not inside one of the ``private`` CIDRs (unparsable ones included)."""
    networks = [ipaddress.ip_network(c, strict=False) for c in private]
    found = []
    for source in sources:
        try:
            net = ipaddress.ip_network(str(source).strip(), strict=False)
        except ValueError:
            found.append(str(source))
            continue
        if not any(net.version == p.version and net.subnet_of(p) for p in networks):
            found.append(str(source))
    return found


def is_named(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _exposed(first_last: tuple[int, int] | None, forbidden: list[int]) -> list[int]:
    if first_last is None:
        return []
    first, last = first_last
    return [p for p in forbidden if first <= p <= last]


def _report_rule(report_violation, args, path: str, ports: list[int], sources: list[str], source_field: str) -> None:
    report_violation(
        f"{args.resource_type} {args.name!r}: `{path}` opens port(s) {', '.join(map(str, ports))} "
        f"(etcd/kubelet/control plane) to {', '.join(sources)} (`{path}.{source_field}`); these ports must stay on "
        "the mesh: drop the rule, narrow its port range, or restrict its sources to private networks", None)


def _check_hcloud_firewall(args, report_violation, forbidden, private) -> None:
    for i, rule in elements(args.props, "rules"):
        if str(field(rule, "direction")).lower() != "in":
            continue
        if str(field(rule, "protocol")).lower() != "tcp":
            continue  # the ports are TCP services; icmp/gre/esp have no ports
        port = field(rule, "port")
        if port is UNKNOWN:
            continue
        ports = _exposed(port_range(port), forbidden)
        sources = [s for _, s in elements(rule, "sourceIps")]
        bad = public_sources(sources, private)
        if ports and bad:
            _report_rule(report_violation, args, f"rules[{i}]", ports, bad, "sourceIps")


def _check_scaleway_rules(args, report_violation, forbidden, private) -> None:
    for i, rule in elements(args.props, "inboundRules"):
        if str(field(rule, "action")).lower() != "accept":
            continue
        protocol = field(rule, "protocol")
        if is_named(protocol) and str(protocol).upper() not in ("TCP", "ANY"):
            continue
        port, span = field(rule, "port"), field(rule, "portRange")
        if UNKNOWN in (port, span):
            continue
        ports = _exposed(port_range(span if port is MISSING else port), forbidden)
        # Neither ip nor ipRange: the rule applies to every address (pulumiverse_scaleway docs).
        ip_range, ip = field(rule, "ipRange"), field(rule, "ip")
        source_field, sources = ("ipRange", [ip_range]) if ip_range is not MISSING else (
            ("ip", [ip]) if ip is not MISSING else ("ipRange", list(ANYWHERE)))
        if UNKNOWN in sources:
            continue
        bad = public_sources(sources, private)
        if ports and bad:
            _report_rule(report_violation, args, f"inboundRules[{i}]", ports, bad, source_field)


def _check_scaleway_default(args, report_violation) -> None:
    policy = field(args.props, "inboundDefaultPolicy")
    if policy is UNKNOWN:
        return
    if str(policy).lower() != "drop":  # unset means "accept" at Scaleway
        shown = "unset (accept)" if policy is MISSING else repr(policy)
        report_violation(f"{args.resource_type} {args.name!r}: `inboundDefaultPolicy` is {shown}, so every port without "
                         "a rule (etcd and kubelet included) is open to the internet; set it to \"drop\"", None)


def _check_service(args, report_violation, forbidden, private) -> None:
    kind = field(args.props, "spec", "type")
    if kind not in ("LoadBalancer", "NodePort"):
        return  # ClusterIP/ExternalName stay inside the cluster
    if kind == "LoadBalancer":
        ranges = [r for _, r in elements(args.props, "spec", "loadBalancerSourceRanges")]
        if ranges and not public_sources(ranges, private):
            return  # an internal load balancer
    for i, port in elements(args.props, "spec", "ports"):
        for name in ("port", "targetPort", "nodePort"):
            number = as_int(field(port, name))
            if number in forbidden:
                report_violation(f"{args.resource_type} {args.name!r} of type {kind}: `spec.ports[{i}].{name}` = {number} "
                                 "exposes an etcd/kubelet/control-plane port outside the cluster; use a ClusterIP "
                                 "Service or another port", None)


def check_public_ports(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    forbidden = [int(p) for p in setting(args, "forbiddenPorts", FORBIDDEN_PORTS)]
    private = [str(c) for c in setting(args, "privateCidrs", PRIVATE_CIDRS)]
    if args.resource_type == HCLOUD_FIREWALL:
        _check_hcloud_firewall(args, report_violation, forbidden, private)
    elif args.resource_type == SCALEWAY_SECURITY_GROUP:
        _check_scaleway_default(args, report_violation)
        _check_scaleway_rules(args, report_violation, forbidden, private)
    elif args.resource_type == SCALEWAY_SECURITY_GROUP_RULES:
        _check_scaleway_rules(args, report_violation, forbidden, private)
    elif args.resource_type == K8S_SERVICE:
        _check_service(args, report_violation, forbidden, private)


no_public_control_plane_ports = ResourceValidationPolicy(
    name=POLICY,
    description="No etcd, kubelet or control-plane port (2379-2381, 10250, 10255, 10257, 10259) reachable from the "
                "internet through a cloud firewall, a security group or a Kubernetes Service.",
    validate=check_public_ports,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "forbiddenPorts": {
            "type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65535},
            "description": "TCP ports that must never be reachable from a non-private source.",
            "default": list(FORBIDDEN_PORTS),
        },
        "privateCidrs": {
            "type": "array", "items": {"type": "string"},
            "description": "Sources counted as private (RFC 1918, CGNAT, loopback, IPv6 ULA by default).",
            "default": list(PRIVATE_CIDRS),
        },
    }),
)
