"""Topology diagram of a planned cluster: providers, regions, nodes, WireGuard mesh.

``render_topology(nodes, latencies=..., path="out/topology.svg")`` draws one
Graphviz cluster per provider, nested clusters per region (labelled with
city and country from the catalog) and one box per node. The WireGuard full
mesh is drawn node to node for small clusters; above ``SMALL_CLUSTER`` nodes
it is drawn as one edge per region pair (labelled with the expected latency)
so 50+ nodes stay readable.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import graphviz

from components.catalog import Catalog, load_catalog

SMALL_CLUSTER = 8  # up to 28 node-to-node tunnels: still readable
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}
PROVIDERS = {
    "hetzner": ("Hetzner Cloud", "#d50c2d"),
    "ovh": ("OVHcloud", "#123f6d"),
    "scaleway": ("Scaleway", "#4f0599"),
    "existing": ("On-prem", "#2e7d32"),
}


def _natural(text: str) -> list:
    """Sort key putting node-2 before node-10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _get(node: Any, key: str, default=None):
    """Nodes may be dicts or objects (spec models, dataclasses)."""
    if isinstance(node, Mapping):
        return node.get(key, default)
    return getattr(node, key, default)


def _latency_table(latencies) -> dict[frozenset, float]:
    """{(a, b): ms} or [{"from", "to", "ms"}] (or LatencySpec-like objects) -> pair table."""
    table: dict[frozenset, float] = {}
    if not latencies:
        return table
    items = latencies.items() if isinstance(latencies, Mapping) else (
        ((_get(e, "from", _get(e, "from_region")), _get(e, "to", _get(e, "to_region"))), _get(e, "ms"))
        for e in latencies
    )
    for (a, b), ms in items:
        if a is None or b is None or ms is None:
            raise ValueError(f"latency entry needs from, to and ms: {(a, b, ms)!r}")
        table[frozenset({str(a).lower(), str(b).lower()})] = float(ms)
    return table


def _latency(table, a: tuple[str, str], b: tuple[str, str]) -> float | None:
    # Keys may be plain region names or "provider/region" (names can repeat across providers).
    for ka, kb in ((f"{a[0]}/{a[1]}", f"{b[0]}/{b[1]}"), (a[1], b[1])):
        ms = table.get(frozenset({ka.lower(), kb.lower()}))
        if ms is not None:
            return ms
    return None


def _region_label(catalog: Catalog, provider: str, region: str, count: int) -> str:
    r = catalog.region(provider, region) if provider in catalog.providers else None
    place = f"{r.city}, {r.country}" if r else ("on-prem site" if provider == "existing" else "location unknown")
    return f"{region} - {place} ({count} node{'s' if count != 1 else ''})"


def _node_label(node) -> str:
    roles = _get(node, "roles") or []
    roles = ", ".join(roles) if not isinstance(roles, str) else roles
    ip = _get(node, "mesh_ip")
    return "\n".join([str(_get(node, "name")), roles or "-", str(_get(node, "instance_type") or "-"),
                      str(ip) if ip is not None else "-"])


