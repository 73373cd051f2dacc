"""What OVH Public Cloud sells per region, as the fake API answers it.

Independent of the program's catalog on purpose (``components/catalog``):
the fake must be able to say "no" to a flavor the catalog believes in.
Names and sizes follow OVH's public flavor and image lists (Public Cloud
price page and ``GET /cloud/project/{serviceName}/flavor|image``) as of
2026, written down from memory of those pages: realistic, not exhaustive,
and not a source of truth for prices or availability.
"""

from __future__ import annotations

# name: (vcpus, ram GB, disk GB, type)
_GENERAL = {
    "d2-2": (1, 2, 25, "ovh.d2"), "d2-4": (2, 4, 50, "ovh.d2"), "d2-8": (4, 8, 50, "ovh.d2"),
    "b3-8": (2, 8, 50, "ovh.ssd.eg"), "b3-16": (4, 16, 100, "ovh.ssd.eg"), "b3-32": (8, 32, 200, "ovh.ssd.eg"),
    "b3-64": (16, 64, 400, "ovh.ssd.eg"), "b3-128": (32, 128, 400, "ovh.ssd.eg"),
    "c3-4": (2, 4, 50, "ovh.ssd.cpu"), "c3-8": (4, 8, 100, "ovh.ssd.cpu"), "c3-16": (8, 16, 200, "ovh.ssd.cpu"),
    "c3-32": (16, 32, 400, "ovh.ssd.cpu"),
    "r3-16": (2, 16, 50, "ovh.ssd.ram"), "r3-32": (4, 32, 100, "ovh.ssd.ram"), "r3-64": (8, 64, 200, "ovh.ssd.ram"),
}
# The previous generation, still sold in the older single-AZ regions.
_PREVIOUS = {
    "b2-7": (2, 7, 50, "ovh.ssd.eg"), "b2-15": (4, 15, 100, "ovh.ssd.eg"), "b2-30": (8, 30, 200, "ovh.ssd.eg"),
    "b2-60": (16, 60, 400, "ovh.ssd.eg"), "c2-7": (2, 7, 50, "ovh.ssd.cpu"), "c2-15": (4, 15, 100, "ovh.ssd.cpu"),
    "r2-15": (2, 15, 50, "ovh.ssd.ram"), "r2-30": (2, 30, 50, "ovh.ssd.ram"),
}
_GPU = {
    "t1-45": (8, 45, 400, "ovh.ssd.gpu"), "t1-90": (18, 90, 800, "ovh.ssd.gpu"),
    "t2-45": (15, 45, 400, "ovh.ssd.gpu2"), "t2-90": (30, 90, 800, "ovh.ssd.gpu2"),
    "l4-90": (22, 90, 400, "ovh.ssd.gpu.l4"), "l4-180": (45, 180, 400, "ovh.ssd.gpu.l4"),
    "l40s-90": (15, 90, 400, "ovh.ssd.gpu.l40s"), "l40s-180": (30, 180, 400, "ovh.ssd.gpu.l40s"),
}


def _pick(table: dict, *names: str) -> dict:
    return {n: table[n] for n in names}


_OLD_REGION = {**_GENERAL, **_PREVIOUS}
FLAVORS: dict[str, dict[str, tuple]] = {
    "GRA7": {**_OLD_REGION, **_pick(_GPU, "t1-45", "t1-90")},
    "GRA9": {**_OLD_REGION, **_pick(_GPU, "t2-45", "t2-90")},
    "GRA11": {**_OLD_REGION, **_pick(_GPU, "t2-45", "l4-90", "l4-180", "l40s-90", "l40s-180")},
    "SBG5": dict(_OLD_REGION),
    "BHS5": {**_OLD_REGION, **_pick(_GPU, "t1-45", "t2-45", "l4-90")},
    "DE1": dict(_OLD_REGION),
    "UK1": dict(_OLD_REGION),
    "WAW1": dict(_OLD_REGION),
    # 3-AZ regions: the current generation only.
    "EU-WEST-PAR": dict(_GENERAL),
    "EU-SOUTH-MIL": dict(_GENERAL),
}
# Windows flavors are separate entries ("win-" prefix, osType windows).
WINDOWS_FLAVORS = ("b3-8", "b3-16", "c3-8")

LINUX_IMAGES = (
    ("Debian 11", "debian"), ("Debian 12", "debian"), ("Debian 13", "debian"),
    ("Ubuntu 22.04", "ubuntu"), ("Ubuntu 24.04", "ubuntu"),
    ("Rocky Linux 9", "rocky"), ("AlmaLinux 9", "almalinux"), ("Fedora 42", "fedora"),
)
WINDOWS_IMAGES = ("Windows Server 2022 Standard (Desktop)", "Windows Server 2025 Standard (Desktop)")
# Images per region: every region has the list; the 3-AZ ones no Debian 11.
IMAGE_REGIONS = {region: [n for n, _ in LINUX_IMAGES if not (region.startswith("EU-") and n == "Debian 11")]
                 for region in FLAVORS}
