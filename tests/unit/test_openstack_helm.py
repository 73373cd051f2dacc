"""OpenStack-Helm on Rook-Ceph (issue 14): seed 001's Mini W'aaS.

The whole program runs the ``minwaas`` example stack under mocks: the chart
order as Pulumi dependencies, the node labels derived from the node
groups, requests on in every chart, the Ceph pools, Keystone and Horizon
behind Keycloak, the exporter and its alerts, the per-node memory table,
the refusals, and every object the component writes validated against
its schema.
"""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest

from components.openstack import charts as os_charts
from components.openstack.labels import COMPUTE, CONTROL_PLANE, OPENVSWITCH, role_groups
from components.openstack.memory import HEADROOM_MIB
from components.openstack.plan import memory_table
from components.platform.values import get_path, memory_mib
from components.spec import catalog_for, parse_cluster_spec
from components.spec import SpecError
from components.spec.cluster import ClusterSpec
from tests.stack_runner import example_spec, run_spec, spec_issues
from tests.unit.platform_support import RELEASE, written_objects
from tests.unit.test_schema_platform_objects import require_crd_schemas, validate_object

OSH_CHARTS = ("rabbitmq", "mariadb", "memcached", "keystone", "glance", "placement", "nova", "neutron", "cinder",
              "horizon", "libvirt", "openvswitch", "ceph-adapter-rook")
# Seed 001's list, in its order.
SEED_ORDER = ("rabbitmq", "mariadb", "memcached", "keystone", "glance", "placement", "nova", "neutron", "cinder",
              "horizon", "libvirt", "openvswitch")
KUBERNETES_VERSION = "1.33.2"


@pytest.fixture(scope="module")
def run():
    return run_spec(example_spec("minwaas"), stack="minwaas")


def _releases(run) -> dict:
    """OpenStack's releases (name -> registered), the platform's left out."""
    return {r.inputs["name"]: r for r in run.of_type(RELEASE) if r.name.startswith("minwaas-openstack-")}


def _urn(run, name: str) -> str:
    return next(r.urn for r in run.resources if r.name == name)


def _depends(run, releases: dict) -> dict[str, set[str]]:
    """release -> every release it waits for, directly or through others."""
    by_urn = {r.urn: n for n, r in releases.items()}
    direct = {n: {by_urn[u] for u in r.dependencies if u in by_urn} for n, r in releases.items()}
    closure: dict[str, set[str]] = {}

    def walk(name: str) -> set[str]:
        if name not in closure:
            closure[name] = set()
            for d in direct[name]:
                closure[name] |= {d} | walk(d)
        return closure[name]

    return {n: walk(n) for n in releases}


# -- charts, versions, order ----------------------------------------------------

def test_every_chart_of_seed_001_is_pinned_to_one_release(run):
    releases = _releases(run)
    assert set(OSH_CHARTS) | {"prometheus-openstack-exporter", "openstack-ingress"} == set(releases)
    for name in OSH_CHARTS:
        inputs = releases[name].inputs
        assert inputs["chart"] == name and inputs["version"] == "2025.2.0", name
        assert inputs["repositoryOpts"]["repo"] == "https://tarballs.opendev.org/openstack/openstack-helm"
        assert inputs["namespace"] == "openstack"
    # The namespaced ingress controller OpenStack-Helm's "public" Services select: the platform's pinned chart.
    assert releases["openstack-ingress"].inputs["version"] == "4.13.2"


