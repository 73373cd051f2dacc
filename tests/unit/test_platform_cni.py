"""The CNI layer as deployed: what the Calico baseline policies do to a pod's
traffic, the order of the first ``pulumi up`` (nothing before the network,
no v3 object before the Calico API server), the node ports cross-node
platform traffic needs, Cilium's datapath and the kube-proxy rule."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import pytest

from components.node.ports import (
    CALICO_WIREGUARD_PORTS,
    CILIUM_WIREGUARD_PORT,
    NODE_EXPORTER_PORT,
    WIREGUARD_EXPORTER_PORT,
    cluster_ports,
    cni_wireguard_port,
)
from components.platform.cni import cni_plan
from components.platform.context import context_from_spec
from components.platform.plan import platform_plans
from components.spec import parse_cluster_spec
from tests.stack_runner import spec_issues
from tests.unit.cluster_support import k3s_config, param, upstream_urns
from tests.unit.platform_support import (
    RELEASE,
    by_key,
    example_spec,
    releases,
    run_platform,
)

# -- a model of Calico's policy evaluation ------------------------------------
#
# Calico (docs "Get started with policy tiers", Tier/GlobalNetworkPolicy
# reference): tiers in ascending order (the default tier, holding
# Kubernetes NetworkPolicies at order 1000 and untiered Calico policies, has
# order 1,000,000); within a tier the policies that apply to the endpoint in
# ascending order, their rules in order. Allow/Deny decide; Pass skips to the
# next tier; Log goes on. A tier with a policy applying to the endpoint that
# decides nothing drops the packet, unless the tier's defaultAction is Pass.
# When no tier applies (or the last one passes), the endpoint's profile
# decides: for Kubernetes pods, allow.

DEFAULT_TIER = "default"
DEFAULT_TIER_ORDER = 1_000_000
NOT_DECIDED = "not decided (profile: allowed)"


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict = field(default_factory=dict)
    namespace_labels: dict = field(default_factory=dict)

    @property
    def ns_labels(self) -> dict:
        # Calico labels every namespace profile with its name.
        return {**self.namespace_labels, "projectcalico.org/name": self.namespace,
                "kubernetes.io/metadata.name": self.namespace}


@dataclass(frozen=True)
class Flow:
    protocol: str
    port: int
    peer: Pod | None = None  # None: an address outside the cluster


def selects(expression: str, labels: dict) -> bool:
    """The Calico selector forms the project uses (anything else fails the test)."""
    expression = expression.strip()
    if expression == "all()":
        return True
    if m := re.fullmatch(r"has\(([\w./-]+)\)", expression):
        return m[1] in labels
    if m := re.fullmatch(r"([\w./-]+)\s*==\s*'([^']*)'", expression):
        return labels.get(m[1]) == m[2]
    if m := re.fullmatch(r"([\w./-]+)\s+in\s+\{(.*)\}", expression):
        return labels.get(m[1]) in set(re.findall(r"'([^']*)'", m[2]))
    raise NotImplementedError(f"selector {expression!r} is not modelled")


RULE_KEYS = {"action", "protocol", "source", "destination"}
PEER_KEYS = {"ports", "namespaceSelector", "selector"}
POLICY_KEYS = {"tier", "order", "selector", "namespaceSelector", "types", "ingress", "egress"}


def _peer_matches(criteria: dict, flow: Flow, *, with_ports: bool) -> bool:
    unknown = set(criteria) - PEER_KEYS
    assert not unknown, f"rule fields not modelled: {unknown}"
    if with_ports and "ports" in criteria and flow.port not in criteria["ports"]:
        return False
    if not with_ports and "ports" in criteria:
        raise NotImplementedError("source ports are not modelled")
    if "namespaceSelector" in criteria and (
            flow.peer is None or not selects(criteria["namespaceSelector"], flow.peer.ns_labels)):
        return False
    return "selector" not in criteria or (flow.peer is not None and selects(criteria["selector"], flow.peer.labels))


def rule_matches(rule: dict, direction: str, flow: Flow) -> bool:
    unknown = set(rule) - RULE_KEYS
    assert not unknown, f"rule fields not modelled: {unknown}"
    if "protocol" in rule and rule["protocol"] != flow.protocol:
        return False
    # Egress: the destination is the peer and carries the port; ingress: the
    # source is the peer, the destination (this pod) carries the port.
    peer_side, own_side = ("destination", "source") if direction == "Egress" else ("source", "destination")
    if not _peer_matches(rule.get(peer_side, {}), flow, with_ports=direction == "Egress"):
        return False
    own = rule.get(own_side, {})
    assert set(own) <= {"ports"}, f"{own_side} criteria on the selected pod are not modelled: {own}"
    return not ("ports" in own and flow.port not in own["ports"])


def applies(policy: dict, pod: Pod, direction: str) -> bool:
    unknown = set(policy) - POLICY_KEYS
    assert not unknown, f"policy fields not modelled: {unknown}"
    if direction not in policy["types"]:
        return False
    if not selects(policy.get("selector", "all()"), pod.labels):
        return False
    return "namespaceSelector" not in policy or selects(policy["namespaceSelector"], pod.ns_labels)


def verdict(tiers: dict[str, dict], policies: list[dict], pod: Pod, direction: str, flow: Flow) -> str:
    """What Calico does with ``flow`` of ``pod`` in ``direction`` (Ingress/Egress)."""
    tiers = {DEFAULT_TIER: {"order": DEFAULT_TIER_ORDER}, **tiers}
    for name in sorted(tiers, key=lambda t: tiers[t]["order"]):
        in_tier = [p for p in policies if p.get("tier", DEFAULT_TIER) == name and applies(p, pod, direction)]
        if not in_tier:
            continue  # a tier with no policy for this endpoint is skipped, end-of-tier drop included
        passed = False
        for policy in sorted(in_tier, key=lambda p: p.get("order", float("inf"))):
            for rule in policy.get(direction.lower(), []):
                if not rule_matches(rule, direction, flow):
                    continue
                if rule["action"] in ("Allow", "Deny"):
                    return f"{rule['action']} ({name} tier)"
                if rule["action"] == "Pass":
                    passed = True
                    break
            if passed:
                break
        if passed or tiers[name].get("defaultAction") == "Pass":
            continue
        return f"Deny (end of the {name} tier)"
    return NOT_DECIDED


def calico_baseline(spec: dict) -> tuple[dict[str, dict], list[dict]]:
    """The project's tiers and policies, from the CNI plan of ``spec``."""
    plan = cni_plan(context_from_spec(parse_cluster_spec(spec)))
    tiers, policies = {}, []
    for m in plan.manifests:
        if m.obj["apiVersion"] != "projectcalico.org/v3":
            continue
        if m.obj["kind"] == "Tier":
            tiers[m.obj["metadata"]["name"]] = m.obj["spec"]
        elif m.obj["kind"] == "GlobalNetworkPolicy":
            policies.append(m.obj["spec"])
    return tiers, policies


