"""K3s command lines as pure functions of the spec: the exact flags."""

from __future__ import annotations

import dataclasses

import pytest

from components.cluster.k3s.flags import (
    K3sSettings,
    agent_flags,
    config_yaml,
    k3s_version,
    server_flags,
    to_config,
)
from components.compute.node import Node
from components.spec import ClusterSpec
from tests.stack_runner import example_spec

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


def node(name, ip, roles, *, labels=None, taints=(), region="GRA"):
    return Node(name=name, group=name.rsplit("-", 1)[0], provider="ovh", region=region, instance_type="VPS-3",
                roles=tuple(roles), mesh_ip=ip, public_address=None, ssh=None,
                labels=labels or {"sovereign.cloud/provider": "ovh", "topology.kubernetes.io/region": region},
                taints=tuple(taints))


def settings(**spec_changes) -> K3sSettings:
    data = example_spec("budget")
    # Only the two add-on switches K3s cares about are set by the tests.
    data["addons"] = {}
    for path, value in spec_changes.items():
        target = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    return K3sSettings.from_spec(ClusterSpec.model_validate(data))


SERVERS = [node("vps-1", "10.6.6.1", ["control-plane", "worker"]),
           node("vps-2", "10.6.6.2", ["control-plane", "worker"]),
           node("vps-3", "10.6.6.3", ["control-plane", "worker"])]


def test_version_forms():
    assert k3s_version("1.31.4") == "v1.31.4+k3s1"
    assert k3s_version("v1.31.4+k3s2") == "v1.31.4+k3s2"


def test_first_server_flags_exactly():
    flags = server_flags(settings(), SERVERS[0], SERVERS, first=True, public_addresses=["198.18.0.1"])
    assert flags == [
        "--node-name=vps-1",
        "--node-ip=10.6.6.1",
        "--advertise-address=10.6.6.1",
        "--cluster-init",
        "--token-file=/etc/rancher/k3s/cluster-token",
        "--tls-san=10.6.6.1",
        "--tls-san=10.6.6.2",
        "--tls-san=10.6.6.3",
        "--tls-san=api.budget.sovereign.example",
        "--tls-san=198.18.0.1",
        "--cluster-cidr=10.244.0.0/16",
        "--service-cidr=10.96.0.0/12",
        "--flannel-backend=none",
        "--disable-network-policy",
        "--disable-kube-proxy",  # budget: Cilium replaces kube-proxy (seed 004)
        "--secrets-encryption",
        "--etcd-expose-metrics",
        "--write-kubeconfig-mode=0600",
        "--kubelet-arg=kube-reserved=cpu=250m,memory=512Mi",
        "--kubelet-arg=system-reserved=cpu=250m,memory=512Mi",
        "--kubelet-arg=eviction-hard=memory.available<200Mi,nodefs.available<10%",
        "--node-label=sovereign.cloud/provider=ovh",
        "--node-label=topology.kubernetes.io/region=GRA",
        "--node-label=topology.kubernetes.io/zone=GRA",
        "--etcd-snapshot-schedule-cron=0 */6 * * *",
        "--etcd-snapshot-retention=28",
    ]


def test_joining_servers_never_bootstrap_and_register_through_the_local_lb():
    flags = server_flags(settings(), SERVERS[1], SERVERS, first=False)
    assert "--cluster-init" not in flags
    assert "--server=https://127.0.0.1:7445" in flags
    assert "--advertise-address=10.6.6.2" in flags and "--node-ip=10.6.6.2" in flags


def test_flannel_rides_the_mesh_when_no_cni_replaces_it():
    s = dataclasses.replace(settings(), cni="flannel")
    server = server_flags(s, SERVERS[0], SERVERS, first=True)
    assert "--flannel-iface=wg0" in server
    assert "--flannel-backend=none" not in server and "--disable-network-policy" not in server
    assert "--flannel-iface=wg0" in agent_flags(s, node("w-1", "10.6.7.1", ["worker"]))


@pytest.mark.parametrize("cni", ["cilium", "calico"])
def test_own_cni_disables_flannel_and_network_policy(cni):
    flags = server_flags(settings(network__cni=cni), SERVERS[0], SERVERS, first=True)
    assert {"--flannel-backend=none", "--disable-network-policy"} <= set(flags)
    assert not any(f.startswith("--flannel-iface") for f in flags)


def test_bundled_ingress_and_lb_are_disabled_only_when_others_are_chosen():
    plain = server_flags(settings(), SERVERS[0], SERVERS, first=True)
    assert not any(f.startswith("--disable=") for f in plain)
    both = server_flags(settings(addons__ingressNginx={"enabled": True}, addons__metallb={"enabled": True, "addresses": ["192.0.2.0/28"]}),
                        SERVERS[0], SERVERS, first=True)
    assert [f for f in both if f.startswith("--disable=")] == ["--disable=traefik", "--disable=servicelb"]