def test_chart_order_is_expressed_by_resource_dependencies(run):
    releases = _releases(run)
    after = _depends(run, releases)
    must = {
        "keystone": {"rabbitmq", "mariadb", "memcached"},
        "glance": {"keystone", "ceph-adapter-rook"},
        "placement": {"keystone"},
        "cinder": {"keystone", "ceph-adapter-rook"},
        # nova-compute waits on its node for libvirt and neutron's OVS agent,
        # which waits for Open vSwitch: those come first.
        "libvirt": {"openvswitch", "ceph-adapter-rook"},
        "nova": {"placement", "glance", "libvirt", "keystone"},
        "neutron": {"nova", "openvswitch", "keystone"},
        "horizon": {"keystone"},
        "prometheus-openstack-exporter": {"keystone"},
    }
    for chart, before in must.items():
        assert before <= after[chart], (chart, before - after[chart])
    # Seed 001's order holds wherever one chart needs another, but for the
    # compute kit's backends, which nova and neutron need on their nodes.
    seed = [c for c in SEED_ORDER if c not in ("libvirt", "openvswitch")]
    for i, later in enumerate(seed):
        for earlier in seed[:i]:
            assert later not in after[earlier], f"{earlier} must not wait for {later}"
    # Everything after the platform (Rook's Ceph cluster, Keycloak, cert-manager...) and the node labels.
    (ceph,) = [r.urn for r in run.of_type(RELEASE) if r.inputs["name"] == "rook-ceph-cluster"]
    (keycloak,) = [r.urn for r in run.of_type(RELEASE) if r.inputs["name"] == "keycloakx"]
    labels = _urn(run, "minwaas-openstack-labels-k1")
    assert all({ceph, keycloak, labels} <= set(r.dependencies) for r in releases.values())


def test_only_the_cyclic_pair_is_installed_without_waiting(run):
    releases = _releases(run)
    for name, r in releases.items():
        waits = name not in ("nova", "libvirt")
        assert r.inputs["atomic"] is waits and r.inputs.get("skipAwait", False) is (not waits), name


def test_pools_exist_before_the_services_that_use_them(run):
    releases = _releases(run)
    for chart, pool in (("glance", "images"), ("cinder", "volumes"), ("nova", "vms")):
        assert _urn(run, f"minwaas-openstack-pool-{pool}") in releases[chart].dependencies


# -- requests, memory --------------------------------------------------------------

def test_resource_requests_are_on_in_every_openstack_chart(run):
    releases = _releases(run)
    for pod in os_charts.pods(parse_cluster_spec(example_spec("minwaas"))):
        values = releases[pod.chart].inputs["values"]
        if pod.chart != "openstack-ingress":
            assert values["pod"]["resources"]["enabled"] is True, pod.chart
        requests = get_path(values, pod.path)["requests"]
        assert memory_mib(requests["memory"]) > 0 and requests["cpu"], pod.name
    # The chart defaults that would not fit 4 GB: MariaDB's 1 GiB buffer pool, memcached's 1 GiB.
    assert "innodb_buffer_pool_size=64M" in releases["mariadb"].inputs["values"]["conf"]["database"]["config_override"]
    assert releases["memcached"].inputs["values"]["conf"]["memcached"]["memory"] == 64


def issues_at(spec: dict, path: str) -> list[str]:
    """Every "message | fix" reported at ``path`` (several issues may share one)."""
    with pytest.raises(SpecError) as caught:
        parse_cluster_spec(spec)
    return [f"{i.message} | {i.fix}" for i in caught.value.issues if i.path == path]


def _minwaas():
    data = example_spec("minwaas")
    return parse_cluster_spec(data), catalog_for(data)


def test_every_4gb_node_keeps_headroom_with_everything_placed():
    table = memory_table(*_minwaas())
    assert table.unplaced == []
    assert len(table.rows) == 12
    for row in table.rows:
        assert row.capacity_mib == 4096 - 1224, row
        assert row.left_mib >= HEADROOM_MIB, row.to_dict()
    # The figures docs/openstack-helm.md quotes (regression guard).
    worst = {g: min(r.left_mib for r in table.rows if r.group == g) for g in ("ctrl", "compute", "ceph")}
    assert worst == {"ctrl": 304.0, "compute": 544.0, "ceph": 280.0}


