"""Hub and spoke (seed 002, components/fleet/, stacks/fleet.py): the fleet
declaration and its isolation rules, the hub's Open Cluster Management and
Submariner objects, the spokes reading the hub through a StackReference,
and the firewalls that keep isolated regions apart. Runs the real program
of the example stacks fleet, test, staging and staging-us under mocks."""

from __future__ import annotations

import base64
import copy

import pytest
import yaml

from components.fleet import api
from components.fleet.names import BOOTSTRAP_OUTPUT, BOOTSTRAP_USER, BROKERS_OUTPUT, HUB_OUTPUT
from components.spec import SpecError, parse_cluster_spec
from stacks.plan.fake_cloud import FakeCloud
from stacks.plan.fakes.state import recorded_stack_outputs
from tests.stack_runner import example_spec, run_spec, run_spec_with_secrets, spec_issues
from tests.unit.platform_support import RELEASE, written_objects
from tests.unit.test_schema_platform_objects import require_crd_schemas, validate_object

HUB_STACK = "organization/sovereign-cloud/fleet"
SPOKES = ("test", "staging", "staging-us")


@pytest.fixture(scope="module")
def hub():
    return run_spec(example_spec("fleet"), stack="fleet")


def run_spoke(spec: dict, hub_run, stack: str | None = None):
    """A spoke's program with the hub's recorded outputs in its backend."""
    cloud = FakeCloud()
    recorded_stack_outputs(cloud, HUB_STACK, hub_run.outputs, tuple(hub_run.secret_outputs))
    return run_spec(spec, stack=stack or spec["name"], cloud=cloud)


@pytest.fixture(scope="module")
def spokes(hub):
    return {name: run_spoke(example_spec(name), hub) for name in SPOKES}


def release(run, name: str):
    [found] = [r for r in run.of_type(RELEASE) if r.inputs["name"] == name]
    return found


def objects(run, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for _, o in written_objects(run) if o["kind"] == kind}


# -- the declaration and its isolation rules ----------------------------------------

def with_fleet(stack: str, **changes) -> dict:
    spec = example_spec(stack)
    spec["fleet"] |= copy.deepcopy(changes)
    return spec


def test_the_example_environments_share_one_valid_fleet_declaration():
    specs = {s: parse_cluster_spec(example_spec(s)) for s in ("fleet", *SPOKES)}
    assert len({s.fleet.model_dump_json() for s in specs.values()}) == 1   # one base, one declaration
    fleet = specs["fleet"].fleet
    assert (fleet.hub, fleet.domain("test"), fleet.domain("staging"), fleet.domain("staging-us")) == \
        ("fleet", "eu", "eu", "us")


def test_a_service_exported_across_an_isolated_region_is_refused_with_the_reason_and_fix():
    services = [{"name": "orders", "namespace": "shop", "from": "staging", "to": ["test", "staging-us"]}]
    issues = spec_issues(with_fleet("staging", services=services))
    message = issues["cluster.fleet.services.0.to.1"]
    assert "staging (eu) cannot export shop/orders to staging-us (us)" in message
    assert "region eu and us are isolated" in message and "serve staging-us from a member of region us" in message
    assert not any(p.startswith("cluster.fleet.services.0.to.0") for p in issues)   # eu to eu is fine


def test_regions_that_are_not_isolated_share_a_domain_and_may_exchange():
    spec = with_fleet("staging", regions={"eu": {}, "us": {}},
                      services=[{"name": "orders", "namespace": "shop", "from": "staging", "to": ["staging-us"]}])
    fleet = parse_cluster_spec(spec).fleet
    assert fleet.domain("staging") == fleet.domain("staging-us") == "shared"


def test_one_isolated_region_is_enough_to_refuse():
    spec = with_fleet("staging", regions={"eu": {}, "us": {"isolated": True}},
                      services=[{"name": "orders", "namespace": "shop", "from": "staging", "to": ["staging-us"]}])
    assert "region us is isolated" in spec_issues(spec)["cluster.fleet.services.0.to.0"]


@pytest.mark.parametrize("driver,words", [
    ("wireguard", "WireGuard in WireGuard"), ("vxlan", "unencrypted"), ("ipip", "not a Submariner cable driver")])
def test_only_the_libreswan_cable_driver_is_accepted(driver, words):
    issues = spec_issues(with_fleet("test", submariner={"enabled": True, "cableDriver": driver}))
    assert words in issues["cluster.fleet.submariner.cableDriver"]


