"""Environment stacks from one base (stacks/environments.py, stacks/layers.py):
the merge rule, errors that name the file a field came from, and
StackReferences between stacks under mocks that answer like the engine."""

from __future__ import annotations

import copy
from pathlib import Path

import pulumi
import pytest
import yaml

from components.spec import SpecError
from stacks.environments import BASE_KEY, base_paths, compose, parse
from stacks.layers import MERGE_KEYS, merge_layers
from tests.stack_runner import example_spec

BASE = {
    "distribution": "k3s",
    "version": "v1.31.4+k3s1",
    "ssh": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv0bEd0X2Y9o3wVt0y2Yk7kz1mX6oN1Ck2mM0k0bAbC ops@x"},
    "kubernetes": {"apiSourceCidrs": ["203.0.113.10/32"]},
    "network": {"cni": "calico", "latencies": [{"from": "fsn1", "to": "nbg1", "ms": 3}]},
    "nodeGroups": {
        "main": {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 1,
                 "roles": ["control-plane", "worker"], "labels": {"tier": "base"}},
        "lab": {"provider": "existing", "region": "paris", "roles": ["worker"], "sshUser": "debian",
                "hosts": [{"name": "h1", "address": "192.0.2.1"}, {"name": "h2", "address": "192.0.2.2"}]},
    },
    "addons": {"profile": "small"},
}


def write_base(root: Path, name: str, cluster: dict) -> str:
    path = root / "environments" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"cluster": cluster}))
    return f"environments/{name}"


def composed(tmp_path, overrides: dict, *bases: dict, stack: str = "Pulumi.staging.yaml"):
    paths = [write_base(tmp_path, f"layer{i}.yaml", b) for i, b in enumerate(bases)]
    return compose(overrides, paths, stack_label=stack, root=tmp_path)


# -- the merge rule ------------------------------------------------------------

def test_mappings_merge_key_by_key_and_the_stack_wins(tmp_path):
    data = composed(tmp_path, {"name": "staging", "nodeGroups": {"main": {"count": 3}}}, BASE).data
    main = data["nodeGroups"]["main"]
    assert main["count"] == 3                      # the stack's value
    assert main["instanceType"] == "cx23"          # the base's, untouched beside it
    assert main["labels"] == {"tier": "base"}
    assert data["name"] == "staging" and data["addons"] == {"profile": "small"}


def test_later_bases_override_earlier_ones_then_the_stack(tmp_path):
    eu = {"nodeGroups": {"main": {"region": "nbg1", "labels": {"region": "eu"}}}}
    data = composed(tmp_path, {"name": "x", "nodeGroups": {"main": {"labels": {"tier": "stack"}}}}, BASE, eu).data
    assert data["nodeGroups"]["main"]["region"] == "nbg1"
    assert data["nodeGroups"]["main"]["labels"] == {"tier": "stack", "region": "eu"}


def test_null_removes_a_key_and_patch_replace_replaces_a_mapping(tmp_path):
    over = {"name": "x", "nodeGroups": {"lab": None, "main": {"labels": {"$patch": "replace", "only": "this"}}},
            "addons": None}
    data = composed(tmp_path, over, BASE).data
    assert set(data["nodeGroups"]) == {"main"}
    assert data["nodeGroups"]["main"]["labels"] == {"only": "this"}
    assert "addons" not in data


def test_lists_replace_but_hosts_and_latencies_merge_by_key(tmp_path):
    assert ("nodeGroups", "*", "hosts") in MERGE_KEYS
    over = {"name": "x", "network": {"latencies": [{"from": "fsn1", "to": "nbg1", "ms": 5},
                                                   {"from": "fsn1", "to": "hel1", "ms": 24}]},
            "kubernetes": {"apiSourceCidrs": ["198.51.100.0/24"]},
            "nodeGroups": {"main": {"roles": ["control-plane"]},
                           "lab": {"hosts": [{"name": "h2", "$patch": "delete"},
                                             {"name": "h1", "behindNat": True},
                                             {"name": "h3", "address": "192.0.2.3"}]}}}
    data = composed(tmp_path, over, BASE).data
    assert data["kubernetes"]["apiSourceCidrs"] == ["198.51.100.0/24"]   # a plain list: replaced
    assert data["nodeGroups"]["main"]["roles"] == ["control-plane"]
    assert data["nodeGroups"]["lab"]["hosts"] == [
        {"name": "h1", "address": "192.0.2.1", "behindNat": True},       # merged in place
        {"name": "h3", "address": "192.0.2.3"},                          # appended
    ]
    assert data["network"]["latencies"] == [{"from": "fsn1", "to": "nbg1", "ms": 5},
                                            {"from": "fsn1", "to": "hel1", "ms": 24}]


def test_a_stack_without_base_is_read_as_it_is():
    spec = {"name": "dev", "nodeGroups": {"g": {"count": None}}}
    result = compose(spec, [], stack_label="Pulumi.dev.yaml")
    assert result.data is spec and not result.layered