def kubernetes_network_policy(namespace: str, direction: str, rules: list[dict]) -> dict:
    """A namespace's own NetworkPolicy as Calico runs it (default tier, order 1000)."""
    return {"tier": DEFAULT_TIER, "order": 1000, "namespaceSelector": f"projectcalico.org/name == '{namespace}'",
            "selector": "all()", "types": [direction], direction.lower(): rules}


ISOLATED = {"sovereign.cloud/isolated": "true"}
PODS = {
    "default": Pod("default", {"app": "web"}),
    "isolated": Pod("shop", {"app": "api"}, ISOLATED),
    "monitoring": Pod("monitoring", {"app.kubernetes.io/name": "prometheus"}),
    "ingress": Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
    "kube-system": Pod("kube-system", {"k8s-app": "kube-dns"}),
}
NON_DNS_EGRESS = [
    Flow("TCP", 443),                     # the internet (an image registry, an API)
    Flow("UDP", 123),                     # NTP
    Flow("TCP", 5432, PODS["isolated"]),  # a database in another namespace
    Flow("TCP", 6443),                    # the Kubernetes API
]
DNS = [Flow("UDP", 53, PODS["kube-system"]), Flow("TCP", 53, PODS["kube-system"]), Flow("UDP", 53)]


@pytest.fixture(scope="module")
def baseline():
    return calico_baseline(example_spec("prod"))