def test_every_fleet_problem_is_reported_at_once_with_its_field():
    spec = example_spec("staging")
    spec["network"] |= {"cni": "cilium", "podCidr": "10.250.0.0/16"}
    spec["kubernetes"]["kubeProxy"] = False
    spec["nodeGroups"]["workers"]["labels"] = {}
    spec["fleet"]["members"]["test"]["podCidr"] = "10.245.128.0/17"       # inside staging's
    spec["fleet"]["members"]["staging-us"]["podCidr"] = "10.244.0.0/16"   # test's, but another domain: fine
    spec["fleet"]["services"] = [{"name": "x", "namespace": "y", "from": "fleet"},
                                 {"name": "x", "namespace": "y", "from": "nobody"}]
    spec["fleet"]["placements"] = {"p": {"regions": ["mars"]}}
    issues = spec_issues(spec)
    assert "does not support 'cilium'" in issues["cluster.network.cni"]
    assert "kube-proxy in iptables mode" in issues["cluster.kubernetes.kubeProxy"]
    assert "differs from fleet.members.staging.podCidr" in issues["cluster.network.podCidr"]
    assert "overlaps test's podCidr" in issues["cluster.fleet.members.staging.podCidr"]
    assert "submariner.io/gateway" in issues["cluster.nodeGroups"]
    assert "runs no Submariner gateway" in issues["cluster.fleet.services.0.from"]
    assert "does not exist" in issues["cluster.fleet.services.1.from"]
    assert "region 'mars' does not exist" in issues["cluster.fleet.placements.p.regions.0"]
    assert not any("staging-us" in p for p in issues)


def test_a_cluster_outside_its_fleet_and_a_hub_closed_to_its_spokes_are_refused():
    stranger = example_spec("test")
    stranger["name"] = "qa"
    assert "this cluster ('qa') is not a member" in spec_issues(stranger)["cluster.fleet"]
    closed = example_spec("fleet")
    closed["kubernetes"]["apiSourceCidrs"] = []
    assert "spokes register" in spec_issues(closed)["cluster.kubernetes.apiSourceCidrs"]


def test_a_fleet_error_in_the_base_names_the_base_file(tmp_path):
    from stacks.environments import compose, parse

    base = yaml.safe_load(open("environments/base.yaml"))["cluster"]
    base["fleet"]["services"][0]["to"] = ["staging-us"]
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({"cluster": base}))
    with pytest.raises(SpecError) as caught:
        parse(compose({"name": "test", "network": {"podCidr": "10.244.0.0/16", "serviceCidr": "10.96.0.0/16"},
                       "nodeGroups": {"main": {"labels": {"submariner.io/gateway": "true"}}}},
                      ["base.yaml"], stack_label="Pulumi.test.yaml", root=tmp_path))
    [issue] = caught.value.issues
    assert (issue.path, issue.source) == ("cluster.fleet.services.0.to.0", "base.yaml")


# -- the hub --------------------------------------------------------------------------

def test_the_hub_and_the_spokes_each_install_their_side(hub, spokes):
    """(Chart versions and repositories: tests/unit/test_platform_stacks.py PINNED.)"""
    def fleet_releases(run):
        return {r.inputs["name"] for r in run.of_type(RELEASE)
                if r.inputs["chart"] in ("cluster-manager", "klusterlet", "submariner-k8s-broker",
                                         "submariner-operator")}

    assert fleet_releases(hub) == {"cluster-manager", "submariner-broker-eu", "submariner-broker-us"}
    for run in spokes.values():
        assert fleet_releases(run) == {"klusterlet", "submariner-operator"}


def test_registration_is_auto_accepted_for_the_project_s_bootstrap_account_only(hub):
    values = release(hub, "cluster-manager").inputs["values"]
    # The chart installs the operator; the project writes the ClusterManager.
    assert values["clusterManager"] == {"create": False}
    assert values["createBootstrapToken"] is False and values["createBootstrapSA"] is False
    [manager] = objects(hub, "ClusterManager").values()
    registration = manager["spec"]["registrationConfiguration"]
    assert registration["autoApproveUsers"] == [BOOTSTRAP_USER]
    assert {"feature": "ManagedClusterAutoApproval", "mode": "Enable"} in registration["featureGates"]
    assert manager["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Available"
    binding = objects(hub, "ClusterRoleBinding")["sovereign:fleet-bootstrap"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "fleet-bootstrap",
                                    "namespace": "open-cluster-management"}]


