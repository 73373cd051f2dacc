"""What the plan prints: the resource tree by component, and the node table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .runtime import ProgramRun

NODE_COLUMNS = ("name", "provider", "region", "instance_type", "roles", "mesh_ip")


@dataclass
class PlanReport:
    stack: str
    resources: list[dict[str, Any]]
    nodes: list[dict[str, Any]]
    extras: dict[str, Any] = field(default_factory=dict)
    # (title, text) blocks printed after the node table (e.g. the cost).
    sections: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_run(cls, stack: str, run: ProgramRun) -> PlanReport:
        resources = [
            {"type": r.type, "name": r.name, "parent": r.parent_name, "custom": r.custom,
             "urn": r.urn, "parent_urn": r.parent_urn if r.parent_name else None,
             # What would be created, secrets shown as "[secret]".
             "inputs": r.shown_inputs}
            for r in run.resources
        ]
        nodes = [{k: n[k] for k in NODE_COLUMNS} | {"gpus": n.get("gpus", 0)} for n in run.outputs.get("nodes", [])]
        return cls(stack=stack, resources=resources, nodes=nodes)

    def to_json(self) -> str:
        return json.dumps({"stack": self.stack, "resources": self.resources, "nodes": self.nodes, **self.extras}, indent=2, default=str)

    def to_text(self) -> str:
        parts = [f"Stack {self.stack}: {len(self.resources)} resources, {len(self.nodes)} nodes", "", "Resources:"]
        parts += self._tree_lines()
        parts += ["", "Nodes:", *format_table(self.nodes, NODE_COLUMNS)]
        for title, text in self.sections:
            parts += ["", f"{title}:", text]
        return "\n".join(parts)

    def _tree_lines(self) -> list[str]:
        children: dict[str | None, list[dict]] = {}
        for r in self.resources:
            children.setdefault(r["parent_urn"], []).append(r)
        lines: list[str] = []

        def walk(parent: str | None, depth: int) -> None:
            for r in children.get(parent, []):
                lines.append(f"{'  ' * (depth + 1)}{r['name']}  [{r['type']}]")
                if not r["custom"]:
                    walk(r["urn"], depth + 1)

        walk(None, 0)
        return lines


def format_table(rows: list[dict], columns: tuple[str, ...]) -> list[str]:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def _cell(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)
