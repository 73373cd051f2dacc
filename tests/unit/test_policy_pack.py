"""The CrossGuard policy pack (policy/): every policy's validate, called the
way pulumi-policy 1.21 calls it, on good and bad inputs and on the example
stacks planned under mocks.

Arguments are built with the SDK's own functions, in the order its analyzer
servicer uses them (pulumi_policy/policy.py): inputs in wire form (secrets
as signature objects) -> protobuf ``Struct`` (numbers become floats) ->
``json_format.MessageToDict`` -> ``deserialize_properties`` (with
``proxy_secrets`` only for remediations, as the SDK does) ->
``unknown_checking_proxy``. ``policy/__main__.py`` is never imported:
``PolicyPack`` blocks forever.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.type_token import get_type_token
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties, serialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from stacks.config import REPO_ROOT
from stacks.plan.fake_cloud import FakeCloud, unwrap_secrets
from tests.stack_runner import example_spec, run_spec

sys.path.insert(0, str(Path(REPO_ROOT, "policy")))

import sovereign_policies  # noqa: E402  (the pack's own import root is policy/)
from sovereign_policies import POLICIES, resources  # noqa: E402
from sovereign_policies.catalog import DEFAULT_ALLOWED_REGIONS, european_regions  # noqa: E402
from sovereign_policies.labels import residency_labels  # noqa: E402
from sovereign_policies.ports import no_public_control_plane_ports  # noqa: E402
from sovereign_policies.regions import allowed_node_regions, allowed_regions  # noqa: E402
from sovereign_policies.secrets import secrets_policy  # noqa: E402

R = resources
OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


# -- arguments as the SDK builds them -------------------------------------------
def secret(value):
    """A secret input in wire form, as the engine sends it."""
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def sdk_props(wire: dict, *, secrets_visible: bool = False):
    """``args.props`` as pulumi-policy builds it: Analyze drops secret markers,
    Remediate keeps them (``secrets_visible``)."""
    struct = struct_pb2.Struct()
    struct.update(wire)
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct), secrets_visible))


def resource_args(type_: str, wire: dict, *, name: str = "r", config: dict | None = None,
                  secrets_visible: bool = False, provider: dict | None = None, urn: str | None = None):
    prov = None if provider is None else PolicyProviderResource(
        "pulumi:providers:x", sdk_props(provider), "urn:pulumi:test::p::pulumi:providers:x::default", "default")
    return ResourceValidationArgs(type_, sdk_props(wire, secrets_visible=secrets_visible),
                                  urn or f"urn:pulumi:test::sovereign-cloud::{type_}::{name}", name, OPTS, prov, config)


def violations(policy, args) -> list[str]:
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def one_violation(policy, args, *words: str) -> str:
    found = violations(policy, args)
    assert len(found) == 1, found
    for word in words:
        assert word in found[0], (word, found[0])
    return found[0]


def stack_resource(type_: str, name: str, wire: dict) -> PolicyResource:
    return PolicyResource(type_, sdk_props(wire), f"urn:pulumi:test::sovereign-cloud::{type_}::{name}", name,
                          OPTS, None, None, [], {})


def stack_violations(policy, resources_, config=None) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs(resources_, config), lambda message, urn=None: found.append((message, urn)))
    return found


# -- the pack as a whole --------------------------------------------------------
def test_pack_holds_the_rules_at_their_enforcement_levels():
    levels = {p.name: p.enforcement_level for p in POLICIES}
    assert levels == {
        "allowed-regions": EnforcementLevel.MANDATORY,
        "allowed-node-regions": EnforcementLevel.MANDATORY,
        "no-public-control-plane-ports": EnforcementLevel.MANDATORY,
        "residency-labels": EnforcementLevel.ADVISORY,
        # The only level at which pulumi-policy shows the pack which inputs are secrets.
        "secrets-never-plain": EnforcementLevel.REMEDIATE,
        "submariner-encrypted-once": EnforcementLevel.MANDATORY,
    }
    assert all(p.config_schema and p.config_schema.properties for p in POLICIES)
    assert sovereign_policies.PACK_NAME == "sovereign-cloud"


def test_the_sdk_serves_the_pack_metadata_and_config_schemas():
    """What the engine asks first (GetAnalyzerInfo): names, levels, JSON schemas with defaults."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    servicer = _PolicyAnalyzerServicer("sovereign-cloud", "0.1.0", POLICIES, EnforcementLevel.MANDATORY)
    info = servicer.GetAnalyzerInfo(None, None)
    schemas = {p.name: json_format.MessageToDict(p.configSchema) for p in info.policies}
    assert list(schemas) == [p.name for p in POLICIES] and info.supportsConfig
    assert schemas["allowed-regions"]["properties"]["allowedRegions"]["default"] == list(DEFAULT_ALLOWED_REGIONS)
    assert schemas["no-public-control-plane-ports"]["properties"]["forbiddenPorts"]["default"] == [
        2379, 2380, 2381, 10250, 10255, 10257, 10259]