def test_the_base_files_are_not_modified_by_a_merge(tmp_path):
    base = copy.deepcopy(BASE)
    merge_layers([("base", base), ("stack", {"nodeGroups": {"main": {"labels": {"x": "y"}}}})])
    assert base == BASE


@pytest.mark.parametrize("over,path,words", [
    ({"nodeGroups": {"lab": {"hosts": [{"address": "192.0.2.9"}]}}}, "cluster.nodeGroups.lab.hosts.0", "each needs name"),
    ({"nodeGroups": {"lab": {"hosts": [{"name": "h9", "$patch": "delete"}]}}}, "cluster.nodeGroups.lab.hosts.0",
     "deletes name='h9'"),
    ({"nodeGroups": {"main": {"$patch": "delete"}}}, "cluster.nodeGroups.main.$patch", "not a mapping directive"),
])
def test_a_layer_that_cannot_merge_is_a_spec_error_naming_its_file(tmp_path, over, path, words):
    with pytest.raises(SpecError) as caught:
        composed(tmp_path, {"name": "x", **over}, BASE)
    [issue] = caught.value.issues
    assert (issue.path, issue.source) == (path, "Pulumi.staging.yaml")
    assert words in issue.message


# -- clusterBase: where the layers come from -------------------------------------

def test_base_paths_are_a_list_like_pulumi_yaml_declares_them():
    assert base_paths(None) == [] and base_paths("[]") == []             # absent: Pulumi.yaml's default
    assert base_paths('["a.yaml", "b.yaml"]') == ["a.yaml", "b.yaml"]   # a list, as the runtime hands it over
    with pytest.raises(SpecError, match=r"write it as a list: \[environments/base.yaml\]"):
        base_paths("environments/base.yaml")                             # the engine refuses a bare path too
    with pytest.raises(SpecError, match="twice"):
        base_paths(["a.yaml", "a.yaml"])


@pytest.mark.parametrize("path,words", [
    ("/etc/passwd.yaml", "inside the project"), ("../outside.yaml", "inside the project"),
    ("environments/missing.yaml", "does not exist"), ("environments/notes.txt", "inside the project"),
])
def test_a_base_outside_the_project_or_missing_is_refused(tmp_path, path, words):
    with pytest.raises(SpecError) as caught:
        compose({"name": "x"}, [path], stack_label="Pulumi.x.yaml", root=tmp_path)
    [issue] = caught.value.issues
    assert issue.path == BASE_KEY and words in issue.message


def test_a_base_must_hold_only_the_cluster_key(tmp_path):
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"cluster": {}, "clustr": {}}))
    with pytest.raises(SpecError, match="exactly one key"):
        compose({"name": "x"}, ["b.yaml"], stack_label="Pulumi.x.yaml", root=tmp_path)


# -- validation of the merged result names the source file ---------------------------

def test_every_error_of_the_merged_spec_names_the_file_its_field_came_from(tmp_path):
    base = copy.deepcopy(BASE)
    base["nodeGroups"]["main"]["instanceType"] = "cx999"         # wrong in the base
    overrides = {"name": "staging", "network": {"cni": "flannel"},  # wrong in the stack
                 "nodeGroups": {"main": {"count": 2}}}
    with pytest.raises(SpecError) as caught:
        parse(composed(tmp_path, overrides, base))
    by_path = {i.path: i for i in caught.value.issues}
    assert by_path["cluster.network.cni"].source == "Pulumi.staging.yaml"
    assert by_path["cluster.nodeGroups.main.instanceType"].source == "environments/layer0.yaml"
    # All of them at once, each printed with its file.
    text = str(caught.value)
    assert "cluster.network.cni (from Pulumi.staging.yaml)" in text
    assert "cluster.nodeGroups.main.instanceType (from environments/layer0.yaml)" in text


def test_an_issue_about_a_mixed_section_names_both_files_and_a_missing_field_names_where_it_may_go(tmp_path):
    base = copy.deepcopy(BASE)
    del base["ssh"]
    overrides = {"name": "staging", "nodeGroups": {"main": {"roles": ["worker"]}, "lab": None}}
    with pytest.raises(SpecError) as caught:
        parse(composed(tmp_path, overrides, base))
    by_path = {i.path: i for i in caught.value.issues}
    # No control plane: the group section holds values of both files.
    assert by_path["cluster.nodeGroups"].source == "environments/layer0.yaml, Pulumi.staging.yaml"
    assert by_path["cluster.ssh"].source == "not set in environments/layer0.yaml nor Pulumi.staging.yaml"


def test_a_single_file_stack_reports_exactly_as_before():
    spec = example_spec("dev")
    spec["network"] = {"cni": "flannel"}
    with pytest.raises(SpecError) as caught:
        parse(compose(spec, [], stack_label="Pulumi.dev.yaml"))
    assert all(i.source == "" for i in caught.value.issues)
    assert "cluster.network.cni: " in str(caught.value)


