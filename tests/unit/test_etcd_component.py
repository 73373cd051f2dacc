"""The external etcd component (components/cluster/etcd) under mocks: its
PKI (real keys and certificates from the plan's fakes), the secrecy of every
private key, each member's etcd configuration, the order of the members and
their removal, and the snapshot schedule's period."""

from __future__ import annotations

import base64
from pathlib import Path

import pulumi
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from components.cluster.contract import ETCD_METRICS_PORT
from components.cluster.etcd import ExternalEtcd
from components.cluster.etcd.config import CLIENT_PORT, PEER_PORT, member_config
from components.cluster.etcd.schedule import interval_seconds
from components.spec import catalog_for, parse_cluster_spec
from stacks.sovereign import build_cloud
from tests.stack_runner import SSH_KEY_FOR_TESTS, example_spec, run_components, run_spec

from .cluster_support import additional_secret_outputs, deps, leaks, param, plain_text

ETCD_NODES = ["etcd-gra-1", "etcd-fsn-1", "etcd-paris-1"]
SCRIPTS = Path(__file__).resolve().parents[2] / "components" / "cluster" / "etcd" / "scripts"
SERVER_AUTH, CLIENT_AUTH = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


@pytest.fixture(scope="module")
def run():
    return run_spec(example_spec("prod"), stack="prod")


@pytest.fixture(scope="module")
def mesh_ips(run) -> dict[str, str]:
    return {n["name"]: n["mesh_ip"] for n in run.outputs["nodes"]}


def cert_of(run, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(run.named(name).outputs["certPem"].encode())


def ca(run) -> x509.Certificate:
    return cert_of(run, "prod-etcd-ca")


def stdin_values(resource) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (line.split("=", 1) for line in resource.inputs["stdin"].splitlines())}


def extended_usages(cert: x509.Certificate) -> set:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def san_ips(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}


def assert_leaf_signed_by_the_ca(run, cert: x509.Certificate) -> None:
    cert.verify_directly_issued_by(ca(run))  # raises on a wrong issuer or a bad signature
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def public_bytes(key_or_cert) -> bytes:
    public = key_or_cert.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(key_pem: str, cert_pem: str) -> bool:
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    return public_bytes(key) == public_bytes(x509.load_pem_x509_certificate(cert_pem.encode()))


# -- PKI -------------------------------------------------------------------


def test_the_ca_is_a_self_signed_certificate_authority(run):
    cert = ca(run)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)


def test_server_certificates_name_their_member_and_serve_tls(run, mesh_ips):
    for node in ETCD_NODES:
        cert = cert_of(run, f"prod-etcd-{node}-server-cert")
        assert_leaf_signed_by_the_ca(run, cert)
        # Its own mesh IP (where it listens) and loopback (local etcdctl), no other member's.
        assert san_ips(cert) == {mesh_ips[node], "127.0.0.1"}
        assert SERVER_AUTH in extended_usages(cert)
        assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature


def test_peer_certificates_authenticate_both_ways(run, mesh_ips):
    for node in ETCD_NODES:
        cert = cert_of(run, f"prod-etcd-{node}-peer-cert")
        assert_leaf_signed_by_the_ca(run, cert)
        assert mesh_ips[node] in san_ips(cert)
        assert {m for n, m in mesh_ips.items() if n != node} & san_ips(cert) == set()
        assert extended_usages(cert) >= {SERVER_AUTH, CLIENT_AUTH}


def test_client_certificates_are_for_clients_only(run):
    for role, common_name in [("apiserver", "kube-apiserver-etcd-client"), ("healthcheck", "etcd-healthcheck-client")]:
        cert = cert_of(run, f"prod-etcd-client-{role}-cert")
        assert_leaf_signed_by_the_ca(run, cert)
        assert extended_usages(cert) == {CLIENT_AUTH}
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == common_name
        with pytest.raises(x509.ExtensionNotFound):
            cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_each_member_gets_its_own_certificates_and_matching_keys(run, mesh_ips):
    ca_pem = run.named("prod-etcd-ca").outputs["certPem"]
    for node in ETCD_NODES:
        values = stdin_values(run.named(f"prod-etcd-{node}-etcd"))
        assert values["CA"] == ca_pem
        assert values["SERVER_CERT"] == run.named(f"prod-etcd-{node}-server-cert").outputs["certPem"]
        assert values["PEER_CERT"] == run.named(f"prod-etcd-{node}-peer-cert").outputs["certPem"]
        assert values["CLIENT_CERT"] == run.named("prod-etcd-client-healthcheck-cert").outputs["certPem"]
        for cert, key in [("SERVER_CERT", "SERVER_KEY"), ("PEER_CERT", "PEER_KEY"), ("CLIENT_CERT", "CLIENT_KEY")]:
            assert key_matches(values[key], values[cert]), f"{node}: {key} is not the key of {cert}"