def build_graph(nodes: Iterable[Any], *, latencies=None, catalog: Catalog | None = None,
                title: str | None = None) -> graphviz.Graph:
    """The Graphviz graph (use ``render_topology`` to write a file)."""
    catalog = catalog or load_catalog()
    nodes = sorted(nodes, key=lambda n: (str(_get(n, "provider")), str(_get(n, "region")),
                                         _natural(str(_get(n, "name")))))
    lat = _latency_table(latencies)
    by_region: dict[tuple[str, str], list[tuple[str, Any]]] = defaultdict(list)
    for i, node in enumerate(nodes):
        by_region[(str(_get(node, "provider")), str(_get(node, "region") or "unknown"))].append((f"n{i}", node))

    large = len(nodes) > SMALL_CLUSTER
    g = graphviz.Graph("topology", engine="dot")
    # Large clusters: regions side by side, each a grid of nodes (see _grid).
    g.attr(compound="true", rankdir="TB" if large else "LR", fontname="Helvetica", labelloc="t",
           label=title or f"Cluster topology: {len(nodes)} nodes, WireGuard full mesh")
    g.attr("node", shape="box", style="rounded,filled", fillcolor="white", fontname="Helvetica", fontsize="10")
    g.attr("edge", fontname="Helvetica", fontsize="9", color="#555555")

    anchors: dict[tuple[str, str], tuple[str, str]] = {}  # region -> (anchor node id, cluster id)
    providers = sorted({p for p, _ in by_region}, key=lambda p: (p not in PROVIDERS, p))
    for pi, provider in enumerate(providers):
        name, color = PROVIDERS.get(provider, (provider, "#444444"))
        with g.subgraph(name=f"cluster_p{pi}") as pg:
            pg.attr(label=name, color=color, fontcolor=color, style="rounded", penwidth="2")
            for ri, key in enumerate(k for k in sorted(by_region) if k[0] == provider):
                members = by_region[key]
                cid = f"cluster_p{pi}_r{ri}"
                with pg.subgraph(name=cid) as rg:
                    rg.attr(label=_region_label(catalog, provider, key[1], len(members)), color=color,
                            style="rounded,dashed", penwidth="1")
                    for nid, node in members:
                        rg.node(nid, _node_label(node), color=color)
                    if large:
                        anchor = f"a{pi}_{ri}"
                        rg.node(anchor, "", shape="point", width="0.01", style="invis")
                        anchors[key] = (anchor, cid)
                        _grid(rg, [nid for nid, _ in members])

    if large:
        _region_mesh(g, by_region, anchors, lat)
    else:
        _node_mesh(g, by_region, lat)
    return g


def _grid(rg, ids: list[str]) -> None:
    """Invisible edges stacking a region's nodes in rows of ~sqrt(n), not one long line."""
    cols = max(1, math.ceil(math.sqrt(len(ids))))
    for i in range(len(ids) - cols):
        rg.edge(ids[i], ids[i + cols], style="invis")


def _node_mesh(g, by_region, lat) -> None:
    """Every tunnel; one latency label per region pair (not repeated on each edge)."""
    flat = [(key, nid) for key, members in by_region.items() for nid, _ in members]
    labelled: set[frozenset] = set()
    for (ka, a), (kb, b) in itertools.combinations(flat, 2):
        pair = frozenset({ka, kb})
        ms = _latency(lat, ka, kb) if pair not in labelled else None
        if ms is not None:
            labelled.add(pair)
        g.edge(a, b, label=f"{ms:g} ms" if ms is not None else "", style="dashed", tooltip="WireGuard tunnel")


def _region_mesh(g, by_region, anchors, lat) -> None:
    """One edge per region pair standing for all tunnels between them."""
    for ka, kb in itertools.combinations(sorted(anchors), 2):
        (a, ca), (b, cb) = anchors[ka], anchors[kb]
        tunnels = len(by_region[ka]) * len(by_region[kb])
        ms = _latency(lat, ka, kb)
        g.edge(a, b, label=f"{ms:g} ms" if ms is not None else "", ltail=ca, lhead=cb, style="dashed",
               penwidth="1.5", constraint="false", tooltip=f"{tunnels} WireGuard tunnels {ka[1]} <-> {kb[1]}")


def render_topology(nodes: Iterable[Any], *, latencies=None, path: str | Path,
                    catalog: Catalog | None = None, title: str | None = None) -> Path:
    """Write the topology to ``path``; the format follows the suffix (.svg, .png, .pdf, .dot)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"unsupported diagram format {path.suffix!r}; use one of {sorted(FORMATS)}")
    g = build_graph(nodes, latencies=latencies, catalog=catalog, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = FORMATS[suffix]
    if fmt is None:
        path.write_text(g.source, encoding="utf-8")
    else:
        path.write_bytes(g.pipe(format=fmt))
    return path
