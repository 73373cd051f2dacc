"""README command one: `python -m stacks plan`, text and JSON, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from stacks.config import REPO_ROOT
from tests.stack_runner import example_spec


def plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stacks", "plan", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)


@pytest.mark.parametrize("stack,nodes", [("prod", 9), ("budget", 3), ("dev", 1), ("minwaas", 12), ("fleet", 1),
                                         ("test", 1), ("staging", 3), ("staging-us", 1)])
def test_json_plan_of_every_example(stack, nodes):
    result = plan(stack, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["stack"] == stack
    assert len(report["nodes"]) == nodes
    for node in report["nodes"]:
        assert {"name", "provider", "region", "instance_type", "roles", "mesh_ip"} <= set(node)
    assert all({"type", "name", "parent"} <= set(r) for r in report["resources"])
    names = {r["name"] for r in report["resources"]}
    assert all(r["parent"] in names for r in report["resources"] if r["parent"])


def test_text_plan_shows_tree_and_node_table():
    result = plan("budget")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "budget-ovh  [sovereign:compute:OvhNodes]" in result.stdout
    assert "    budget-ovh-vps-1  [ovh:Vps/vps:Vps]" in result.stdout
    for name in ("vps-1", "vps-2", "vps-3"):
        assert any(line.startswith(name) and "control-plane,worker" in line for line in result.stdout.splitlines())


def test_invalid_file_exits_2_with_every_error(tmp_path):
    spec = example_spec("dev")
    spec["version"] = "one"
    spec["nodeGroups"]["main"]["instanceTyp"] = "cx22"
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(yaml.safe_dump({"config": {"sovereign-cloud:cluster": spec}}))
    result = plan("--file", str(path))
    assert result.returncode == 2
    assert "cluster.version" in result.stderr
    assert "cluster.nodeGroups.main.instanceTyp" in result.stderr
    assert result.stdout == ""


def test_field_errors_and_cross_field_errors_are_all_printed(tmp_path):
    from tests.unit.test_spec_validation import MIXED_ERRORS, mixed_errors_spec

    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump({"config": {"sovereign-cloud:cluster": mixed_errors_spec()}}))
    result = plan("--file", str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for field, text in MIXED_ERRORS.items():
        assert f"  - {field}: " in result.stderr, f"{field} missing from:\n{result.stderr}"
        assert text in result.stderr


def test_missing_stack_file_exits_2():
    result = plan("nosuchstack")
    assert result.returncode == 2 and "Pulumi.nosuchstack.yaml" in result.stderr


def test_budget_cost_reproduces_seed_004():
    report = json.loads(plan("budget", "--json").stdout)
    cost = report["cost"]
    assert cost["total_eur"] == "50.36"
    (group,) = cost["groups"]
    assert group["count"] == 3 and group["instance_type"] == "VPS-3"
    eks = next(h for h in cost["hyperscalers"] if h["name"] == "eks")
    assert 700 <= float(eks["total_usd"]) <= 1000
    assert float(eks["saving_pct"]) > 90


def test_existing_nodes_cost_what_the_spec_says():
    report = json.loads(plan("prod", "--json").stdout)
    groups = {g["group"]: g for g in report["cost"]["groups"]}
    assert groups["gpu-houston"]["monthly_total"] == "420.00" and groups["gpu-houston"]["on_prem"]
    assert groups["onprem-paris"]["monthly_total"] == "0.00"


def test_text_plan_shows_cost_and_stale_warnings():
    out = plan("budget").stdout
    assert "Monthly cost:" in out and "50.36" in out
    assert "stale" in out.lower()  # the VPS-3 price was read long ago: say so


def test_diagram_shows_nodes_grouped_by_provider_and_region(tmp_path):
    import xml.etree.ElementTree as ET

    svg = tmp_path / "prod.svg"
    result = plan("prod", "--diagram", str(svg))
    assert result.returncode == 0, result.stderr
    text = " ".join(t.text or "" for t in ET.parse(svg).iter() if t.tag.endswith("text"))
    for name in ("cp-paris-1", "etcd-fsn-1", "gpu-houston-1", "onprem-paris-1"):
        assert name in text
    assert "110" in text  # Europe-USA latency from the spec
    lowered = text.lower()
    for label in ("scaleway", "ovh", "hetzner", "fr-par-1", "fsn1", "houston"):
        assert label in lowered  # provider and region groups


def test_json_plan_shows_every_resource_input_with_secrets_masked():
    from stacks.plan.run import PLAN_SSH_KEY_PLACEHOLDER

    result = plan("budget", "--json")
    assert result.returncode == 0, result.stderr
    resources = json.loads(result.stdout)["resources"]
    assert all("inputs" in r for r in resources)
    # A Helm release shows its chart, version and values.
    vault = next(r for r in resources if r["type"] == "kubernetes:helm.sh/v3:Release" and r["inputs"]["name"] == "vault")
    assert vault["inputs"]["chart"] == "vault" and vault["inputs"]["values"]["server"]["ha"]["enabled"] is True
    # Node commands reach nodes with the SSH key, a secret: shown masked, never in clear.
    command = next(r for r in resources if r["type"] == "command:remote:Command")
    connection = command["inputs"]["connection"]
    assert connection == "[secret]" or connection["privateKey"] == "[secret]"
    assert "create" in command["inputs"]  # the script itself is shown
    assert PLAN_SSH_KEY_PLACEHOLDER not in result.stdout
    # Generated passwords (Vault has none; ArgoCD's repository key is a secret input of its Secret).
    secret_objects = [r for r in resources if r["type"] == "kubernetes:core/v1:Secret"]
    assert secret_objects and all("[secret]" in json.dumps(r["inputs"]) for r in secret_objects)