def test_the_baseline_denies_no_pod_its_non_dns_egress(baseline):
    tiers, policies = baseline
    assert policies, "prod writes the Calico baseline"
    for name, pod in PODS.items():
        for flow in NON_DNS_EGRESS:
            assert verdict(tiers, policies, pod, "Egress", flow) == NOT_DECIDED, (name, flow)


def test_dns_is_allowed_even_where_a_namespace_denies_all_egress(baseline):
    tiers, policies = baseline
    deny_all = kubernetes_network_policy("shop", "Egress", [])
    for flow in DNS:
        assert verdict(tiers, policies, PODS["isolated"], "Egress", flow).startswith("Allow"), flow
        assert verdict(tiers, [*policies, deny_all], PODS["isolated"], "Egress", flow).startswith("Allow"), flow
        assert verdict(tiers, policies, PODS["default"], "Egress", flow).startswith("Allow"), flow


def test_a_namespaces_own_egress_policy_still_decides_the_rest(baseline):
    """The DNS policy passes, it does not allow: a namespace's own egress
    policy keeps applying to its non-DNS traffic."""
    tiers, policies = baseline
    only_postgres = kubernetes_network_policy("shop", "Egress", [{"action": "Allow", "protocol": "TCP",
                                                                  "destination": {"ports": [5432]}}])
    every = [*policies, only_postgres]
    assert verdict(tiers, every, PODS["isolated"], "Egress", Flow("TCP", 443)).startswith("Deny")
    assert verdict(tiers, every, PODS["isolated"], "Egress", Flow("TCP", 5432, PODS["default"])).startswith("Allow")
    # Other namespaces are not touched by it.
    assert verdict(tiers, every, PODS["default"], "Egress", Flow("TCP", 443)) == NOT_DECIDED


def test_isolated_namespaces_take_ingress_from_the_platform_only_unless_they_open_more(baseline):
    tiers, policies = baseline
    shop, web = PODS["isolated"], PODS["default"]
    for platform in ("ingress", "monitoring"):
        assert verdict(tiers, policies, shop, "Ingress", Flow("TCP", 8080, PODS[platform])).startswith("Allow")
    assert verdict(tiers, policies, shop, "Ingress", Flow("TCP", 8080, web)).startswith("Deny")
    assert verdict(tiers, policies, shop, "Ingress", Flow("TCP", 8080)).startswith("Deny")  # from outside
    # The namespace's own NetworkPolicy opens more.
    from_web = kubernetes_network_policy("shop", "Ingress", [{"action": "Allow", "source": {
        "namespaceSelector": "projectcalico.org/name == 'default'"}}])
    assert verdict(tiers, [*policies, from_web], shop, "Ingress", Flow("TCP", 8080, web)).startswith("Allow")
    # Namespaces that are not isolated: the baseline decides nothing.
    assert verdict(tiers, policies, web, "Ingress", Flow("TCP", 8080, shop)) == NOT_DECIDED


