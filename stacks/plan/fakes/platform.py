"""Fake answers of the platform layer (CNI, add-ons).

A Helm release answers like the provider after a successful install: its
inputs plus ``status`` (deployed, the pinned chart version, the namespace).
"""

from __future__ import annotations

from .registry import RESOURCE_FAKES


def _helm_release(cloud, name, inputs, raw):
    status = {
        "name": inputs.get("name", name),
        "namespace": inputs.get("namespace", "default"),
        "chart": inputs.get("chart"),
        "version": inputs.get("version"),
        "appVersion": "",
        "revision": 1,
        "status": "deployed",
    }
    return f"{status['namespace']}/{status['name']}", {**raw, "status": status}


RESOURCE_FAKES["kubernetes:helm.sh/v3:Release"] = _helm_release