def test_main_only_builds_the_pack_from_the_policies():
    main = Path(REPO_ROOT, "policy", "__main__.py").read_text()
    assert "PolicyPack(" in main and "policies=POLICIES" in main
    assert "def " not in main  # no validator hides there, where tests cannot import it


def test_the_entry_point_serves_the_pack_as_the_cli_starts_it():
    """Run policy/__main__.py in its own process (as `pulumi preview --policy-pack`
    does: it prints its port, then serves), ask for the pack, stop it."""
    import subprocess

    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2_grpc

    pack = subprocess.Popen([sys.executable, "__main__.py"], cwd=Path(REPO_ROOT, "policy"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = pack.stdout.readline().strip()
        assert port.isdigit(), pack.stderr.read() if pack.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        assert info.name == "sovereign-cloud"
        assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    finally:
        pack.kill()
        pack.wait(timeout=10)


def test_policy_requirements_pin_the_sdks_of_the_program():
    pins = Path(REPO_ROOT, "policy", "requirements.txt").read_text().split()
    assert "pulumi-policy==1.21.0" in pins and "pulumi==3.272.0" in pins
    program = Path(REPO_ROOT, "requirements.txt").read_text().split()
    assert "pulumi==3.272.0" in program and "PyYAML==6.0.3" in program and "PyYAML==6.0.3" in pins


# -- the tokens and property names are those of the pinned SDKs ----------------
SDK_CLASSES = {
    R.HCLOUD_SERVER: "pulumi_hcloud:Server",
    R.HCLOUD_FIREWALL: "pulumi_hcloud:Firewall",
    R.SCALEWAY_SERVER: "pulumiverse_scaleway.instance:Server",
    R.SCALEWAY_SECURITY_GROUP: "pulumiverse_scaleway.instance:SecurityGroup",
    R.SCALEWAY_SECURITY_GROUP_RULES: "pulumiverse_scaleway.instance:SecurityGroupRules",
    R.OVH_VPS: "pulumi_ovh.vps:Vps",
    R.OVH_INSTANCE: "pulumi_ovh.cloudproject:Instance",
    R.REMOTE_COMMAND: "pulumi_command.remote:Command",
    R.LOCAL_COMMAND: "pulumi_command.local:Command",
    R.K8S_SERVICE: "pulumi_kubernetes.core.v1:Service",
    R.K8S_SECRET: "pulumi_kubernetes.core.v1:Secret",
    R.K8S_PROVIDER: "pulumi_kubernetes:Provider",
    R.HELM_RELEASE: "pulumi_kubernetes.helm.v3:Release",
}
NESTED_CLASSES = {
    (R.HCLOUD_FIREWALL, "rules"): "pulumi_hcloud:FirewallRuleArgs",
    (R.SCALEWAY_SECURITY_GROUP, "inboundRules"): "pulumiverse_scaleway.instance:SecurityGroupInboundRuleArgs",
    (R.SCALEWAY_SECURITY_GROUP_RULES, "inboundRules"): "pulumiverse_scaleway.instance:SecurityGroupRulesInboundRuleArgs",
    (R.OVH_VPS, "plans"): "pulumi_ovh.vps:VpsPlanArgs",
    (R.OVH_VPS, "plans.configurations"): "pulumi_ovh.vps:VpsPlanConfigurationArgs",
    (R.K8S_SERVICE, "spec"): "pulumi_kubernetes.core.v1:ServiceSpecArgs",
    (R.K8S_SERVICE, "spec.ports"): "pulumi_kubernetes.core.v1:ServicePortArgs",
}


def sdk_class(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def camel_properties(cls) -> set[str]:
    """Wire (camelCase) names of a generated SDK class's properties, with
    those of its ``<Name>Args`` input class (a provider has only those)."""
    args = getattr(sys.modules[cls.__module__], f"{cls.__name__}Args", None)
    source = inspect.getsource(cls) + (inspect.getsource(args) if args is not None else "")
    names = set(re.findall(r'@pulumi\.getter\(name="(\w+)"\)', source))
    names |= set(re.findall(r"@pulumi\.getter\n(?:\s*@[^\n]*\n)*\s*def (\w+)\(self\)", source))
    return names


def test_every_type_token_the_policies_name_is_a_token_of_the_pinned_sdks():
    named = {v for k, v in vars(R).items() if k.isupper() and isinstance(v, str) and v.count(":") >= 2}
    assert named == set(R.PROPERTIES) == set(SDK_CLASSES) | {R.EXISTING_NODES}
    for token, path in SDK_CLASSES.items():
        cls = sdk_class(path)
        assert get_type_token(cls) == token, path
        assert f"'{token}'" in inspect.getsource(cls._internal_init) or token.startswith("pulumi:providers:"), path


def test_the_program_registers_its_existing_hosts_with_their_labels_under_the_token_the_pack_reads(example_plans):
    run, _ = example_plans["prod"]
    (adopted,) = [r for r in run.resources if r.type == R.EXISTING_NODES]
    regions = {h["name"]: h["labels"][R.REGION_LABEL] for h in adopted.inputs["hosts"]}
    assert regions == {"gpu-houston-1": "houston", "onprem-paris-1": "paris-onprem"}


def test_existing_hosts_are_checked_at_preview_when_the_commands_labelling_them_are_unknown():
    """In a preview the join/placement scripts are unknown (they embed tokens
    and addresses not created yet); the component's ``hosts`` input is not."""
    adopted = stack_resource(R.EXISTING_NODES, "prod-existing", {"hosts": [
        {"name": "gpu-houston-1", "labels": {R.REGION_LABEL: "houston", R.PROVIDER_LABEL: "existing"}},
        {"name": "onprem-paris-1", "labels": {R.REGION_LABEL: "paris-onprem", R.ON_PREM_LABEL: "true"}}]})
    (message, urn), = stack_violations(allowed_node_regions, [adopted])
    assert "'houston'" in message and "'paris-onprem'" not in message and urn == adopted.urn
    assert stack_violations(allowed_node_regions, [adopted], {"additionalRegions": ["houston"]}) == []


def test_every_property_the_policies_read_exists_under_that_camelcase_name():
    for token, names in R.PROPERTIES.items():
        if token == R.EXISTING_NODES:  # the program's own component, not an SDK class
            continue
        known = camel_properties(sdk_class(SDK_CLASSES[token]))
        assert set(names) <= known, (token, set(names) - known)
    assert set(R.NESTED_PROPERTIES) == set(NESTED_CLASSES)
    for key, names in R.NESTED_PROPERTIES.items():
        known = camel_properties(sdk_class(NESTED_CLASSES[key]))
        assert set(names) <= known, (key, set(names) - known)


# -- 1. allowed regions ---------------------------------------------------------
def test_default_allowed_regions_are_the_european_regions_of_the_catalog():
    european = {"fsn1", "nbg1", "hel1", "GRA", "SBG", "GRA11", "fr-par-1", "fr-par-2", "nl-ams-1"}
    assert european <= set(DEFAULT_ALLOWED_REGIONS)
    assert not {"ash", "hil", "sin", "BHS", "BHS5", "SGP", "US-EAST-VA", "SYD1"} & set(DEFAULT_ALLOWED_REGIONS)


def test_catalog_regions_are_chosen_by_their_continent(tmp_path):
    (tmp_path / "x.yaml").write_text("regions:\n  - {name: eu1, continent: EU}\n  - {name: us1, continent: NA}\n")
    (tmp_path / "y.yaml").write_text("hyperscalers: []\n")
    assert european_regions(tmp_path) == ("eu1",)


@pytest.mark.parametrize("type_, wire", [
    (R.HCLOUD_SERVER, {"location": "fsn1", "serverType": "cx23"}),
    (R.HCLOUD_SERVER, {"datacenter": "hel1-dc2"}),
    (R.SCALEWAY_SERVER, {"zone": "fr-par-2", "type": "PRO2-S"}),
    (R.OVH_INSTANCE, {"region": "GRA11"}),
    (R.OVH_INSTANCE, {"region": "gra11"}),  # providers differ in case, the policy does not
    (R.OVH_VPS, {"plans": [{"planCode": "vps-2025-model2", "configurations": [
        {"label": "vps_datacenter", "value": "SBG"}, {"label": "vps_os", "value": "Debian 12"}]}]}),
    (R.HCLOUD_SERVER, {"location": UNKNOWN_STRING_VALUE}),  # preview: known and checked at `up`
    (R.HCLOUD_FIREWALL, {"rules": []}),  # not a server
])
def test_servers_in_european_regions_pass(type_, wire):
    assert violations(allowed_regions, resource_args(type_, wire)) == []


@pytest.mark.parametrize("type_, wire, field, region", [
    (R.HCLOUD_SERVER, {"location": "ash"}, "`location`", "'ash'"),
    (R.HCLOUD_SERVER, {"datacenter": "hil-dc1"}, "`datacenter`", "'hil'"),
    (R.OVH_INSTANCE, {"region": "BHS5"}, "`region`", "'BHS5'"),
    (R.OVH_VPS, {"plans": [{"configurations": [{"label": "vps_os", "value": "Debian 12"},
                                               {"label": "vps_datacenter", "value": "SGP"}]}]},
     "`plans[0].configurations[1].value`", "'SGP'"),
])
def test_a_server_outside_the_allowed_regions_is_a_violation_naming_it_and_the_fix(type_, wire, field, region):
    message = one_violation(allowed_regions, resource_args(type_, wire, name="prod-gpu-1"), field, region,
                            "'prod-gpu-1'", type_)
    assert '"additionalRegions"' in message and "'allowed-regions'" in message and "--policy-pack-config" in message


def test_allowed_regions_come_from_the_pack_config():
    args = resource_args(R.SCALEWAY_SERVER, {"zone": "fr-par-1"}, config={"allowedRegions": ["fsn1"]})
    one_violation(allowed_regions, args, "`zone`", "'fr-par-1'")
    args = resource_args(R.HCLOUD_SERVER, {"location": "ash"}, config={"allowedRegions": ["fsn1", "ash"]})
    assert violations(allowed_regions, args) == []
    args = resource_args(R.HCLOUD_SERVER, {"location": "ash"}, config={"additionalRegions": ["ash"]})
    assert violations(allowed_regions, args) == []
    args = resource_args(R.HCLOUD_SERVER, {"location": "fsn1"}, config={"allowedRegions": [], "additionalRegions": []})
    one_violation(allowed_regions, args, "no region is allowed", "\"allowedRegions\" is empty")


def test_a_server_without_location_is_placed_by_the_provider_and_fails():
    one_violation(allowed_regions, resource_args(R.HCLOUD_SERVER, {"serverType": "cx23"}), "`location` is not set")
    one_violation(allowed_regions, resource_args(R.OVH_VPS, {"plans": [{"configurations": []}]}),
                  "vps_datacenter", "not set")


def test_a_scaleway_server_without_zone_runs_in_the_provider_default_zone():
    assert violations(allowed_regions, resource_args(R.SCALEWAY_SERVER, {}, provider={"zone": "nl-ams-1"})) == []
    one_violation(allowed_regions, resource_args(R.SCALEWAY_SERVER, {}, provider={"zone": "fr-par-1"},
                                                 config={"allowedRegions": ["nl-ams-1"]}), "`zone`", "'fr-par-1'")
    one_violation(allowed_regions, resource_args(R.SCALEWAY_SERVER, {}), "`zone` is not set")


def placement_command(node: str, provider: str, region: str, *, on_prem: bool = False) -> dict:
    """A node's labels as the program's placement command carries them (shell-quoted in the script)."""
    labels = [f"sovereign.cloud/provider={provider}", f"topology.kubernetes.io/region={region}"]
    labels += ["sovereign.cloud/on-prem=true"] if on_prem else []
    script = "#!/usr/bin/env bash\\nexport NODE_NAME=%s\\nexport LABELS='\"'\"'%s'\"'\"'" % (node, "\\n".join(labels))
    return {"create": f"exec sudo -n -- bash -c '{script}' sovereign-node-script", "connection": secret({"host": "x"})}


def test_an_existing_host_outside_the_allowed_regions_is_one_violation_naming_region_and_commands():
    houston = placement_command("gpu-houston-1", "existing", "houston")
    commands = [
        stack_resource(R.REMOTE_COMMAND, "prod-gpu-houston-1-placement", houston),
        stack_resource(R.REMOTE_COMMAND, "prod-gpu-houston-1-kubeadm-join", houston),
        stack_resource(R.REMOTE_COMMAND, "prod-fsn-1-placement", placement_command("fsn-1", "hetzner", "fsn1")),
        stack_resource(R.HCLOUD_SERVER, "prod-fsn-1", {"location": "fsn1"}),
    ]
    (message, urn), = stack_violations(allowed_node_regions, commands)
    assert "'houston'" in message and "topology.kubernetes.io/region" in message
    assert "prod-gpu-houston-1-kubeadm-join, prod-gpu-houston-1-placement" in message
    assert '"additionalRegions"' in message and "'allowed-node-regions'" in message
    assert urn == commands[0].urn or urn == commands[1].urn
    assert stack_violations(allowed_node_regions, commands, {"additionalRegions": ["houston"]}) == []
    assert stack_violations(allowed_node_regions, commands, {"allowedRegions": ["fsn1", "houston"]}) == []
    assert len(stack_violations(allowed_node_regions, commands, {"allowedRegions": ["fsn1"]})) == 1


def test_on_prem_hosts_are_exempt_unless_configured_otherwise_and_cloud_nodes_are_left_to_their_server():
    paris = placement_command("onprem-paris-1", "existing", "paris-onprem", on_prem=True)
    onprem = [stack_resource(R.REMOTE_COMMAND, "p", paris)]
    assert stack_violations(allowed_node_regions, onprem) == []
    (message, _), = stack_violations(allowed_node_regions, onprem, {"exemptOnPrem": False})
    assert "'paris-onprem'" in message
    cloud = [stack_resource(R.REMOTE_COMMAND, "c", placement_command("ash-1", "hetzner", "ash"))]
    assert stack_violations(allowed_node_regions, cloud) == []  # its hcloud Server is what allowed-regions checks


# -- 2. no public etcd/kubelet ports --------------------------------------------
def firewall(*rules):
    return {"name": "fw", "rules": list(rules)}


def hz_rule(port, sources, protocol="tcp", direction="in"):
    return {"direction": direction, "protocol": protocol, "port": port, "sourceIps": sources}


@pytest.mark.parametrize("rule", [
    hz_rule("22", ["0.0.0.0/0", "::/0"]),
    hz_rule("6443", ["203.0.113.10/32"]),
    hz_rule("2379-2381", ["10.0.0.0/8", "fd00::/8"]),  # private sources only
    hz_rule("10250", ["0.0.0.0/0"], protocol="udp"),  # not the kubelet's TCP port
    hz_rule("2379", [UNKNOWN_STRING_VALUE]),  # preview: known and checked at `up`
    hz_rule(None, ["0.0.0.0/0", "::/0"], protocol="icmp"),
    {"direction": "out", "protocol": "tcp", "port": "any", "destinationIps": ["0.0.0.0/0"]},
])
def test_hetzner_firewall_rules_keeping_the_cluster_ports_private_pass(rule):
    wire = firewall(hz_rule("51820", ["0.0.0.0/0"], "udp"), rule)
    assert violations(no_public_control_plane_ports, resource_args(R.HCLOUD_FIREWALL, wire)) == []


@pytest.mark.parametrize("rule, port, source", [
    (hz_rule("2379", ["0.0.0.0/0"]), "2379", "0.0.0.0/0"),
    (hz_rule("10000-11000", ["::/0"]), "10250, 10255, 10257, 10259", "::/0"),
    (hz_rule("any", ["192.168.0.0/16", "198.51.100.7/32"]), "2379, 2380, 2381", "198.51.100.7/32"),
    (hz_rule("10250", ["10.0.0.0/7"]), "10250", "10.0.0.0/7"),  # wider than 10/8: not private
])
def test_a_hetzner_rule_opening_a_cluster_port_to_the_internet_is_a_violation(rule, port, source):
    args = resource_args(R.HCLOUD_FIREWALL, firewall(hz_rule("22", ["0.0.0.0/0"]), rule), name="dev-fw")
    message = one_violation(no_public_control_plane_ports, args,
                            "`rules[1]`", "`rules[1].sourceIps`", port, source, "'dev-fw'")
    assert "192.168.0.0/16" not in message


def scw_group(*rules, default="drop"):
    return {"inboundDefaultPolicy": default, "outboundDefaultPolicy": "accept", "inboundRules": list(rules)}


def scw_rule(**kw):
    return {"action": "accept", "protocol": "TCP", **kw}


def test_scaleway_security_groups_of_the_program_shape_pass():
    group = scw_group(scw_rule(port=22, ipRange="0.0.0.0/0"), scw_rule(protocol="UDP", port=51820, ipRange="::/0"),
                      scw_rule(port=2379, ipRange="10.42.0.0/16"), scw_rule(protocol="ICMP", ipRange="0.0.0.0/0"),
                      {"action": "drop", "protocol": "TCP", "portRange": "2379-2381", "ipRange": "0.0.0.0/0"})
    assert violations(no_public_control_plane_ports, resource_args(R.SCALEWAY_SECURITY_GROUP, group)) == []


@pytest.mark.parametrize("rule, path, source", [
    (scw_rule(port=10250, ipRange="0.0.0.0/0"), "`inboundRules[1].ipRange`", "0.0.0.0/0"),
    (scw_rule(portRange="2000-2400", ipRange="::/0"), "`inboundRules[1].ipRange`", "::/0"),
    (scw_rule(protocol="ANY"), "`inboundRules[1].ipRange`", "0.0.0.0/0, ::/0"),  # every port, every address
    (scw_rule(port=2380, ip="198.51.100.7"), "`inboundRules[1].ip`", "198.51.100.7"),
])
def test_a_scaleway_rule_opening_a_cluster_port_to_the_internet_is_a_violation(rule, path, source):
    for type_ in (R.SCALEWAY_SECURITY_GROUP, R.SCALEWAY_SECURITY_GROUP_RULES):
        one_violation(no_public_control_plane_ports,
                      resource_args(type_, scw_group(scw_rule(port=22, ipRange="0.0.0.0/0"), rule)), path, source)


@pytest.mark.parametrize("default, shown", [("accept", "'accept'"), (None, "unset (accept)")])
def test_a_scaleway_group_accepting_by_default_opens_every_port(default, shown):
    group = scw_group(scw_rule(port=22, ipRange="0.0.0.0/0"), default=default)
    one_violation(no_public_control_plane_ports, resource_args(R.SCALEWAY_SECURITY_GROUP, group),
                  "`inboundDefaultPolicy`", shown)


def service(kind, *ports, ranges=None):
    spec = {"type": kind, "ports": list(ports)}
    if ranges is not None:
        spec["loadBalancerSourceRanges"] = ranges
    return {"metadata": {"name": "svc"}, "spec": spec}


@pytest.mark.parametrize("wire", [
    service("LoadBalancer", {"port": 443, "targetPort": 8443}),
    service("ClusterIP", {"port": 2379, "targetPort": 2379}),
    service("LoadBalancer", {"port": 10250}, ranges=["10.0.0.0/8"]),  # internal load balancer
    service("NodePort", {"port": 80, "targetPort": "http", "nodePort": 30080}),
])
def test_kubernetes_services_not_exposing_cluster_ports_pass(wire):
    assert violations(no_public_control_plane_ports, resource_args(R.K8S_SERVICE, wire)) == []


@pytest.mark.parametrize("wire, field", [
    (service("LoadBalancer", {"port": 443}, {"port": 2379, "targetPort": 2379}), "`spec.ports[1].port` = 2379"),
    (service("NodePort", {"port": 8080, "targetPort": 10250}), "`spec.ports[0].targetPort` = 10250"),
    (service("LoadBalancer", {"port": 10257}, ranges=["0.0.0.0/0"]), "`spec.ports[0].port` = 10257"),
])
def test_a_kubernetes_service_exposing_a_cluster_port_is_a_violation(wire, field):
    found = violations(no_public_control_plane_ports, resource_args(R.K8S_SERVICE, wire))
    assert found and all("spec.ports[" in m for m in found) and any(field in m for m in found), found


def test_forbidden_ports_and_private_sources_come_from_the_pack_config():
    args = resource_args(R.HCLOUD_FIREWALL, firewall(hz_rule("8080", ["0.0.0.0/0"])), config={"forbiddenPorts": [8080]})
    one_violation(no_public_control_plane_ports, args, "8080")
    args = resource_args(R.HCLOUD_FIREWALL, firewall(hz_rule("2379", ["203.0.113.0/24"])),
                         config={"privateCidrs": ["203.0.113.0/24"]})
    assert violations(no_public_control_plane_ports, args) == []


# -- 3. residency labels ----------------------------------------------------------
def test_servers_carrying_the_program_labels_pass():
    hz = resource_args(R.HCLOUD_SERVER, {"labels": {"cluster": "prod", "group": "etcd-fsn", "node": "etcd-fsn-1"}})
    scw = resource_args(R.SCALEWAY_SERVER, {"tags": ["cluster=prod", "group=gpu-paris", "node=gpu-paris-1"]})
    vps = resource_args(R.OVH_VPS, {"displayName": "prod-cp-sbg-1"})  # OVH takes no labels: not checked
    assert [violations(residency_labels, a) for a in (hz, scw, vps)] == [[], [], []]


def test_a_server_missing_a_label_is_a_violation_naming_it():
    hz = resource_args(R.HCLOUD_SERVER, {"labels": {"cluster": "prod", "group": "etcd-fsn", "node": ""}})
    one_violation(residency_labels, hz, "labels.node")
    scw = resource_args(R.SCALEWAY_SERVER, {"tags": ["cluster=prod", "node=gpu-paris-1"]})
    one_violation(residency_labels, scw, "tags.group")
    configured = resource_args(R.SCALEWAY_SERVER, {"tags": ["cluster=prod", "group=g", "node=n"]},
                               config={"requiredLabels": ["cluster", "region"]})
    one_violation(residency_labels, configured, "tags.region")


# -- 4. secrets never plain --------------------------------------------------------
def command(stdin):
    return {"connection": secret({"host": "198.18.0.1", "user": "root", "privateKey": "-----BEGIN..."}),
            "create": "bash -c 'read -r token; ...'", "stdin": stdin}


def remediation_args(type_, wire, **kw):
    """What the policy sees where pulumi-policy keeps secret markers: a remediation."""
    return resource_args(type_, wire, secrets_visible=True, **kw)


def remediate(policy, args):
    return policy.remediate(args)


@pytest.mark.parametrize("type_, wire", [
    (R.REMOTE_COMMAND, command(secret("K10::server:abc"))),
    (R.REMOTE_COMMAND, {"connection": secret({"privateKey": "k"}), "create": "echo hi"}),  # no stdin
    (R.K8S_PROVIDER, {"kubeconfig": secret("apiVersion: v1"), "enableServerSideApply": "true"}),
    (R.K8S_SECRET, {"metadata": {"name": "s"}, "stringData": secret({"password": "p"})}),
    ("kubernetes:helm.sh/v3:Release", {"values": {"grafana": {"adminPassword": secret("p"),
                                                            "existingSecretName": "grafana-admin"}}}),
    ("kubernetes:cert-manager.io/v1:ClusterIssuer", {"spec": {"acme": {"privateKeySecretRef": {"name": "acme-key"}}}}),
    # Settings and references named like credentials (seen in prod's platform):
    ("kubernetes:cert-manager.io/v1:Certificate", {"spec": {"privateKey": {"algorithm": "ECDSA", "size": 256}}}),
    ("kubernetes:helm.sh/v3:Release", {"values": {"database": {"existingSecret": "db", "existingSecretKey": "password"},
                                                  "oauth": {"token_url": "https://sso.example/token"}}}),
    (R.OVH_VPS, {"doNotSendPassword": True, "publicSshKey": "ssh-ed25519 AAAA"}),
    (R.SCALEWAY_SERVER, {"zone": "fr-par-1", "userData": {"cloud-init": secret("#cloud-config")}}),
    ("tls:index/certRequest:CertRequest", {"privateKeyPem": secret("-----BEGIN PRIVATE KEY-----")}),
])
def test_secret_inputs_that_are_pulumi_secrets_pass_and_are_left_alone(type_, wire):
    args = remediation_args(type_, wire)
    assert violations(secrets_policy, args) == []
    assert remediate(secrets_policy, args) is None


@pytest.mark.parametrize("type_, wire, field", [
    (R.REMOTE_COMMAND, command("K10::server:abc"), "`stdin`"),
    (R.LOCAL_COMMAND, {"create": "x", "stdin": "token"}, "`stdin`"),
    (R.K8S_PROVIDER, {"kubeconfig": "apiVersion: v1"}, "`kubeconfig`"),
    (R.K8S_SECRET, {"stringData": {"password": "p"}}, "`stringData`"),
    ("kubernetes:helm.sh/v3:Release", {"values": {"grafana": {"adminPassword": "p"}}}, "`values.grafana.adminPassword`"),
    (R.REMOTE_COMMAND, {"create": "x", "environment": {"ETCD_S3_SECRET_KEY": "s3cr3t"}}, "`environment.ETCD_S3_SECRET_KEY`"),
    ("tls:index/locallySignedCert:LocallySignedCert", {"caPrivateKeyPem": "-----BEGIN PRIVATE KEY-----"},
     "`caPrivateKeyPem`"),
    ("random:index/x:Y", {"items": [{"apiToken": "t"}]}, "`items[0].apiToken`"),
    ("kubernetes:helm.sh/v3:Release", {"values": {"auth": {"tokens": ["t1", "t2"]}}}, "`values.auth.tokens`"),
    (R.SCALEWAY_SERVER, {"zone": "fr-par-1", "userData": {"cloud-init": "#cloud-config\nssh_keys: ..."}}, "`userData`"),
    (R.HCLOUD_SERVER, {"location": "fsn1", "userData": "#cloud-config"}, "`userData`"),
    ("kubernetes:helm.sh/v3:Release", {"values": {"s3": {"credentials": {"secretKey": "k", "region": "x"}}}},
     "`values.s3.credentials.secretKey`"),
])
def test_a_plain_secret_input_is_a_violation_naming_it_and_is_remediated_to_a_secret(type_, wire, field):
    args = remediation_args(type_, wire, name="n1")
    one_violation(secrets_policy, args, field, "'n1'", "Pulumi secret")
    fixed = serialize_properties(remediate(secrets_policy, remediation_args(type_, wire)))
    assert secret_paths_of(fixed) == secret_paths_of(wire) | {field.strip("`")}
    assert unwrap_secrets(fixed) == unwrap_secrets(wire)  # values unchanged, only marked


def secret_paths_of(value, path=""):
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return {path}
        return {p for k, v in value.items() for p in secret_paths_of(v, f"{path}.{k}" if path else k)}
    if isinstance(value, list):
        return {p for i, v in enumerate(value) for p in secret_paths_of(v, f"{path}[{i}]")}
    return set()


def test_secret_names_come_from_the_pack_config():
    wire = {"create": "x", "environment": {"VAULT_UNSEAL": "abc"}}
    assert violations(secrets_policy, remediation_args(R.REMOTE_COMMAND, wire)) == []
    one_violation(secrets_policy, remediation_args(R.REMOTE_COMMAND, wire, config={"secretNames": ["unseal"]}),
                  "`environment.VAULT_UNSEAL`")


def test_without_secret_markers_the_policy_does_not_guess():
    """validate under Analyze: the SDK has dropped the markers, plain and secret look alike."""
    from pulumi_policy.policy import _NotApplicableError

    for stdin in ("plain", secret("secret")):
        with pytest.raises(_NotApplicableError) as caught:
            violations(secrets_policy, resource_args(R.REMOTE_COMMAND, command(stdin)))
        assert "pulumi-policy 1.21 drops secret markers" in caught.value.reason and "stdin" in caught.value.reason
    assert violations(secrets_policy, resource_args(R.REMOTE_COMMAND, {"create": "echo"})) == []


def test_the_sdk_servicer_hides_secretness_from_validations_and_shows_it_to_remediations():
    """The SDK path itself (pulumi_policy 1.21 _PolicyAnalyzerServicer), not only
    our reading of it: Analyze cannot tell a secret stdin from a plain one,
    Remediate sees the plain one and returns it as a secret."""
    from pulumi.runtime import proto
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    servicer = _PolicyAnalyzerServicer("sovereign-cloud", "0.1.0", POLICIES, EnforcementLevel.MANDATORY)

    def request(stdin):
        struct = struct_pb2.Struct()
        struct.update(command(stdin))
        return proto.AnalyzeRequest(type=R.REMOTE_COMMAND, urn="urn:pulumi:t::p::command:remote:Command::c",
                                    name="c", properties=struct)

    for stdin in ("plain", secret("secret")):
        analyzed = servicer.Analyze(request(stdin), None)
        assert not analyzed.diagnostics
        assert [n.policy_name for n in analyzed.not_applicable] == ["secrets-never-plain"]
    assert not servicer.Remediate(request(secret("secret")), None).remediations
    fixed, = servicer.Remediate(request("plain"), None).remediations
    assert fixed.policyName == "secrets-never-plain"
    assert json_format.MessageToDict(fixed.properties)["stdin"] == secret("plain")


# -- the example stacks under mocks -----------------------------------------------
class RecordingCloud(FakeCloud):
    """The fake cloud, also keeping each resource's inputs and state in wire
    form (secrets still carry their marker), as the engine hands them over."""

    def __init__(self):
        super().__init__()
        self.wire: dict[tuple[str, str], tuple[dict, dict]] = {}

    def new_resource(self, args):
        key = (args.typ, args.name)
        assert key not in self.wire, f"two resources {key}: inputs would be mixed up"
        id_, state = super().new_resource(args)
        self.wire[key] = (dict(args.inputs), dict(state))
        return id_, state


# Prod's gpu-houston group is a GPU server rented from TensorDock in Houston,
# USA (seed 000), an existing host: no cloud resource, but it joins the
# cluster, so allowed-node-regions flags it by default. The exception is
# deliberate and reviewed, so it lives in prod's pack config (policy/prod.json,
# the file the README passes to --policy-pack-config), not in code; the
# on-prem Paris host needs none (labelled sovereign.cloud/on-prem=true).
STACK_CONFIG = {
    "prod": json.loads(Path(REPO_ROOT, "policy", "prod.json").read_text()),
    "budget": {},
    "dev": {},
    "minwaas": {},
    # The fleet (docs/fleet.md): its US cluster stands in Ashburn, outside the
    # catalog's European default: a reviewed exception, like prod's.
    "fleet": {},
    "test": {},
    "staging": {},
    "staging-us": json.loads(Path(REPO_ROOT, "policy", "staging-us.json").read_text()),
}
RESOURCE_POLICIES = [p for p in POLICIES if isinstance(p, ResourceValidationPolicy)]
STACK_POLICIES = [p for p in POLICIES if isinstance(p, StackValidationPolicy)]


def test_stack_configs_are_valid_for_the_policies_schemas():
    """As the engine validates a --policy-pack-config file before running the pack."""
    import jsonschema

    assert STACK_CONFIG["prod"] == {"allowed-node-regions": {"additionalRegions": ["houston"]}}
    schemas = {p.name: p.config_schema for p in POLICIES}
    for config in STACK_CONFIG.values():
        for name, properties in config.items():
            schema = {"type": "object", "properties": schemas[name].properties, "additionalProperties": False}
            jsonschema.validate(properties, schema)


def plan(spec: dict, stack: str):
    cloud = RecordingCloud()
    return run_spec(spec, stack=stack, cloud=cloud), cloud


def pack_report(run, cloud, config: dict, *, strip_secrets: bool = False) -> list[tuple[str, str, str]]:
    """(policy, resource, message) of every violation, as `pulumi up --policy-pack` would report them.

    Resource policies see inputs; the secrets policy sees them with their
    markers (its remediation's view), unless ``strip_secrets``. Stack
    policies see state.
    """
    found: list[tuple[str, str, str]] = []
    stack_resources = []
    for res in run.resources:
        inputs, state = cloud.wire[(res.type, res.name)]
        inputs = unwrap_secrets(inputs) if strip_secrets else inputs
        for policy in RESOURCE_POLICIES:
            visible = policy is secrets_policy
            args = resource_args(res.type, inputs, name=res.name, urn=res.urn, config=config.get(policy.name),
                                 secrets_visible=visible)
            policy.validate(args, lambda message, urn=None, p=policy.name, n=res.name: found.append((p, n, message)))
        stack_resources.append(PolicyResource(res.type, sdk_props(state), res.urn, res.name, OPTS, None, None, [], {}))
    for policy in STACK_POLICIES:
        for message, urn in stack_violations(policy, stack_resources, config.get(policy.name)):
            found.append((policy.name, urn or "", message))
    return found


@pytest.fixture(scope="module")
def example_plans():
    return {stack: plan(example_spec(stack), stack) for stack in STACK_CONFIG}


@pytest.mark.parametrize("stack", list(STACK_CONFIG))
def test_example_stacks_pass_the_pack_with_their_own_config(stack, example_plans):
    run, cloud = example_plans[stack]
    assert pack_report(run, cloud, STACK_CONFIG[stack]) == []


@pytest.mark.parametrize("stack", list(STACK_CONFIG))
def test_the_pack_really_inspects_the_example_stacks(stack, example_plans):
    """Not vacuous: with the program's secret markers stripped, the secrets
    policy names the credentials it would otherwise have let through."""
    run, cloud = example_plans[stack]
    found = {(p, m.split("`")[1]) for p, _, m in pack_report(run, cloud, STACK_CONFIG[stack], strip_secrets=True)}
    assert ("secrets-never-plain", "stdin") in found
    assert ("secrets-never-plain", "kubeconfig") in found
    assert {p for p, _ in found} == {"secrets-never-plain"}


def test_prod_without_its_houston_exception_fails_on_the_houston_host(example_plans):
    run, cloud = example_plans["prod"]
    found = pack_report(run, cloud, {})
    assert [(p, "'houston'" in m, "gpu-houston-1" in m) for p, _, m in found] == [("allowed-node-regions", True, True)]


def test_a_stack_moved_out_of_europe_fails():
    spec = example_spec("budget")
    spec["nodeGroups"]["vps"]["region"] = "BHS"  # OVH Beauharnois, Canada
    run, cloud = plan(spec, "budget")
    found = pack_report(run, cloud, STACK_CONFIG["budget"])
    assert sorted((p, n) for p, n, _ in found) == [("allowed-regions", f"budget-ovh-vps-{i}") for i in (1, 2, 3)]
    assert all("'BHS'" in m and "`plans[0].configurations[0].value`" in m for _, _, m in found)
