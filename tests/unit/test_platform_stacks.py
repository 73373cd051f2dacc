"""What each example stack's platform installs, where, and with which values (mocked run)."""

from __future__ import annotations

import json

import pytest

from components.cluster.common.endpoint import LOCAL_LB_HOST, LOCAL_LB_PORT
from tests.unit.platform_support import RELEASE, by_key, example_spec, releases, run_platform


@pytest.fixture(scope="module")
def prod():
    return run_platform(example_spec("prod"))


@pytest.fixture(scope="module")
def budget():
    return run_platform(example_spec("budget"))


@pytest.fixture(scope="module")
def dev():
    return run_platform(example_spec("dev"))


@pytest.fixture(scope="module")
def minwaas():
    return run_platform(example_spec("minwaas"))


def _chart(run, name):
    return releases(run)[name].inputs


def test_each_stack_installs_what_its_seed_describes(prod, budget, dev):
    # kubeadm has no StorageClass: prod gets the local-path provisioner; Keycloak its PostgreSQL operator;
    # its dataServices (seed 000's geo-replicated stack) the Barman Cloud plugin (PostgreSQL backups) and
    # ECK (search).
    assert set(releases(prod)) == {"tigera-operator", "local-path-provisioner", "cert-manager", "ingress-nginx",
                                   "kube-prometheus-stack", "goldpinger", "vault", "cloudnative-pg", "keycloakx",
                                   "nvidia-device-plugin", "plugin-barman-cloud", "eck-operator"}
    assert set(releases(budget)) == {"cilium", "cert-manager", "ingress-nginx", "argo-cd", "vault"}
    assert set(releases(dev)) == {"cilium"}


def test_minwaas_installs_seed_001s_platform(minwaas):
    # Calico with WireGuard, MetalLB, Keycloak, Prometheus/Grafana with goldpinger, Rook-Ceph;
    # OpenStack itself is the OpenStackHelm component (tests/unit/test_openstack_helm.py).
    assert set(releases(minwaas)) == {"tigera-operator", "cert-manager", "ingress-nginx", "metallb",
                                      "kube-prometheus-stack", "goldpinger", "cloudnative-pg", "keycloakx",
                                      "rook-ceph", "rook-ceph-cluster"}
    assert _chart(minwaas, "rook-ceph-cluster")["values"]["toolbox"]["enabled"] is True


# Written out here, not read from components/platform/charts.py (a test
# comparing the releases with the table the code reads could never fail):
# a version bump is a deliberate change of both. Chart names, repositories
# and versions as each project publishes them (helm search repo <chart>
# --version <v>); the namespace each add-on is installed in.
PINNED = {
    "cilium": ("cilium", "https://helm.cilium.io", "1.18.1", "kube-system"),
    "tigera-operator": ("tigera-operator", "https://docs.tigera.io/calico/charts", "v3.30.3", "tigera-operator"),
    "cert-manager": ("cert-manager", "https://charts.jetstack.io", "v1.18.2", "cert-manager"),
    "ingress-nginx": ("ingress-nginx", "https://kubernetes.github.io/ingress-nginx", "4.13.2", "ingress-nginx"),
    "metallb": ("metallb", "https://metallb.github.io/metallb", "0.15.2", "metallb-system"),
    "kube-prometheus-stack": ("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts",
                              "77.5.0", "monitoring"),
    "goldpinger": ("goldpinger", "https://bloomberg.github.io/goldpinger", "1.0.1", "monitoring"),
    "argo-cd": ("argo-cd", "https://argoproj.github.io/argo-helm", "8.3.5", "argocd"),
    "flux2": ("flux2", "https://fluxcd-community.github.io/helm-charts", "2.16.4", "flux-system"),
    "vault": ("vault", "https://helm.releases.hashicorp.com", "0.30.1", "vault"),
    "keycloakx": ("keycloakx", "https://codecentric.github.io/helm-charts", "7.1.1", "keycloak"),
    "cloudnative-pg": ("cloudnative-pg", "https://cloudnative-pg.github.io/charts", "0.26.0", "cnpg-system"),
    # prod's dataServices: backups through the Barman Cloud plugin (chart 0.4.0 = plugin v0.10.0), ECK search.
    "plugin-barman-cloud": ("plugin-barman-cloud", "https://cloudnative-pg.github.io/charts", "0.4.0", "cnpg-system"),
    "eck-operator": ("eck-operator", "https://helm.elastic.co", "3.3.2", "elastic-system"),
    "local-path-provisioner": ("local-path-provisioner", "https://rancher.github.io/local-path-provisioner",
                               "0.0.33", "local-path-storage"),
    "nvidia-device-plugin": ("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.17.4",
                             "nvidia-device-plugin"),
    "gpu-operator": ("gpu-operator", "https://helm.ngc.nvidia.com/nvidia", "v25.3.2", "gpu-operator"),
    # The fleet's hub (fleet) and a spoke (staging): Open Cluster Management,
    # a Submariner broker per data domain, the Submariner operator.
    "cluster-manager": ("cluster-manager", "https://open-cluster-management.io/helm-charts", "1.3.1",
                        "open-cluster-management"),
    "klusterlet": ("klusterlet", "https://open-cluster-management.io/helm-charts", "1.3.1", "open-cluster-management"),
    "submariner-broker-eu": ("submariner-k8s-broker", "https://submariner-io.github.io/submariner-charts/charts",
                             "0.24.1", "submariner-broker-eu"),
    "submariner-broker-us": ("submariner-k8s-broker", "https://submariner-io.github.io/submariner-charts/charts",
                             "0.24.1", "submariner-broker-us"),
    "submariner-operator": ("submariner-operator", "https://submariner-io.github.io/submariner-charts/charts",
                            "0.24.1", "submariner-operator"),
}