def test_the_model_sees_the_end_of_tier_drop():
    """The model reproduces the audited bug: an all() egress policy allowing
    only DNS, without Pass, in the default tier drops every other egress."""
    old = {"order": 100, "selector": "all()", "types": ["Egress"],
           "egress": [{"action": "Allow", "protocol": p, "destination": {"ports": [53]}} for p in ("UDP", "TCP")]}
    assert verdict({}, [old], PODS["default"], "Egress", Flow("TCP", 443)) == "Deny (end of the default tier)"
    assert verdict({}, [old], PODS["default"], "Egress", Flow("UDP", 53)).startswith("Allow")


def test_the_baseline_tier_sits_between_admin_policies_and_the_namespaces_own(baseline):
    tiers, policies = baseline
    (tier,) = tiers.values()
    assert 1000 < tier["order"] < DEFAULT_TIER_ORDER  # after adminnetworkpolicy (1000), before default
    assert tier["defaultAction"] == "Pass"
    for policy in policies:
        if policy.get("tier") in tiers:
            assert policy["egress"][-1] == {"action": "Pass"}


# -- order on the first `pulumi up` -------------------------------------------

def _variant_calico_everything() -> dict:
    spec = example_spec("dev")
    spec["network"] = {"cni": "calico", "encryption": "cni"}
    spec["addons"].update({
        "certManager": {"enabled": True, "issuer": "ca", "ca": {"secretName": "corp-ca"}},
        "metallb": {"enabled": True, "addresses": ["192.0.2.200-192.0.2.210"]},
        "monitoring": {"enabled": True},
        "vault": {"enabled": True},
    })
    return spec


ORDER_CASES = {
    "prod": lambda: example_spec("prod"),
    "budget": lambda: example_spec("budget"),
    "dev-calico": _variant_calico_everything,
}


_RUNS: dict[str, tuple[dict, object]] = {}


def _case(name: str) -> tuple[dict, object]:
    if name not in _RUNS:
        spec = ORDER_CASES[name]()
        _RUNS[name] = (spec, run_platform(spec))
    return _RUNS[name]


@pytest.fixture(params=sorted(ORDER_CASES))
def ordered(request):
    return _case(request.param)


@pytest.fixture(params=["dev-calico", "prod"])
def calico_run(request):
    return _case(request.param)


def _platform_objects(run) -> list:
    return [r for r in run.resources if "sovereign:platform:Platform$" in r.urn and r.custom
            and r.type.startswith("kubernetes:")]


def _cni_items(spec: dict):
    plan = cni_plan(context_from_spec(parse_cluster_spec(spec)))
    name = parse_cluster_spec(spec).name

    def resource(key: str) -> str:
        return f"{name}-platform-{key.replace('/', '-')}"

    return plan, {resource(i.key) for i in plan.items}, resource(plan.ready)


def test_every_add_on_waits_for_the_network(ordered):
    spec, run = ordered
    _, cni_names, ready_name = _cni_items(spec)
    ready = run.named(ready_name)
    others = [r for r in _platform_objects(run) if r.name not in cni_names]
    assert others, "the case installs add-ons"
    late = [r.name for r in others if ready.urn not in upstream_urns(run, r)]
    assert late == [], f"installed without waiting for {ready_name}"


def test_the_cni_readiness_is_really_awaited(ordered):
    spec, run = ordered
    _, _, ready_name = _cni_items(spec)
    ready = run.named(ready_name)
    if spec["network"].get("cni", "cilium") == "cilium":
        # Helm's atomic install waits for the agent DaemonSet and the operator.
        assert ready.type == RELEASE and ready.inputs["atomic"] is True and not ready.inputs.get("skipAwait")
    else:
        # The operator mirrors TigeraStatus "Available" as condition Ready.
        assert ready.inputs["kind"] == "Installation"
        assert ready.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"


