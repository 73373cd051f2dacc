"""A stand-in ``kubectl`` over a JSON file of nodes, for the rolling upgrade's
scripts (unit tests, and the test hosts, where it is shared by every host).

State: ``{"nodes": {name: {"version", "ready", "unschedulable",
"control_plane", "annotations", "drain": "ok"|"blocked"}}}`` in $FAKE_CLUSTER;
every call is appended to $FAKE_LOG as ``kubectl <args>``. Answers only the
calls upgrade-kubectl.sh makes; anything else fails loudly.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys

READY = '{.status.conditions[?(@.type=="Ready")].status}'


def field(node: dict, name: str, path: str) -> str:
    if path == "{.metadata.name}":
        return name
    if path == "{.status.nodeInfo.kubeletVersion}":
        return node["version"]
    if path == "{.spec.unschedulable}":
        return "true" if node.get("unschedulable") else ""
    if path == READY:
        return "True" if node.get("ready", True) else "False"
    if path.startswith("{.metadata.annotations."):
        key = path[len("{.metadata.annotations."):-1].replace("\\.", ".")
        return node.get("annotations", {}).get(key, "")
    if " " in path:
        return " ".join(field(node, name, p) for p in path.split(" "))
    raise SystemExit(f"fake kubectl: unknown jsonpath {path}")


def main(args: list[str]) -> int:
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write("kubectl " + " ".join(args) + "\n")
    with open(os.environ["FAKE_CLUSTER"], "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # hosts may call it at the same time
        state = json.load(handle)
        code = run(state["nodes"], args)
        handle.seek(0)
        handle.truncate()
        json.dump(state, handle)
    return code


def run(nodes: dict, args: list[str]) -> int:
    verb = args[0]
    if verb == "get" and args[1] == "nodes":
        for name, node in nodes.items():
            if node.get("control_plane"):
                print(f"{name}={field(node, name, READY)}")
        return 0
    if verb == "get":
        name, path = args[2], args[args.index("-o") + 1].removeprefix("jsonpath=")
        if name not in nodes:
            return 0 if "--ignore-not-found" in args else 1
        print(field(nodes[name], name, path), end="")
        return 0
    name = args[2] if verb == "annotate" else args[1]
    node = nodes[name]
    if verb == "annotate":
        for item in args[3:]:
            if item.endswith("-") and "=" not in item:
                node.setdefault("annotations", {}).pop(item[:-1], None)
            elif "=" in item:
                key, value = item.split("=", 1)
                node.setdefault("annotations", {})[key] = value
        return 0
    if verb in ("cordon", "uncordon"):
        node["unschedulable"] = verb == "cordon"
        return 0
    if verb == "drain":
        if node.get("drain") == "blocked":
            print("error: Cannot evict pod as it would violate the pod's disruption budget.", file=sys.stderr)
            return 1
        return 0
    raise SystemExit(f"fake kubectl: unknown call {args}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