def test_charts_are_the_pinned_versions_in_their_namespaces(prod, budget):
    installed = {}
    for run in (prod, budget, run_platform(_every_chart_spec()), run_platform(example_spec("fleet")),
                run_platform(example_spec("staging"))):
        for name, r in releases(run).items():
            installed[name] = (r.inputs["chart"], r.inputs["repositoryOpts"]["repo"], r.inputs["version"],
                               r.inputs["namespace"])
            assert r.inputs["createNamespace"] is False
    assert installed == {name: pinned for name, pinned in PINNED.items() if name != "flux2"}


def _every_chart_spec() -> dict:
    """prod with the add-ons its example leaves off: Cilium, MetalLB, ArgoCD,
    the GPU operator (Flux is the other GitOps tool: checked by name below)."""
    spec = example_spec("prod")
    spec["addons"]["metallb"] = {"enabled": True, "addresses": ["203.0.113.64/28"]}
    spec["addons"]["gitops"] = {"enabled": True, "repoUrl": "https://git.example.org/prod.git"}
    spec["addons"]["gpu"] = {"enabled": True, "mode": "operator"}
    return spec


def test_flux_is_the_pinned_chart():
    spec = example_spec("budget")
    spec["addons"]["gitops"] = {"enabled": True, "tool": "flux", "repoUrl": "https://git.example.org/infra.git"}
    r = releases(run_platform(spec))["flux2"]
    assert (r.inputs["chart"], r.inputs["repositoryOpts"]["repo"], r.inputs["version"], r.inputs["namespace"]) == \
        PINNED["flux2"]


def test_everything_waits_for_the_cluster(prod, budget):
    for run in (prod, budget):
        ready = set(run.outputs["readyUrns"])
        assert ready
        platform = [r for r in run.resources if "sovereign:platform:Platform$" in r.urn and r.custom
                    and r.type.startswith("kubernetes:")]
        assert platform
        for r in platform:
            assert ready <= set(r.dependencies), r.name