def test_calico_v3_objects_wait_for_the_calico_api_server(calico_run):
    _, run = calico_run
    apiserver = by_key(run, "calico-apiserver")
    assert apiserver.inputs["kind"] == "APIServer"
    annotations = apiserver.inputs["metadata"]["annotations"]
    assert annotations["pulumi.com/waitFor"] == "condition=Ready"
    assert int(annotations["pulumi.com/timeoutSeconds"]) >= 900
    installation = by_key(run, "calico-installation")
    assert installation.urn in apiserver.dependencies
    v3 = [r for r in _platform_objects(run) if r.type.startswith("kubernetes:projectcalico.org/v3:")]
    assert {r.inputs["kind"] for r in v3} >= {"FelixConfiguration", "GlobalNetworkPolicy", "Tier"}
    for r in v3:
        assert apiserver.urn in r.dependencies, r.name


def test_felix_configuration_is_patched_not_created(calico_run):
    """calico-node creates FelixConfiguration default itself: a create would
    fail with AlreadyExists, so the project applies its fields to it."""
    _, run = calico_run
    felix = by_key(run, "calico-felix")
    assert felix.type == "kubernetes:projectcalico.org/v3:FelixConfigurationPatch"
    assert felix.inputs["metadata"]["name"] == "default"


def test_every_plan_item_outside_the_cni_installs_after_its_readiness_item():
    spec = parse_cluster_spec(example_spec("prod"))
    plans = platform_plans(context_from_spec(spec))
    cni, addons = plans[0], plans[1:]
    assert cni.name == "cni" and cni.ready == "calico/installation"
    for plan in addons:
        for item in plan.items:
            assert cni.ready in item.after, item.key


# -- Cilium's datapath ------------------------------------------------------------

# Where containerd looks for CNI plugins and configurations, as upstream
# decides it. K3s writes the CNI section of its containerd config only with
# its own flannel (pkg/agent/templates/templates_linux.go: `{{- if not
# .NodeConfig.NoFlannel }}`; pkg/executor/embed sets CNIBinDir/CNIConfDir
# only when the backend is not "none"); without it, and on kubeadm nodes
# (`containerd config default`), containerd's CRI defaults apply.
CONTAINERD_DEFAULTS = ("/opt/cni/bin", "/etc/cni/net.d")
K3S_FLANNEL_DIRS = ("/var/lib/rancher/k3s/data/cni", "/var/lib/rancher/k3s/agent/etc/cni/net.d")


def containerd_cni_dirs(run) -> set[tuple[str, str]]:
    """(bin dir, conf dir) of every node's containerd in this run."""
    dirs = set()
    for cmd in run.of_type("command:remote:Command"):
        if cmd.name.endswith(("-k3s-server", "-k3s-agent")):
            flannel = k3s_config(cmd.script("create")).get("flannel-backend", "vxlan")
            dirs.add(CONTAINERD_DEFAULTS if flannel == "none" else K3S_FLANNEL_DIRS)
        elif cmd.name.endswith("-k8s-packages"):
            assert "containerd config default" in cmd.script("create")
            dirs.add(CONTAINERD_DEFAULTS)
    assert dirs, "no node runs containerd"
    return dirs


@pytest.mark.parametrize("distribution", ["k3s", "kubeadm"])
def test_cilium_installs_where_containerd_looks(distribution):
    spec = example_spec("budget")
    if distribution == "kubeadm":
        spec.update(distribution="kubeadm", version="1.31.4")
    run = run_platform(spec)
    values = releases(run)["cilium"].inputs["values"]
    assert {(values["cni"]["binPath"], values["cni"]["confPath"])} == containerd_cni_dirs(run)
    # No chained plugin: nothing but cilium-cni has to exist in binPath
    # (portmap is not there, and every pod's CNI ADD would fail on it).
    assert "chainingMode" not in values["cni"]


