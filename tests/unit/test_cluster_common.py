"""The pieces shared by both distributions: endpoint, kubeconfig, labels,
secrets formats, local API load balancer, priorities; and, for every
example stack, what the cluster layer promises (secret kubeconfig, HA
registration endpoint on every node)."""

from __future__ import annotations

import base64
import re

import pulumi
import pytest
import yaml

from components.cluster.common.endpoint import (
    LOCAL_LB_PORT,
    external_server,
    rewrite_kubeconfig,
)
from components.cluster.common.labels import label_args, labels_of, taint_arg, taints_of
from components.cluster.common.priority import CLASSES
from components.cluster.common.secrets import BOOTSTRAP_TOKEN, CERTIFICATE_KEY, bootstrap_token, certificate_key, k3s_token, stdin_secrets
from stacks.plan.fakes.cluster import fake_kubeconfig
from tests.stack_runner import example_spec, run_components

from .cluster_support import additional_secret_outputs, leaks, param, plain_text


# -- kubeconfig and endpoint --------------------------------------------------

def test_kubeconfig_is_rewritten_to_the_external_server_and_named_after_the_cluster():
    out = yaml.safe_load(rewrite_kubeconfig(fake_kubeconfig("x-kubeconfig"), "https://api.example.org:6443", "prod"))
    assert [c["cluster"]["server"] for c in out["clusters"]] == ["https://api.example.org:6443"]
    assert out["clusters"][0]["name"] == "prod"
    assert out["contexts"] == [{"context": {"cluster": "prod", "user": "prod-admin"}, "name": "prod"}]
    assert out["current-context"] == "prod"
    assert out["users"][0]["name"] == "prod-admin"
    # Credentials are kept as they were.
    original = yaml.safe_load(fake_kubeconfig("x-kubeconfig"))
    assert out["users"][0]["user"] == original["users"][0]["user"]


@pytest.mark.parametrize("bad", ["{not yaml", "kind: Config\n"])
def test_a_broken_kubeconfig_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="kubeconfig read from the first control plane"):
        rewrite_kubeconfig(bad, "https://x:6443", "c")


def test_external_server_prefers_the_dns_name():
    assert external_server("api.example.org", "198.18.0.1") == "https://api.example.org:6443"
    assert external_server(None, "198.18.0.1") == "https://198.18.0.1:6443"


# -- labels and taints ---------------------------------------------------------

def test_label_and_taint_formats():
    assert label_args({"b": "2", "a": "1"}) == ["a=1", "b=2"]
    assert taint_arg({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}) == "nvidia.com/gpu=present:NoSchedule"
    assert taint_arg({"key": "dedicated", "value": "", "effect": "NoExecute"}) == "dedicated:NoExecute"


class _FakeNode:
    def __init__(self, roles, labels=None, taints=(), region="fsn1"):
        self.roles, self.labels, self.taints, self.region = tuple(roles), labels or {}, taints, region

    is_control_plane = property(lambda self: "control-plane" in self.roles)
    is_worker = property(lambda self: "worker" in self.roles)


def test_zone_defaults_to_the_region_and_user_labels_win():
    assert labels_of(_FakeNode(["worker"]))["topology.kubernetes.io/zone"] == "fsn1"
    assert labels_of(_FakeNode(["worker"], {"topology.kubernetes.io/zone": "fsn1-dc14"}))["topology.kubernetes.io/zone"] == "fsn1-dc14"


def test_only_dedicated_control_planes_get_the_control_plane_taint():
    taint = {"key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"}
    assert taints_of(_FakeNode(["control-plane"])) == [taint]
    assert taints_of(_FakeNode(["control-plane", "worker"])) == []
    assert taints_of(_FakeNode(["worker"])) == []


# -- secrets -------------------------------------------------------------------

def test_generated_secrets_have_the_required_formats_and_are_secret():
    values = {}

    def build():
        opts = pulumi.ResourceOptions()
        values["token"] = bootstrap_token("t", opts)
        values["key"] = certificate_key("k", opts)
        values["k3s"] = k3s_token("s", opts)
        for name, out in values.items():
            pulumi.export(name, out)

    run = run_components(build)
    assert BOOTSTRAP_TOKEN.match(run.outputs["token"])
    assert CERTIFICATE_KEY.match(run.outputs["key"])
    assert re.fullmatch(r"[A-Za-z0-9]{48}", run.outputs["k3s"])
    assert run.secret_outputs == {"token", "key", "k3s"}


