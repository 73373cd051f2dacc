"""kubeadm configuration documents: parsed and checked field by field."""

from __future__ import annotations

import pytest
import yaml

from components.cluster.kubeadm.config import (
    CERTIFICATE_KEY_PLACEHOLDER,
    TOKEN_PLACEHOLDER,
    KubeadmSettings,
    cluster_configuration,
    encryption_configuration,
    init_configuration,
    join_configuration,
    kubeadm_api_version,
    kube_proxy_configuration,
    kubelet_configuration,
    render,
)
from components.compute.node import Node
from components.spec import ClusterSpec
from tests.stack_runner import example_spec
from tests.unit.cluster_support import param

HASH = "sha256:" + "ab" * 32


def node(name, ip, roles, taints=()):
    return Node(name=name, group=name.rsplit("-", 1)[0], provider="scaleway", region="fr-par-1", instance_type="PRO2-S",
                roles=tuple(roles), mesh_ip=ip, public_address=None, ssh=None,
                labels={"topology.kubernetes.io/region": "fr-par-1"}, taints=tuple(taints))


def settings(version="1.31.4", external=True, **kubernetes) -> KubeadmSettings:
    data = example_spec("prod")
    data["version"] = version
    data["kubernetes"] = kubernetes
    return KubeadmSettings.from_spec(ClusterSpec.model_validate(data), external_etcd=external)


CPS = [node("cp-paris-1", "10.42.9.1", ["control-plane"]), node("cp-sbg-1", "10.42.241.1", ["control-plane"])]
ETCD = ["https://10.42.1.1:2379", "https://10.42.22.1:2379", "https://10.42.210.1:2379"]


def documents(text: str) -> dict:
    docs = list(yaml.safe_load_all(text))
    assert len({d["kind"] for d in docs}) == len(docs)
    return {d["kind"]: d for d in docs}


@pytest.mark.parametrize(("version", "api"), [("1.29.9", "v1beta3"), ("1.30.8", "v1beta3"), ("1.31.4", "v1beta4"), ("1.32.0", "v1beta4")])
def test_api_version_follows_kubernetes(version, api):
    assert kubeadm_api_version(tuple(int(p) for p in version.split("."))) == f"kubeadm.k8s.io/{api}"


