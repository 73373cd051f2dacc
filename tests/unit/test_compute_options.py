"""Resource options of the cloud servers, as the engine receives them.

The options are read from the ``RegisterResource`` requests (a wrapper
around the recording monitor), i.e. after the SDK translated them: what a
real ``pulumi up`` would act on. The expected sets are written here from
the providers' documentation (which inputs only matter when a machine is
installed), not taken from the program's constants.
"""

from __future__ import annotations

import logging

import pulumi
import pytest

from stacks.plan import runtime
from stacks.plan.fake_cloud import FakeCloud
from tests.stack_runner import example_spec

SERVERS = {
    # Hetzner: image, user_data and ssh_keys are ForceNew (terraform-provider-hcloud
    # internal/server/resource.go): a change would replace the server.
    "hcloud:index/server:Server": {"image", "userData", "sshKeys"},
    # Scaleway: an image change replaces the server; user data is read by cloud-init once.
    "scaleway:instance/server:Server": {"image", "userData"},
    # OVH VPS: ``plans`` is the order; image_id (with the key and password
    # choice) reinstalls the VPS when it changes (pulumi_ovh vps.py docstring).
    "ovh:Vps/vps:Vps": {"plans", "imageId", "publicSshKey", "doNotSendPassword"},
    # OVH Public Cloud: boot image, first-boot user data and the key pair.
    "ovh:CloudProject/instance:Instance": {"bootFrom", "userData", "sshKeyCreate"},
}
COMPUTE_PACKAGES = ("hcloud:", "scaleway:", "ovh:")


