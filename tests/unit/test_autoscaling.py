"""Autoscaled node groups (seed 003): spec rules, mesh slots, the labels the
autoscaler simulates versus those the kubelet registers (hetzner-k3s #171),
the user data (real `cloud-init schema`), and the whole program under mocks."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import ipaddress
import json
import re
import subprocess
import tarfile

import pytest
import yaml

from components.autoscaling import registry
from components.autoscaling.bundle import node_labels_and_taints
from components.autoscaling.cloud_init import render_autoscaled_user_data
from components.autoscaling.slots import dynamic_slots, first_choice, lease_name
from components.autoscaling.values import max_nodes_total
from components.autoscaling.versions import CHART_VERSION, IMAGE_REPOSITORY
from components.spec import catalog_for, parse_cluster_spec
from components.topology.plan import plan_nodes
from tests.conftest import require_tool
from tests.stack_runner import example_spec, run_spec_with_secrets, spec_issues

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC ops@example"
NETWORK = "hetzner:eu-central"


def autoscaled(**burst) -> dict:
    """The dev stack with its control plane on the private network and a
    Hetzner group of 1 to 4 workers."""
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["privateNetwork"] = True
    spec["nodeGroups"]["burst"] = {
        "provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "minReplicas": 1, "maxReplicas": 4,
        "privateNetwork": True, "labels": {"tier": "burst"},
        "taints": [{"key": "burst", "value": "yes", "effect": "NoSchedule"}], **burst}
    return spec


def parsed(spec: dict):
    return parse_cluster_spec(copy.deepcopy(spec), catalog=catalog_for(spec))


# -- spec rules ---------------------------------------------------------------

@pytest.mark.parametrize("provider, region, itype, offered", [
    ("ovh", "GRA11", "b3-8", "OVHcloud Managed Kubernetes"),
    ("scaleway", "fr-par-2", "DEV1-M", "Kapsule"),
])
def test_providers_without_an_autoscaler_are_refused_with_what_is_offered(provider, region, itype, offered):
    spec = autoscaled()
    spec["providers"] = {"ovh": {"cloudProject": "0123456789abcdef0123456789abcdef"}}
    spec["nodeGroups"]["elastic"] = {"provider": provider, "region": region, "instanceType": itype,
                                     "minReplicas": 1, "maxReplicas": 3}
    issue = spec_issues(spec)["cluster.nodeGroups.elastic.maxReplicas"]
    assert offered in issue and "fixed count" in issue and "hetzner group" in issue


def test_a_fixed_size_range_is_no_autoscaling_and_is_accepted_anywhere():
    spec = autoscaled()
    spec["nodeGroups"]["burst"].update(provider="hetzner", minReplicas=2, maxReplicas=2)
    assert parsed(spec).node_groups["burst"].size == 2


def test_every_autoscaling_problem_is_reported_at_once():
    spec = autoscaled(roles=["control-plane", "worker"], privateNetwork=False, publishedPorts=[80])
    spec["nodeGroups"]["main"]["privateNetwork"] = False
    spec["nodeGroups"]["other"] = {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23",
                                   "minReplicas": 0, "maxReplicas": 2, "privateNetwork": True}
    spec["autoscaler"] = {"maxMonthlyCost": 1}
    issues = spec_issues(spec)
    assert "roles" in issues["cluster.nodeGroups.burst.roles"]
    assert "privateNetwork: true" in issues["cluster.nodeGroups.burst.privateNetwork"]
    assert "publish the same ports" in issues["cluster.nodeGroups.other.publishedPorts"]
    assert "over 1" in issues["cluster.autoscaler.maxMonthlyCost"]


def test_the_api_must_be_reachable_over_the_private_network():
    spec = autoscaled()
    spec["nodeGroups"]["main"]["privateNetwork"] = False
    issue = spec_issues(spec)["cluster.nodeGroups.burst.privateNetwork"]
    assert "no control plane is on the Hetzner private network" in issue


def test_kubeadm_and_unpinned_versions_are_refused():
    spec = autoscaled()
    spec["distribution"], spec["version"] = "kubeadm", "1.30.2"
    issues = spec_issues(spec)
    assert "distribution k3s" in issues["cluster.nodeGroups.burst.maxReplicas"]
    assert "no cluster-autoscaler image is pinned for Kubernetes 1.30" in issues["cluster.version"]


def test_min_above_max_is_refused():
    issues = spec_issues(autoscaled(minReplicas=5, maxReplicas=2))
    assert "minReplicas must not exceed maxReplicas" in issues["cluster.nodeGroups.burst"]


def test_the_cost_ceiling_counts_every_group_at_max_replicas():
    spec = autoscaled()
    catalog = catalog_for(spec)
    price = catalog.instance_type("hetzner", "cx23").monthly_price
    spec["autoscaler"] = {"maxMonthlyCost": str(price * 4)}
    parsed(spec)  # exactly at the ceiling: accepted
    spec["autoscaler"] = {"maxMonthlyCost": str(price * 4 - 1)}
    assert "lower maxReplicas" in spec_issues(spec)["cluster.autoscaler.maxMonthlyCost"]


# -- mesh slots -----------------------------------------------------------------

def test_slots_are_the_top_of_the_group_block_never_a_static_address():
    spec = parsed(autoscaled(minReplicas=2, maxReplicas=6))
    slots = dynamic_slots(spec, "burst")
    statics = {n.mesh_ip for n in plan_nodes(spec)}
    assert len(slots) == 4 and not statics & set(slots)
    block = ipaddress.IPv4Network(f"{slots[0]}/24", strict=False)
    static_burst = [n.mesh_ip for n in plan_nodes(spec) if n.group == "burst"]
    assert all(ip in block for ip in slots + static_burst)
    assert [int(str(ip).split(".")[3]) for ip in slots] == [254, 253, 252, 251]
    # Raising minReplicas later takes the next ordinals, far from held slots.
    raised = parsed(autoscaled(minReplicas=4, maxReplicas=6))
    assert dynamic_slots(raised, "burst") == slots[:2]


def test_the_first_choice_is_the_one_the_node_script_computes():
    name = "dev-burst-5e1f3a2b9c0d1234"
    digest = subprocess.run(["sha256sum"], input=name, capture_output=True, text=True, check=True).stdout[:8]
    assert first_choice(name, 7) == int(digest, 16) % 7
    assert lease_name(ipaddress.IPv4Address("10.42.7.254")) == "mesh-10-42-7-254"


# -- the autoscaler's template and the real node (#171) -----------------------

def test_the_kubelet_registers_every_label_and_taint_the_autoscaler_simulates():
    spec = autoscaled()
    run = run_spec_with_secrets(spec, hcloudAutoscalerToken="tok")
    values = run.named("dev-autoscaler-release").inputs["values"]
    config = _cluster_config(run)
    pool = config["nodeConfigs"]["dev-burst"]
    # hetzner_node_group.go buildNodeGroupLabels: its own labels, then the pool's.
    group = values["autoscalingGroups"][0]
    simulated = {"node.kubernetes.io/instance-type": group["instanceType"], "topology.kubernetes.io/region": group["region"],
                 "csi.hetzner.cloud/location": group["region"], "hcloud/node-group": group["name"], **pool["labels"]}
    k3s = yaml.safe_load(_bundle_files(run)["autoscale-join.sh"].split("K3S_CONFIG_TEMPLATE=", 1)[1].split("\nexport ")[0]
                         .replace("'\"'\"'", "'").strip("'"))
    registered = dict(item.split("=", 1) for item in k3s["node-label"])
    assert simulated.items() <= registered.items()
    assert registered["tier"] == "burst" and registered["sovereign.cloud/node-group"] == "burst"
    assert [f"{t['key']}={t['value']}:{t['effect']}" for t in pool["taints"]] == k3s["node-taint"] == ["burst=yes:NoSchedule"]
    # The static nodes of the group carry the same group labels.
    static = next(n for n in plan_nodes(parsed(spec)) if n.group == "burst")
    assert static.labels.items() <= registered.items()


# -- user data -------------------------------------------------------------------

def _user_data(**overrides) -> str:
    args = dict(control_planes=[("10.0.0.2", "10.42.5.1")], ca_pem="-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
                registrar_token="registrar-token", k3s_token="k3s-token", bundle="autoscale-burst",
                bundle_sha256="ab" * 32, ssh_public_key=KEY)
    return render_autoscaled_user_data(**{**args, **overrides})


def test_user_data_is_valid_cloud_config_and_small(tmp_path):
    text = _user_data()
    path = tmp_path / "user-data.yaml"
    path.write_text(text)
    result = subprocess.run([require_tool("cloud-init"), "schema", "--config-file", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(text.encode()) < 32 * 1024  # Hetzner's cap on user data
    config = yaml.safe_load(text)
    files = {f["path"]: f for f in config["write_files"]}
    assert files["/etc/sovereign/registrar.token"]["permissions"] == "0600"
    assert files["/etc/sovereign/k3s.token"]["content"] == "k3s-token"
    bootstrap = files["/usr/local/lib/sovereign/autoscale-bootstrap.sh"]["content"]
    assert "export BUNDLE_SHA256=" + "ab" * 32 in bootstrap and "10.0.0.2 10.42.5.1" in bootstrap
    # The join runs beside cloud-init, which the baseline waits for.
    assert config["runcmd"] == [["systemd-run", "--unit", "sovereign-autoscale-join", "--no-block", "/bin/bash",
                                 "/usr/local/lib/sovereign/autoscale-bootstrap.sh"]]


# -- the program under mocks -------------------------------------------------------

@pytest.fixture(scope="module")
def run():
    return run_spec_with_secrets(autoscaled(), hcloudAutoscalerToken="tok")


def _cluster_config(run) -> dict:
    secret = run.named("dev-autoscaler-hcloud")
    return json.loads(base64.b64decode(secret.inputs["stringData"]["cluster-config"]))


def _bundle_files(run) -> dict[str, str]:
    data = base64.b64decode(run.named("dev-autoscaler-burst-bundle").inputs["binaryData"]["bundle.tar.gz"])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}


def test_the_pinned_chart_runs_one_pool_above_the_static_floor(run):
    release = run.named("dev-autoscaler-release")
    assert (release.inputs["chart"], release.inputs["version"]) == ("cluster-autoscaler", CHART_VERSION)
    values = release.inputs["values"]
    assert values["autoscalingGroups"] == [
        {"name": "dev-burst", "minSize": 0, "maxSize": 3, "instanceType": "cx23", "region": "fsn1"}]
    assert values["image"] == {"repository": IMAGE_REPOSITORY, "tag": "v1.31.2"}
    assert values["extraArgs"]["max-nodes-total"] == max_nodes_total(parsed(autoscaled())) == 5
    assert values["extraEnv"]["HCLOUD_NETWORK"] == "dev-private"
    assert values["extraEnv"]["HCLOUD_FIREWALL"] == "dev-autoscaled"
    assert set(values["extraEnvSecrets"]) == {"HCLOUD_TOKEN", "HCLOUD_CLUSTER_CONFIG"}
    # Only servers of the pool are the autoscaler's: Pulumi's carry no hcloud/node-group label.
    servers = run.of_type("hcloud:index/server:Server")
    assert sorted(s.inputs["name"] for s in servers) == ["dev-burst-1", "dev-main-1"]
    assert not any("hcloud/node-group" in s.inputs["labels"] for s in servers)


def test_credentials_stay_secret(run):
    secret = run.named("dev-autoscaler-hcloud")
    # The whole stringData: the API token and the user data with the join tokens.
    assert "stringData" in secret.secret_paths
    assert run.named("dev-autoscaler-k3s-token").inputs["logging"] == "none"


def test_the_pool_user_data_fetches_exactly_the_published_bundle(run, tmp_path):
    pool = _cluster_config(run)["nodeConfigs"]["dev-burst"]
    bundle = base64.b64decode(run.named("dev-autoscaler-burst-bundle").inputs["binaryData"]["bundle.tar.gz"])
    assert f"export BUNDLE_SHA256={hashlib.sha256(bundle).hexdigest()}" in pool["cloudInit"]
    path = tmp_path / "user-data.yaml"
    path.write_text(pool["cloudInit"])
    result = subprocess.run([require_tool("cloud-init"), "schema", "--config-file", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    files = _bundle_files(run)
    assert {"baseline.sh", "firewall.sh", "k3s-install.sh", "k3s-node.sh", "api-lb.sh", "wg-keys.sh", "wg-apply.sh",
            "mesh-register.sh", "mesh-sync.sh", "mesh-agent-install.sh", "autoscale-join.sh"} == set(files)
    # The same K3s version and API backends as the static nodes.
    assert "export K3S_VERSION=v1.31.4+k3s1" in files["k3s-install.sh"]
    static_lb = run.named("dev-main-1-api-lb").script("create")
    assert files["api-lb.sh"] == static_lb


def test_registry_rbac_is_least_privilege(run):
    read = run.named("dev-autoscaler-mesh-peers-read-role").inputs["rules"]
    assert all(set(r["verbs"]) <= {"get", "list", "watch"} for r in read)
    binding = run.named("dev-autoscaler-mesh-peers-read-binding").inputs["subjects"]
    assert binding == [{"kind": "Group", "name": "system:nodes", "apiGroup": "rbac.authorization.k8s.io"}]
    registrar = run.named("dev-autoscaler-mesh-registrar-role").inputs["rules"]
    assert {r["resources"][0] for r in registrar} == {"leases", "configmaps"}
    assert run.named("dev-autoscaler-mesh-registrar-role").inputs["metadata"]["namespace"] == registry.NAMESPACE


def test_every_static_node_follows_the_registry_before_the_autoscaler_starts(run):
    release = run.named("dev-autoscaler-release")
    for node in ("main-1", "burst-1"):
        agent = run.named(f"dev-autoscaler-{node}-mesh-agent")
        assert agent.urn in release.dependencies
        assert "mesh-sync.sh" in agent.script("create") or "SYNC_SCRIPT" in agent.script("create")
        assert "wg set \"$WG_INTERFACE\" peer \"$key\" remove" in agent.script("delete")
    # The control plane's firewall lets the private network reach the API.
    firewall = run.named("dev-baseline-main-1-firewall").script("create")
    sources = re.search(r"export API_SOURCE_CIDRS='([^']*)'", firewall)[1].split()
    assert sources == ["203.0.113.10/32", "10.0.0.0/16"]


def test_no_autoscaler_without_autoscaled_groups():
    run = run_spec_with_secrets(example_spec("dev"))
    assert not [r for r in run.resources if r.type.startswith("sovereign:autoscaling")]
    firewall = run.named("dev-baseline-main-1-firewall").script("create")
    assert "10.0.0.0/16" not in firewall


def test_existing_hosts_with_replicas_are_refused_with_what_is_offered_instead():
    from tests.stack_runner import example_spec, spec_issues

    spec = example_spec("prod")
    spec["nodeGroups"]["onprem-paris"].update(minReplicas=1, maxReplicas=3)
    issues = spec_issues(spec)
    found = issues["cluster.nodeGroups.onprem-paris.maxReplicas"]
    assert "cannot be autoscaled" in found and "Hetzner group with minReplicas/maxReplicas" in found
