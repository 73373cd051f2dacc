"""Realistic provider answers for the mock runtime (no cloud, no CLI).

Addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarks), so a
plan can never point at anybody's real machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import grpc
import pulumi

from components.topology.addressing import stable_hash

from .fakes import FAKE_STDOUT, INVOKE_FAKES, RESOURCE_FAKES

FAKE_PUBLIC_NET = ipaddress.IPv4Network("198.18.0.0/15")
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"

CommandHandler = Callable[[str, dict], dict]


def unwrap_secrets(value):
    """Inputs as the program gave them, with secret markers removed."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SECRET_SIG:
            return unwrap_secrets(value.get("value"))
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


SECRET_SHOWN = "[secret]"


def mask_secrets(value):
    """Inputs as the program gave them, each secret value replaced by ``[secret]``."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SECRET_SIG:
            return SECRET_SHOWN
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


class InvokeError(grpc.RpcError):
    """A failed invoke as the engine's resource monitor reports it (a gRPC status)."""

    def __init__(self, details: str):
        super().__init__(details)
        self._details = details

    def code(self):
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


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
        handler = RESOURCE_FAKES.get(args.typ)
        if handler is None:
            return f"{args.name}-id", dict(args.inputs)
        return handler(self, args.name, inputs, args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        handler = INVOKE_FAKES.get(args.token)
        if handler is None:
            return {}
        try:
            return handler(self, args.args)
        except Exception as err:
            # The engine answers a provider's invoke error with a gRPC error
            # the program can catch (tests/engine/test_stack_references.py);
            # a plain exception here would be an unhandled one.
            raise InvokeError(f"invocation of {args.token} returned an error: {err}") from err

    def run_command(self, name: str, inputs: dict, raw: dict):
        """A ``command:remote:Command``: really run it, or fake its stdout."""
        if self.command_handler is not None:
            result = self.command_handler(name, inputs)
        else:
            result = {"stdout": fake_command_stdout(name), "stderr": ""}
        return f"{name}-id", {**raw, **result}


def fake_command_stdout(name: str) -> str:
    """What a node script prints, for the kinds of scripts whose output is used."""
    for suffix, make in FAKE_STDOUT.items():
        if name.endswith(suffix):
            return make(name)
    return ""