def test_init_documents_of_prod():
    s = settings(api_dns_name="api.prod.example.org")
    docs = documents(render(
        cluster_configuration(s, CPS, etcd_endpoints=ETCD, public_addresses=["198.18.1.1", "198.18.1.2"]),
        init_configuration(s, CPS[0]),
        kubelet_configuration(),
    ))
    cluster = docs["ClusterConfiguration"]
    assert cluster["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert cluster["clusterName"] == "prod"
    assert cluster["kubernetesVersion"] == "v1.31.4"
    assert cluster["controlPlaneEndpoint"] == "127.0.0.1:7445"
    assert cluster["networking"] == {"podSubnet": "192.168.0.0/16", "serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"}
    assert cluster["apiServer"]["certSANs"] == [
        "127.0.0.1", "localhost", "10.42.9.1", "10.42.241.1", "api.prod.example.org", "198.18.1.1", "198.18.1.2"]
    assert cluster["apiServer"]["extraArgs"] == [
        {"name": "encryption-provider-config", "value": "/etc/kubernetes/enc/encryption.yaml"}]
    assert cluster["apiServer"]["extraVolumes"][0]["hostPath"] == "/etc/kubernetes/enc"
    assert cluster["etcd"] == {"external": {
        "endpoints": ETCD,
        "caFile": "/etc/kubernetes/pki/etcd/ca.crt",
        "certFile": "/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "keyFile": "/etc/kubernetes/pki/apiserver-etcd-client.key",
    }}
    init = docs["InitConfiguration"]
    assert init["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert init["localAPIEndpoint"] == {"advertiseAddress": "10.42.9.1", "bindPort": 6443}
    assert init["certificateKey"] == CERTIFICATE_KEY_PLACEHOLDER
    assert init["bootstrapTokens"][0]["token"] == TOKEN_PLACEHOLDER
    reg = init["nodeRegistration"]
    assert reg["name"] == "cp-paris-1"
    assert reg["criSocket"] == "unix:///run/containerd/containerd.sock"
    assert {"name": "node-ip", "value": "10.42.9.1"} in reg["kubeletExtraArgs"]
    labels = next(a["value"] for a in reg["kubeletExtraArgs"] if a["name"] == "node-labels")
    assert labels == "topology.kubernetes.io/region=fr-par-1,topology.kubernetes.io/zone=fr-par-1"
    assert reg["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert docs["KubeletConfiguration"] == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "cgroupDriver": "systemd"}


def test_v1beta3_uses_maps_for_extra_args():
    s = settings("1.30.8")
    cluster = cluster_configuration(s, CPS, etcd_endpoints=ETCD)
    assert cluster["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert cluster["apiServer"]["extraArgs"] == {"encryption-provider-config": "/etc/kubernetes/enc/encryption.yaml"}
    assert init_configuration(s, CPS[0])["nodeRegistration"]["kubeletExtraArgs"]["node-ip"] == "10.42.9.1"


def test_stacked_etcd_listens_on_mesh_ips():
    cluster = cluster_configuration(settings(external=False), CPS, etcd_endpoints=[])
    # Metrics on every address (one ClusterConfiguration for all members):
    # the firewall opens 2381 on the mesh interface only.
    assert cluster["etcd"] == {"local": {"serverCertSANs": ["10.42.9.1", "10.42.241.1"],
                                         "peerCertSANs": ["10.42.9.1", "10.42.241.1"],
                                         "extraArgs": [{"name": "listen-metrics-urls",
                                                        "value": "http://0.0.0.0:2381"}]}}


def test_control_plane_join_document():
    doc = join_configuration(settings(), CPS[1], ca_cert_hash=HASH, control_plane=True)
    assert doc["kind"] == "JoinConfiguration"
    assert doc["discovery"] == {"bootstrapToken": {
        "apiServerEndpoint": "127.0.0.1:7445", "token": TOKEN_PLACEHOLDER, "caCertHashes": [HASH]}}
    assert doc["controlPlane"] == {"localAPIEndpoint": {"advertiseAddress": "10.42.241.1", "bindPort": 6443},
                                   "certificateKey": CERTIFICATE_KEY_PLACEHOLDER}


def test_worker_join_document_has_gpu_taint_and_no_control_plane():
    gpu = node("gpu-paris-1", "10.42.50.1", ["worker"], taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}])
    doc = yaml.safe_load(render(join_configuration(settings(), gpu, ca_cert_hash=HASH, control_plane=False)))
    assert "controlPlane" not in doc
    assert doc["nodeRegistration"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert not any(a["name"] == "kube-reserved" for a in doc["nodeRegistration"]["kubeletExtraArgs"])


def test_hyperconverged_control_plane_is_untainted_and_reserves():
    hc = node("cp-1", "10.42.9.1", ["control-plane", "worker"])
    reg = init_configuration(settings(), hc)["nodeRegistration"]
    assert reg["taints"] == []
    args = {a["name"]: a["value"] for a in reg["kubeletExtraArgs"]}
    assert args["kube-reserved"] == "cpu=250m,memory=512Mi"
    assert args["eviction-hard"] == "memory.available<200Mi,nodefs.available<10%"


def test_placeholders_survive_yaml_and_substitute_to_valid_yaml():
    text = render(join_configuration(settings(), CPS[1], ca_cert_hash=HASH, control_plane=True))
    assert f"'{TOKEN_PLACEHOLDER}'" in text
    filled = text.replace(TOKEN_PLACEHOLDER, "abcdef.0123456789abcdef").replace(CERTIFICATE_KEY_PLACEHOLDER, "f" * 64)
    doc = yaml.safe_load(filled)
    assert doc["discovery"]["bootstrapToken"]["token"] == "abcdef.0123456789abcdef"
    assert doc["controlPlane"]["certificateKey"] == "f" * 64


def test_encryption_configuration():
    doc = yaml.safe_load(encryption_configuration("a2V5"))
    assert doc["kind"] == "EncryptionConfiguration"
    assert doc["resources"][0]["resources"] == ["secrets"]
    assert doc["resources"][0]["providers"][0] == {"secretbox": {"keys": [{"name": "key1", "secret": "a2V5"}]}}
    assert doc["resources"][0]["providers"][1] == {"identity": {}}


def test_package_versions():
    s = settings("1.31.4")
    assert (s.package_version, s.minor, s.kubernetes_version) == ("1.31.4-1.1", "v1.31", "v1.31.4")


def test_kube_proxy_can_be_left_to_the_cni():
    assert "skipPhases" not in init_configuration(settings(), CPS[0])
    assert init_configuration(settings(kubeProxy=False), CPS[0])["skipPhases"] == ["addon/kube-proxy"]


def test_kube_proxy_serves_node_ports_on_mesh_addresses_only():
    assert kube_proxy_configuration(settings()) == {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "nodePortAddresses": ["10.42.0.0/16"]}


def test_init_carries_the_kube_proxy_configuration_unless_the_cni_replaces_it(stack_run):
    run = stack_run(example_spec("prod"), stack="prod")
    docs = list(yaml.safe_load_all(param(run.named("prod-cp-paris-1-kubeadm-init").script("create"), "KUBEADM_CONFIG")))
    assert [d for d in docs if d["kind"] == "KubeProxyConfiguration"] == [kube_proxy_configuration(
        KubeadmSettings.from_spec(ClusterSpec.model_validate(example_spec("prod")), external_etcd=True))]
    spec = example_spec("prod")
    spec["kubernetes"]["kubeProxy"] = False
    spec["network"]["cni"] = "cilium"
    run = stack_run(spec, stack="prod")
    docs = list(yaml.safe_load_all(param(run.named("prod-cp-paris-1-kubeadm-init").script("create"), "KUBEADM_CONFIG")))
    assert not [d for d in docs if d["kind"] == "KubeProxyConfiguration"]