def test_custom_resources_wait_for_the_chart_bringing_their_crds(prod, budget):
    assert releases(prod)["tigera-operator"].urn in by_key(prod, "calico-installation").dependencies
    assert by_key(prod, "calico-installation").urn in by_key(prod, "calico-apiserver").dependencies
    assert by_key(prod, "calico-apiserver").urn in by_key(prod, "calico-felix").dependencies
    assert releases(prod)["kube-prometheus-stack"].urn in by_key(prod, "monitoring-rules").dependencies
    assert releases(prod)["cert-manager"].urn in by_key(prod, "cert-manager-bootstrap").dependencies
    assert releases(budget)["argo-cd"].urn in by_key(budget, "gitops-root-app").dependencies
    issuer = by_key(budget, "cert-manager-issuer")
    assert {releases(budget)["cert-manager"].urn, releases(budget)["ingress-nginx"].urn} <= set(issuer.dependencies)
    # Charts that ship ServiceMonitors wait for the monitoring CRDs.
    assert releases(prod)["kube-prometheus-stack"].urn in releases(prod)["cert-manager"].dependencies
    # And each release waits for its namespace.
    assert by_key(prod, "ns-vault").urn in releases(prod)["vault"].dependencies


def test_calico_pool_mtu_and_encryption_follow_the_spec(prod):
    spec = by_key(prod, "calico-installation").inputs["spec"]
    pool = spec["calicoNetwork"]["ipPools"][0]
    assert pool["cidr"] == "192.168.0.0/16" and pool["encapsulation"] == "VXLAN"
    assert spec["calicoNetwork"]["nodeAddressAutodetectionV4"] == {"interface": "wg0"}
    # Encrypted once by the mesh: pod MTU = mesh MTU - VXLAN.
    assert spec["calicoNetwork"]["mtu"] == prod.outputs["podMtu"] == prod.outputs["meshMtu"] - 50
    assert by_key(prod, "calico-felix").inputs["spec"] == {"wireguardEnabled": False}
    assert _chart(prod, "tigera-operator")["values"]["installation"] == {"enabled": False}


def test_cilium_uses_the_node_local_api_and_the_mesh_mtu(budget):
    values = _chart(budget, "cilium")["values"]
    assert (values["k8sServiceHost"], values["k8sServicePort"]) == ("127.0.0.1", 7445)
    assert values["kubeProxyReplacement"] is True  # seed 004: Cilium replaces kube-proxy
    assert values["MTU"] == budget.outputs["meshMtu"]
    assert budget.outputs["podMtu"] == budget.outputs["meshMtu"] - 50
    assert values["encryption"]["enabled"] is False and values["routingMode"] == "tunnel"
    assert values["ipam"]["operator"]["clusterPoolIPv4PodCIDRList"] == ["10.244.0.0/16"]
    assert values["hubble"]["enabled"] is False


def test_cilium_replaces_kube_proxy_and_encrypts_twice_when_asked():
    spec = example_spec("budget")
    spec["network"]["encryption"] = "cni"
    spec["addons"]["cni"] = {"hubble": True}
    spec.setdefault("kubernetes", {})["kubeProxy"] = False
    run = run_platform(spec)
    values = releases(run)["cilium"].inputs["values"]
    # The API as every node reaches it: the cluster's node-local balancer.
    assert values["kubeProxyReplacement"] is True
    assert (values["k8sServiceHost"], values["k8sServicePort"]) == (LOCAL_LB_HOST, LOCAL_LB_PORT)
    moved = releases(run_platform(spec, api_port=16443))["cilium"].inputs["values"]
    assert moved["k8sServicePort"] == 16443
    assert values["encryption"] == {"enabled": True, "type": "wireguard", "nodeEncryption": False}
    assert run.outputs["podMtu"] == run.outputs["meshMtu"] - 50 - 80
    assert values["hubble"]["relay"]["enabled"] is True


def test_calico_wireguard_mtu_when_encrypting_twice():
    spec = example_spec("prod")
    spec["network"]["encryption"] = "cni"
    run = run_platform(spec)
    mesh = run.outputs["meshMtu"]
    # Calico's WireGuard on a port of its own (Felix' default 51820 is the mesh's).
    assert by_key(run, "calico-felix").inputs["spec"] == {"wireguardEnabled": True, "wireguardMTU": mesh - 60,
                                                          "wireguardListeningPort": 51821}
    assert by_key(run, "calico-installation").inputs["spec"]["calicoNetwork"]["mtu"] == mesh - 60


def test_gpu_plugin_only_on_gpu_groups_tolerating_their_taint(prod):
    values = _chart(prod, "nvidia-device-plugin")["values"]
    assert values["nodeSelector"] == {"sovereign.cloud/gpu": "true"}
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "sovereign.cloud/node-group", "operator": "In",
                                            "values": ["gpu-gra", "gpu-houston", "gpu-paris"]}]}]
    assert values["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
                                      "effect": "NoSchedule"}]