def test_compute_nodes_hold_the_agents_and_the_instances_memory():
    table = memory_table(*_minwaas())
    c1, k1, s1 = table.row("c1"), table.row("k1"), table.row("s1")
    assert {"libvirt", "nova-compute", "neutron-ovs-agent", "openvswitch-vswitchd", "vm-reservation"} <= set(c1.pods)
    assert not {"nova-compute", "vm-reservation"} & set(k1.pods)
    assert {"neutron-l3-agent", "neutron-dhcp-agent", "ceph-mon"} <= set(k1.pods)
    control = {"keystone-api", "mariadb-server", "rabbitmq", "nova-api-osapi", "neutron-server", "glance-api"}
    placed = {p for n in ("k1", "k2", "k3") for p in table.row(n).pods}
    assert control <= placed
    assert not control & {p for r in table.rows if r.group != "ctrl" for p in r.pods}
    # The Ceph hosts carry their OSDs and node agents, nothing of OpenStack.
    assert s1.pods.count("ceph-osd") == 2 and not set(s1.pods) & {"nova-compute", "keystone-api", "libvirt"}


def test_nova_keeps_the_host_memory_and_a_placeholder_requests_the_instances_memory(run):
    nova = _releases(run)["nova"].inputs["values"]["conf"]["nova"]["DEFAULT"]
    assert nova["reserved_host_memory_mb"] == 4096 - 1024 and nova["ram_allocation_ratio"] == 1.0
    (ds,) = [r for r in run.resources if r.name == "minwaas-openstack-vm-memory-reservation"]
    pod = ds.inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {COMPUTE: "enabled"}
    assert pod["containers"][0]["resources"]["requests"]["memory"] == "1Gi"
    assert pod["priorityClassName"] == "sovereign-platform-critical"


def test_the_standard_profile_is_refused_and_says_what_does_not_fit():
    spec = example_spec("minwaas")
    spec["addons"]["profile"] = "standard"
    messages = issues_at(spec, "cluster.addons.profile")
    # Ceph's own refusal (4 GiB OSDs) and OpenStack's, together.
    assert any("OSD(s) of 4096 MiB" in m for m in messages)
    (unplaced,) = [m for m in messages if m.startswith("does not fit")]
    # The control services that find no room, named with their requests.
    for pod in ("mariadb-server", "neutron-server", "keystone-api", "nova-api-osapi"):
        assert re.search(rf"{pod}( x\d+)? \(\d+ MiB\)", unplaced), unplaced
    assert "profile standard" in unplaced and "addons.profile: small" in unplaced.split("|")[1]


def test_an_escape_hatch_is_counted_and_what_does_not_fit_is_named():
    spec = example_spec("minwaas")
    spec["openstack"]["values"] = {"mariadb": {"pod": {"resources": {"server": {"requests": {"memory": "3Gi"}}}}}}
    (unplaced,) = [m for m in issues_at(spec, "cluster.addons.profile") if m.startswith("does not fit")]
    assert "no node has room for mariadb-server (3072 MiB)" in unplaced


def test_an_ha_control_plane_does_not_fit_three_4gb_nodes():
    spec = example_spec("minwaas")
    values = {c: {"pod": {"replicas": {"api": 2}}} for c in ("keystone", "glance", "placement", "cinder")}
    values |= {"nova": {"pod": {"replicas": {"osapi": 2, "conductor": 2, "scheduler": 2, "api_metadata": 2}}},
               "neutron": {"pod": {"replicas": {"server": 2}}}, "mariadb": {"pod": {"replicas": {"server": 3}}},
               "rabbitmq": {"pod": {"replicas": {"server": 3}}}}
    spec["openstack"]["values"] = values
    messages = issues_at(spec, "cluster.addons.profile")
    (unplaced,) = [m for m in messages if m.startswith("does not fit")]
    assert "nova-conductor x2" in unplaced
    # Already small: the fix does not suggest it again.
    assert "addons.profile: small" not in unplaced.split("|")[1] and "replicas" in unplaced.split("|")[1]


