"""Stand-ins for the cloud plugins (hcloud, ovh, scaleway), for previews.

Their provider modules are refused by the Go proxy, so the real engine
cannot preview the example stacks with them. These plugins answer with the
offline plan's fakes (stacks/plan/fakes), which enforce the providers'
documented constraints (stacks/plan/fakes/constraints.py): a resource those
refuse fails its Check as the provider would refuse it, functions (SSH keys,
images, flavors, VPS lookups) answer from the same fake account. In a
preview, what the provider computes (ids, addresses) is unknown, as from the
real plugin. Replacement rules are not modelled: use them for first
previews, not for day-2 diffs.

    python -m tests.engine.providers.cloud_provider hcloud|ovh|scaleway
"""

from __future__ import annotations

import sys

from stacks.plan.fake_cloud import FakeCloud
from stacks.plan.fakes import INVOKE_FAKES, RESOURCE_FAKES
from tests.engine.providers.protocol import UNKNOWN, ResourceFailed, ResourceKind, StandInProvider, plain, serve

# The SDK pins of requirements.txt (the version the program asks for).
VERSIONS = {"hcloud": "1.43.3", "ovh": "2.22.0", "scaleway": "1.60.0"}
CLOUD = FakeCloud()


def _kind(token: str) -> ResourceKind | None:
    fake = RESOURCE_FAKES.get(token)
    if fake is None:
        return None

    def answer(name: str, inputs: dict) -> tuple[str, dict]:
        try:
            return fake(CLOUD, name, plain(inputs), dict(inputs))
        except ValueError as refused:  # a documented constraint the inputs break
            raise ResourceFailed(f"{token} {name}: {refused}") from refused

    def preview(name: str, inputs: dict) -> dict:
        """The fake's answer with what the provider computes left unknown."""
        _, outputs = answer(name, inputs)
        return {**{k: UNKNOWN for k in outputs if k not in inputs}, **inputs}

    return ResourceKind(inputs=frozenset(), create=answer, preview=preview)


def provider(package: str) -> StandInProvider:
    invokes = {token: (lambda args, f=fake: f(CLOUD, args)) for token, fake in INVOKE_FAKES.items()
               if token.startswith(f"{package}:")}
    return StandInProvider(package, VERSIONS[package], {}, invokes=invokes,
                           fallback=lambda token: _kind(token) if token.startswith(f"{package}:") else None)


if __name__ == "__main__":
    serve(provider(sys.argv[1]))
