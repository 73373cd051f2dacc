"""The validated catalog and its look-ups."""

from __future__ import annotations

from datetime import date

from .models import (
    CatalogModel,
    FxRate,
    Hyperscaler,
    InstanceType,
    ProviderCatalog,
    Region,
    StaleEntry,
    VpsImage,
)


class Catalog(CatalogModel):
    """Providers, their regions and sizes, and the hyperscaler comparison data.

    Look-ups are case-insensitive because specs write ``VPS-3``/``vps-3``
    and Scaleway's API answers ``DEV1-S`` where docs say ``dev1-s``.
    """

    provider_catalogs: dict[str, ProviderCatalog]
    hyperscalers: tuple[Hyperscaler, ...]
    fx: FxRate

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self.provider_catalogs)

    def provider(self, name: str) -> ProviderCatalog | None:
        return self.provider_catalogs.get(name)

    def instance_types(self, provider: str) -> tuple[InstanceType, ...]:
        p = self.provider(provider)
        return p.instance_types if p else ()

    def regions(self, provider: str) -> tuple[Region, ...]:
        p = self.provider(provider)
        return p.regions if p else ()

    def instance_type(self, provider: str, name: str) -> InstanceType | None:
        """By name, or for OVH VPS by plan code (``vps-2025-model3``)."""
        wanted = name.strip().lower()
        for it in self.instance_types(provider):
            if it.name.lower() == wanted or (it.plan_code or "").lower() == wanted:
                return it
        return None

    def region(self, provider: str, name: str) -> Region | None:
        wanted = name.strip().lower()
        return next((r for r in self.regions(provider) if r.name.lower() == wanted), None)

    def underlay_mtu(self, provider: str, region: str, *, private_network: bool = False) -> int:
        """MTU under the WireGuard mesh for a node of ``provider`` in ``region``.

        The public interface's MTU (1500 where the region is unknown); for a
        node attached to the provider's private network, the smaller of that
        and the private network's MTU, since the mesh then also runs over it
        (Hetzner: 1450). Unrecorded private network MTUs change nothing.
        """
        r = self.region(provider, region)
        mtu = r.underlay_mtu if r else 1500
        p = self.provider(provider)
        if private_network and p is not None and p.private_network_mtu is not None:
            mtu = min(mtu, p.private_network_mtu)
        return mtu

    def vps_image(self, os_name: str, region: str) -> VpsImage | None:
        """The OVH VPS image of ``os_name`` ("Debian 12") known to work in ``region``."""
        p = self.provider("ovh")
        for image in p.vps_images if p else ():
            if image.name.lower() == os_name.strip().lower() and (
                    image.regions == "all" or region.lower() in {r.lower() for r in image.regions}):
                return image
        return None

    def vps_image_names(self, region: str) -> list[str]:
        p = self.provider("ovh")
        return sorted(i.name for i in (p.vps_images if p else ()) if self.vps_image(i.name, region) is not None)

    def region_names_for(self, it: InstanceType) -> tuple[str, ...]:
        """Regions where ``it`` is sold ("all" = every region selling its product)."""
        if it.regions == "all":
            return tuple(r.name for r in self.regions(it.provider) if it.product in r.products)
        return it.regions

    def offered_in(self, it: InstanceType, region: str) -> bool:
        return region.lower() in {r.lower() for r in self.region_names_for(it)}

    def hyperscaler(self, name: str) -> Hyperscaler | None:
        return next((h for h in self.hyperscalers if h.name == name.lower()), None)

    def stale_entries(self, max_age_days: int, today: date | None = None) -> list[StaleEntry]:
        """Every price read more than ``max_age_days`` before ``today``."""
        today = today or date.today()
        out: list[StaleEntry] = []

        def check(kind, owner, name, read):
            age = (today - read).days
            if age > max_age_days:
                out.append(StaleEntry(kind=kind, owner=owner, name=name, price_read=read, age_days=age))

        for p in self.provider_catalogs.values():
            for it in p.instance_types:
                check("instance_type", p.name, it.name, it.price_read)
        for h in self.hyperscalers:
            check("hyperscaler", h.name, "fees", h.price_read)
            for it in h.instance_types:
                check("hyperscaler_instance_type", h.name, it.name, it.price_read)
        check("fx", "fx", f"{self.fx.base}/{self.fx.quote}", self.fx.date)
        return out