def test_too_much_memory_for_instances_is_refused():
    spec = example_spec("minwaas")
    spec["openstack"]["compute"]["vmMemory"] = "2560Mi"
    short = [m for m in issues_at(spec, "cluster.addons.profile") if " keeps " in m]
    assert {f"node c{i}" for i in range(1, 7)} <= {m.split(" keeps")[0] for m in short}
    assert all("headroom" in m for m in short)
    spec["openstack"]["compute"]["vmMemory"] = "3Gi"
    assert "leaves nothing" in spec_issues(spec)["cluster.openstack.compute.vmMemory"]


# -- labels -----------------------------------------------------------------------

def test_node_labels_are_derived_from_the_node_groups(run):
    spec, _ = _minwaas()
    roles = role_groups(spec)
    assert (roles.control_plane, roles.compute, roles.openvswitch) == (("ctrl",), ("compute",), ("ctrl", "compute"))
    patches = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
               for r in run.resources if r.type == "kubernetes:core/v1:NodePatch"}
    assert patches["k1"] == {CONTROL_PLANE: "enabled", OPENVSWITCH: "enabled"}
    assert patches["c6"] == {COMPUTE: "enabled", OPENVSWITCH: "enabled"}
    # The Ceph hosts (OSD group, tainted) get none.
    assert not {"s1", "s2", "s3"} & set(patches) and len(patches) == 9


def test_labels_in_the_spec_or_explicit_groups_win_over_roles():
    spec = example_spec("minwaas")
    # A group labelled in the spec carries the role, in place of the derivation.
    spec["nodeGroups"]["ctrl"]["labels"] = {COMPUTE: "enabled"}
    roles = role_groups(ClusterSpec.model_validate(spec))
    assert roles.compute == ("ctrl",) and COMPUTE not in roles.derived
    assert CONTROL_PLANE in roles.derived and roles.control_plane == ("ctrl",)
    # A list in openstack.* wins over both.
    spec["openstack"]["computeGroups"] = ["compute"]
    assert role_groups(ClusterSpec.model_validate(spec)).compute == ("compute",)


# -- storage -----------------------------------------------------------------------

def test_glance_cinder_and_nova_use_their_rbd_pools(run):
    values = {n: r.inputs["values"] for n, r in _releases(run).items()}
    assert values["glance"]["storage"] == "rbd"
    assert values["glance"]["conf"]["glance"]["rbd"]["rbd_store_pool"] == "images"
    assert values["cinder"]["conf"]["backends"]["rbd1"]["rbd_pool"] == "volumes"
    libvirt = values["nova"]["conf"]["nova"]["libvirt"]
    assert (libvirt["images_type"], libvirt["images_rbd_pool"], libvirt["rbd_user"]) == ("rbd", "vms", "cinder")
    uuid = values["nova"]["conf"]["ceph"]["cinder"]["secret_uuid"]
    assert values["libvirt"]["conf"]["ceph"]["cinder"]["secret_uuid"] == uuid
    assert values["cinder"]["conf"]["backends"]["rbd1"]["rbd_secret_uuid"] == uuid
    # Volumes of MariaDB and RabbitMQ on the cluster's RBD class; the adapter points at Rook's namespace.
    assert values["mariadb"]["volume"]["class_name"] == values["rabbitmq"]["volume"]["class_name"] == "replicated"
    assert values["ceph-adapter-rook"]["ceph_cluster_namespace"] == "rook-ceph"


def test_the_pools_are_replicated_like_the_cluster(run):
    pools = {o["metadata"]["name"]: o for _, o in written_objects(run) if o["kind"] == "CephBlockPool"}
    for name in ("images", "volumes", "vms"):
        assert pools[name]["metadata"]["namespace"] == "rook-ceph"
        assert pools[name]["spec"]["failureDomain"] == "host"
        assert pools[name]["spec"]["replicated"]["size"] == 3
    nova = _releases(run)["nova"].inputs["values"]
    assert nova["rbd_pool"]["replication"] == 3