def test_kube_apiserver_gets_the_apiserver_client_certificate(run):
    values = stdin_values(run.named("prod-cp-paris-1-kubeadm-init"))
    assert values["ETCD_CA"] == run.named("prod-etcd-ca").outputs["certPem"]
    assert values["ETCD_CERT"] == run.named("prod-etcd-client-apiserver-cert").outputs["certPem"]
    assert key_matches(values["ETCD_KEY"], values["ETCD_CERT"])


# -- secrets ---------------------------------------------------------------


def test_no_private_key_is_plain_anywhere(run):
    keys = [r for r in run.of_type("tls:index/privateKey:PrivateKey") if r.parent_name == "prod-etcd"]
    assert len(keys) == 1 + 2 * len(ETCD_NODES) + 2  # CA, server+peer per member, two clients
    for key in keys:
        pem = key.outputs["privateKeyPem"]
        assert "PRIVATE KEY" in pem
        # A line of the key itself (JSON escapes newlines), and the key as
        # stdin_secrets encodes it.
        for form in (pem.splitlines()[1], base64.b64encode(pem.encode()).decode()):
            assert leaks(run, form) == [], f"{key.name} in a non-secret input"
            assert form not in plain_text(run), f"{key.name} in a plain stack output"
    for node in ETCD_NODES:
        assert "stdin" in run.named(f"prod-etcd-{node}-etcd").secret_paths
    assert "stdin" in run.named("prod-cp-paris-1-kubeadm-init").secret_paths


def etcd_only_program(exports: dict):
    """The prod cloud and an ExternalEtcd on its etcd nodes, exporting ``exports(etcd)``."""
    data = example_spec("prod")

    def program() -> None:
        catalog = catalog_for(data)
        spec = parse_cluster_spec(data, catalog=catalog)
        cloud = build_cloud(spec, ssh_private_key=pulumi.Output.secret(SSH_KEY_FOR_TESTS), catalog=catalog)
        nodes = [n for n in cloud.nodes if n.is_etcd and not n.is_control_plane]
        etcd = ExternalEtcd("unit-etcd", {"nodes": nodes, "after": {n.name: [cloud.mesh.ready[n.name]] for n in nodes}})
        for key, value in exports(etcd).items():
            pulumi.export(key, value)

    return program


def test_outputs_carrying_keys_are_secret_and_certificates_are_not():
    def exports(etcd):
        values = {"clientKey": etcd.client_key_pem, "clientCert": etcd.client_cert_pem, "ca": etcd.ca_cert_pem}
        for kind, pairs in [("server", etcd.pki.servers), ("peer", etcd.pki.peers), ("client", etcd.pki.clients)]:
            for name, pair in pairs.items():
                values[f"{kind}-{name}-key"] = pair.key_pem
                values[f"{kind}-{name}-cert"] = pair.cert_pem
        return values

    with additional_secret_outputs() as declared:
        run = run_components(etcd_only_program(exports), stack="unit")
    keys = {k for k in run.outputs if k.endswith("-key")} | {"clientKey"}
    assert len(keys) == 2 * len(ETCD_NODES) + 2 + 1
    assert run.secret_outputs == keys
    # The component's own outputs (state of the ComponentResource).
    assert "-----BEGIN" in run.outputs["clientKey"]
    # The provider is told its private keys are secret outputs (the engine,
    # not the mocks, honours it).
    for name in ["unit-etcd-ca-key", *(f"unit-etcd-{n}-server-key" for n in ETCD_NODES)]:
        assert "privateKeyPem" in declared[name]


# -- member configuration ----------------------------------------------------


def _urls(value) -> list[str]:
    return value if isinstance(value, list) else str(value).split(",")