@pytest.fixture
def registered(monkeypatch):
    """Resource name -> options of its RegisterResource request."""
    seen: dict[str, dict] = {}
    original = runtime.RecordingMonitor.RegisterResource

    def record(self, request):
        seen[request.name] = {
            "type": request.type,
            "ignoreChanges": list(request.ignoreChanges),
            "replaceOnChanges": list(request.replaceOnChanges),
            "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        }
        return original(self, request)

    monkeypatch.setattr(runtime.RecordingMonitor, "RegisterResource", record)
    return seen


@pytest.fixture
def as_written(monkeypatch):
    """Resource name -> (ignore_changes as the program wrote it, as the SDK sent it)."""
    from pulumi.runtime import resource as sdk_resource

    seen: dict[str, tuple] = {}
    original = sdk_resource._translate_ignore_changes

    def record(res, typ, ignore_changes):
        translated = original(res, typ, ignore_changes)
        if ignore_changes:
            names = set(pulumi._types.input_type_py_to_pulumi_names(typ).values()) if typ is not None else None
            seen[res._name] = (list(ignore_changes), list(translated or []), names)
        return translated

    monkeypatch.setattr(sdk_resource, "_translate_ignore_changes", record)
    return seen


@pytest.mark.parametrize("stack", ["dev", "prod", "budget"])
def test_ignore_changes_name_real_pulumi_properties_in_the_engine_spelling(stack_run, as_written, registered, stack):
    """Pulumi translates only whole top-level snake_case names; a nested path
    ("root_volume.size_in_gb") would pass untranslated and match nothing. So
    the program writes the schema's camelCase names, which every path needs."""
    stack_run(example_spec(stack), stack=stack)
    compute = {name: written for name, written in as_written.items()
               if registered[name]["type"].startswith(COMPUTE_PACKAGES)}
    assert compute
    for name, (given, sent, properties) in compute.items():
        assert given == sent, f"{name}: ignore_changes {given} is not in the engine's spelling ({sent})"
        assert properties is not None
        unknown = [p for p in given if p.split(".")[0].split("[")[0] not in properties]
        assert not unknown, f"{name}: {unknown} are no input properties of {registered[name]['type']}"


@pytest.mark.parametrize("stack", ["dev", "prod", "budget"])
def test_install_time_inputs_never_replace_or_reinstall_existing_machines(stack_run, registered, stack):
    run = stack_run(example_spec(stack), stack=stack)
    servers = [r for r in run.resources if r.type in SERVERS]
    assert servers
    for server in servers:
        assert set(registered[server.name]["ignoreChanges"]) == SERVERS[server.type], server.name


def test_hetzner_names_are_unique_so_replacements_delete_first(stack_run, registered):
    """Hetzner refuses a second server or key of the same name in a project:
    create-before-delete (the default) would fail every replacement."""
    run = stack_run(example_spec("dev"), stack="dev")
    for type_ in ("hcloud:index/server:Server", "hcloud:index/sshKey:SshKey"):
        (resource,) = run.of_type(type_)
        assert registered[resource.name]["deleteBeforeReplace"], resource.name


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("stack,resource,state,node,old,new", [
    ("dev", "dev-hetzner-main-1", {"image": "debian-11"}, "main-1", "debian-11", "debian-12"),
    ("prod", "prod-scaleway-cp-paris-1", {"image": "ubuntu_jammy"}, "cp-paris-1", "ubuntu_jammy", "debian_bookworm"),
    ("budget", "budget-ovh-vps-2", {"imageId": "0e0e0e0e-1111-4222-8333-444444444444"}, "vps-2",
     "0e0e0e0e-1111-4222-8333-444444444444", "Debian 12"),
    # OVH Public Cloud: the boot image id, named from the region's image list.
    ("prod", "prod-ovh-gpu-gra-1", {"bootFrom": {"imageId": "debian-11@GRA11"}}, "gpu-gra-1", "Debian 11",
     "Debian 12"),
])
def test_a_node_keeping_an_older_image_is_named_with_how_to_rebuild_it(stack_run, caplog, stack, resource,
                                                                       state, node, old, new):
    from stacks.plan.fakes.compute import deployed_state

    cloud = FakeCloud()
    if "bootFrom" in state:  # the id OVH lists for that image in that region
        from stacks.plan.fakes.ovh import _id

        name, region = state["bootFrom"]["imageId"].split("@")
        state = {"bootFrom": {"imageId": _id("image", region, {"debian-11": "Debian 11"}[name])}}
    deployed_state(cloud, resource, **state)  # what `pulumi up` finds in the stack's state
    with caplog.at_level(logging.WARNING):
        stack_run(example_spec(stack), stack=stack, cloud=cloud)
    about = [w for w in _warnings(caplog) if old in w]
    assert len(about) == 1, _warnings(caplog)
    (text,) = about
    assert f"{node} keeps" in text and new in text and "providers.rebuildNodes" in text
    assert "urn:pulumi:" in text
    others = [w for w in _warnings(caplog) if "keeps" in w and w != text]
    assert others == []  # the nodes already on the spec's image are not mentioned


def test_a_fresh_deployment_warns_about_no_image(stack_run, caplog):
    with caplog.at_level(logging.WARNING):
        stack_run(example_spec("prod"), stack="prod")
    assert [w for w in _warnings(caplog) if "keeps" in w or "rebuildNodes" in w] == []


def test_rebuild_nodes_rebuild_exactly_the_listed_node_from_the_current_image(stack_run, registered, caplog):
    spec = example_spec("dev")
    spec["nodeGroups"]["workers"] = {"provider": "hetzner", "region": "fsn1", "instanceType": "cx23", "count": 2,
                                     "roles": ["worker"]}
    spec["providers"] = {"rebuildNodes": ["workers-2"]}
    from stacks.plan.fakes.compute import deployed_state

    cloud = FakeCloud()
    deployed_state(cloud, "dev-hetzner-workers-2", image="debian-11")
    with caplog.at_level(logging.INFO):
        run = stack_run(spec, stack="dev", cloud=cloud)
    assert registered["dev-hetzner-workers-2"]["ignoreChanges"] == []  # image, user data, key: all current
    assert set(registered["dev-hetzner-workers-1"]["ignoreChanges"]) == SERVERS["hcloud:index/server:Server"]
    assert run.named("dev-hetzner-workers-2").inputs["image"] == "debian-12"
    messages = [r.getMessage() for r in caplog.records]
    assert any("workers-2" in m and "rebuilt" in m and "debian-11" in m for m in messages)
    assert not any("keeps" in m for m in _warnings(caplog))


def test_a_listed_node_already_on_the_image_is_reported_not_rebuilt_silently(stack_run, caplog):
    spec = example_spec("dev")
    spec["providers"] = {"rebuildNodes": ["main-1"]}
    with caplog.at_level(logging.WARNING):
        stack_run(spec, stack="dev")
    (text,) = [w for w in _warnings(caplog) if "rebuildNodes" in w]
    assert "main-1" in text and "already" in text and "--replace" in text


@pytest.mark.parametrize("names,wanted", [
    (["nope-1"], "nope-1"),
    (["gpu-houston-1"], "existing host"),
    (["cp-paris-1", "cp-sbg-1"], "one control-plane or etcd node at a time"),
])
def test_rebuild_nodes_refuses_what_cannot_be_rebuilt_safely(stack_run, names, wanted):
    spec = example_spec("prod")
    spec["providers"]["rebuildNodes"] = names
    with pytest.raises(Exception, match="providers.rebuildNodes") as caught:
        stack_run(spec, stack="prod")
    assert wanted in str(caught.value)
