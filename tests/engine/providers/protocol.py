"""The resource-provider side of Pulumi's plugin protocol, for stand-ins.

The real engine launches ``pulumi-resource-<name>`` from PATH, reads the
port it prints and talks gRPC (``pulumirpc.ResourceProvider``). This module
does that part once: property values to and from ``google.protobuf.Struct``
with Pulumi's secret and unknown markers, Check/Diff/Create/Read/Update/
Delete dispatch by resource type, and failures reported as the engine
expects (a create that ran but failed is kept in state with its init errors,
as pulumi-go-provider and the bridge do, so the next ``up`` retries it).

A provider is a name, a version and a ``ResourceKind`` per type token.
"""

from __future__ import annotations

import sys
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Callable

import grpc
from google.protobuf import any_pb2, empty_pb2, json_format, struct_pb2
from google.rpc import status_pb2

from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class Secret:
    """A value the engine marked secret (kept wrapped until sent back)."""

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and self.value == other.value

    def __repr__(self) -> str:
        return "Secret([hidden])"


def _from_wire(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG) == SECRET_SIG:
            return Secret(_from_wire(value.get("value")))
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    return value


def _to_wire(value: Any) -> Any:
    if isinstance(value, Secret):
        return {SIG: SECRET_SIG, "value": _to_wire(value.value)}
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    return value


def from_struct(struct: struct_pb2.Struct) -> dict:
    return _from_wire(json_format.MessageToDict(struct))


def to_struct(props: dict) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(_to_wire(props))
    return out


def plain(value: Any) -> Any:
    """The value with every secret unwrapped (what the provider acts on)."""
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def has_secret(value: Any) -> bool:
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(has_secret(v) for v in value)
    return False


def has_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, Secret):
        return has_unknown(value.value)
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


class ResourceFailed(Exception):
    """An operation that failed; ``state`` (if any) is what exists now."""

    def __init__(self, message: str, state: dict | None = None):
        super().__init__(message)
        self.state = state


@dataclass
class ResourceKind:
    """One resource type: its inputs, which of them replace, which outputs
    are secret, and the operations (plain, secret-free values in and out)."""

    inputs: frozenset[str]
    create: Callable[[str, dict], tuple[str, dict]]  # (name, inputs) -> (id, outputs)
    replace_on: frozenset[str] = frozenset()  # "*" = every input (bridged ForceNew)
    secret_outputs: frozenset[str] = frozenset()
    check: Callable[[dict], tuple[dict, list[tuple[str, str]]]] = lambda news: (news, [])
    update: Callable[[str, dict, dict], dict] | None = None  # (id, olds, news) -> outputs
    delete: Callable[[str, dict], None] = lambda id_, olds: None
    preview_outputs: frozenset[str] = field(default_factory=frozenset)  # unknown until created
    preview: Callable[[str, dict], dict] | None = None  # (name, inputs) -> outputs of a preview create


def _changed_inputs(kind: ResourceKind, olds: dict, news: dict) -> list[str]:
    present = set(olds) | set(news)
    keys = sorted(kind.inputs & present if kind.inputs else present)  # no list: every input
    return [k for k in keys if has_unknown(news.get(k)) or plain(olds.get(k)) != plain(news.get(k))]


def _with_secrets(kind: ResourceKind, inputs: dict, outputs: dict) -> dict:
    """Outputs wrapped as the engine must see them: an output is secret when
    the provider says so or when the input of the same name was secret."""
    wrapped = {}
    for key, value in outputs.items():
        secret = key in kind.secret_outputs or has_secret(inputs.get(key))
        wrapped[key] = Secret(plain(value)) if secret and value is not None else value
    return wrapped


def _name_of(urn: str) -> str:
    return urn.split("::")[-1]


def _type_of(urn: str) -> str:
    return urn.split("::")[-2].split("$")[-1]


class StandInProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, name: str, version: str, kinds: dict[str, ResourceKind],
                 invokes: dict[str, Callable[[dict], dict]] | None = None,
                 fallback: Callable[[str], ResourceKind | None] | None = None):
        self.name, self.version, self.kinds = name, version, kinds
        self.invokes = invokes or {}
        self.fallback = fallback

    def _kind(self, urn: str, context) -> ResourceKind:
        kind = self.kinds.get(_type_of(urn))
        if kind is None and self.fallback is not None:
            kind = self.kinds[_type_of(urn)] = self.fallback(_type_of(urn))
        if kind is None:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"{self.name} stand-in: unknown resource type {_type_of(urn)}")
        return kind

    # -- plugin and configuration ---------------------------------------
    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=self.version)

    def GetSchema(self, request, context):
        return provider_pb2.GetSchemaResponse(schema=f'{{"name": "{self.name}", "version": "{self.version}"}}')

    def CheckConfig(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request, context):
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request, context):
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True)

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    def Invoke(self, request, context):
        handler = self.invokes.get(request.tok)
        if handler is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{self.name} stand-in: no function {request.tok}")
        try:
            result = handler(plain(from_struct(request.args)))
        except (ValueError, KeyError) as error:
            return provider_pb2.InvokeResponse(failures=[provider_pb2.CheckFailure(property="", reason=str(error))])
        return provider_pb2.InvokeResponse(**{"return": to_struct(result)})

    # -- resources --------------------------------------------------------
    def Check(self, request, context):
        kind = self._kind(request.urn, context)
        news = from_struct(request.news)
        checked, failures = kind.check(plain(news))
        for key, value in news.items():
            if has_unknown(value):  # defaults never overwrite what is not known yet
                checked[key] = value
            elif has_secret(value):  # checked as plain values, sent back as secret as they came
                checked[key] = Secret(checked[key])
        return provider_pb2.CheckResponse(
            inputs=to_struct(checked),
            failures=[provider_pb2.CheckFailure(property=p, reason=r) for p, r in failures])

    def Diff(self, request, context):
        kind = self._kind(request.urn, context)
        olds = from_struct(request.old_inputs) if request.HasField("old_inputs") else from_struct(request.olds)
        news = from_struct(request.news)
        changed = _changed_inputs(kind, olds, news)
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE, hasDetailedDiff=True)
        replaces = [k for k in changed if "*" in kind.replace_on or k in kind.replace_on]
        detailed = {}
        for key in changed:
            replace = key in replaces
            if key not in olds:
                diff_kind = provider_pb2.PropertyDiff.ADD_REPLACE if replace else provider_pb2.PropertyDiff.ADD
            elif key not in news:
                diff_kind = provider_pb2.PropertyDiff.DELETE_REPLACE if replace else provider_pb2.PropertyDiff.DELETE
            else:
                diff_kind = provider_pb2.PropertyDiff.UPDATE_REPLACE if replace else provider_pb2.PropertyDiff.UPDATE
            detailed[key] = provider_pb2.PropertyDiff(kind=diff_kind, inputDiff=True)
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed,
                                         replaces=replaces, detailedDiff=detailed, hasDetailedDiff=True)

    def Create(self, request, context):
        kind = self._kind(request.urn, context)
        inputs = from_struct(request.properties)
        name = _name_of(request.urn)
        if request.preview:
            if kind.preview is not None:
                try:
                    outputs = kind.preview(name, inputs)
                except ResourceFailed as refused:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(refused))
            else:
                outputs = {**inputs, **{k: UNKNOWN for k in kind.preview_outputs}}
            return provider_pb2.CreateResponse(id="", properties=to_struct(outputs))
        try:
            id_, outputs = kind.create(name, plain(inputs))
        except ResourceFailed as failed:
            if failed.state is None:
                context.abort(grpc.StatusCode.UNKNOWN, str(failed))
            self._abort_init_failed(context, failed, f"{name}-failed", kind, inputs)
        return provider_pb2.CreateResponse(id=id_, properties=to_struct(_with_secrets(kind, inputs, outputs)))

    def Read(self, request, context):
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Update(self, request, context):
        kind = self._kind(request.urn, context)
        olds = from_struct(request.olds)
        news = from_struct(request.news)
        if request.preview:
            # Outputs keep their values unless an input is not known yet
            # (pulumi-go-provider: every output depends on every input).
            outputs = {**olds, **news}
            if has_unknown(news):
                outputs |= {k: UNKNOWN for k in kind.preview_outputs}
            return provider_pb2.UpdateResponse(properties=to_struct(outputs))
        if kind.update is None:
            context.abort(grpc.StatusCode.INTERNAL, f"{_type_of(request.urn)} has no in-place update")
        try:
            outputs = kind.update(request.id, plain(olds), plain(news))
        except ResourceFailed as failed:
            if failed.state is None:
                context.abort(grpc.StatusCode.UNKNOWN, str(failed))
            self._abort_init_failed(context, failed, request.id, kind, news)
        return provider_pb2.UpdateResponse(properties=to_struct(_with_secrets(kind, news, outputs)))

    def Delete(self, request, context):
        kind = self._kind(request.urn, context)
        try:
            kind.delete(request.id, plain(from_struct(request.properties)))
        except ResourceFailed as failed:
            context.abort(grpc.StatusCode.UNKNOWN, str(failed))
        return empty_pb2.Empty()

    @staticmethod
    def _abort_init_failed(context, failed: ResourceFailed, id_: str, kind: ResourceKind, inputs: dict) -> None:
        detail = provider_pb2.ErrorResourceInitFailed(
            id=id_, properties=to_struct(_with_secrets(kind, inputs, failed.state)), reasons=[str(failed)],
            inputs=to_struct(inputs))
        packed = any_pb2.Any()
        packed.Pack(detail)
        status = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=str(failed), details=[packed])
        context.abort_with_status(_RichStatus(status))


class _RichStatus(grpc.Status):
    def __init__(self, status: status_pb2.Status):
        self.code = grpc.StatusCode.UNKNOWN
        self.details = status.message
        self.trailing_metadata = (("grpc-status-details-bin", status.SerializeToString()),)


def serve(provider: StandInProvider) -> None:
    """Entry point of a ``pulumi-resource-*`` plugin: print the port, serve
    until the engine closes us (it kills the process)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()
