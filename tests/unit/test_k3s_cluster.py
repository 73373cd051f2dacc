"""K3sCluster under mocks: dependency graph, command lines, labels, secrets."""

from __future__ import annotations

import base64
import logging

import pytest

from stacks.plan.run import run_config
from tests.stack_runner import example_spec, host_key_for

from .cluster_support import deps, k3s_config, leaks, param, plain_text


def with_agents() -> dict:
    """budget (3 hyperconverged servers) plus labelled, tainted workers and an on-prem host."""
    spec = example_spec("budget")
    spec["nodeGroups"]["workers"] = {
        "provider": "ovh", "region": "GRA", "instanceType": "VPS-1", "count": 3, "roles": ["worker"],
        "sshUser": "debian", "labels": {"team": "data"},
        "taints": [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}],
    }
    spec["nodeGroups"]["onprem"] = {
        "provider": "existing", "region": "paris", "roles": ["worker"], "sshUser": "admin",
        "hosts": [{"name": "onprem-1", "address": "192.0.2.10", "hostKey": host_key_for("onprem-1")}],
    }
    return spec


@pytest.fixture(scope="module")
def run():
    from tests.stack_runner import run_spec

    return run_spec(with_agents(), stack="budget")


SERVERS = ["vps-1", "vps-2", "vps-3"]
AGENTS = ["workers-1", "workers-2", "workers-3", "onprem-1"]


def test_first_server_bootstraps_alone_after_its_install(run):
    first = run.named("budget-vps-1-k3s-server")
    assert deps(run, first) >= {"budget-vps-1-k3s-install", "budget-vps-1-api-lb"}
    assert not any(d.endswith(("-k3s-server", "-k3s-agent", "-member")) for d in deps(run, first))
    script = first.script("create")
    assert k3s_config(script)["cluster-init"] is True
    assert "server" not in k3s_config(script)
    assert param(script, "FIRST_SERVER") == "true"
    assert param(script, "OTHER_SERVERS").splitlines() == ["10.6.6.2", "10.6.6.3"]
    assert param(script, "K3S_ROLE") == "server"
    assert param(script, "K3S_VERSION") == "v1.31.4+k3s1"  # an upgrade restarts K3s


def test_servers_join_one_at_a_time(run):
    second, third = run.named("budget-vps-2-k3s-server"), run.named("budget-vps-3-k3s-server")
    assert "budget-vps-1-k3s-server" in deps(run, second)
    assert "budget-vps-2-member" in deps(run, third)
    assert "budget-vps-2-k3s-server" in deps(run, run.named("budget-vps-2-member"))
    for name, server in (("vps-2", second), ("vps-3", third)):
        config = k3s_config(server.script("create"))
        assert "cluster-init" not in config
        assert config["server"] == "https://127.0.0.1:7445"
        assert param(server.script("create"), "FIRST_SERVER") == "false"
        assert deps(run, server) >= {f"budget-{name}-k3s-install", f"budget-{name}-api-lb"}


def test_agents_depend_on_the_first_server_only(run):
    joins = {f"budget-{n}-k3s-server" for n in SERVERS} | {f"budget-{n}-k3s-agent" for n in AGENTS}
    members = {f"budget-{n}-member" for n in SERVERS[1:] + AGENTS}
    for agent in AGENTS:
        d = deps(run, run.named(f"budget-{agent}-k3s-agent"))
        assert d >= {"budget-vps-1-k3s-server", f"budget-{agent}-k3s-install", f"budget-{agent}-api-lb"}
        assert not (d & (joins | members)) - {"budget-vps-1-k3s-server"}


def test_every_node_installs_after_its_own_mesh(run):
    for node in SERVERS + AGENTS:
        install = run.named(f"budget-{node}-k3s-install")
        assert f"budget-mesh-{node}-wg-apply" in deps(run, install)
        assert not any("k3s" in d or d.endswith("-api-lb") for d in deps(run, install))
        assert param(install.script("create"), "K3S_VERSION") == "v1.31.4+k3s1"
        assert param(install.script("create"), "AIRGAP") == "false"


def test_agent_config_carries_labels_taints_and_the_local_endpoint(run):
    config = k3s_config(run.named("budget-workers-2-k3s-agent").script("create"))
    assert config["server"] == "https://127.0.0.1:7445"
    assert config["node-name"] == "workers-2"
    assert "team=data" in config["node-label"]
    assert "topology.kubernetes.io/region=GRA" in config["node-label"]
    assert "topology.kubernetes.io/zone=GRA" in config["node-label"]
    assert "sovereign.cloud/provider=ovh" in config["node-label"]
    assert config["node-taint"] == ["dedicated=batch:NoSchedule"]
    assert "kubelet-arg" not in config  # not hyperconverged
    onprem = k3s_config(run.named("budget-onprem-1-k3s-agent").script("create"))
    assert "sovereign.cloud/on-prem=true" in onprem["node-label"]


def test_node_ips_are_mesh_ips(run):
    nodes = {n["name"]: n["mesh_ip"] for n in run.outputs["nodes"]}
    for name in SERVERS:
        config = k3s_config(run.named(f"budget-{name}-k3s-server").script("create"))
        assert config["node-ip"] == config["advertise-address"] == nodes[name]
        assert config["tls-san"][:3] == [nodes[s] for s in SERVERS]
    for name in AGENTS:
        assert k3s_config(run.named(f"budget-{name}-k3s-agent").script("create"))["node-ip"] == nodes[name]


