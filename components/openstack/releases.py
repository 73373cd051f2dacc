"""The OpenStack-Helm releases the project can install, pinned.

One entry per release: the chart version of every chart (one version for
all: OpenStack-Helm versions its charts by release since 2025.1), the
image tags of that release (``data/images-<release>.yaml``, copied from the
release's ``values_overrides/<chart>/<release>-ubuntu_noble.yaml``) and the
Kubernetes versions it is tested on (OpenStack-Helm's README, "Versions
supported": 2025.2 and 2026.1 on Ubuntu Noble, Kubernetes >=1.33,<=1.35).

Only 2025.2 is pinned: it is the release seed 001 ran (its ``helm list``
shows ``*-2025.2`` charts) and a deployment listing of all thirteen charts
at ``2025.2.0`` was found; 2026.1 is tested upstream on the same
Kubernetes range but its chart versions could not be verified offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"
# tarballs.opendev.org publishes every chart; Helm resolves "2025.2.0" to the
# build 2025.2.0+<commit> (semver ignores build metadata).
REPOSITORY = "https://tarballs.opendev.org/openstack/openstack-helm"


@dataclass(frozen=True)
class OpenStackRelease:
    name: str
    chart_version: str
    kubernetes_min: tuple[int, int]
    kubernetes_max: tuple[int, int]

    def supports(self, version: tuple[int, int, int]) -> bool:
        return self.kubernetes_min <= version[:2] <= self.kubernetes_max

    @property
    def kubernetes_range(self) -> str:
        low, high = (".".join(map(str, v)) for v in (self.kubernetes_min, self.kubernetes_max))
        return f">={low},<={high}"

    def images(self, chart: str) -> dict[str, str]:
        """``images.tags`` of a chart at this release (empty: the chart's own)."""
        return dict(_images(self.name).get(chart) or {})


RELEASES: dict[str, OpenStackRelease] = {
    "2025.2": OpenStackRelease("2025.2", "2025.2.0", (1, 33), (1, 35)),
}


@lru_cache(maxsize=None)
def _images(release: str) -> dict[str, dict[str, str]]:
    return yaml.safe_load((DATA / f"images-{release}.yaml").read_text())["charts"]
