"""``privateNetwork``: only where a private network is really attached, and the MTU guard."""

from __future__ import annotations

import pytest

from components.mesh.peers import MeshMember
from components.mesh.wireguard import _checked
from components.spec import parse_cluster_spec
from tests.stack_runner import example_spec, spec_issues




def test_private_network_is_rejected_where_nothing_would_attach_it_all_at_once():
    spec = example_spec("prod")
    spec["nodeGroups"]["cp-sbg"]["privateNetwork"] = True  # OVH VPS
    spec["nodeGroups"]["gpu-gra"]["privateNetwork"] = True  # OVH Public Cloud
    spec["nodeGroups"]["onprem-paris"]["privateNetwork"] = True  # existing
    spec["nodeGroups"]["cp-paris"]["privateNetwork"] = True  # Scaleway: fine
    spec["nodeGroups"]["etcd-fsn"]["privateNetwork"] = True  # Hetzner: fine
    issues = spec_issues(spec)
    assert set(issues) == {
        "cluster.nodeGroups.cp-sbg.privateNetwork",
        "cluster.nodeGroups.gpu-gra.privateNetwork",
        "cluster.nodeGroups.onprem-paris.privateNetwork",
    }
    assert "OVH VPS (ovh.vps.Vps)" in issues["cluster.nodeGroups.cp-sbg.privateNetwork"]
    assert "OVH Public Cloud" in issues["cluster.nodeGroups.gpu-gra.privateNetwork"]
    for text in issues.values():
        assert "remove privateNetwork" in text


def test_private_network_rejection_joins_other_issues():
    spec = example_spec("budget")
    spec["nodeGroups"]["vps"]["privateNetwork"] = True
    spec["network"]["podCidr"] = "10.6.0.0/16"  # the budget mesh itself
    issues = spec_issues(spec)
    assert "cluster.nodeGroups.vps.privateNetwork" in issues
    assert "cluster.network.podCidr" in issues


def test_scaleway_private_network_must_not_overlap_the_cluster_ranges():
    spec = example_spec("prod")
    spec["nodeGroups"]["cp-paris"]["privateNetwork"] = True
    spec["providers"]["scaleway"] = {"privateNetworkCidr": "192.168.4.0/22"}  # inside prod's podCidr
    issues = spec_issues(spec)
    assert "overlaps network.podCidr" in issues["cluster.providers.scaleway.privateNetworkCidr"]
    del spec["nodeGroups"]["cp-paris"]["privateNetwork"]
    parse_cluster_spec(spec)  # unused private network: its range does not matter


def test_mesh_refuses_endpoints_of_a_family_its_mtu_did_not_allow_for():
    v4 = MeshMember("a", "10.42.1.1", "ka", "198.18.0.1")
    v6 = MeshMember("b", "10.42.1.2", "kb", "2001:db8::2")
    assert _checked([v4, v6], 6) == [v4, v6]
    with pytest.raises(ValueError, match="resolved to IPv6 but the mesh MTU allowed for the IPv4"):
        _checked([v4, v6], 4)


def test_hetzner_private_network_only_spans_its_network_zone():
    spec = example_spec("dev")
    spec["nodeGroups"]["main"]["privateNetwork"] = True
    spec["nodeGroups"]["us"] = {"provider": "hetzner", "region": "ash", "instanceType": "cpx21", "count": 1,
                                "roles": ["worker"], "privateNetwork": True}
    issues = spec_issues(spec)
    assert set(issues) == {"cluster.nodeGroups.us.privateNetwork"}
    assert "network zone us-east" in issues["cluster.nodeGroups.us.privateNetwork"]
