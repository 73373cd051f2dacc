"""Cost estimate: the seed's budget cluster, GPU and on-prem groups, warnings."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from components.catalog import load_catalog
from components.cost import CostError, CostLine, estimate_cost, format_cost_table, lines_from_node_groups

TODAY = date(2026, 11, 23)
BUDGET = [CostLine("budget", "ovh", "VPS-3", 3)]  # seed 004: 3x OVH VPS-3


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def budget(catalog):
    return estimate_cost(BUDGET, catalog, today=TODAY)


def test_budget_self_hosted_is_the_seed_bill(budget):
    assert abs(budget.total_eur - Decimal("50.36")) <= Decimal("0.01")
    (group,) = budget.groups
    assert (group.instance_type, group.count, group.currency) == ("VPS-3", 3, "EUR")
    assert not group.on_prem and group.price_basis == "catalog"
    assert group.storage_gb == 200


def test_budget_eks_equivalent_matches_the_seed_order_of_magnitude(budget):
    eks = budget.hyperscaler("eks")
    assert Decimal(700) <= eks.total_usd <= Decimal(1000)
    assert [(ln.instance_type, ln.count) for ln in eks.lines] == [("t3.2xlarge", 3)]
    assert eks.control_plane_usd == Decimal("73.00")
    assert eks.storage_gb == 600
    assert eks.storage_usd == Decimal("48.00")
    assert eks.saving_pct > 90
    assert eks.saving_eur == eks.total_eur - budget.total_eur


def test_budget_gke_equivalent(budget):
    gke = budget.hyperscaler("gke")
    assert [ln.instance_type for ln in gke.lines] == ["e2-standard-8"]
    assert Decimal(600) <= gke.total_usd <= Decimal(1000)
    assert gke.saving_pct > 90


def test_equivalent_comes_from_catalog_data_not_constants():
    # Make t3.2xlarge dearer than m6i.2xlarge: the pick and the total follow.
    patched = load_catalog(overrides={"hyperscaler_instance_types": [
        {"hyperscaler": "eks", "name": "t3.2xlarge", "hourly_price": Decimal("1.0"), "price_read": TODAY}
    ]})
    eks = estimate_cost(BUDGET, patched, today=TODAY).hyperscaler("eks")
    assert [ln.instance_type for ln in eks.lines] == ["m6i.2xlarge"]
    assert eks.compute_usd == Decimal("0.384") * 730 * 3


def test_cpu_groups_are_never_priced_on_gpu_machines(budget):
    for h in budget.hyperscalers:
        assert all(ln.gpus == 0 for ln in h.lines)


def test_gpu_group_maps_to_gpu_instances(catalog):
    report = estimate_cost([CostLine("gpu", "scaleway", "L4-1-24G", 2, region="fr-par-2")], catalog, today=TODAY)
    (group,) = report.groups
    assert group.gpus == 1 and group.vcpus == 8 and group.memory_gb == 48
    for name in ("eks", "gke"):
        (line,) = report.hyperscaler(name).lines
        assert line.gpus >= 1, (name, line)
        chosen = next(t for t in catalog.hyperscaler(name).instance_types if t.name == line.instance_type)
        assert chosen.vcpus >= 8 and chosen.memory_gb >= 48
    assert report.hyperscaler("gke").lines[0].instance_type == "g2-standard-12"


def test_on_prem_group_costs_zero_by_default_and_is_flagged(catalog):
    report = estimate_cost([CostLine("lab", "existing", count=2)], catalog, today=TODAY)
    (group,) = report.groups
    assert group.on_prem and group.price_basis == "on-prem"
    assert group.monthly_total == 0 and report.total_eur == 0
    # No size given: it cannot be compared, and the report says so.
    assert report.hyperscaler("eks").unmatched_groups == ("lab",)
    assert any("'lab' is left out" in w for w in report.warnings)
    assert "on-prem" in format_cost_table(report)


def test_on_prem_group_costs_its_override_and_can_be_compared(catalog):
    lines = BUDGET + [CostLine("lab", "existing", count=2, monthly_cost_override=Decimal("35"),
                               vcpus=16, memory_gb=64, storage_gb=500)]
    report = estimate_cost(lines, catalog, today=TODAY)
    lab = next(g for g in report.groups if g.group == "lab")
    assert lab.on_prem and lab.monthly_total == Decimal(70)
    assert abs(report.total_eur - Decimal("120.36")) <= Decimal("0.01")
    eks = report.hyperscaler("eks")
    assert ("lab", "m6i.4xlarge") in [(ln.group, ln.instance_type) for ln in eks.lines]
    assert eks.storage_gb == 600 + 1000


def test_negotiated_price_overrides_the_catalog(catalog):
    report = estimate_cost([CostLine("b", "ovh", "VPS-3", 3, monthly_cost_override=Decimal("10"))],
                           catalog, today=date(2030, 1, 1))
    (group,) = report.groups
    assert group.monthly_total == Decimal(30) and group.price_basis == "override" and not group.on_prem
    assert not any("ovh/VPS-3" in w for w in report.warnings)  # no catalog price used


def test_stale_prices_warn_with_fixed_today(catalog):
    late = estimate_cost(BUDGET, catalog, today=date(2030, 1, 1))
    stale = [w for w in late.warnings if w.startswith("stale")]
    assert any("ovh/VPS-3" in w for w in stale)
    assert any("eks/t3.2xlarge" in w for w in stale)
    assert any("fx/EUR-USD" in w for w in stale)
    fresh = estimate_cost(BUDGET, catalog, today=TODAY, max_age_days=100_000)
    assert not any(w.startswith("stale") for w in fresh.warnings)


def test_vat_included_price_is_flagged(budget):
    assert any("includes VAT" in w and "ovh/VPS-3" in w for w in budget.warnings)


def test_deprecated_type_and_wrong_region_warn(catalog):
    report = estimate_cost([CostLine("old", "hetzner", "cx22", 1, region="ash")], catalog, today=TODAY)
    assert any("deprecated" in w and "hetzner/cx22" in w for w in report.warnings)
    assert any("not listed in region 'ash'" in w for w in report.warnings)


def test_region_price_and_extra_block_storage(catalog):
    report = estimate_cost([
        CostLine("sin", "hetzner", "cpx12", 1, region="sin"),
        CostLine("pro", "scaleway", "PRO2-S", 2, storage_gb=100),
    ], catalog, today=TODAY)
    sin, pro = report.groups
    assert sin.unit_price == Decimal("15.99")
    assert pro.unit_price == Decimal("163.07") + 100 * Decimal("0.08")
    assert pro.monthly_total == pro.unit_price * 2


def test_unmatched_group_leaves_both_sides_of_the_saving(catalog):
    report = estimate_cost(BUDGET + [CostLine("h100", "scaleway", "H100-1-80G", 1)], catalog, today=TODAY)
    eks = report.hyperscaler("eks")
    assert eks.unmatched_groups == ("h100",)
    assert abs(eks.self_hosted_eur - Decimal("50.36")) <= Decimal("0.01")
    assert any("no instance type" in w and "'h100'" in w for w in report.warnings)


def test_unknown_instance_type_is_an_error_with_a_hint(catalog):
    with pytest.raises(CostError, match=r"no instance type 'cx23x'.*cx23"):
        estimate_cost([CostLine("x", "hetzner", "cx23x", 1)], catalog)
    with pytest.raises(CostError, match="unknown provider"):
        estimate_cost([CostLine("x", "aws", "t3.large", 1)], catalog)
    with pytest.raises(ValueError, match="count"):
        CostLine("x", "ovh", "VPS-3", -1)


def test_to_dict_is_json_with_two_decimal_amounts(budget):
    data = json.loads(json.dumps(budget.to_dict()))
    assert data["total_eur"] == "50.36"
    assert data["groups"][0]["unit_price"] == "16.79"
    assert [h["name"] for h in data["hyperscalers"]] == ["eks", "gke"]
    assert data["hyperscalers"][0]["lines"][0]["instance_type"] == "t3.2xlarge"
    assert all(len(h["total_usd"].split(".")[1]) == 2 for h in data["hyperscalers"])
    assert data["warnings"] == list(budget.warnings)


def test_format_cost_table(budget):
    text = format_cost_table(budget)
    for needle in ("budget", "VPS-3", "50.36 EUR", "AWS EKS (us-east-1)", "t3.2xlarge", "Google GKE",
                   "control plane", "(assumed)", "saves", "Warnings:"):
        assert needle in text, needle


def test_lines_from_spec_node_groups(catalog):
    from components.spec.node_groups import HostSpec, NodeGroupSpec

    groups = {
        "budget": NodeGroupSpec(provider="ovh", region="GRA", instance_type="VPS-3", count=3,
                                roles=["control-plane", "etcd", "worker"]),
        "lab": NodeGroupSpec(provider="existing", hosts=[HostSpec(name="lab1"), HostSpec(name="lab2")],
                             monthly_cost=Decimal("20")),
    }
    lines = lines_from_node_groups(groups)
    assert [(ln.group, ln.provider, ln.count) for ln in lines] == [("budget", "ovh", 3), ("lab", "existing", 2)]
    report = estimate_cost(lines, catalog, today=TODAY)
    assert abs(report.total_eur - Decimal("90.36")) <= Decimal("0.01")