def test_the_rook_toolbox_is_required_for_the_adapter():
    spec = example_spec("minwaas")
    del spec["storage"]["rookCeph"]["values"]["toolbox"]
    assert "toolbox" in spec_issues(spec)["cluster.storage.rookCeph.values.toolbox"]


# -- SSO -----------------------------------------------------------------------------

def _secret_value(run, name: str) -> str:
    return next(r for r in run.resources if r.name == name).outputs["result"]


def test_keystone_and_horizon_sign_in_through_keycloak(run):
    releases = _releases(run)
    keystone = releases["keystone"].inputs["values"]
    wsgi = keystone["conf"]["wsgi_keystone"]
    assert "OIDCProviderMetadataURL https://sso.waas.example/realms/waas/.well-known/openid-configuration" in wsgi
    assert "OIDCClientID keystone" in wsgi and "OIDCRedirectURI https://keystone.cloud.waas.example/redirect_uri" in wsgi
    assert "<secret:" not in wsgi and not re.search(r"@[A-Z_]+@", wsgi)
    # The client secret is the Keycloak add-on's random secret, the same in Keycloak's realm.
    client_secret = _secret_value(run, "minwaas-platform-keycloak-keystone")
    assert f"OIDCClientSecret {client_secret}" in wsgi
    (realm_secret,) = [r for r in run.resources if r.name == "minwaas-platform-keycloak-realm"]
    realm = json.loads(realm_secret.inputs["stringData"]["realm.json"])
    (client,) = [c for c in realm["clients"] if c["clientId"] == "keystone"]
    assert client["secret"] == client_secret
    assert client["redirectUris"] == ["https://keystone.cloud.waas.example/redirect_uri"]
    # Federation: the openid method, Horizon trusted, the IdP registered by the bootstrap script.
    conf = keystone["conf"]["keystone"]
    assert "openid" in conf["auth"]["methods"].split(",")
    assert conf["federation"]["trusted_dashboard"]["values"] == ["https://horizon.cloud.waas.example/auth/websso/"]
    assert "export ISSUER=https://sso.waas.example/realms/waas" in keystone["bootstrap"]["script"]
    assert keystone["images"]["tags"]["keystone_api"].startswith("registry.waas.example/openstack/keystone-oidc:")
    horizon = releases["horizon"].inputs["values"]["conf"]["horizon"]["local_settings"]["config"]
    assert horizon["auth"]["sso"]["enabled"] is True
    assert horizon["auth"]["idp_mapping"] == [{"name": "keycloak", "label": "Keycloak", "idp": "keycloak",
                                               "protocol": "openid"}]


def test_sso_needs_keycloak_a_domain_and_an_oidc_image_all_reported_at_once():
    spec = example_spec("minwaas")
    spec["addons"]["keycloak"] = {"enabled": False}
    spec["openstack"].pop("domain")
    spec["openstack"]["sso"].pop("keystoneImage")
    spec["openstack"]["services"] = {"exporter": True}
    spec["addons"]["monitoring"]["enabled"] = False
    sso = issues_at(spec, "cluster.openstack.sso.enabled")
    assert any("addons.keycloak" in m for m in sso) and any("openstack.domain" in m for m in sso)
    issues = spec_issues(spec)
    assert "mod_auth_openidc" in issues["cluster.openstack.sso.keystoneImage"]
    assert "addons.monitoring" in issues["cluster.openstack.services.exporter"]


