"""Frozen pydantic models of the price/region catalog (one per YAML entry)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ProviderName = Literal["hetzner", "ovh", "scaleway"]
Continent = Literal["EU", "NA", "SA", "AS", "OC", "AF"]

# Products each provider sells here; "vps" and "public-cloud" are ordered
# through different OVH APIs (ovh.vps.Vps vs ovh.cloudproject.Instance).
PRODUCTS: dict[str, frozenset[str]] = {
    "hetzner": frozenset({"cloud"}),
    "ovh": frozenset({"vps", "public-cloud"}),
    "scaleway": frozenset({"instance"}),
}


class CatalogModel(BaseModel):
    # A typo in a data file (``montly_price``) must fail loudly, not vanish.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(CatalogModel):
    """A datacenter/zone: where to order, and where to draw it on a map."""

    name: str = Field(min_length=1)
    city: str
    country: str = Field(pattern=r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2
    continent: Continent
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    # MTU of the public interface; the WireGuard MTU is derived from it.
    underlay_mtu: int = Field(default=1500, ge=1280, le=9000)
    # Products orderable here; OVH VPS datacenters differ from its cloud regions.
    products: tuple[str, ...] = ()
    network_zone: str | None = None
    note: str = ""


class InstanceType(CatalogModel):
    """A machine size with its list price at one date, and where it came from."""

    provider: ProviderName
    name: str = Field(min_length=1)
    product: str
    vcpus: int = Field(gt=0)
    memory_gb: float = Field(gt=0)
    # Included local disk; 0 means block storage must be bought separately.
    disk_gb: int = Field(default=0, ge=0)
    gpus: int = Field(default=0, ge=0)
    gpu_model: str | None = None
    regions: tuple[str, ...] | Literal["all"]
    # OVH VPS only: what ovh.vps.Vps needs in ``plans[].plan_code``.
    plan_code: str | None = None
    monthly_price: Decimal = Field(gt=0)
    hourly_price: Decimal | None = Field(default=None, gt=0)
    # Per-region list prices where they differ from ``monthly_price``.
    region_prices: dict[str, Decimal] = Field(default_factory=dict)
    currency: Literal["EUR", "USD"] = "EUR"
    # Almost all list prices exclude VAT; a bill copied from a blog may not.
    tax_included: bool = False
    # No longer orderable (kept so existing stacks still get a price).
    deprecated: bool = False
    price_read: date
    source: str = Field(min_length=10)

    @model_validator(mode="after")
    def _gpu_model(self):
        if self.gpus and not self.gpu_model:
            raise ValueError("gpu_model is required when gpus > 0")
        return self

    def price_in(self, region: str | None) -> Decimal:
        """List price in ``region`` (falls back to the default price)."""
        if region:
            for name, price in self.region_prices.items():
                if name.lower() == region.lower():
                    return price
        return self.monthly_price


class VpsImage(CatalogModel):
    """An OVH VPS OS image: the ``image_id`` ovh.vps.Vps installs (with the
    SSH key) for the ``vps_os`` ordered, where it was found."""

    name: str = Field(min_length=1)  # the vps_os value, e.g. "Debian 12"
    image_id: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    regions: tuple[str, ...] | Literal["all"]
    read: date
    source: str = Field(min_length=10)


class ProviderCatalog(CatalogModel):
    """Everything known about one provider: regions, sizes, storage price."""

    name: ProviderName
    display_name: str
    price_page: str
    # MTU of the provider's private networks, when smaller than 1500.
    private_network_mtu: int | None = Field(default=None, ge=1280, le=9000)
    block_storage_price_per_gb_month: Decimal | None = Field(default=None, gt=0)
    block_storage_note: str = ""
    regions: tuple[Region, ...]
    instance_types: tuple[InstanceType, ...]
    # OVH only: VPS image ids per OS name (none elsewhere).
    vps_images: tuple[VpsImage, ...] = ()


class HyperscalerInstanceType(CatalogModel):
    """An on-demand VM size of a hyperscaler, used for the comparison only."""

    name: str = Field(min_length=1)
    vcpus: int = Field(gt=0)
    memory_gb: float = Field(gt=0)
    gpus: int = Field(default=0, ge=0)
    gpu_model: str | None = None
    hourly_price: Decimal = Field(gt=0)
    monthly_price: Decimal = Field(gt=0)  # hourly x hours_per_month (filled at load)
    currency: Literal["USD"] = "USD"
    price_read: date
    source: str = Field(min_length=10)


class Hyperscaler(CatalogModel):
    """A managed-Kubernetes offer: fees and VM prices in one region."""

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    display_name: str
    region: str
    currency: Literal["USD"] = "USD"
    # Both AWS and Google quote monthly figures as 730 hours.
    hours_per_month: int = Field(default=730, gt=0)
    control_plane_hourly: Decimal = Field(ge=0)
    control_plane_monthly: Decimal = Field(ge=0)  # filled at load
    control_plane_note: str = ""
    block_storage_type: str
    block_storage_price_per_gb_month: Decimal = Field(gt=0)
    egress_price_per_gb: Decimal = Field(ge=0)
    # Assumed internet egress of the cluster, GB per month (an assumption,
    # not a measurement: see egress_note).
    egress_assumed_gb_month: int = Field(ge=0)
    egress_note: str
    price_read: date
    source: str = Field(min_length=10)
    instance_types: tuple[HyperscalerInstanceType, ...]

    @model_validator(mode="before")
    @classmethod
    def _monthly(cls, data):
        # Monthly figures derive from the published hourly ones, so the YAML
        # cannot hold two prices that disagree.
        if not isinstance(data, dict):
            return data
        hours = Decimal(str(data.get("hours_per_month", 730)))
        data = dict(data)
        if "control_plane_hourly" in data:
            data["control_plane_monthly"] = Decimal(str(data["control_plane_hourly"])) * hours
        types = []
        for it in data.get("instance_types") or []:
            if isinstance(it, dict) and "hourly_price" in it:
                it = {**it, "monthly_price": Decimal(str(it["hourly_price"])) * hours}
            types.append(it)
        data["instance_types"] = types
        return data

    @field_validator("instance_types")
    @classmethod
    def _unique(cls, value):
        names = [it.name for it in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate instance types {dupes}")
        return value


class FxRate(CatalogModel):
    """EUR -> USD conversion used to compare EUR bills with USD price lists."""

    base: Literal["EUR"] = "EUR"
    quote: Literal["USD"] = "USD"
    rate: Decimal = Field(gt=0)  # 1 EUR = rate USD
    date: date
    source: str = Field(min_length=10)

    def to_eur(self, usd: Decimal) -> Decimal:
        return usd / self.rate

    def to_usd(self, eur: Decimal) -> Decimal:
        return eur * self.rate


class StaleEntry(CatalogModel):
    """A catalog price older than the accepted age."""

    kind: Literal["instance_type", "hyperscaler", "hyperscaler_instance_type", "fx"]
    owner: str  # provider or hyperscaler name ("fx" for the rate)
    name: str
    price_read: date
    age_days: int

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}: price read {self.price_read} ({self.age_days} days old)"