def test_every_spoke_is_an_accepted_managed_cluster_in_its_region_s_set(hub):
    clusters = objects(hub, "ManagedCluster")
    assert set(clusters) == set(SPOKES)          # the hub manages, it is not managed
    for name, region in (("test", "eu"), ("staging", "eu"), ("staging-us", "us")):
        labels = clusters[name]["metadata"]["labels"]
        assert clusters[name]["spec"] == {"hubAcceptsClient": True}
        assert labels["cluster.open-cluster-management.io/clusterset"] == region
        assert labels["sovereign.cloud/data-domain"] == region
    assert set(objects(hub, "ManagedClusterSet")) == {"eu", "us"}
    assert clusters["staging"]["metadata"]["labels"]["environment"] == "staging"


def test_placements_select_from_bound_sets_by_labels(hub):
    placements = objects(hub, "Placement")
    assert placements["staging"]["spec"] == {
        "clusterSets": ["eu", "us"],
        "predicates": [{"requiredClusterSelector": {"labelSelector": {"matchLabels": {"environment": "staging"}}}}]}
    assert placements["eu-clusters"]["spec"] == {"clusterSets": ["eu"]}
    bindings = objects(hub, "ManagedClusterSetBinding")
    assert {(b["metadata"]["namespace"], b["spec"]["clusterSet"]) for b in bindings.values()} == \
        {("fleet", "eu"), ("fleet", "us")}


def test_an_exported_service_reaches_its_spoke_as_a_manifest_work(hub):
    [work] = objects(hub, "ManifestWork").values()
    assert work["metadata"]["namespace"] == "test"   # the exporting spoke's cluster namespace
    export = work["spec"]["workload"]["manifests"][1]
    assert (export["apiVersion"], export["kind"], export["metadata"]["name"], export["metadata"]["namespace"]) == \
        ("multicluster.x-k8s.io/v1alpha1", "ServiceExport", "mailpit", "tools")
    # Removing the export leaves the namespace (and its workloads) alone.
    assert work["spec"]["deleteOption"]["selectivelyOrphans"]["orphaningRules"] == [
        {"group": "", "resource": "namespaces", "name": "tools"}]


def test_each_isolated_domain_gets_its_own_broker_and_pre_shared_key(hub):
    brokers = {r.inputs["name"]: r for r in hub.of_type(RELEASE) if r.inputs["chart"] == "submariner-k8s-broker"}
    assert {n: r.inputs["namespace"] for n, r in brokers.items()} == {
        "submariner-broker-eu": "submariner-broker-eu", "submariner-broker-us": "submariner-broker-us"}
    # Cluster-scoped CRDs: one release owns them.
    assert [n for n, r in brokers.items() if r.inputs["values"]["crd"]["create"]] == ["submariner-broker-eu"]
    exported = hub.outputs[BROKERS_OUTPUT]
    assert exported["eu"]["psk"] != exported["us"]["psk"] and exported["eu"]["token"] != exported["us"]["token"]


