"""Pod MTU arithmetic: derived from the mesh MTU, never a fixed number."""

from __future__ import annotations


import pytest

from components.mesh.mtu import mesh_mtu
from components.platform.mtu import pod_mtu


@pytest.mark.parametrize("underlay", [1500, 9000])
def test_pod_mtu_follows_the_mesh(underlay):
    mesh = mesh_mtu([underlay])
    assert pod_mtu(mesh, "calico", "mesh") == mesh - 50       # VXLAN inside the mesh, encrypted once
    assert pod_mtu(mesh, "cilium", "mesh") == mesh - 50
    assert pod_mtu(mesh, "calico", "cni") == mesh - 60        # Calico WireGuard inside the mesh: twice
    assert pod_mtu(mesh, "cilium", "cni") == mesh - 50 - 80   # Cilium: VXLAN then WireGuard (80, Cilium's constant)


def test_too_small_pod_mtu_is_an_error_naming_the_setting():
    mesh = mesh_mtu([1450])  # e.g. a provider with a 1450 underlay
    assert pod_mtu(mesh, "calico", "cni") == mesh - 60
    with pytest.raises(ValueError, match="network.encryption='cni' with cilium leaves a pod MTU of 1260.*below 1280"):
        pod_mtu(mesh, "cilium", "cni")