def test_stdin_secrets_are_one_base64_line_each_and_secret():
    def build():
        pulumi.export("stdin", stdin_secrets({"A": "x=y", "B": pulumi.Output.secret("line1\nline2")}))

    run = run_components(build)
    lines = run.outputs["stdin"].splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["A", "B"]
    assert [base64.b64decode(line.split("=", 1)[1]).decode() for line in lines] == ["x=y", "line1\nline2"]
    assert "stdin" in run.secret_outputs


# -- every example stack ----------------------------------------------------------

def _k8s_nodes(run):
    return [n for n in run.outputs["nodes"] if {"control-plane", "worker"} & set(n["roles"])]


def test_kubeconfig_is_a_secret_output_never_in_plain_outputs(example_run):
    stack, _, run = example_run
    assert "kubeconfig" in run.secret_outputs
    kubeconfig = run.outputs["kubeconfig"]
    assert yaml.safe_load(kubeconfig)["kind"] == "Config"
    key_data = yaml.safe_load(kubeconfig)["users"][0]["user"]["client-key-data"]
    assert key_data not in plain_text(run)
    assert leaks(run, key_data) == []


def test_kubeconfig_points_outside_the_mesh(example_run):
    """At the spec's DNS name when it has one, else the first control plane's public address."""
    stack, spec, run = example_run
    server = yaml.safe_load(run.outputs["kubeconfig"])["clusters"][0]["cluster"]["server"]
    first_cp = next(n for n in run.outputs["nodes"] if "control-plane" in n["roles"])
    dns = spec.get("kubernetes", {}).get("apiDnsName")
    expected = f"https://{dns}:6443" if dns else f"https://{first_cp['public_address']}:6443"
    assert server == expected == run.outputs["apiEndpoint"]
    assert {"prod": True, "budget": True, "dev": False, "minwaas": False,
            "fleet": False, "test": False, "staging": False, "staging-us": False}[stack] == bool(dns)