def test_the_hub_exports_what_spokes_join_with_as_secrets(hub):
    assert {BOOTSTRAP_OUTPUT, BROKERS_OUTPUT} <= hub.secret_outputs and HUB_OUTPUT not in hub.secret_outputs
    kubeconfig = yaml.safe_load(hub.outputs[BOOTSTRAP_OUTPUT])
    [token] = [r for r in hub.resources if r.name.endswith("fleet-bootstrap-token")]
    assert kubeconfig["clusters"][0]["cluster"]["server"] == hub.outputs["apiEndpoint"]
    assert kubeconfig["users"][0]["user"]["token"] == base64.b64decode(token.outputs["data"]["token"]).decode()
    admin = yaml.safe_load(hub.outputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"] == \
        admin["clusters"][0]["cluster"]["certificate-authority-data"]
    host = hub.outputs["apiEndpoint"].removeprefix("https://")
    assert {b["server"] for b in hub.outputs[BROKERS_OUTPUT].values()} == {host}   # host:port, no scheme


def test_every_fleet_object_has_a_valid_shape(hub, spokes):
    """ManifestWorks against the Work API's CRD schema (../shared); the OCM
    cluster and operator kinds, which have no schema there, against the
    pydantic models of their documented API; core kinds against Kubernetes'."""
    require_crd_schemas()
    seen = set()
    for run in (hub, *spokes.values()):
        for _, obj in written_objects(run):
            validate_object(obj, "1.31.4")
            seen.add(obj["kind"])
    assert {"ManifestWork", "ManagedCluster", "ManagedClusterSet", "ManagedClusterSetBinding", "Placement",
            "ClusterManager", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"} <= seen


def test_the_validators_catch_a_wrong_shape(hub):
    import jsonschema

    require_crd_schemas()
    work = copy.deepcopy(next(iter(objects(hub, "ManifestWork").values())))
    work["spec"]["deleteOption"]["propagationPolicy"] = "Cascade"
    with pytest.raises(jsonschema.ValidationError, match="propagationPolicy"):
        validate_object(work, "1.31.4")
    placement = copy.deepcopy(objects(hub, "Placement")["staging"])
    placement["spec"]["clusterSet"] = ["eu"]                       # a typo of clusterSets
    with pytest.raises(ValueError, match="clusterSet"):
        api.check(placement)
    binding = copy.deepcopy(objects(hub, "ManagedClusterSetBinding")["eu"])
    binding["spec"]["clusterSet"] = "us"                           # not named after its set
    with pytest.raises(ValueError, match="named after its clusterSet"):
        api.check(binding)
    manager = copy.deepcopy(next(iter(objects(hub, "ClusterManager").values())))
    manager["spec"]["registrationConfiguration"]["featureGates"] = []
    with pytest.raises(ValueError, match="ManagedClusterAutoApproval"):
        api.check(manager)


# -- the spokes -----------------------------------------------------------------------

def test_a_spoke_reads_the_hub_through_a_stack_reference_and_joins_with_its_outputs(hub, spokes):
    run = spokes["staging-us"]
    [ref] = run.of_type("pulumi:pulumi:StackReference")
    assert ref.read and ref.inputs["name"] == HUB_STACK
    klusterlet = release(run, "klusterlet")
    assert klusterlet.inputs["values"]["bootstrapHubKubeConfig"] == hub.outputs[BOOTSTRAP_OUTPUT]
    assert klusterlet.inputs["values"]["klusterlet"]["clusterName"] == "staging-us"
    assert "values" in klusterlet.secret_paths            # the hub's secret stays a secret
    values = release(run, "submariner-operator").inputs["values"]
    us = hub.outputs[BROKERS_OUTPUT]["us"]
    assert values["broker"] == {"server": us["server"], "token": us["token"], "ca": us["ca"],
                                "namespace": "submariner-broker-us", "insecure": False, "globalnet": False}
    assert values["ipsec"]["psk"] == us["psk"] != hub.outputs[BROKERS_OUTPUT]["eu"]["psk"]
    assert (values["submariner"]["cableDriver"], values["submariner"]["clusterId"]) == ("libreswan", "staging-us")
    assert (values["submariner"]["clusterCidr"], values["submariner"]["serviceCidr"]) == \
        ("10.246.0.0/16", "10.98.0.0/16")
    assert "values" in release(run, "submariner-operator").secret_paths


def test_spokes_of_one_domain_join_the_same_broker(spokes):
    namespaces = {n: release(r, "submariner-operator").inputs["values"]["broker"]["namespace"]
                  for n, r in spokes.items()}
    assert namespaces == {"test": "submariner-broker-eu", "staging": "submariner-broker-eu",
                          "staging-us": "submariner-broker-us"}


def test_a_spoke_whose_hub_was_never_deployed_creates_nothing():
    # The program alone, on a backend without the hub's stack.
    with pytest.raises(Exception) as caught:
        run_spec_with_secrets(example_spec("test"), stack="test")
    assert "cannot read the fleet hub's stack organization/sovereign-cloud/fleet" in str(caught.value)
    assert "deploy the hub (fleet) first" in str(caught.value)
    assert caught.value.registered_resources == []


def test_a_spoke_whose_hub_has_not_exported_its_outputs_yet_creates_nothing(hub):
    cloud = FakeCloud()
    recorded_stack_outputs(cloud, HUB_STACK, {"nodes": hub.outputs["nodes"]})
    with pytest.raises(Exception) as caught:
        run_spec(example_spec("test"), stack="test", cloud=cloud)
    assert "has not exported fleetBootstrapKubeconfig, fleetBrokers" in str(caught.value)
    assert caught.value.registered_resources == []


def test_a_hub_without_the_spoke_s_domain_is_named_in_the_error(hub):
    outputs = copy.deepcopy(hub.outputs)
    del outputs[BROKERS_OUTPUT]["us"]
    cloud = FakeCloud()
    recorded_stack_outputs(cloud, HUB_STACK, outputs, tuple(hub.secret_outputs))
    with pytest.raises(Exception, match="exports no Submariner broker for data domain 'us'"):
        run_spec(example_spec("staging-us"), stack="staging-us", cloud=cloud)


def test_a_cluster_whose_machines_stand_outside_its_data_region_is_refused():
    spec = example_spec("staging-us")
    spec["nodeGroups"]["main"]["region"] = "fsn1"           # a US cluster placed in Germany
    spec["nodeGroups"]["main"]["instanceType"] = "cx23"
    message = spec_issues(spec)["cluster.nodeGroups.main.region"]
    assert "fsn1 (Falkenstein, DE, EU) is outside this cluster's data region us (US)" in message
    moved = example_spec("test")
    moved["nodeGroups"]["main"] |= {"region": "ash", "instanceType": "ccx13"}
    assert "outside this cluster's data region eu (EU)" in spec_issues(moved)["cluster.nodeGroups.main.region"]


# -- the policy pack ------------------------------------------------------------------

@pytest.fixture(scope="module")
def spoke_wire():
    """The test spoke's program as the pack sees it (inputs in wire form)."""
    from tests.unit.test_policy_pack import plan

    return plan(example_spec("test"), "test")


def _release_wire(spoke_wire, name: str) -> dict:
    run, cloud = spoke_wire
    [r] = [r for r in run.of_type(RELEASE) if r.inputs["name"] == name]
    return copy.deepcopy(cloud.wire[(r.type, r.name)][0])


@pytest.mark.parametrize("driver,words", [("wireguard", "inside the WireGuard mesh"),
                                          ("vxlan", "unencrypted"), ("gre", "not an allowed cable driver")])
def test_the_pack_refuses_a_submariner_cable_not_encrypted_exactly_once(spoke_wire, driver, words):
    from policy.sovereign_policies.fleet import submariner_encrypted_once
    from tests.unit.test_policy_pack import one_violation, resource_args, violations

    wire = _release_wire(spoke_wire, "submariner-operator")
    assert violations(submariner_encrypted_once, resource_args(RELEASE, wire)) == []   # the program's own
    wire["values"]["value"]["submariner"]["cableDriver"] = driver
    one_violation(submariner_encrypted_once, resource_args(RELEASE, wire), f"cable driver {driver!r}", words)
    del wire["values"]["value"]["submariner"]["cableDriver"]                         # the chart's default
    assert violations(submariner_encrypted_once, resource_args(RELEASE, wire)) == []
    other = _release_wire(spoke_wire, "klusterlet")
    other["values"]["value"]["submariner"] = {"cableDriver": "vxlan"}                 # not Submariner's chart
    assert violations(submariner_encrypted_once, resource_args(RELEASE, other)) == []


def test_the_us_cluster_passes_the_pack_only_with_its_reviewed_exception():
    from tests.unit.test_policy_pack import pack_report, plan

    run, cloud = plan(example_spec("staging-us"), "staging-us")
    refused = [(p, m) for p, _, m in pack_report(run, cloud, {})]
    assert refused and all(p == "allowed-regions" and "'ash'" in m for p, m in refused)
    exception = yaml.safe_load(open("policy/staging-us.json"))
    assert pack_report(run, cloud, exception) == []


# -- firewalls: gateways reachable, other domains dropped ------------------------------

def _firewall_params(run, node: str) -> dict[str, str]:
    from tests.unit.test_port_policy import _script_params

    [firewall] = [r for r in run.resources if r.name.endswith(f"-baseline-{node}-firewall")]
    return _script_params(firewall.script("create"))


def test_gateways_open_ipsec_and_nodes_forward_only_their_domain_s_clusters(spokes):
    staging = spokes["staging"]
    gateway, control_plane = _firewall_params(staging, "workers-1"), _firewall_params(staging, "main-1")
    assert gateway["PUBLISHED_UDP_PORTS"].split() == ["500", "4500", "4490"]
    assert control_plane["PUBLISHED_UDP_PORTS"] == ""                   # not a gateway
    for params in (gateway, control_plane):
        # The test cluster's networks (same domain), never staging-us's (10.246/16, 10.98/16).
        assert params["CONNECTED_CIDRS"].split() == ["10.244.0.0/16", "10.96.0.0/16"]
        assert params["TUNNEL_INTERFACES"] == "vx-submariner"
        assert "4800" in params["CLUSTER_UDP_PORTS"].split()           # vx-submariner over the mesh
    alone = _firewall_params(spokes["staging-us"], "main-1")
    assert alone["CONNECTED_CIDRS"] == ""                              # the only cluster of its domain


def test_the_hetzner_firewall_of_a_gateway_group_lets_ipsec_in(spokes):
    run = spokes["staging"]
    rules = {}
    for firewall in run.of_type("hcloud:index/firewall:Firewall"):
        rules[firewall.name] = {(r["protocol"], r.get("port")) for r in firewall.inputs["rules"]}
    [gateways] = [r for n, r in rules.items() if "workers" in n]
    [others] = [r for n, r in rules.items() if "main" in n]
    assert {("udp", "500"), ("udp", "4500"), ("udp", "4490")} <= gateways
    assert not {("udp", "500"), ("udp", "4500")} & others


def test_the_rendered_forward_chain_admits_connected_clusters_never_from_the_public_side(tmp_path):
    from tests.unit.test_node_scripts import chain, firewall_rules

    out = firewall_rules(tmp_path, POD_INTERFACES=["cali*"], PUBLISHED_UDP_PORTS=["500", "4500"],
                         CONNECTED_CIDRS=["10.245.0.0/16", "10.97.0.0/16"], TUNNEL_INTERFACES=["vx-submariner"])
    assert out.returncode == 0, out.stderr                       # nft -c accepted it (as root)
    text = (tmp_path / "nft/sovereign.nft").read_text()
    assert "set connected_clusters { type ipv4_addr; flags interval; elements = { 10.245.0.0/16, 10.97.0.0/16 } }" in text
    assert 'udp dport { 500, 4500 } accept comment "published (udp)"' in chain(text, "input")
    connected = [r for r in chain(text, "forward") if "@connected_clusters" in r]
    assert connected == [
        'meta secpath exists ip saddr @connected_clusters accept comment "connected clusters, decrypted from IPsec"',
        'iifname "wg0" ip saddr @connected_clusters accept comment "connected clusters, inside the cluster"',
        'iifname "cali*" ip saddr @connected_clusters accept comment "connected clusters, inside the cluster"',
        'iifname "vx-submariner" ip saddr @connected_clusters accept comment "connected clusters, inside the cluster"',
    ]
    bad = firewall_rules(tmp_path / "bad", TUNNEL_INTERFACES=["wg0"])
    assert bad.returncode == 1 and "TUNNEL_INTERFACES" in bad.stderr


def test_a_cluster_outside_any_fleet_renders_the_firewall_as_before(tmp_path):
    from tests.unit.test_node_scripts import chain, firewall_rules

    out = firewall_rules(tmp_path, POD_INTERFACES=["cali*"])
    text = (tmp_path / "nft/sovereign.nft").read_text()
    assert out.returncode == 0 and "connected_clusters" not in text and "udp dport {" not in chain(text, "input")


def test_the_fleet_s_pods_count_in_the_per_node_requests():
    from components.platform.sizing import resources_per_node

    hub = {r.node: r for r in resources_per_node(parse_cluster_spec(example_spec("fleet")))}
    assert {"ocm-operator", "ocm-registration-controller", "ocm-placement-controller"} <= set(hub["main-1"].workloads)
    spoke = {r.node: r for r in resources_per_node(parse_cluster_spec(example_spec("test")))}
    assert {"ocm-klusterlet-agent", "submariner-operator"} <= set(spoke["main-1"].workloads)


def test_namespaced_kinds_without_a_namespace_are_refused(hub):
    for kind, name in (("Placement", "staging"), ("ManagedClusterSetBinding", "eu")):
        obj = copy.deepcopy(objects(hub, kind)[name])
        del obj["metadata"]["namespace"]
        with pytest.raises(ValueError, match=f"a {kind} is namespaced"):
            api.check(obj)