def test_credentials_are_random_and_stay_secret(run):
    releases = _releases(run)
    admin = _secret_value(run, "minwaas-openstack-openstack-ks-admin")
    assert releases["keystone"].inputs["values"]["endpoints"]["identity"]["auth"]["admin"]["password"] == admin
    assert releases["nova"].inputs["values"]["endpoints"]["identity"]["auth"]["admin"]["password"] == admin
    with_secrets = 0
    for name, r in releases.items():
        text = json.dumps(r.inputs["values"])
        assert "<secret:" not in text and '"password": "password"' not in text, name
        if os_charts.secrets_in(os_charts.chart_values(_inputs(), name)):
            with_secrets += 1
            assert r.shown_inputs["values"] == "[secret]", name
    assert with_secrets >= 9
    # Nowhere in what the plan prints.
    assert admin not in json.dumps([r.shown_inputs for r in run.resources])


def _inputs():
    from components.openstack.plan import inputs_from_spec

    spec, catalog = _minwaas()
    return inputs_from_spec(spec, catalog, 1370)


# -- exposure, monitoring --------------------------------------------------------------

def test_public_hosts_through_the_cluster_ingress_with_certificates(run):
    releases = _releases(run)
    keystone = releases["keystone"].inputs["values"]
    public = keystone["endpoints"]["identity"]["host_fqdn_override"]["public"]
    assert public["host"] == "keystone.cloud.waas.example"
    assert keystone["network"]["api"]["ingress"]["classes"] == {"namespace": "nginx-openstack", "cluster": "nginx"}
    certs = {o["spec"]["secretName"]: o for _, o in written_objects(run) if o["kind"] == "Certificate"
             and o["metadata"].get("namespace") == "openstack"}
    assert certs["keystone-tls-public"]["spec"]["dnsNames"] == ["keystone.cloud.waas.example"]
    assert keystone["secrets"]["tls"]["identity"]["api"]["public"] == "keystone-tls-public"
    assert {"horizon-tls-public", "nova-tls-public", "neutron-tls-public"} <= set(certs)
    # The cluster's ingress-nginx sits behind a MetalLB address (seed 001).
    (ingress,) = [r for r in run.of_type(RELEASE) if r.inputs["name"] == "ingress-nginx"]
    assert ingress.inputs["values"]["controller"]["service"]["type"] == "LoadBalancer"


def test_exporter_monitor_and_alerts(run):
    objects = {o["kind"]: o for _, o in written_objects(run) if o.get("metadata", {}).get("namespace") == "openstack"
               and o["kind"] in ("ServiceMonitor", "PrometheusRule")}
    monitor = objects["ServiceMonitor"]
    assert monitor["spec"]["selector"]["matchLabels"] == {"release_group": "prometheus-openstack-exporter"}
    alerts = {r["alert"]: r for g in objects["PrometheusRule"]["spec"]["groups"] for r in g["rules"]}
    assert alerts["OpenStackApiDown"]["expr"] == '{__name__=~"openstack_check_.+_api"} == 0'
    assert "cinder_(scheduler|volume)" in alerts["OpenStackServiceDown"]["expr"]
    assert {"OpenStackExporterAbsent", "OpenStackHypervisorMemoryLow"} <= set(alerts)
    (exporter,) = [r for n, r in _releases(run).items() if n == "prometheus-openstack-exporter"]
    assert _urn(run, "minwaas-openstack-prometheus-openstack-exporter") in next(
        r for r in run.resources if r.name == "minwaas-openstack-monitoring-servicemonitor").dependencies
    # Seed 001: goldpinger and the 200 MB available-memory alert of the monitoring add-on.
    platform = {r.inputs["name"] for r in run.of_type(RELEASE)}
    assert "goldpinger" in platform
    (rule,) = [o for _, o in written_objects(run) if o["kind"] == "PrometheusRule"
               and o["metadata"]["name"] == "sovereign-cloud-alerts"]
    (memory,) = [r for g in rule["spec"]["groups"] for r in g["rules"] if r["alert"] == "NodeAvailableMemoryLow"]
    assert memory["expr"] == "node_memory_MemAvailable_bytes < 200 * 1024 * 1024"