def test_hyperconverged_servers_reserve_resources(run):
    config = k3s_config(run.named("budget-vps-2-k3s-server").script("create"))
    assert config["kubelet-arg"] == [
        "kube-reserved=cpu=250m,memory=512Mi",
        "system-reserved=cpu=250m,memory=512Mi",
        "eviction-hard=memory.available<200Mi,nodefs.available<10%",
    ]
    assert config["secrets-encryption"] is True
    assert config["flannel-backend"] == "none" and config["disable-network-policy"] is True


def test_token_is_a_secret_passed_on_stdin_only(run):
    token = run.named("budget-token").outputs["result"]
    assert len(token) == 48
    for name in [f"budget-{n}-k3s-server" for n in SERVERS] + [f"budget-{n}-k3s-agent" for n in AGENTS]:
        cmd = run.named(name)
        assert "stdin" in cmd.secret_paths
        lines = dict(line.split("=", 1) for line in cmd.inputs["stdin"].splitlines())
        assert base64.b64decode(lines["K3S_TOKEN"]).decode() == token
        assert token not in cmd.script("create")
    assert leaks(run, token) == []
    assert token not in plain_text(run)


def test_removal_paths(run):
    member = run.named("budget-vps-2-member")
    # Runs on the first server, where etcd and an admin kubeconfig are.
    first_host = run.named("budget-vps-1-k3s-server").inputs["connection"]["host"]
    assert member.inputs["connection"]["host"] == first_host
    delete = member.script("delete")
    assert param(delete, "NODE_IP") == "10.6.6.2" and param(delete, "K3S_ROLE") == "server"
    assert "quorum needs" in delete and "etcd.k3s.cattle.io/remove=true" in delete
    steps = ["quorum needs", '"${kubectl[@]}" drain', "etcd.k3s.cattle.io/remove=true", '"${kubectl[@]}" delete node']
    assert [delete.index(s) for s in steps] == sorted(delete.index(s) for s in steps)
    assert param(run.named("budget-workers-1-member").script("delete"), "K3S_ROLE") == "agent"
    assert "rm -rf /var/lib/rancher/k3s" in run.named("budget-vps-3-k3s-server").script("delete")
    # The first server is the bootstrap anchor: nobody removes it through a member command.
    with pytest.raises(KeyError):
        run.named("budget-vps-1-member")


def test_single_server_dev_stack(stack_run):
    run = stack_run(example_spec("dev"), stack="dev")
    server = run.named("dev-main-1-k3s-server")
    assert k3s_config(server.script("create"))["cluster-init"] is True
    assert not [r for r in run.resources if r.name.endswith(("-member", "-k3s-agent"))]
    assert "dev-main-1-k3s-server" in deps(run, run.named("dev-kubeconfig"))


def test_airgap_installs_from_the_artifacts_dir(stack_run):
    spec = example_spec("dev")
    spec["kubernetes"] = {"airgap": {"enabled": True, "artifactsDir": "/srv/airgap"}}
    run = stack_run(spec, stack="dev")
    for name in ("dev-main-1-k3s-install", "dev-main-1-api-lb"):
        script = run.named(name).script("create")
        assert param(script, "AIRGAP") == "true" and param(script, "ARTIFACTS_DIR") == "/srv/airgap"


def _s3_spec():
    spec = example_spec("budget")
    spec["kubernetes"] = {"etcdSnapshots": {"s3": {"endpoint": "s3.gra.io.cloud.ovh.net", "bucket": "budget-etcd"}}}
    return spec


def test_s3_credentials_come_from_secret_config_on_stdin():
    config = {"sovereign-cloud:cluster": _s3_spec(), "etcdS3AccessKey": {"secure": "AAA"}, "etcdS3SecretKey": {"secure": "BBB"}}
    run = run_config("budget", config)
    server = run.named("budget-vps-2-k3s-server")
    keys = [line.split("=", 1)[0] for line in server.inputs["stdin"].splitlines()]
    assert keys == ["K3S_TOKEN", "ETCD_S3_ACCESS_KEY", "ETCD_S3_SECRET_KEY"]
    assert k3s_config(server.script("create"))["etcd-s3-bucket"] == "budget-etcd"
    assert "etcd-s3-secret-key" not in k3s_config(server.script("create"))


def test_s3_without_credentials_is_a_clear_error_and_creates_nothing():
    with pytest.raises(Exception, match="etcdS3AccessKey and etcdS3SecretKey") as err:
        run_config("budget", {"sovereign-cloud:cluster": _s3_spec()})
    assert err.value.registered_resources == []


def test_plan_warns_that_the_external_endpoint_is_not_ha(stack_run, caplog):
    with caplog.at_level(logging.WARNING):
        stack_run(example_spec("dev"), stack="dev")
    assert any("apiDnsName is not set" in r.getMessage() and "not highly available" in r.getMessage() for r in caplog.records)
    caplog.clear()
    spec = example_spec("dev")
    spec["kubernetes"] = {"apiDnsName": "api.dev.example.org"}
    with caplog.at_level(logging.WARNING):
        stack_run(spec, stack="dev")
    assert not any("apiDnsName is not set" in r.getMessage() for r in caplog.records)


def test_only_the_first_server_leaves_through_its_own_uninstall(run):
    first = param(run.named("budget-vps-1-k3s-server").script("delete"), "LEAVE_SCRIPT")
    assert param(first, "SELF") == "true" and param(first, "NODE_IP") == "10.6.6.1"
    assert param(run.named("budget-vps-2-k3s-server").script("delete"), "LEAVE_SCRIPT") == ""
    assert param(run.named("budget-vps-2-member").script("delete"), "SELF") == "false"
