"""Add-ons as they must deploy for real: MetalLB's scrape rights, Keycloak's
paths, database and hosts, volumes on kubeadm, Vault's Raft cluster, GitOps
repository credentials, the honest per-node sum, Alertmanager receivers and
the scrapes that cannot work here."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pytest

from components.platform.addons import gitops, keycloak, monitoring, storage, vault
from components.platform.context import context_from_spec
from components.platform.plan import platform_plans
from components.platform.profiles import PROFILES
from components.platform.sizing import BUNDLED, requests_per_node
from components.platform.values import memory_mib
from components.spec import SpecError, parse_cluster_spec
from components.spec.platform import check_storage
from tests.unit.platform_support import RELEASE, by_key, example_spec, releases, run_platform
from tests.unit.cluster_support import leaks

SSO = {"enabled": True, "hostname": "sso.example.org", "grafanaHost": "grafana.example.org",
       "argocdHost": "cd.example.org"}


def _ctx(data: dict, **secrets):
    ctx = context_from_spec(parse_cluster_spec(data))
    return dataclasses.replace(ctx, secrets=secrets) if secrets else ctx


def _plans(data: dict, **secrets) -> dict:
    return {p.name: p for p in platform_plans(_ctx(data, **secrets))}


def _items(plans: dict) -> dict:
    return {i.key: i for p in plans.values() for i in p.items}


def _everything() -> dict:
    """budget (K3s, argocd over SSH, cert-manager ACME, ingress-nginx, Vault HA)
    plus monitoring, MetalLB over BGP and Keycloak with all three hosts."""
    data = example_spec("budget")
    data["addons"].update(
        monitoring={"enabled": True},
        metallb={"enabled": True, "addresses": ["203.0.113.64/28"], "myAsn": 64512,
                 "peers": [{"address": "10.6.255.1", "asn": 64513}]},
        keycloak=dict(SSO),
    )
    return data


# -- 1. MetalLB's ServiceMonitors need Prometheus's account and namespace ----

def test_metallb_grants_the_monitoring_prometheus_its_scrapes():
    items = _items(_plans(_everything()))
    prom = items["metallb"].values["prometheus"]
    kps = items["kube-prometheus-stack"].values["prometheus"]
    assert prom["serviceMonitor"] == {"enabled": True}
    # The chart `required`s both with serviceMonitor.enabled: the account kube-prometheus-stack names.
    assert kps["serviceAccount"] == {"create": True, "name": "kube-prometheus-stack-prometheus"}
    assert (prom["serviceAccount"], prom["namespace"]) == ("kube-prometheus-stack-prometheus", "monitoring")


def test_metallb_without_monitoring_names_no_prometheus():
    data = _everything()
    data["addons"]["monitoring"] = {"enabled": False}
    assert _items(_plans(data))["metallb"].values["prometheus"] == {"serviceMonitor": {"enabled": False}}


# -- 2. Keycloak: root path, a real database, public hosts -------------------

def test_keycloak_serves_at_the_root_the_oidc_urls_use():
    items = _items(_plans(_everything()))
    kc = items["keycloakx"].values
    assert kc["http"] == {"relativePath": "/"}  # the chart's default is /auth
    issuer = "https://sso.example.org/realms/sovereign"
    assert f"issuer: {issuer}\n" in items["argo-cd"].values["configs"]["cm"]["oidc.config"]
    oauth = items["kube-prometheus-stack"].values["grafana"]["grafana.ini"]["auth.generic_oauth"]
    assert oauth["auth_url"] == f"{issuer}/protocol/openid-connect/auth"
    env = {e["name"]: e["value"] for e in __import__("yaml").safe_load(kc["extraEnv"])}
    assert env["KC_HOSTNAME"] == "https://sso.example.org"


def test_keycloak_keeps_its_state_in_postgresql():
    plans = _plans(_everything(), **{"keycloak-db-password": "pg-password", "keycloak-grafana": "g", "keycloak-argocd": "a"})
    items = _items(plans)
    assert "keycloak-db-password" in plans["keycloak"].secrets  # a random password made by the Platform component
    db = items["keycloakx"].values["database"]
    assert db == {"vendor": "postgres", "hostname": "keycloak-db-rw.keycloak.svc", "port": 5432,
                  "database": "keycloak", "username": "keycloak", "existingSecret": "keycloak-db-owner",
                  "existingSecretKey": "password"}
    assert items["keycloakx"].values["dbchecker"] == {"enabled": True}
    owner = items["keycloak/db-secret"].obj
    assert owner["type"] == "kubernetes.io/basic-auth" and owner["metadata"]["name"] == "keycloak-db-owner"
    assert owner["stringData"] == {"username": "keycloak", "password": "pg-password"}
    cluster = items["keycloak/db"].obj
    assert (cluster["apiVersion"], cluster["kind"], cluster["metadata"]["name"]) == (
        "postgresql.cnpg.io/v1", "Cluster", "keycloak-db")
    assert cluster["spec"]["bootstrap"] == {"initdb": {"database": "keycloak", "owner": "keycloak",
                                                       "secret": {"name": "keycloak-db-owner"}}}
    assert cluster["spec"]["storage"] == {"size": "1Gi", "storageClass": "local-path"}
    # Operator first (CRDs, webhook), then the Cluster, then Keycloak.
    assert {"cloudnative-pg", "keycloak/db-secret"} <= set(items["keycloak/db"].after)
    assert "keycloak/db" in items["keycloakx"].after
    assert items["cloudnative-pg"].chart.chart == "cloudnative-pg"
    # The password never reaches chart values.
    for r in (items["keycloakx"], items["cloudnative-pg"]):
        assert "pg-password" not in json.dumps(r.values)


def test_keycloak_database_password_is_a_pulumi_secret():
    run = run_platform(_everything())
    password = by_key(run, "platform-keycloak-db-password").outputs["result"]
    owner = by_key(run, "keycloak-db-secret")
    assert owner.secret_paths == ["stringData"] and owner.inputs["stringData"]["password"] == password
    for r in run.of_type(RELEASE):
        assert password not in json.dumps(r.inputs["values"]), r.name


def test_public_hosts_get_the_charts_ingress_with_a_certificate():
    items = _items(_plans(_everything()))
    tls = {"cert-manager.io/cluster-issuer": "default"}
    kc = items["keycloakx"].values["ingress"]
    assert kc["enabled"] is True and kc["ingressClassName"] == "nginx"
    assert tls.items() <= kc["annotations"].items()
    assert kc["rules"] == [{"host": "sso.example.org", "paths": [{"path": "/", "pathType": "Prefix"}]}]
    assert kc["tls"] == [{"hosts": ["sso.example.org"], "secretName": "keycloak-tls"}]
    grafana = items["kube-prometheus-stack"].values["grafana"]["ingress"]
    assert grafana == {"enabled": True, "ingressClassName": "nginx", "annotations": tls,
                       "hosts": ["grafana.example.org"], "path": "/",
                       "tls": [{"hosts": ["grafana.example.org"], "secretName": "grafana-tls"}]}
    argo = items["argo-cd"].values
    assert argo["server"]["ingress"] == {"enabled": True, "ingressClassName": "nginx", "hostname": "cd.example.org",
                                         "annotations": tls, "tls": True}
    assert argo["global"]["domain"] == "cd.example.org"
    # Written once the controller (and its admission webhook) serves.
    assert "ingress-nginx" in items["keycloakx"].after and "ingress-nginx" in items["argo-cd"].after


def test_no_ingress_without_ingress_nginx_and_cert_manager():
    data = _everything()
    data["addons"]["certManager"] = {"enabled": False}
    items = _items(_plans(data))
    assert "ingress" not in items["keycloakx"].values
    assert "ingress" not in items["kube-prometheus-stack"].values["grafana"]
    assert "ingress" not in items["argo-cd"].values["server"]


def test_the_issuer_name_of_the_spec_is_annotated():
    data = _everything()
    data["addons"]["certManager"]["issuerName"] = "letsencrypt"
    items = _items(_plans(data))
    assert items["keycloakx"].values["ingress"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"


# -- 3. Volumes: a StorageClass on kubeadm, Vault's Raft cluster --------------

def test_kubeadm_gets_the_local_path_provisioner_that_volume_users_wait_for():
    items = _items(_plans(example_spec("prod")))
    lpp = items["local-path-provisioner"]
    assert (lpp.chart.chart, lpp.chart.repo) == ("local-path-provisioner", "https://rancher.github.io/local-path-provisioner")
    assert lpp.values["storageClass"] == {"create": True, "defaultClass": True, "name": "local-path",
                                          "reclaimPolicy": "Delete"}
    assert "local-path-provisioner" in items["vault"].after
    assert items["vault"].values["server"]["dataStorage"]["storageClass"] == "local-path"
    assert "local-path-provisioner" in items["keycloak/db"].after


def test_k3s_uses_its_bundled_local_path():
    items = _items(_plans(example_spec("budget")))
    assert "local-path-provisioner" not in items
    assert "local-path-provisioner" not in items["vault"].after
    assert items["vault"].values["server"]["dataStorage"]["storageClass"] == "local-path"


def test_storage_default_follows_the_spec():
    data = example_spec("prod")
    data["storage"] = {"class": "local-path", "default": False}
    assert _items(_plans(data))["local-path-provisioner"].values["storageClass"]["defaultClass"] is False


def test_rook_ceph_without_its_layout_is_rejected_before_volume_users_claim_it():
    data = example_spec("prod")
    data["storage"] = {"class": "rook-ceph"}
    # A spec rule: reported with every other problem, before anything is created.
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(data)
    (issue,) = [i for i in caught.value.issues if i.path.startswith("cluster.storage")]
    assert issue.path == "cluster.storage.rookCeph" and "groups" in issue.fix
    valid = parse_cluster_spec(example_spec("prod"))
    # Past the rule (a spec built in code): the plan itself refuses too.
    spec = valid.model_copy(update={"storage": valid.storage.model_copy(update={"storage_class": "rook-ceph"})})
    with pytest.raises(ValueError, match="addons.vault: storage.class 'rook-ceph' is not installed"):
        platform_plans(context_from_spec(spec))
    data["addons"]["vault"]["enabled"] = False
    data["addons"]["keycloak"]["enabled"] = False
    assert list(check_storage(parse_cluster_spec(example_spec("prod")))) == []


def test_vault_ha_raft_joins_every_server():
    raft = _items(_plans(example_spec("budget")))["vault"].values["server"]["ha"]["raft"]
    assert raft["enabled"] is True and raft["setNodeId"] is True
    config = raft["config"]
    assert 'storage "raft" {\n  path = "/vault/data"' in config
    for i in range(3):
        assert f'retry_join {{\n    leader_api_addr = "http://vault-{i}.vault-internal:8200"\n  }}' in config
    assert "vault-3" not in config and 'service_registration "kubernetes" {}' in config


def test_vault_standalone_has_no_raft_config():
    raft = _items(_plans(example_spec("prod")))["vault"].values["server"]["ha"]["raft"]
    assert raft == {"enabled": False}


def test_own_raft_config_in_the_escape_hatch_wins():
    data = example_spec("budget")
    data["addons"]["vault"]["values"] = {"server": {"ha": {"raft": {"config": "mine"}}}}
    assert _items(_plans(data))["vault"].values["server"]["ha"]["raft"]["config"] == "mine"


# -- 4. GitOps repository credentials ----------------------------------------

def test_argocd_ssh_repository_gets_a_repository_secret():
    plans = _plans(example_spec("budget"), **{gitops.REPO_SSH_KEY: "-----KEY-----"})
    items = _items(plans)
    repo = items["gitops/repo-credentials"].obj
    assert repo["metadata"]["namespace"] == "argocd"
    assert repo["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    assert repo["stringData"] == {"type": "git", "url": "git@github.com:example/infra.git",
                                  "sshPrivateKey": "-----KEY-----"}
    assert "gitops/repo-credentials" in items["gitops/root-app"].after
    assert "-----KEY-----" not in json.dumps(items["argo-cd"].values)


def test_https_repository_needs_no_credentials():
    data = example_spec("budget")
    data["addons"]["gitops"]["repoUrl"] = "https://git.example.org/infra.git"
    items = _items(_plans(data))
    assert "gitops/repo-credentials" not in items
    assert "gitops/repo-credentials" not in items["gitops/root-app"].after


def test_known_hosts_reach_argocd():
    data = example_spec("budget")
    data["addons"]["gitops"].update(repoUrl="git@git.example.org:infra.git",
                                    sshKnownHosts="git.example.org ssh-ed25519 AAAAC3Nza")
    values = _items(_plans(data))["argo-cd"].values
    assert values["configs"]["ssh"] == {"extraHosts": "git.example.org ssh-ed25519 AAAAC3Nza"}


def _flux_ssh() -> dict:
    data = example_spec("dev")
    data["addons"]["gitops"] = {"enabled": True, "tool": "flux", "repoUrl": "git@github.com:example/infra.git",
                                "sshKnownHosts": "github.com ssh-ed25519 AAAAC3Nza"}
    return data


def test_flux_ssh_repository_gets_a_secret_ref():
    items = _items(_plans(_flux_ssh(), **{gitops.REPO_SSH_KEY: "-----KEY-----"}))
    repo = items["gitops/git-repository"].obj["spec"]
    # Flux accepts only ssh:// URLs (its CRD's pattern).
    assert repo["url"] == "ssh://git@github.com/example/infra.git"
    assert repo["secretRef"] == {"name": "gitops-repo"}
    secret = items["gitops/repo-credentials"].obj
    assert secret["metadata"]["namespace"] == "flux-system"
    assert secret["stringData"] == {"identity": "-----KEY-----", "known_hosts": "github.com ssh-ed25519 AAAAC3Nza"}
    assert "gitops/repo-credentials" in items["gitops/git-repository"].after


def test_flux_over_ssh_needs_known_hosts():
    data = _flux_ssh()
    del data["addons"]["gitops"]["sshKnownHosts"]
    with pytest.raises(SpecError, match=r"cluster\.addons\.gitops: .*sshKnownHosts"):
        parse_cluster_spec(data)


@pytest.mark.parametrize("url,ssh", [("git@github.com:example/infra.git", True),
                                     ("ssh://git@git.example.org:2222/infra.git", True),
                                     ("https://github.com/example/infra.git", False),
                                     ("http://user@git.example.org/infra.git", False)])
def test_ssh_urls_are_recognised(url, ssh):
    from components.spec.platform import is_ssh_url

    assert is_ssh_url(url) is ssh
    if ssh:
        assert gitops.ssh_url(url).startswith("ssh://")


def test_the_repository_key_stays_a_pulumi_secret():
    """Even handed over as a plain Output, the key is written as a secret."""
    from components.platform.resources import manifest_object as _object
    from tests.stack_runner import run_components

    def program():
        ctx = _ctx(example_spec("budget"), **{gitops.REPO_SSH_KEY: pulumi.Output.from_input("-----KEY-----")})
        _object("repo", gitops.argocd_repository(ctx), pulumi.ResourceOptions())

    run = run_components(program)
    (secret,) = [r for r in run.resources if r.type == "kubernetes:core/v1:Secret"]
    assert secret.secret_paths == ["stringData"] and secret.inputs["stringData"]["sshPrivateKey"] == "-----KEY-----"


def test_ssh_repository_without_the_key_fails_before_anything_is_created():
    from stacks.config import GITOPS_REPO_SSH_KEY
    from tests.stack_runner import run_spec_with_secrets

    assert GITOPS_REPO_SSH_KEY == gitops.REPO_SSH_KEY_CONFIG == "gitopsRepoSshKey"
    with pytest.raises(Exception, match="set the secret config key gitopsRepoSshKey") as err:
        run_spec_with_secrets(example_spec("budget"), stack="budget")
    assert err.value.registered_resources == []
    # With the key, it reaches the repository Secret, a Pulumi secret, and nothing else.
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nDEPLOY KEY OF BUDGET\n-----END OPENSSH PRIVATE KEY-----\n"
    run = run_spec_with_secrets(example_spec("budget"), stack="budget", gitopsRepoSshKey=key)
    (repo,) = [r for r in run.resources if r.name.endswith("-gitops-repo-credentials")]
    assert repo.inputs["stringData"]["sshPrivateKey"] == key and repo.secret_paths == ["stringData"]
    assert leaks(run, "DEPLOY KEY OF BUDGET") == []


def test_the_offline_plan_stands_in_for_the_key():
    from stacks.config import as_runtime_config

    values, secret_keys = as_runtime_config({"cluster": {}})
    assert "sovereign-cloud:gitopsRepoSshKey" in values and "sovereign-cloud:gitopsRepoSshKey" in secret_keys
    values, _ = as_runtime_config({"gitopsRepoSshKey": {"secure": "v1:abc"}})
    assert values["sovereign-cloud:gitopsRepoSshKey"] == "<secret>"


# -- 5. The per-node sum counts every container the project causes ------------

def test_sidecars_and_bundled_pods_are_counted():
    data = _everything()
    ctx = context_from_spec(parse_cluster_spec(data))
    row = requests_per_node(ctx, platform_plans(ctx))[0]
    expected = {"prometheus-config-reloader", "alertmanager-config-reloader", "grafana-sc-dashboard",
                "grafana-sc-datasources", "metallb-frr", "metallb-frr-reloader", "metallb-frr-metrics",
                "cnpg-operator", "keycloak-postgres", "coredns", "metrics-server"}
    assert expected <= set(row.workloads)
    items = _items({p.name: p for p in platform_plans(ctx)})
    kps = items["kube-prometheus-stack"].values
    # Requests set in the values, where the chart reads them.
    assert kps["prometheusOperator"]["prometheusConfigReloader"]["resources"]["requests"]
    assert kps["grafana"]["sidecar"]["resources"]["requests"]
    speaker = items["metallb"].values["speaker"]
    assert all(speaker[c]["resources"]["requests"] for c in ("frr", "reloader", "frrMetrics"))


def test_sidecar_requests_are_read_from_the_final_values():
    data = _everything()
    ctx = context_from_spec(parse_cluster_spec(data))
    before = requests_per_node(ctx, platform_plans(ctx))[0].memory_mib
    data["addons"]["monitoring"]["values"] = {"grafana": {"sidecar": {"resources": {"requests": {"memory": "200Mi"}}}}}
    ctx = context_from_spec(parse_cluster_spec(data))
    after = requests_per_node(ctx, platform_plans(ctx))[0].memory_mib
    standard = memory_mib(PROFILES["standard"]["grafana-sidecar"][1])
    assert after == before + 2 * (200 - standard)  # two sidecar containers


def test_bundled_pods_follow_the_distribution():
    assert {b.name for b in BUNDLED["k3s"]} == {"coredns", "metrics-server"}
    (dns,) = BUNDLED["kubeadm"]
    assert (dns.name, dns.replicas, dns.memory) == ("coredns", 2, "70Mi")
    ctx = context_from_spec(parse_cluster_spec(example_spec("dev")))
    (row,) = requests_per_node(ctx, platform_plans(ctx))
    assert {"coredns", "metrics-server"} <= set(row.workloads)
    # One node: CoreDNS's two kubeadm replicas both land on it.
    data = example_spec("dev")
    data.update(distribution="kubeadm", version="1.31.4")
    ctx = context_from_spec(parse_cluster_spec(data))
    (row,) = requests_per_node(ctx, platform_plans(ctx))
    assert "corednsx2" in row.workloads and "metrics-server" not in row.workloads
    assert "local-path-provisioner" in row.workloads


# -- 6. Alertmanager receivers -------------------------------------------------

def _monitoring(**alertmanager) -> dict:
    data = example_spec("dev")
    data["addons"]["monitoring"] = {"enabled": True, **({"alertmanager": alertmanager} if alertmanager else {})}
    return data


def test_alertmanager_keeps_the_null_receiver_by_default():
    values = _items(_plans(_monitoring()))["kube-prometheus-stack"].values["alertmanager"]
    assert "config" not in values


def test_alertmanager_sends_to_the_webhook_and_mail_of_the_spec():
    data = _monitoring(webhookUrl="https://hooks.example.org/alerts",
                       email={"to": "ops@example.org", "from": "alerts@example.org",
                              "smarthost": "smtp.example.org:587"})
    config = _items(_plans(data))["kube-prometheus-stack"].values["alertmanager"]["config"]
    assert config["route"] == {"receiver": "sovereign"}
    null, receiver = config["receivers"]
    assert null == {"name": "null"}  # the chart's Watchdog route still points there
    assert receiver == {
        "name": "sovereign",
        "webhook_configs": [{"url": "https://hooks.example.org/alerts", "send_resolved": True}],
        "email_configs": [{"to": "ops@example.org", "from": "alerts@example.org", "smarthost": "smtp.example.org:587",
                           "require_tls": True, "send_resolved": True}],
    }


@pytest.mark.parametrize("alertmanager,path", [
    ({"webhookUrl": "hooks.example.org"}, "addons.monitoring.alertmanager.webhookUrl"),
    ({"email": {"to": "ops@example.org", "from": "alerts@example.org", "smarthost": "smtp.example.org"}},
     "addons.monitoring.alertmanager.email.smarthost"),
    ({"email": {"to": "nobody", "from": "alerts@example.org", "smarthost": "smtp.example.org:25"}},
     "addons.monitoring.alertmanager.email.to"),
])
def test_bad_alertmanager_settings_name_the_field(alertmanager, path):
    with pytest.raises(SpecError) as err:
        parse_cluster_spec(_monitoring(**alertmanager))
    assert f"cluster.{path}" in str(err.value)


# -- 7. Scrapes that cannot work here -----------------------------------------

@pytest.mark.parametrize("stack", ["prod", "budget"])
def test_unreachable_control_plane_scrapes_are_off(stack):
    data = example_spec(stack)
    data["addons"]["monitoring"] = {"enabled": True}
    values = _items(_plans(data))["kube-prometheus-stack"].values
    for part in ("kubeControllerManager", "kubeScheduler", "kubeProxy"):
        assert values[part] == {"enabled": False}, part
    assert values["kubeEtcd"]["enabled"] is True  # etcd is scraped where it listens


# -- the whole thing under the Platform component ------------------------------

def test_everything_installs_in_order_under_the_platform():
    run = run_platform(_everything())
    rel = releases(run)
    assert {"cloudnative-pg", "keycloakx", "kube-prometheus-stack", "metallb", "argo-cd"} <= set(rel)
    assert by_key(run, "keycloak-db").urn in rel["keycloakx"].dependencies
    assert rel["cloudnative-pg"].urn in by_key(run, "keycloak-db").dependencies
    assert rel["ingress-nginx"].urn in rel["keycloakx"].dependencies
    assert rel["metallb"].inputs["values"]["prometheus"]["serviceAccount"] == monitoring.PROMETHEUS_SERVICE_ACCOUNT
    assert keycloak.secret_names(_ctx(_everything()))[-1] == "keycloak-db-password"
    assert storage.provisioner_needed(parse_cluster_spec(example_spec("prod")))
    assert vault.raft_config(1).count("retry_join") == 1


@pytest.mark.parametrize("build", [_flux_ssh, _everything], ids=["flux-ssh", "everything"])
def test_new_objects_pass_the_schemas(build):
    """The variants the schema suite does not run (Flux over SSH), and the
    new objects of the rest (the CloudNativePG Cluster, basic-auth and
    repository Secrets)."""
    from tests.unit.platform_support import written_objects
    from tests.unit.test_schema_platform_objects import require_crd_schemas, validate_object

    require_crd_schemas()
    data = build()
    run = run_platform(data)
    objects = written_objects(run)
    kinds = {(o["apiVersion"], o["kind"]) for _, o in objects}
    assert ("v1", "Secret") in kinds
    if build is _everything:
        assert ("postgresql.cnpg.io/v1", "Cluster") in kinds
    version = ".".join(map(str, parse_cluster_spec(data).kubernetes_version))
    for _, obj in objects:
        validate_object(obj, version)