def test_reservations_only_on_hyperconverged_nodes():
    dedicated = node("cp-1", "10.6.1.1", ["control-plane"])
    flags = server_flags(settings(), dedicated, [dedicated], first=True)
    assert not any(f.startswith("--kubelet-arg=") for f in flags)
    assert "--node-taint=node-role.kubernetes.io/control-plane:NoSchedule" in flags
    assert not any(f.startswith("--kubelet-arg=") for f in agent_flags(settings(), node("w-1", "10.6.7.1", ["worker"])))


def test_agent_flags_exactly_with_gpu_taint_and_on_prem_label():
    gpu = node("gpu-1", "10.6.9.1", ["worker"], region="houston",
               labels={"sovereign.cloud/on-prem": "true", "sovereign.cloud/gpu": "true"}, taints=[GPU_TAINT])
    assert agent_flags(settings(), gpu) == [
        "--node-name=gpu-1",
        "--node-ip=10.6.9.1",
        "--server=https://127.0.0.1:7445",
        "--token-file=/etc/rancher/k3s/cluster-token",
        "--node-label=sovereign.cloud/gpu=true",
        "--node-label=sovereign.cloud/on-prem=true",
        "--node-label=topology.kubernetes.io/region=houston",
        "--node-label=topology.kubernetes.io/zone=houston",
        "--node-taint=nvidia.com/gpu=present:NoSchedule",
    ]


def test_snapshots_to_s3_and_disabled_snapshots():
    s3 = {"endpoint": "s3.gra.io.cloud.ovh.net", "bucket": "etcd", "region": "gra", "skipSslVerify": True}
    flags = server_flags(settings(kubernetes__etcdSnapshots={"schedule": "0 3 * * *", "retention": 7, "s3": s3}),
                         SERVERS[0], SERVERS, first=True)
    assert flags[flags.index("--etcd-snapshot-schedule-cron=0 3 * * *"):] == [
        "--etcd-snapshot-schedule-cron=0 3 * * *",
        "--etcd-snapshot-retention=7",
        "--etcd-s3",
        "--etcd-s3-endpoint=s3.gra.io.cloud.ovh.net",
        "--etcd-s3-bucket=etcd",
        "--etcd-s3-region=gra",
        "--etcd-s3-folder=etcd-snapshots",
        "--etcd-s3-skip-ssl-verify",
    ]
    assert not any("access-key" in f or "secret-key" in f for f in flags)
    off = server_flags(settings(kubernetes__etcdSnapshots={"enabled": False}), SERVERS[0], SERVERS, first=True)
    assert "--etcd-disable-snapshots" in off and not any(f.startswith("--etcd-snapshot-") for f in off)


def test_config_file_form_of_the_flags():
    flags = server_flags(settings(), SERVERS[0], SERVERS, first=True)
    config = to_config(flags)
    assert config["cluster-init"] is True
    assert config["tls-san"] == ["10.6.6.1", "10.6.6.2", "10.6.6.3", "api.budget.sovereign.example"]
    assert config["kubelet-arg"][2] == "eviction-hard=memory.available<200Mi,nodefs.available<10%"
    assert config["node-ip"] == "10.6.6.1"
    # The first server's bootstrap guard rewrites exactly this line.
    assert "\ncluster-init: true\n" in config_yaml(flags)


def test_config_rejects_repeated_single_flags():
    with pytest.raises(ValueError, match="--node-ip given twice"):
        to_config(["--node-ip=1", "--node-ip=2"])


def test_kube_proxy_can_be_left_to_the_cni():
    assert "--disable-kube-proxy" not in server_flags(settings(kubernetes__kubeProxy=True), SERVERS[0], SERVERS,
                                                      first=True)
    flags = server_flags(settings(kubernetes__kubeProxy=False), SERVERS[0], SERVERS, first=True)
    assert flags[flags.index("--secrets-encryption") - 1] == "--disable-kube-proxy"


def test_kube_proxy_serves_node_ports_on_mesh_addresses_only():
    """kube-proxy DNATs NodePorts before the firewall's input chain: on a
    public address they would bypass it."""
    kept = settings(kubernetes__kubeProxy=True)
    worker = node("w-1", "10.6.7.1", ["worker"])
    for flags in (server_flags(kept, SERVERS[0], SERVERS, first=True), agent_flags(kept, worker)):
        assert "--kube-proxy-arg=nodeport-addresses=10.6.0.0/16" in flags
        assert to_config(flags)["kube-proxy-arg"] == ["nodeport-addresses=10.6.0.0/16"]
    replaced = settings(kubernetes__kubeProxy=False)
    for flags in (server_flags(replaced, SERVERS[0], SERVERS, first=True), agent_flags(replaced, worker)):
        assert not any(f.startswith("--kube-proxy-arg") for f in flags)