def test_the_program_refuses_a_layered_stack_naming_the_file(tmp_path, monkeypatch):
    """The program itself merges (what `pulumi up` runs), and an invalid
    merged spec creates nothing."""
    import stacks.environments as environments
    from stacks.config import PROJECT
    from stacks.plan.run import run_config

    path = write_base(tmp_path, "base.yaml", {**BASE, "nodeGroups": {"main": {**BASE["nodeGroups"]["main"],
                                                                              "instanceType": "cx999"}}})
    monkeypatch.setattr(environments, "REPO_ROOT", tmp_path)
    with pytest.raises(Exception) as caught:
        run_config("staging", {f"{PROJECT}:{BASE_KEY}": [path], f"{PROJECT}:cluster": {"name": "staging"}})
    assert "cluster.nodeGroups.main.instanceType (from environments/base.yaml)" in str(caught.value)
    assert caught.value.registered_resources == []


# -- StackReferences under mocks answer like the engine ---------------------------

HUB = "organization/sovereign-cloud/fleet"


def read_reference(outputs: dict | None, secret: tuple[str, ...] = (), *, names=("plain", "secret", "missing")):
    """Run a program that reads ``HUB`` through a StackReference (the hub
    recorded with ``outputs`` unless None) and exports what it saw."""
    from stacks.plan.fake_cloud import FakeCloud
    from stacks.plan.fakes.state import recorded_stack_outputs
    from tests.stack_runner import run_components

    cloud = FakeCloud()
    if outputs is not None:
        recorded_stack_outputs(cloud, HUB, outputs, secret)

    def program():
        ref = pulumi.StackReference("hub", stack_name=HUB)
        for name in names:
            pulumi.export(name, ref.get_output(name))
        pulumi.export("secretOutputNames", ref.secret_output_names)
        pulumi.export("outputs", ref.outputs)

    return run_components(program, cloud=cloud)


def test_a_stack_reference_reads_the_outputs_that_exist_and_keeps_secrets_secret():
    run = read_reference({"plain": "https://hub:6443", "secret": "token-1234"}, ("secret",))
    assert run.outputs == {"plain": "https://hub:6443", "secret": "token-1234", "missing": None,
                           "secretOutputNames": ["secret"],
                           "outputs": {"plain": "https://hub:6443", "secret": "token-1234"}}
    # The map of all outputs holds a secret: secret as a whole, as the engine hands it over.
    assert run.secret_outputs == {"secret", "outputs"}
    assert read_reference({"plain": 1}).secret_outputs == set()
    [ref] = run.of_type("pulumi:pulumi:StackReference")
    # A read of the stack by name, as the engine does it: no managed resource.
    assert (ref.read, ref.id, ref.inputs["name"]) == (True, HUB, HUB)


def test_a_secret_output_stays_secret_even_when_its_value_looks_plain():
    run = read_reference({"n": 3, "kubeconfig": {"clusters": []}}, ("kubeconfig",), names=("n", "kubeconfig"))
    assert run.outputs["kubeconfig"] == {"clusters": []} and run.secret_outputs == {"kubeconfig", "outputs"}


def test_require_output_of_a_name_the_stack_does_not_export_fails():
    from stacks.plan.fake_cloud import FakeCloud
    from stacks.plan.fakes.state import recorded_stack_outputs
    from tests.stack_runner import run_components

    cloud = FakeCloud()
    recorded_stack_outputs(cloud, HUB, {"plain": 1})

    def program():
        pulumi.export("x", pulumi.StackReference("hub", stack_name=HUB).require_output("nope"))

    with pytest.raises(Exception, match="nope"):
        run_components(program, cloud=cloud)


def test_a_reference_to_a_stack_the_backend_does_not_know_fails_like_the_engine():
    with pytest.raises(Exception, match=f'unknown stack "{HUB}"'):
        read_reference(None)


def test_the_plan_of_a_layered_stack_file_prints_each_error_with_its_file_and_exits_2(tmp_path):
    import subprocess
    import sys

    from stacks.config import REPO_ROOT

    stack_file = tmp_path / "Pulumi.qa.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {
        "sovereign-cloud:clusterBase": ["environments/base.yaml"],
        "sovereign-cloud:cluster": {"name": "qa", "network": {"cni": "flannel"}}}}))
    result = subprocess.run([sys.executable, "-m", "stacks", "plan", "--file", str(stack_file)],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "cluster.network.cni (from Pulumi.qa.yaml): " in result.stderr
    # Not a member of the base's fleet: the fleet section comes from the base.
    assert "cluster.fleet (from environments/base.yaml): this cluster ('qa') is not a member" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_environment_stack_is_built_from_the_base():
    base = yaml.safe_load(open("environments/base.yaml"))["cluster"]
    for stack in ("fleet", "test", "staging", "staging-us"):
        document = yaml.safe_load(open(f"Pulumi.{stack}.yaml"))["config"]
        assert document[f"sovereign-cloud:{BASE_KEY}"] == ["environments/base.yaml"]
        merged = example_spec(stack)
        assert merged["fleet"] == base["fleet"] and merged["distribution"] == base["distribution"]
        assert merged["name"] == stack
