"""Topology diagram: parse the produced SVG and check what it shows."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from ipaddress import IPv4Address
from types import SimpleNamespace

import pytest

from stacks.plan.diagram import SMALL_CLUSTER, render_topology

SVG = "{http://www.w3.org/2000/svg}"

HYBRID = [
    *({"name": f"vps{i}", "provider": "ovh", "region": "GRA", "instance_type": "VPS-3",
       "roles": ["control-plane", "etcd", "worker"], "mesh_ip": f"10.42.1.{i}"} for i in (1, 2, 3)),
    {"name": "gpu-fsn-1", "provider": "hetzner", "region": "fsn1", "instance_type": "ccx33",
     "roles": ["worker"], "mesh_ip": IPv4Address("10.42.2.1")},
    {"name": "lab-1", "provider": "existing", "region": "paris-lab", "instance_type": None,
     "roles": ["worker"], "mesh_ip": "10.42.9.1"},
]


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return [t.text for t in root.iter(f"{SVG}text") if t.text]


def svg_edges(path) -> list:
    root = ET.parse(path).getroot()
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]


def test_small_cluster_svg_shows_nodes_clusters_and_latencies(tmp_path):
    out = render_topology(HYBRID, latencies={("GRA", "fsn1"): 18, ("paris-lab", "GRA"): 6.5},
                          path=tmp_path / "topology.svg")
    assert out == tmp_path / "topology.svg"
    texts = svg_texts(out)
    for needle in ("vps1", "vps2", "vps3", "gpu-fsn-1", "lab-1",  # node names
                   "control-plane, etcd, worker", "VPS-3", "ccx33", "10.42.2.1",  # roles, type, mesh IP
                   "OVHcloud", "Hetzner Cloud", "On-prem",  # provider clusters
                   "GRA - Gravelines, FR (3 nodes)", "fsn1 - Falkenstein, DE (1 node)",  # region clusters
                   "18 ms", "6.5 ms"):  # latency labels
        assert needle in texts, needle
    # Full mesh between the 5 nodes, one latency label per region pair.
    assert len(svg_edges(out)) == 5 * 4 // 2
    assert texts.count("18 ms") == 1


def test_large_cluster_draws_one_edge_per_region_pair(tmp_path):
    regions = [("hetzner", "fsn1"), ("hetzner", "hel1"), ("ovh", "GRA"), ("scaleway", "fr-par-2"), ("hetzner", "ash")]
    nodes = [{"name": f"node-{i}", "provider": p, "region": r, "instance_type": "x", "roles": ["worker"],
              "mesh_ip": f"10.42.0.{i}"} for i, (p, r) in enumerate(regions * 12)]
    assert len(nodes) > SMALL_CLUSTER
    latencies = [{"from": "fsn1", "to": "ash", "ms": 95}, {"from": "scaleway/fr-par-2", "to": "ovh/GRA", "ms": 4}]
    out = render_topology(nodes, latencies=latencies, path=tmp_path / "big.svg")
    texts = svg_texts(out)
    assert len(svg_edges(out)) == len(regions) * (len(regions) - 1) // 2  # not 60*59/2
    assert {f"node-{i}" for i in range(60)} <= set(texts)
    assert "95 ms" in texts and "4 ms" in texts
    assert "ash - Ashburn, US (12 nodes)" in texts
    assert "fr-par-2 - Paris, FR (12 nodes)" in texts


def test_objects_and_latency_specs_are_accepted(tmp_path):
    nodes = [SimpleNamespace(**n) for n in HYBRID]
    latencies = [SimpleNamespace(from_region="fsn1", to_region="GRA", ms=21)]
    texts = svg_texts(render_topology(nodes, latencies=latencies, path=tmp_path / "t.svg"))
    assert "21 ms" in texts and "gpu-fsn-1" in texts


def test_dot_and_png_outputs(tmp_path):
    dot = render_topology(HYBRID, path=tmp_path / "t.dot")
    source = dot.read_text()
    assert source.startswith("graph topology") and "cluster_p0" in source and "vps1" in source
    png = render_topology(HYBRID, path=tmp_path / "sub" / "t.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_format_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unsupported diagram format"):
        render_topology(HYBRID, path=tmp_path / "t.jpeg")


def test_malformed_latency_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="from, to and ms"):
        render_topology(HYBRID, latencies=[{"from": "GRA", "ms": 3}], path=tmp_path / "t.svg")