def test_private_ca_issuer_is_bootstrapped(prod):
    root = by_key(prod, "cert-manager-root-ca")
    assert root.inputs["spec"]["isCA"] is True
    assert root.inputs["spec"]["issuerRef"]["name"] == "selfsigned-bootstrap"
    assert by_key(prod, "cert-manager-bootstrap").urn in root.dependencies
    issuer = by_key(prod, "cert-manager-issuer")
    assert issuer.inputs["spec"] == {"ca": {"secretName": "sovereign-root-ca"}}
    assert root.urn in issuer.dependencies


def test_acme_issuer_from_the_spec(budget):
    acme = by_key(budget, "cert-manager-issuer").inputs["spec"]["acme"]
    assert acme["email"] == "ops@sovereign.example"
    assert acme["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]


def test_root_application_points_at_the_spec_repository(budget):
    app = by_key(budget, "gitops-root-app").inputs
    assert app["metadata"]["name"] == "root" and app["metadata"]["namespace"] == "argocd"
    assert app["spec"]["source"] == {"repoURL": "git@github.com:example/infra.git", "targetRevision": "main",
                                     "path": "argocd-apps"}
    assert app["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}


def test_flux_alternative():
    spec = example_spec("dev")
    spec["addons"]["gitops"] = {"enabled": True, "tool": "flux", "repoUrl": "https://git.example.org/x.git",
                                "path": "clusters/dev", "revision": "prod"}
    run = run_platform(spec)
    assert set(releases(run)) == {"cilium", "flux2"}
    repo, kust = by_key(run, "gitops-git-repository"), by_key(run, "gitops-kustomization")
    assert repo.inputs["spec"]["url"] == "https://git.example.org/x.git" and repo.inputs["spec"]["ref"] == {"branch": "prod"}
    assert kust.inputs["spec"]["path"] == "clusters/dev" and repo.urn in kust.dependencies


def test_alert_rules(prod):
    rules = {r["alert"]: r for r in by_key(prod, "monitoring-rules").inputs["spec"]["groups"][0]["rules"]}
    assert rules["NodeAvailableMemoryLow"]["expr"] == "node_memory_MemAvailable_bytes < 200 * 1024 * 1024"
    assert rules["WireGuardPeerNoHandshake"]["expr"] == (
        'time() - wireguard_latest_handshake_seconds{interface="wg0"} > 300')
    assert rules["EtcdNoLeader"]["expr"] == "etcd_server_has_leader == 0"
    assert rules["CertificateExpiringSoon"]["expr"] == (
        "certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 24 * 3600")
    # The exporter feeding the WireGuard alert runs on every node, tolerating every taint.
    ds = by_key(prod, "monitoring-wireguard-exporter").inputs["spec"]["template"]["spec"]
    assert ds["hostNetwork"] is True and ds["tolerations"] == [{"operator": "Exists"}]


def test_sso_client_secrets_are_pulumi_secrets_and_never_chart_values(prod):
    password = by_key(prod, "platform-keycloak-grafana")
    value = password.outputs["result"]
    realm, grafana = by_key(prod, "keycloak-realm"), by_key(prod, "keycloak-grafana-secret")
    assert realm.secret_paths == ["stringData"] and grafana.secret_paths == ["stringData"]
    client = json.loads(realm.inputs["stringData"]["realm.json"])["clients"][0]
    assert client["clientId"] == "grafana" and client["secret"] == value
    assert client["redirectUris"] == ["https://grafana.prod.sovereign.example/login/generic_oauth"]
    assert grafana.inputs["stringData"] == {"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": value}
    for r in prod.of_type(RELEASE):
        assert value not in json.dumps(r.inputs["values"]), r.name
    kps = _chart(prod, "kube-prometheus-stack")["values"]["grafana"]
    assert kps["envFromSecret"] == "grafana-sso"
    assert kps["grafana.ini"]["auth.generic_oauth"]["auth_url"] == (
        "https://sso.prod.sovereign.example/realms/sovereign/protocol/openid-connect/auth")


def test_argocd_sso_when_both_enabled():
    spec = example_spec("budget")
    spec["addons"]["keycloak"] = {"enabled": True, "hostname": "sso.example.org", "argocdHost": "cd.example.org"}
    run = run_platform(spec)
    secret = by_key(run, "keycloak-argocd-secret")
    assert secret.inputs["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
    assert secret.urn in releases(run)["argo-cd"].dependencies
    oidc = releases(run)["argo-cd"].inputs["values"]["configs"]["cm"]["oidc.config"]
    assert "clientSecret: $argocd-sso:clientSecret" in oidc and "issuer: https://sso.example.org/realms/sovereign" in oidc


def test_ingress_daemonset_on_host_ports(prod):
    controller = _chart(prod, "ingress-nginx")["values"]["controller"]
    assert controller["kind"] == "DaemonSet" and controller["hostPort"] == {"enabled": True}


def test_escape_hatch_is_merged_last():
    spec = example_spec("budget")
    spec["addons"]["vault"]["values"] = {"server": {"ha": {"replicas": 5}}, "ui": {"enabled": True}}
    spec["addons"]["cni"] = {"values": {"MTU": 1300, "operator": {"replicas": 1}}}
    run = run_platform(spec)
    vault = releases(run)["vault"].inputs["values"]
    raft = vault["server"]["ha"].pop("raft")
    assert vault["server"]["ha"] == {"enabled": True, "replicas": 5}
    # Raft follows the merged replica count: every server joins the other four.
    assert raft["enabled"] is True and raft["setNodeId"] is True
    assert [f"http://vault-{i}.vault-internal:8200" in raft["config"] for i in range(6)] == [True] * 5 + [False]
    assert vault["ui"] == {"enabled": True}
    cilium = releases(run)["cilium"].inputs["values"]
    assert cilium["MTU"] == 1300 and cilium["operator"]["resources"]  # merged, not replaced


def test_calico_baseline_policies(prod):
    dns = by_key(prod, "calico-gnp-allow-dns").inputs["spec"]
    allowed = [r for r in dns["egress"] if r["action"] == "Allow"]
    assert dns["types"] == ["Egress"] and {r["protocol"] for r in allowed} == {"UDP", "TCP"}
    assert dns["egress"][-1] == {"action": "Pass"}  # the rest of a pod's egress is not the tier's to drop
    isolated = by_key(prod, "calico-gnp-isolated").inputs["spec"]
    assert isolated["namespaceSelector"] == "has(sovereign.cloud/isolated)"
    # Only the platform may come in; everything else is left to the namespace's own policies.
    assert isolated["ingress"] == [{"action": "Allow", "source": {
        "namespaceSelector": "projectcalico.org/name in {'ingress-nginx', 'monitoring'}"}}]
    assert by_key(prod, "calico-apiserver").urn in by_key(prod, "calico-gnp-isolated").dependencies


def test_etcd_is_scraped_where_it_runs(prod):
    """Dedicated etcd members on prod (no etcd pods to select there), over
    the mesh on the metrics port every member listens on."""
    from components.spec import parse_cluster_spec
    from components.topology.plan import plan_nodes

    planned = plan_nodes(parse_cluster_spec(example_spec("prod")))
    dedicated = sorted(str(p.mesh_ip) for p in planned if "etcd" in p.roles and "control-plane" not in p.roles)
    etcd = _chart(prod, "kube-prometheus-stack")["values"]["kubeEtcd"]
    assert etcd["enabled"] is True
    assert len(dedicated) == 3 and sorted(etcd["endpoints"]) == dedicated
    assert etcd["service"] == {"enabled": True, "port": 2381, "targetPort": 2381}
    assert etcd["serviceMonitor"]["scheme"] == "http"


def test_k3s_scrapes_embedded_etcd_on_every_server():
    spec = example_spec("budget")
    spec["addons"]["monitoring"] = {"enabled": True}
    etcd = releases(run_platform(spec))["kube-prometheus-stack"].inputs["values"]["kubeEtcd"]
    assert etcd["endpoints"] == ["10.6.6.1", "10.6.6.2", "10.6.6.3"]
