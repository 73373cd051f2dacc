"""The mesh addresses this stack gave its nodes before, from its own outputs.

Existing hosts are allocated addresses (``addressing.allocate_host_addresses``);
keeping each where it was needs memory, and a stack's memory is its state.
The program exports ``meshAddresses`` on every update and reads it back on the
next one (``components/state/outputs.py``) before any address is used. A
failed read stops the program: allocating afresh could move a running host
to another address, breaking its peers and etcd.
"""

from __future__ import annotations

import ipaddress

import pulumi

OUTPUT = "meshAddresses"


def parse_history(value) -> dict[str, str]:
    """The recorded ``{node name: mesh IP}``, refusing anything else; {} when absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise pulumi.RunError(f"this stack's {OUTPUT!r} output is not a map of node names to addresses: {value!r}")
    history = {}
    for name, ip in value.items():
        try:
            history[str(name)] = str(ipaddress.IPv4Address(ip))
        except (ipaddress.AddressValueError, ValueError):
            raise pulumi.RunError(f"this stack's {OUTPUT!r} output holds {ip!r} for {name!r}, not an IPv4 address") from None
    return history
