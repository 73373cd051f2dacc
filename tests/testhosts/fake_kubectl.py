#!/usr/bin/env python3
"""A stand-in for ``kubectl`` against a directory, for test hosts (there is
no Kubernetes API offline). It does the calls the mesh registry scripts make
(components/autoscaling/scripts), with the API's semantics that matter to
them: create refuses an existing name (AlreadyExists), replace refuses a
stale resourceVersion (Conflict), get/delete honour --ignore-not-found, and
``-o jsonpath=`` is evaluated (fields, ``\\.`` escapes, ``{range}``, string
literals). State: ``$FAKE_KUBE_DIR/<namespace>/<kind>/<name>.json``, locked.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sys
from pathlib import Path

KINDS = {"lease": "Lease", "leases": "Lease", "configmap": "ConfigMap", "configmaps": "ConfigMap"}


def fail(message: str, code: int = 1):
    print(f"Error from server ({message})", file=sys.stderr)
    sys.exit(code)


def field(obj, path: str):
    for part in re.split(r"(?<!\\)\.", path.strip(".")):
        if not part:
            continue
        obj = obj.get(part.replace("\\.", ".")) if isinstance(obj, dict) else None
    return "" if obj is None else obj


def jsonpath(template: str, obj) -> str:
    tokens = re.findall(r"\{((?:[^{}\"]|\"[^\"]*\")*)\}|([^{}]+)", template)

    def render(tokens, obj):
        text = []
        j = 0
        while j < len(tokens):
            expr, literal = tokens[j]
            if literal:
                text.append(literal)
            elif expr.startswith("range "):
                depth, k = 1, j + 1
                while depth:
                    depth += tokens[k][0].startswith("range ") - (tokens[k][0] == "end")
                    k += 1
                items = field(obj, expr[6:].replace("[*]", ""))
                for item in items or []:
                    text.append(render(tokens[j + 1:k - 1], item))
                j = k - 1
            elif expr.startswith('"'):
                text.append(json.loads(expr))
            else:
                value = field(obj, expr)
                text.append(value if isinstance(value, str) else json.dumps(value))
            j += 1
        return "".join(text)

    return render(tokens, obj)


def main(argv: list[str]) -> None:
    root = Path(os.environ["FAKE_KUBE_DIR"])
    namespace, output, selector, ignore, files = "default", None, None, False, None
    args, words = list(argv), []
    while args:
        a = args.pop(0)
        if a == "-n":
            namespace = args.pop(0)
        elif a.startswith("-o"):
            output = a[2:] if len(a) > 2 else args.pop(0)
        elif a == "-l":
            selector = args.pop(0)
        elif a == "--ignore-not-found":
            ignore = True
        elif a == "-f":
            files = args.pop(0)
        else:
            words.append(a)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        verb = words[0]
        if verb in ("create", "replace"):
            obj = json.load(sys.stdin) if files == "-" else json.loads(Path(files).read_text())
            meta = obj["metadata"]
            path = root / meta.get("namespace", namespace) / obj["kind"] / f"{meta['name']}.json"
            counter = root / ".version"
            version = int(counter.read_text()) + 1 if counter.exists() else 1
            if verb == "create":
                if path.exists():
                    fail(f"AlreadyExists): {obj['kind']} \"{meta['name']}\" already exists")
            else:
                if not path.exists():
                    fail("NotFound)")
                if json.loads(path.read_text())["metadata"]["resourceVersion"] != meta.get("resourceVersion"):
                    fail("Conflict): the object has been modified")
            meta["resourceVersion"] = str(version)
            counter.write_text(str(version))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(obj))
            return
        kind = KINDS[words[1]]
        directory = root / namespace / kind
        if verb == "delete":
            path = directory / f"{words[2]}.json"
            if path.exists():
                path.unlink()
            elif not ignore:
                fail("NotFound)")
            return
        if verb == "get":
            if len(words) > 2:
                path = directory / f"{words[2]}.json"
                if not path.exists():
                    if ignore:
                        return
                    fail("NotFound)")
                obj = json.loads(path.read_text())
            else:
                items = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
                if selector:
                    key, _, value = selector.partition("=")
                    items = [o for o in items if o["metadata"].get("labels", {}).get(key) == value]
                obj = {"items": items}
            sys.stdout.write(jsonpath(output.removeprefix("jsonpath="), obj) if output else json.dumps(obj))
            return
        fail(f"BadRequest): unsupported {words}")


if __name__ == "__main__":
    main(sys.argv[1:])
