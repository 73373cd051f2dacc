"""The mesh addresses this stack gave its nodes before, read from its own outputs.

Existing hosts are allocated addresses (``addressing.allocate_host_addresses``);
keeping each where it was needs memory, and a stack's memory is its state.
The program exports ``meshAddresses`` on every update and reads it back on the
next one through the engine's built-in ``readStackOutputs`` invoke (what a
``StackReference`` to the stack itself reads), synchronously, before any
address is used. On a stack's first update there is nothing to read.
"""

from __future__ import annotations

import ipaddress

import pulumi

OUTPUT = "meshAddresses"
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"


def this_stack() -> str:
    """The fully qualified name a StackReference to this stack would use."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


def read_mesh_history() -> dict[str, str]:
    """``{node name: mesh IP}`` from this stack's last update; {} on its first.

    A failed read stops the program before anything is created (the SDK
    reports a failed invoke as the program's error): allocating afresh could
    move a running host to another address, breaking its peers and etcd.
    """
    result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": this_stack()})
    outputs = (result.value or {}).get("outputs") or {}
    return parse_history(outputs.get(OUTPUT))


def parse_history(value) -> dict[str, str]:
    """The recorded map, refusing anything that is not ``{name: IPv4}``."""
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