def test_the_plan_warns_when_the_api_is_reachable_over_the_mesh_only(stack_run, caplog):
    import logging

    spec = example_spec("dev")
    spec["kubernetes"].pop("apiSourceCidrs")
    with caplog.at_level(logging.WARNING):
        stack_run(spec, stack="dev")
    assert any("apiSourceCidrs is empty" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        stack_run(example_spec("dev"), stack="dev")
    assert not any("apiSourceCidrs" in r.getMessage() for r in caplog.records)


def test_dns_name_becomes_the_kubeconfig_server_and_a_san(stack_run):
    spec = example_spec("budget")
    spec["kubernetes"]["apiDnsName"] = "api.budget.example.org"
    run = stack_run(spec, stack="budget")
    server = yaml.safe_load(run.outputs["kubeconfig"])["clusters"][0]["cluster"]["server"]
    assert server == "https://api.budget.example.org:6443"
    config = yaml.safe_load(param(run.named("budget-vps-1-k3s-server").script("create"), "K3S_CONFIG"))
    assert "api.budget.example.org" in config["tls-san"]


def test_kubeconfig_command_output_is_secret_and_unlogged(stack_run):
    with additional_secret_outputs() as seen:
        run = stack_run(example_spec("dev"), stack="dev")
    assert "stdout" in seen["dev-kubeconfig"]
    cmd = run.named("dev-kubeconfig")
    assert cmd.inputs["logging"] == "none"
    assert param(cmd.script("create"), "KUBECONFIG_PATH") == "/etc/rancher/k3s/k3s.yaml"


def test_every_kubernetes_node_balances_over_every_control_plane(example_run):
    stack, _, run = example_run
    cps = [n for n in run.outputs["nodes"] if "control-plane" in n["roles"]]
    expected = [f"{n['name']} {n['mesh_ip']}:6443" for n in cps]
    for node in _k8s_nodes(run):
        lb = run.named(f"{stack}-{node['name']}-api-lb")
        assert param(lb.script("create"), "BACKENDS").splitlines() == expected
        assert param(lb.script("create"), "LB_PORT") == str(LOCAL_LB_PORT)
        assert lb.script("update") == lb.script("create")
        assert "api-lb: removed" in lb.script("delete")
        assert f"{stack}-mesh-{node['name']}-wg-apply" in {d.rsplit('::', 1)[-1] for d in lb.dependencies}


def test_kubeadm_balancers_check_readyz_and_k3s_balancers_tcp(example_run):
    """kubeadm's API servers answer an anonymous /readyz (a server that
    accepts TCP but is not ready leaves the rotation); K3s refuses anonymous
    requests (--anonymous-auth=false), so its balancers keep TCP checks."""
    stack, spec, run = example_run
    expected = "readyz" if spec["distribution"] == "kubeadm" else "tcp"
    for node in _k8s_nodes(run):
        lb = run.named(f"{stack}-{node['name']}-api-lb")
        assert param(lb.script("create"), "HEALTH_CHECK") == expected
        assert "option httpchk GET /readyz" in lb.script("create")
        assert "check check-ssl verify none" in lb.script("create")


def test_the_balancer_refuses_an_unknown_health_check():
    from components.cluster.common.local_lb import api_load_balancers

    with pytest.raises(ValueError, match="health_check must be 'readyz' or 'tcp'"):
        api_load_balancers("x", [], [], health_check="http", airgap=False, artifacts_dir="/srv", after={}, parent=None)


def test_provider_has_a_stable_cluster_identifier_and_priority_classes_use_it(example_run):
    stack, _, run = example_run
    provider = run.named(f"{stack}-k8s")
    assert provider.inputs["clusterIdentifier"] == stack
    assert "kubeconfig" in provider.secret_paths
    classes = run.of_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")
    assert sorted(c.inputs["metadata"]["name"] for c in classes) == sorted(c[0] for c in CLASSES)
    defaults = [c for c in classes if c.inputs.get("globalDefault")]
    assert [d.inputs["metadata"]["name"] for d in defaults] == ["sovereign-workload"]
    by_name = {c.inputs["metadata"]["name"]: c.inputs["value"] for c in classes}
    assert by_name["sovereign-platform-critical"] > by_name["sovereign-platform"] > by_name["sovereign-workload"] > by_name["sovereign-batch"]


def test_deploy_time_model_knows_every_cluster_command(stack_run):
    """benchmarks/critical_path.py weighs commands by name suffix: a renamed
    cluster command must not silently fall back to the 1 s default."""
    from benchmarks.critical_path import BY_SUFFIX

    spec = example_spec("budget")
    spec["nodeGroups"]["workers"] = {"provider": "ovh", "region": "GRA", "instanceType": "VPS-1", "count": 1,
                                     "roles": ["worker"], "sshUser": "debian"}
    kubeadm = example_spec("budget")
    kubeadm.update(distribution="kubeadm", version="1.31.4")
    for run in (stack_run(spec, stack="budget"), stack_run(kubeadm, stack="budget")):
        for cmd in run.of_type("command:remote:Command"):
            assert cmd.name.endswith(tuple(BY_SUFFIX)), f"{cmd.name} has no latency in the model"


def test_contract_for_the_platform_layer():
    from components.spec import catalog_for, parse_cluster_spec
    from stacks.sovereign import build_cloud, build_cluster

    data = example_spec("budget")
    data["kubernetes"] = {"kubeProxy": False}

    def build():
        spec = parse_cluster_spec(data, catalog=catalog_for(data))
        cloud = build_cloud(spec, ssh_private_key=pulumi.Output.secret("k"), catalog=catalog_for(data))
        cluster = build_cluster(spec, cloud)
        pulumi.export("plain", {
            "name": cluster.name, "distribution": cluster.distribution, "api_endpoint": cluster.api_endpoint,
            "api_host": cluster.api_host, "api_port": cluster.api_port, "mesh_mtu": cluster.mesh_mtu,
            "pod_cidr": cluster.pod_cidr, "service_cidr": cluster.service_cidr, "kube_proxy": cluster.kube_proxy,
            "priority_classes": list(cluster.priority_classes), "ready": len(cluster.ready),
            "provider_is_k8s": type(cluster.provider).__name__,
        })
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("external", cluster.external_endpoint)

    run = run_components(build, stack="budget")
    assert run.outputs["plain"] == {
        "name": "budget", "distribution": "k3s", "api_endpoint": "https://127.0.0.1:7445",
        "api_host": "127.0.0.1", "api_port": 7445, "mesh_mtu": 1440,
        "pod_cidr": "10.244.0.0/16", "service_cidr": "10.96.0.0/12", "kube_proxy": False,
        "priority_classes": ["sovereign-platform-critical", "sovereign-platform", "sovereign-workload", "sovereign-batch"],
        # 3 server joins, 2 member commands, 3 placements (labels, taints), 4 priority classes
        "ready": 12, "provider_is_k8s": "Provider",
    }
    assert "kubeconfig" in run.secret_outputs and "external" not in run.secret_outputs
    assert run.outputs["external"].startswith("https://198.1")
