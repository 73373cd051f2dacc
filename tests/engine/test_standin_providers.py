"""The stand-in plugins follow the documented behaviour of the providers they
replace (pulumi-command 1.2.1, pulumi-tls 5.6.2, pulumi-random 4.21.4): what
replaces, what updates, what is secret, what is refused. Called through the
gRPC servicer as the engine calls them."""

from __future__ import annotations

import pytest

from pulumi.runtime.proto import provider_pb2
from tests.engine.providers import command_provider, random_provider, tls_provider
from tests.engine.providers.protocol import SECRET_SIG, SIG, from_struct, to_struct


class Aborted(Exception):
    pass


class Context:
    def abort(self, code, details):
        raise Aborted(f"{code}: {details}")

    def abort_with_status(self, status):
        raise Aborted(status.details)


def secret(value):
    return {SIG: SECRET_SIG, "value": value}


def urn(type_: str, name: str = "r") -> str:
    return f"urn:pulumi:t::p::{type_}::{name}"


COMMAND = "command:remote:Command"
CONNECTION = secret({"host": "192.0.2.1", "user": "debian", "privateKey": "k", "hostKey": "ssh-ed25519 AAAA"})


def diff(provider, type_: str, olds: dict, news: dict) -> provider_pb2.DiffResponse:
    return provider.Diff(provider_pb2.DiffRequest(urn=urn(type_), olds=to_struct(olds), news=to_struct(news),
                                                  old_inputs=to_struct(olds)), Context())


def test_a_changed_script_is_an_update_and_a_changed_trigger_a_replacement():
    provider = command_provider.PROVIDER
    base = {"connection": CONNECTION, "create": "echo 1", "triggers": ["a"]}
    update = diff(provider, COMMAND, base, {**base, "create": "echo 2"})
    assert (update.changes, list(update.replaces), list(update.diffs)) == (update.DIFF_SOME, [], ["create"])
    replace = diff(provider, COMMAND, base, {**base, "triggers": ["b"]})
    assert list(replace.replaces) == ["triggers"]
    assert replace.detailedDiff["triggers"].kind == provider_pb2.PropertyDiff.UPDATE_REPLACE
    assert diff(provider, COMMAND, base, dict(base)).changes == update.DIFF_NONE
    # A secret that did not change is no change.
    assert diff(provider, COMMAND, base, {**base, "connection": CONNECTION}).changes == update.DIFF_NONE


def test_check_fills_the_connection_defaults_keeps_it_secret_and_refuses_a_missing_one():
    provider = command_provider.PROVIDER
    checked = provider.Check(provider_pb2.CheckRequest(urn=urn(COMMAND), news=to_struct(
        {"connection": CONNECTION, "create": "true"})), Context())
    assert not checked.failures
    connection = from_struct(checked.inputs)["connection"]
    assert connection.value | {} == {**CONNECTION["value"], "port": 22, "dialErrorLimit": 10, "perDialTimeout": 15}
    refused = provider.Check(provider_pb2.CheckRequest(urn=urn(COMMAND), news=to_struct({"create": "true"})),
                             Context())
    assert [(f.property, "connection" in f.reason) for f in refused.failures] == [("connection", True)]


def test_outputs_are_secret_where_the_provider_makes_them_so(monkeypatch):
    monkeypatch.setattr(command_provider, "_run", lambda state, script, previous: ("out", ""))
    created = command_provider.PROVIDER.Create(provider_pb2.CreateRequest(urn=urn(COMMAND), properties=to_struct(
        {"connection": CONNECTION, "create": "cat", "stdin": secret("token")})), Context())
    outputs = created.properties
    assert outputs["connection"][SIG] == SECRET_SIG
    assert outputs["stdin"][SIG] == SECRET_SIG
    assert outputs["stdout"] == "out"  # not secret by itself: the program marks it where it must
    assert created.id.startswith("r")


def test_a_failed_create_is_kept_with_its_inputs_so_the_next_up_retries_it(monkeypatch):
    def failing(state, script, previous):
        raise command_provider.ResourceFailed("Process exited with status 3", state={**state, "stdout": ""})

    monkeypatch.setattr(command_provider, "_run", failing)
    with pytest.raises(Aborted, match="status 3"):
        command_provider.PROVIDER.Create(provider_pb2.CreateRequest(urn=urn(COMMAND), properties=to_struct(
            {"connection": CONNECTION, "create": "false"})), Context())


def test_tls_keys_are_replaced_on_any_change_and_their_private_halves_are_secret():
    provider = tls_provider.PROVIDER
    key_type = "tls:index/privateKey:PrivateKey"
    replaced = diff(provider, key_type, {"algorithm": "ECDSA", "ecdsaCurve": "P256"},
                    {"algorithm": "ECDSA", "ecdsaCurve": "P384"})
    assert list(replaced.replaces) == ["ecdsaCurve"]
    first = provider.Create(provider_pb2.CreateRequest(urn=urn(key_type), properties=to_struct(
        {"algorithm": "ECDSA", "ecdsaCurve": "P256"})), Context()).properties
    second = provider.Create(provider_pb2.CreateRequest(urn=urn(key_type), properties=to_struct(
        {"algorithm": "ECDSA", "ecdsaCurve": "P256"})), Context()).properties
    assert first["privateKeyPem"][SIG] == SECRET_SIG and "PRIVATE KEY" in first["privateKeyPem"]["value"]
    assert first["publicKeyPem"] != second["publicKeyPem"], "a new key at every creation"
    refused = provider.Check(provider_pb2.CheckRequest(urn=urn(key_type), news=to_struct({"algorithm": "DSA"})),
                             Context())
    assert [f.property for f in refused.failures] == ["algorithm"]


def test_random_passwords_honour_their_classes_are_secret_and_refuse_impossible_minimums():
    provider = random_provider.PROVIDER
    type_ = "random:index/randomPassword:RandomPassword"
    checked = provider.Check(provider_pb2.CheckRequest(urn=urn(type_), news=to_struct(
        {"length": 22, "special": False, "upper": False})), Context())
    created = provider.Create(provider_pb2.CreateRequest(urn=urn(type_), properties=checked.inputs), Context())
    result = created.properties["result"]
    assert result[SIG] == SECRET_SIG
    assert len(result["value"]) == 22
    assert all(c.islower() or c.isdigit() for c in result["value"])
    refused = provider.Check(provider_pb2.CheckRequest(urn=urn(type_), news=to_struct(
        {"length": 3, "minUpper": 2, "minNumeric": 2})), Context())
    assert [f.property for f in refused.failures] == ["length"]
