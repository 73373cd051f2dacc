"""Fixtures shared by the unit tests of several modules."""

from __future__ import annotations

import os

import pytest


FAKE_NODE_API = r'''
import json, os, sys
# A stand-in kubectl holding one node in a JSON file, as the API would.
path = os.environ["FAKE_NODE"]
node = json.load(open(path))
args = [a for a in sys.argv[1:] if a not in ("kubectl", "--overwrite")]
open(os.environ["FAKE_LOG"], "a").write("kubectl " + " ".join(sys.argv[1:]) + "\n")
if os.environ.get("FAKE_API_DOWN") == "yes":
    sys.exit("The connection to the server was refused")
verb, kind, name, *rest = args
assert kind == "node" and name == node["name"], args
if verb == "get":
    output = rest[rest.index("-o") + 1]
    if output == "name":
        print(f"node/{name}")
    elif "annotations" in output:
        key = output.split("annotations.", 1)[1].rstrip("}").replace("\\.", ".")
        print(node["annotations"].get(key, ""), end="")
    else:
        print("".join(f"{t['key']}:{t['effect']}\n" for t in node["taints"]), end="")
elif verb in ("label", "annotate"):
    field = "labels" if verb == "label" else "annotations"
    for a in rest:
        if a.endswith("-") and "=" not in a:
            node[field].pop(a[:-1], None)
        else:
            k, v = a.split("=", 1)
            node[field][k] = v
elif verb == "taint":
    for a in rest:
        remove = a.endswith("-")
        key_value, effect = a.rstrip("-").rsplit(":", 1)
        key, _, value = key_value.partition("=")
        kept = [t for t in node["taints"] if (t["key"], t["effect"]) != (key, effect)]
        if remove and len(kept) == len(node["taints"]):
            sys.exit(f'error: taint "{key}:{effect}" not found')
        node["taints"] = kept + ([] if remove else [{"key": key, "value": value, "effect": effect}])
json.dump(node, open(path, "w"))
'''


@pytest.fixture
def node_api(tmp_path):
    import json
    import sys

    bin_dir = tmp_path / "api-bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f"#!{sys.executable}\n{FAKE_NODE_API}")
    kubectl.chmod(0o755)
    state = tmp_path / "node.json"
    # Registered by the kubelet: its own labels, and one set by somebody else.
    state.write_text(json.dumps({"name": "gpu-1", "labels": {"kubernetes.io/hostname": "gpu-1", "team": "theirs"},
                                 "annotations": {}, "taints": []}))
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_NODE": str(state), "FAKE_LOG": str(log)}
    return env, lambda: json.loads(state.read_text())