def test_budget_replaces_kube_proxy_as_its_seed_describes():
    spec = example_spec("budget")
    assert spec["kubernetes"]["kubeProxy"] is False
    # The other keys of the section are kept.
    assert spec["kubernetes"]["apiSourceCidrs"] == ["203.0.113.10/32"]
    assert spec["kubernetes"]["apiDnsName"] == "api.budget.sovereign.example"
    values = releases(run_platform(spec))["cilium"].inputs["values"]
    assert values["kubeProxyReplacement"] is True
    # NodePorts and Cilium's own hostPorts on the mesh only (BPF runs before the firewall).
    assert values["devices"] == ["wg0"]
    # hostPorts: Cilium's eBPF ones (kube-proxy replacement), no portmap chaining.
    assert values["hostPort"] == {"enabled": True} and "chainingMode" not in values["cni"]


def test_cilium_with_kube_proxy_kept_supports_host_ports():
    spec = example_spec("budget")
    spec["kubernetes"]["kubeProxy"] = True
    values = releases(run_platform(spec))["cilium"].inputs["values"]
    assert values["kubeProxyReplacement"] is False
    # Without kube-proxy replacement, Cilium's hostPort needs its NodePort
    # datapath (the daemon turns hostPort off without it): the documented
    # hybrid mode, not the portmap plugin.
    assert values["nodePort"] == {"enabled": True} and values["hostPort"] == {"enabled": True}
    assert "chainingMode" not in values["cni"]
    assert values["devices"] == ["wg0"]


# -- node ports for cross-node platform traffic -----------------------------------

def _ports(spec: dict) -> tuple[list[str], list[str]]:
    return cluster_ports(parse_cluster_spec(spec))


def test_monitoring_opens_the_host_network_exporters_on_the_mesh():
    from components.platform.addons.monitoring import WG_EXPORTER_PORT

    assert WIREGUARD_EXPORTER_PORT == WG_EXPORTER_PORT and NODE_EXPORTER_PORT == 9100
    tcp, _ = _ports(example_spec("prod"))  # monitoring on
    assert {"9100", "9586"} <= set(tcp)
    tcp, _ = _ports(example_spec("budget"))  # monitoring off
    assert not {"9100", "9586"} & set(tcp)


def test_metallb_memberlist_only_with_metallb():
    spec = example_spec("budget")
    tcp, udp = _ports(spec)
    assert "7946" not in tcp and "7946" not in udp
    spec["addons"]["metallb"] = {"enabled": True, "addresses": ["203.0.113.64/28"]}
    tcp, udp = _ports(spec)
    assert "7946" in tcp and "7946" in udp
    assert "7472" not in tcp  # its metrics only matter when something scrapes them
    spec["addons"]["monitoring"] = {"enabled": True}
    assert "7472" in _ports(spec)[0]


def test_the_cni_wireguard_port_is_opened_only_when_the_cni_encrypts():
    spec = example_spec("budget")
    assert cni_wireguard_port(parse_cluster_spec(spec)) is None
    assert _ports(spec)[1] == ["8472"]
    spec["network"]["encryption"] = "cni"
    assert str(CILIUM_WIREGUARD_PORT) in _ports(spec)[1] and CILIUM_WIREGUARD_PORT == 51871
    spec["network"]["wireguardPort"] = 51871
    with pytest.raises(ValueError, match="network.wireguardPort"):
        _ports(spec)


@pytest.mark.parametrize("mesh_port", [51820, 51821])
def test_calico_wireguard_gets_a_port_of_its_own_and_the_firewall_opens_it(mesh_port):
    spec = example_spec("prod")
    spec["network"]["encryption"] = "cni"
    spec["network"]["wireguardPort"] = mesh_port
    run = run_platform(spec)
    felix_port = int(by_key(run, "calico-felix").inputs["spec"]["wireguardListeningPort"])
    assert felix_port != mesh_port and felix_port in CALICO_WIREGUARD_PORTS
    assert str(felix_port) in _ports(spec)[1]