def assert_mesh_only_config(config: dict, name: str, ip: str) -> None:
    assert config["name"] == name
    url_keys = [k for k in config if k.endswith("-urls")]
    assert set(url_keys) >= {"listen-client-urls", "advertise-client-urls", "listen-peer-urls",
                             "listen-metrics-urls", "initial-advertise-peer-urls"}
    for key in url_keys:
        for url in _urls(config[key]):
            host = url.split("//", 1)[1].rsplit(":", 1)[0]
            assert host == ip, f"{key}: {url} is not on the mesh IP {ip}"
    assert _urls(config["listen-client-urls"]) == [f"https://{ip}:{CLIENT_PORT}"]
    assert _urls(config["listen-peer-urls"]) == [f"https://{ip}:{PEER_PORT}"]
    assert _urls(config["listen-metrics-urls"]) == [f"http://{ip}:{ETCD_METRICS_PORT}"]
    for transport in ("client-transport-security", "peer-transport-security"):
        tls = config[transport]
        assert tls["client-cert-auth"] is True, transport
        assert tls["trusted-ca-file"] and tls["cert-file"] and tls["key-file"], transport
        assert not tls.get("auto-tls"), transport
    assert config["strict-reconfig-check"] is True


@pytest.mark.parametrize("ip", ["10.42.22.1", "10.0.0.7"])
def test_member_config_listens_on_the_mesh_ip_only_with_client_certificates(ip):
    text = member_config("etcd-x-1", ip, "/var/lib/etcd")
    for anywhere in ("0.0.0.0", "127.0.0.1", "localhost", "[::]"):
        assert anywhere not in text
    config = yaml.safe_load(text)
    assert_mesh_only_config(config, "etcd-x-1", ip)
    assert config["data-dir"] == "/var/lib/etcd"
    assert config["client-transport-security"]["cert-file"].endswith("server.crt")
    assert config["peer-transport-security"]["cert-file"].endswith("peer.crt")


def test_every_member_runs_the_mesh_only_config(run, mesh_ips):
    for node in ETCD_NODES:
        script = run.named(f"prod-etcd-{node}-etcd").script("create")
        assert param(script, "MESH_IP") == mesh_ips[node]
        assert_mesh_only_config(yaml.safe_load(param(script, "ETCD_CONFIG")), node, mesh_ips[node])


# -- order and removal ---------------------------------------------------------


def test_members_join_one_at_a_time_and_the_health_gate_waits_for_all(run, mesh_ips):
    members = [f"prod-etcd-{n}-etcd" for n in ETCD_NODES]
    for i, name in enumerate(members):
        member_deps = deps(run, run.named(name))
        # Its own mesh first, and exactly the member before it.
        assert f"prod-mesh-{ETCD_NODES[i]}-wg-apply" in member_deps
        assert member_deps & set(members) == ({members[i - 1]} if i else set()), name
    health = run.named("prod-etcd-health")
    assert deps(run, health) >= set(members)
    assert param(health.script("create"), "ENDPOINTS").splitlines() == \
        [f"https://{mesh_ips[n]}:{CLIENT_PORT}" for n in ETCD_NODES]
    for node in ETCD_NODES:
        assert f"prod-etcd-{node}-etcd" in deps(run, run.named(f"prod-etcd-{node}-etcd-snapshots"))


def test_the_health_gate_is_what_kubernetes_waits_for(run):
    assert "prod-etcd-health" in deps(run, run.named("prod-cp-paris-1-kubeadm-init"))


def test_deleting_a_member_removes_that_member_safely(run, mesh_ips):
    body = (SCRIPTS / "etcd-member-remove.sh").read_text().split("\n", 1)[1]
    for node in ETCD_NODES:
        delete = run.named(f"prod-etcd-{node}-etcd").script("delete")
        assert delete.endswith(body), f"{node}: the delete script is not etcd-member-remove.sh"
        assert param(delete, "ETCD_NAME") == node
        assert param(delete, "MESH_IP") == mesh_ips[node]
        assert param(delete, "CLUSTER").splitlines() == [f"{n} {mesh_ips[n]}" for n in ETCD_NODES]
        assert param(delete, "DATA_DIR") == "/var/lib/etcd"


def test_only_a_whole_cluster_destroy_marks_the_last_member_for_wiping(run):
    """The health gate is deleted only with the whole ExternalEtcd, before
    every member: its delete marks the first member, which is removed last."""
    health = run.named("prod-etcd-health")
    first = run.named(f"prod-etcd-{ETCD_NODES[0]}-etcd")
    assert health.inputs["connection"]["host"] == first.inputs["connection"]["host"]
    assert health.script("delete").endswith((SCRIPTS / "etcd-teardown.sh").read_text().split("\n", 1)[1])
    # Replacing the gate would run that delete: it must never be replaced.
    assert not health.inputs.get("triggers")


