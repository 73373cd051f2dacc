"""The price/region catalog: data consistency, overrides, staleness, errors."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import pytest

from components.catalog import DATA_DIR, CatalogError, StaleEntry, load_catalog

REQUIRED = {
    "hetzner": "cx22 cx32 cx42 cx52 cpx11 cpx21 cpx31 cpx41 cpx51 cax11 cax21 cax31 cax41 ccx13 ccx23 ccx33",
    "ovh": "VPS-1 VPS-2 VPS-3 VPS-4 VPS-5 VPS-6 b3-8 b3-16 b3-32 b2-30 c3-8 r3-32 t1-45 t2-45 l4-90",
    "scaleway": "DEV1-S DEV1-M DEV1-L DEV1-XL GP1-XS GP1-S PRO2-XXS PRO2-XS PRO2-S PRO2-M "
    "POP2-2C-8G POP2-4C-16G L4-1-24G GPU-3070-S H100-1-80G",
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_providers_are_the_three_rented_ones(catalog):
    assert catalog.providers == ("hetzner", "ovh", "scaleway")
    assert catalog.instance_types("existing") == ()  # on-prem has no catalog
    assert catalog.region("existing", "anywhere") is None


@pytest.mark.parametrize("provider,name", [(p, n) for p, names in REQUIRED.items() for n in names.split()])
def test_required_instance_types_present(catalog, provider, name):
    it = catalog.instance_type(provider, name)
    assert it is not None, f"{provider}/{name} missing"
    assert it.name == name
    assert it.provider == provider


def test_every_entry_is_consistent(catalog):
    for provider in catalog.providers:
        region_names = {r.name for r in catalog.regions(provider)}
        for it in catalog.instance_types(provider):
            offered = catalog.region_names_for(it)
            assert offered, f"{provider}/{it.name} is offered nowhere"
            assert set(offered) <= region_names
            for region in offered:
                assert it.product in catalog.region(provider, region).products
            assert it.monthly_price > 0
            assert it.currency == "EUR"
            assert it.price_read <= date.today()
            assert "http" in it.source or "seed" in it.source.lower()
            assert (it.gpus > 0) == bool(it.gpu_model)


def test_regions_carry_map_and_mtu_data(catalog):
    fsn1 = catalog.region("hetzner", "FSN1")
    assert (fsn1.city, fsn1.country, fsn1.continent) == ("Falkenstein", "DE", "EU")
    assert 50 < fsn1.lat < 51 and 12 < fsn1.lon < 13
    assert catalog.provider("hetzner").private_network_mtu == 1450
    assert {r.name for r in catalog.regions("hetzner")} >= {"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}
    assert {r.name for r in catalog.regions("scaleway")} >= {
        f"{z}-{i}" for z in ("fr-par", "nl-ams", "pl-waw") for i in (1, 2, 3)
    }
    ovh = {r.name for r in catalog.regions("ovh")}
    assert {"GRA", "SBG", "BHS", "WAW", "DE", "UK"} <= ovh
    assert {"GRA7", "GRA9", "GRA11", "SBG5", "BHS5", "DE1", "UK1", "WAW1", "US-EAST-VA-1"} <= ovh
    assert all(r.underlay_mtu == 1500 for p in catalog.providers for r in catalog.regions(p))


def test_vps3_is_the_seed_machine(catalog):
    vps3 = catalog.instance_type("ovh", "VPS-3")
    assert (vps3.vcpus, vps3.memory_gb, vps3.disk_gb) == (8, 24, 200)
    assert vps3.plan_code == "vps-2025-model3"
    assert (vps3.monthly_price * 3).quantize(Decimal("0.01")) == Decimal("50.36")
    assert "seed" in vps3.source.lower()
    assert vps3.tax_included  # 50.36 / 3 = 13.99 + 20 % VAT


def test_ovh_vps_have_plan_codes_and_cloud_flavors_do_not(catalog):
    for it in catalog.instance_types("ovh"):
        if it.product == "vps":
            assert it.plan_code == f"vps-2025-model{it.name[-1]}"
            assert "GRA" in it.regions
        else:
            assert it.product == "public-cloud" and it.plan_code is None
            assert "GRA" not in catalog.region_names_for(it)  # VPS datacenter, not a cloud region


def test_lookups_are_case_insensitive_and_accept_plan_codes(catalog):
    assert catalog.instance_type("ovh", "vps-3").name == "VPS-3"
    assert catalog.instance_type("ovh", "vps-2025-model3").name == "VPS-3"
    assert catalog.instance_type("scaleway", "pro2-s").name == "PRO2-S"
    assert catalog.instance_type("hetzner", "CX22").name == "cx22"
    assert catalog.instance_type("hetzner", "cx99") is None
    assert catalog.region("ovh", "gra11").name == "GRA11"


def test_region_prices_and_deprecation(catalog):
    cpx12 = catalog.instance_type("hetzner", "cpx12")
    assert cpx12.price_in("sin") > cpx12.price_in("fsn1") == cpx12.monthly_price
    assert catalog.instance_type("hetzner", "cx22").deprecated
    assert not catalog.instance_type("hetzner", "cx23").deprecated


def test_gpu_flavors(catalog):
    for provider, name in [("ovh", "l4-90"), ("ovh", "t1-45"), ("scaleway", "L4-1-24G"), ("scaleway", "H100-1-80G")]:
        it = catalog.instance_type(provider, name)
        assert it.gpus >= 1 and it.gpu_model


def test_hyperscalers(catalog):
    assert [h.name for h in catalog.hyperscalers] == ["eks", "gke"]
    eks = catalog.hyperscaler("eks")
    assert eks.control_plane_monthly == Decimal("73.00")
    t3 = next(t for t in eks.instance_types if t.name == "t3.2xlarge")
    assert (t3.vcpus, t3.memory_gb) == (8, 32)
    assert t3.monthly_price == t3.hourly_price * 730
    assert any(t.gpus for t in eks.instance_types if t.name == "g5.xlarge")
    gke = catalog.hyperscaler("gke")
    assert {"e2-standard-8", "g2-standard-8"} <= {t.name for t in gke.instance_types}
    assert gke.egress_assumed_gb_month > 0 and gke.egress_note
    assert Decimal("1.0") < catalog.fx.rate < Decimal("1.4")


def test_default_catalog_is_cached():
    assert load_catalog() is load_catalog()


def test_override_file_replaces_a_price(tmp_path, catalog):
    override = tmp_path / "negotiated.yaml"
    override.write_text(
        "instance_types:\n"
        "  - provider: ovh\n"
        "    name: vps-3\n"
        "    monthly_price: 12.00\n"
        "    tax_included: false\n"
        "    price_read: 2026-10-01\n"
    )
    patched = load_catalog([override])
    vps3 = patched.instance_type("ovh", "VPS-3")
    assert vps3.monthly_price == Decimal("12.00")
    assert vps3.price_read == date(2026, 10, 1)
    assert "negotiated.yaml" in vps3.source
    assert vps3.vcpus == 8  # other fields kept
    # The cached default catalog is untouched.
    assert load_catalog().instance_type("ovh", "VPS-3").monthly_price == Decimal("16.7867")
    assert patched is not catalog


def test_override_mapping_for_hyperscaler_and_fx():
    patched = load_catalog(overrides={
        "hyperscaler_instance_types": [
            {"hyperscaler": "eks", "name": "t3.2xlarge", "hourly_price": Decimal("0.2"), "price_read": date(2026, 9, 1)}
        ],
        "fx": {"rate": Decimal("1.10"), "date": date(2026, 11, 1)},
    })
    t3 = next(t for t in patched.hyperscaler("eks").instance_types if t.name == "t3.2xlarge")
    assert t3.monthly_price == Decimal("146.0")
    assert patched.fx.rate == Decimal("1.10")


def test_price_override_without_date_is_rejected(tmp_path):
    override = tmp_path / "bad.yaml"
    override.write_text("instance_types:\n  - {provider: hetzner, name: cx23, monthly_price: 1.00}\n")
    with pytest.raises(CatalogError, match=r"bad\.yaml.*cx23.*price_read"):
        load_catalog([override])


def test_new_entry_in_override_is_validated_and_named(tmp_path):
    override = tmp_path / "extra.yaml"
    override.write_text("instance_types:\n  - {provider: hetzner, name: cx99, product: cloud, vcpus: 2}\n")
    with pytest.raises(CatalogError) as err:
        load_catalog([override])
    text = str(err.value)
    assert "extra.yaml" in text and "cx99" in text and "monthly_price" in text


def test_bad_data_file_errors_name_file_and_entry(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    hetzner = data / "hetzner.yaml"
    text = hetzner.read_text()
    text = text.replace("monthly_price: 6.80", "monthly_price: -6.80")  # cx32
    text = text.replace("monthly_price: 16.40,", "montly_price: 16.40,")  # cx42 typo
    text = text.replace("regions: [fsn1, nbg1, hel1], monthly_price: 32.40", "regions: [fsn9], monthly_price: 32.40")
    hetzner.write_text(text)
    with pytest.raises(CatalogError) as err:
        load_catalog(data_dir=data)
    issues = err.value.issues
    assert any("hetzner.yaml" in i and "cx32" in i and "monthly_price" in i for i in issues), issues
    assert any("cx42" in i and "montly_price" in i for i in issues), issues
    assert any("cx52" in i and "unknown region 'fsn9'" in i for i in issues), issues


def test_unknown_override_key_is_rejected():
    with pytest.raises(CatalogError, match="unknown key"):
        load_catalog(overrides={"instance_type": []})


def test_stale_entries_with_fixed_today(catalog):
    vps3 = catalog.instance_type("ovh", "VPS-3")
    day = vps3.price_read.toordinal()
    stale = catalog.stale_entries(10, today=date.fromordinal(day + 10))
    assert not any(s.owner == "ovh" and s.name == "VPS-3" for s in stale)
    stale = catalog.stale_entries(10, today=date.fromordinal(day + 11))
    entry = next(s for s in stale if s.owner == "ovh" and s.name == "VPS-3")
    assert isinstance(entry, StaleEntry) and entry.age_days == 11
    assert "ovh/VPS-3" in str(entry)
    assert catalog.stale_entries(100_000, today=date(2030, 1, 1)) == []
    everything = catalog.stale_entries(0, today=date(2100, 1, 1))
    assert {s.kind for s in everything} == {"instance_type", "hyperscaler", "hyperscaler_instance_type", "fx"}


def test_stale_detection_sees_overrides():
    patched = load_catalog(overrides={"instance_types": [
        {"provider": "hetzner", "name": "cx23", "monthly_price": Decimal("4"), "price_read": date(2020, 1, 1)}
    ]})
    stale = patched.stale_entries(365, today=date(2026, 11, 23))
    assert any(s.name == "cx23" for s in stale)
    assert not any(s.name == "cx23" for s in load_catalog().stale_entries(365, today=date(2026, 11, 23)))


def test_underlay_mtu_of_a_node_on_a_private_network(catalog):
    assert catalog.underlay_mtu("hetzner", "fsn1") == 1500
    assert catalog.underlay_mtu("hetzner", "fsn1", private_network=True) == 1450
    # Not recorded for Scaleway: the public MTU stands.
    assert catalog.underlay_mtu("scaleway", "fr-par-1", private_network=True) == 1500
    assert catalog.underlay_mtu("hetzner", "nowhere") == 1500
    jumbo = load_catalog(overrides={"regions": [{"provider": "hetzner", "name": "fsn1", "underlay_mtu": 1400}]})
    assert jumbo.underlay_mtu("hetzner", "fsn1", private_network=True) == 1400  # the smaller one