def test_the_firewall_of_every_node_gets_the_ports(stack_run):
    spec = example_spec("budget")
    spec["addons"]["monitoring"] = {"enabled": True}
    spec["addons"]["metallb"] = {"enabled": True, "addresses": ["203.0.113.64/28"]}
    run = stack_run(spec, stack="budget")
    for node in run.outputs["nodes"]:
        script = run.named(f"budget-baseline-{node['name']}-firewall").script("create")
        tcp, udp = param(script, "CLUSTER_TCP_PORTS").split(), param(script, "CLUSTER_UDP_PORTS").split()
        assert {"9100", "9586", "7946"} <= set(tcp) and "7946" in udp, node["name"]


# -- ingress-nginx reachable on the public 80/443 with either CNI (issue 11, item 5) --

def _ingress_controller(spec: dict) -> dict:
    return releases(run_platform(spec))["ingress-nginx"].inputs["values"]["controller"]


def test_with_cilium_the_ingress_daemonset_binds_80_443_on_the_node_itself():
    """Cilium answers hostPorts on its ``devices`` (wg0) only: a hostPort
    ingress would be unreachable on the public address where budget's
    nodes publish 80/443 (and Let's Encrypt's HTTP-01 would never pass)."""
    spec = example_spec("budget")
    assert spec["network"]["cni"] == "cilium" and spec["nodeGroups"]["vps"]["publishedPorts"] == [80, 443]
    run = run_platform(spec)
    assert releases(run)["cilium"].inputs["values"]["devices"] == ["wg0"]
    controller = releases(run)["ingress-nginx"].inputs["values"]["controller"]
    assert controller["kind"] == "DaemonSet"
    assert controller["hostNetwork"] is True and controller["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert controller["hostPort"] == {"enabled": False}


def test_with_calico_the_ingress_daemonset_keeps_its_host_ports():
    controller = _ingress_controller(example_spec("prod"))
    assert controller["kind"] == "DaemonSet" and controller["hostPort"] == {"enabled": True}
    assert "hostNetwork" not in controller


def test_a_cilium_ingress_deployment_behind_metallb_stays_on_the_pod_network():
    spec = example_spec("budget")
    spec["addons"]["ingressNginx"] = {"enabled": True, "kind": "Deployment"}
    spec["addons"]["metallb"] = {"enabled": True, "addresses": ["203.0.113.64/28"]}
    controller = _ingress_controller(spec)
    assert "hostNetwork" not in controller and controller["service"]["type"] == "LoadBalancer"
    assert "8443" not in _ports(spec)[0]


def test_the_mesh_opens_the_host_network_ingress_webhook_and_metrics():
    """The API server calls the admission webhook at the node's (mesh)
    address, Prometheus scrapes 10254 there: both cross the node firewall."""
    spec = example_spec("budget")
    tcp, _ = _ports(spec)
    assert "8443" in tcp and "10254" not in tcp  # monitoring off
    spec["addons"]["monitoring"] = {"enabled": True}
    assert {"8443", "10254"} <= set(_ports(spec)[0])
    assert "8443" not in _ports(example_spec("prod"))[0]  # Calico: webhook on the pod network




# -- the kube-proxy rule -----------------------------------------------------------



def test_calico_without_kube_proxy_is_refused_with_the_fix():
    spec = example_spec("prod")
    spec.setdefault("kubernetes", {})["kubeProxy"] = False
    issue = spec_issues(spec)["cluster.kubernetes.kubeProxy"]
    assert "calico" in issue and "kubeProxy: true" in issue and "cilium" in issue


def test_the_kube_proxy_rule_is_reported_with_the_other_errors():
    spec = example_spec("prod")
    spec["kubernetes"]["kubeProxy"] = False
    spec["network"]["podCidr"] = "10.42.0.0/24"
    assert {"cluster.kubernetes.kubeProxy", "cluster.network.podCidr"} <= set(spec_issues(spec))


def test_cilium_without_kube_proxy_is_fine():
    spec = copy.deepcopy(example_spec("budget"))
    assert spec["kubernetes"]["kubeProxy"] is False and spec["network"]["cni"] == "cilium"
    parse_cluster_spec(spec)