def test_snapshots_follow_the_default_schedule_on_every_member(run):
    for node in ETCD_NODES:
        script = run.named(f"prod-etcd-{node}-etcd-snapshots").script("create")
        assert param(script, "SCHEDULE") == "0 */6 * * *"
        assert param(script, "INTERVAL_SECONDS") == str(6 * 3600)
        assert param(script, "S3") == "false"


# -- schedule ------------------------------------------------------------------


@pytest.mark.parametrize(("schedule", "seconds"), [
    ("*/5 * * * *", 5 * 60),
    ("*/30 * * * *", 30 * 60),
    ("0 */6 * * *", 6 * 3600),
    ("15 */4 * * *", 4 * 3600),
    ("30 * * * *", 3600),
    ("0 3 * * *", 86400),
    ("  0   */12 * * *  ", 12 * 3600),  # any whitespace between fields
])
def test_interval_of_accepted_schedules(schedule, seconds):
    assert interval_seconds(schedule) == seconds


@pytest.mark.parametrize(("schedule", "reason"), [
    ("0 */6 * *", "expected 5 cron fields"),
    ("0 */6 * * * *", "expected 5 cron fields"),
    ("@daily", "expected 5 cron fields"),
    ("", "expected 5 cron fields"),
    ("0 3 * * 0", "day/month/weekday fields must be '*'"),
    ("0 3 1 * *", "day/month/weekday fields must be '*'"),
    ("0 3 * 6 *", "day/month/weekday fields must be '*'"),
    ("*/5 */2 * * *", "use '*/M * * * *', 'M */H * * *' or 'M H * * *'"),
    ("0,30 * * * *", "use '*/M * * * *'"),
    ("0 1-5 * * *", "use '*/M * * * *'"),
    ("* * * * *", "use '*/M * * * *'"),
    ("*/x * * * *", "use '*/M * * * *'"),
])
def test_unsupported_schedules_are_refused_naming_the_field(schedule, reason):
    with pytest.raises(ValueError) as caught:
        interval_seconds(schedule)
    message = str(caught.value)
    assert message.startswith(f"kubernetes.etcdSnapshots.schedule {schedule!r}: ")
    assert reason in message


@pytest.mark.parametrize(("schedule", "reason"), [
    ("*/0 * * * *", "a minute step must divide 60"),
    ("0 */0 * * *", "an hour step must divide 24"),
    ("60 * * * *", "the minute must be 0-59"),
    ("0 24 * * *", "the hour must be 0-23"),
    # cron restarts the step every hour/day: uneven gaps a fixed period cannot follow.
    ("*/90 * * * *", "a minute step must divide 60"),
    ("*/7 * * * *", "a minute step must divide 60"),
    ("0 */5 * * *", "an hour step must divide 24"),
])
def test_impossible_or_uneven_schedules_are_refused(schedule, reason):
    with pytest.raises(ValueError, match=reason):
        interval_seconds(schedule)


# -- the component's own checks --------------------------------------------------


def test_an_external_etcd_needs_nodes():
    def program() -> None:
        ExternalEtcd("unit-etcd", {"nodes": [], "after": {}})

    with pytest.raises(Exception, match="at least one node with the etcd role"):
        run_components(program, stack="unit")


def test_snapshots_can_be_turned_off():
    spec = example_spec("prod")
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"enabled": False}
    run = run_spec(spec, stack="prod")
    assert [r.name for r in run.resources if r.name.endswith("-etcd-snapshots")] == []
    assert len([r for r in run.resources if r.parent_name == "prod-etcd" and r.name.endswith("-etcd")]) == 3


def test_an_unsupported_schedule_creates_nothing():
    """Refused with the spec (components/spec/rules.py), before any resource;
    interval_seconds alone would fail only after the members were created."""
    spec = example_spec("prod")
    spec.setdefault("kubernetes", {})["etcdSnapshots"] = {"schedule": "0 3 * * 1"}
    with pytest.raises(Exception) as caught:
        run_spec(spec, stack="prod")
    assert "kubernetes.etcdSnapshots.schedule" in str(caught.value)
    assert caught.value.registered_resources == []