def test_every_object_the_component_writes_is_schema_valid(run):
    require_crd_schemas()
    mine = [(r, o) for r, o in written_objects(run) if r.name.startswith("minwaas-openstack-")]
    kinds = {o["kind"] for _, o in mine}
    assert {"CephBlockPool", "Certificate", "ServiceMonitor", "PrometheusRule", "DaemonSet", "Namespace",
            "Node"} <= kinds
    for registered, obj in mine:
        validate_object(obj, KUBERNETES_VERSION)


def test_the_schema_check_catches_a_broken_pool(run):
    require_crd_schemas()
    pool = copy.deepcopy(next(o for _, o in written_objects(run) if o["kind"] == "CephBlockPool"))
    pool["spec"]["replicated"]["size"] = "three"
    with pytest.raises(jsonschema.ValidationError, match="size"):
        validate_object(pool, KUBERNETES_VERSION)


# -- refusals --------------------------------------------------------------------------

def test_kubernetes_outside_the_release_range_is_refused():
    spec = example_spec("minwaas")
    spec["version"] = "v1.31.4+k3s1"
    issue = spec_issues(spec)["cluster.version"]
    assert ">=1.33,<=1.35" in issue and "2025.2" in issue and "v1.33" in issue.split("|")[1]
    spec["version"] = "v1.36.0+k3s1"
    assert ">=1.33,<=1.35" in spec_issues(spec)["cluster.version"]


def test_every_refusal_of_the_layout_at_once():
    spec = example_spec("minwaas")
    spec["storage"] = {"class": "local-path"}
    spec["openstack"] |= {"release": "2024.1", "computeGroups": ["ceph", "nope"], "values": {"keystonee": {}}}
    expected = {"cluster.openstack.release": "not pinned", "cluster.openstack.enabled": "rook-ceph",
                "cluster.openstack.computeGroups": "nope", "cluster.openstack.values.keystonee": "keystone"}
    issues = spec_issues(spec)
    assert {path: fragment in issues.get(path, "") for path, fragment in expected.items()} == \
        dict.fromkeys(expected, True), issues


def _ceph_as_compute(spec):
    spec["openstack"] |= {"computeGroups": ["ceph"], "openvswitchGroups": ["ctrl", "ceph"]}


def _no_memory(spec):
    spec["nodeGroups"]["compute"].pop("memoryGb")


def _no_ovs_on_compute(spec):
    spec["openstack"]["openvswitchGroups"] = ["ctrl"]


@pytest.mark.parametrize("change,path,fragment", [
    (_ceph_as_compute, "cluster.openstack.computeGroups", "tainted"),
    (_no_memory, "cluster.nodeGroups.compute.memoryGb", "memoryGb"),
    (_no_ovs_on_compute, "cluster.openstack.openvswitchGroups", "compute"),
], ids=["tainted-compute", "memory-unknown", "no-ovs-on-compute"])
def test_groups_that_cannot_carry_their_role_are_refused(change, path, fragment):
    spec = example_spec("minwaas")
    change(spec)
    assert fragment in spec_issues(spec)[path]


def test_memory_gb_is_for_existing_hosts_only():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["memoryGb"] = 4
    assert "existing hosts only" in spec_issues(spec)["cluster.nodeGroups.main"]


def test_disabled_openstack_changes_nothing():
    spec = example_spec("minwaas")
    spec["openstack"] = {"enabled": False}
    run = run_spec(spec, stack="minwaas")
    assert not [r for r in run.resources if r.name.startswith("minwaas-openstack")]
    assert not [r for r in run.resources if "keycloak-keystone" in r.name]


def test_the_plan_prints_the_memory_table_and_its_json():
    import subprocess
    import sys

    from stacks.config import REPO_ROOT

    result = subprocess.run([sys.executable, "-m", "stacks", "plan", "minwaas", "--json"], capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    section = json.loads(result.stdout)["openstack_memory"]
    assert section["profile"] == "small" and section["unplaced"] == []
    assert len(section["nodes"]) == 12 and min(n["left_mib"] for n in section["nodes"]) >= HEADROOM_MIB
