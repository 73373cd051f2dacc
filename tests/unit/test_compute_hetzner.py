"""Hetzner SSH keys: one project, unique names and fingerprints, reuse by name.

Several stacks (dev, a review stack, a copy) often share one Hetzner
project, where an SSH key's name and its fingerprint are both unique. The
fake cloud is that project: stacks run against the same ``FakeCloud``.
"""

from __future__ import annotations

import pytest

from stacks.plan.fake_cloud import FakeCloud
from tests.stack_runner import example_spec, spec_issues

SSH_KEY = "hcloud:index/sshKey:SshKey"
OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOIJaHXCaKCZPyD6S2bhX/ZR6eVc0sCN+7JOH0B5wUW6 other@example"


def _copy_of_dev(name: str, public_key: str | None = None) -> dict:
    spec = example_spec("dev")
    spec["name"] = name
    if public_key:
        spec["ssh"]["publicKey"] = public_key
    return spec


def test_a_second_stack_uploading_the_same_public_key_is_refused_like_by_hetzner(stack_run):
    cloud = FakeCloud()
    stack_run(example_spec("dev"), stack="dev", cloud=cloud)
    with pytest.raises(Exception, match="fingerprint .* already") as caught:
        stack_run(_copy_of_dev("review"), stack="review", cloud=cloud)
    assert "providers.hetzner.sshKeyName" in str(caught.value)


def test_two_stacks_with_one_cluster_name_collide_on_the_key_name(stack_run):
    """Names are unique in a Hetzner project: the key, and as well the
    firewall, placement group and servers named after the cluster."""
    cloud = FakeCloud()
    stack_run(example_spec("dev"), stack="dev", cloud=cloud)
    with pytest.raises(Exception, match=r"name 'dev-(admin|main|main-0|main-1)' is already used"):
        stack_run(_copy_of_dev("dev", OTHER_KEY), stack="dev-copy", cloud=cloud)
    # The key alone, without the resources named after the cluster:
    from tests.stack_runner import run_components

    def second_key():
        import pulumi_hcloud as hcloud

        hcloud.SshKey("dev-hetzner-ssh-key", name="dev-admin", public_key=OTHER_KEY)

    with pytest.raises(Exception, match="name 'dev-admin' is already used"):
        run_components(second_key, stack="dev-copy", cloud=cloud)


def test_the_same_stack_updated_again_is_no_collision(stack_run):
    cloud = FakeCloud()
    first = stack_run(example_spec("dev"), stack="dev", cloud=cloud)
    again = stack_run(example_spec("dev"), stack="dev", cloud=cloud)
    assert again.named("dev-hetzner-ssh-key").outputs["fingerprint"] == first.named("dev-hetzner-ssh-key").outputs["fingerprint"]


def test_a_stack_reuses_a_key_already_in_the_project_by_name(stack_run):
    cloud = FakeCloud()
    dev = stack_run(example_spec("dev"), stack="dev", cloud=cloud)
    (dev_server,) = dev.of_type("hcloud:index/server:Server")  # installs the key dev uploaded
    spec = _copy_of_dev("review")
    spec["providers"] = {"hetzner": {"sshKeyName": "dev-admin"}}
    review = stack_run(spec, stack="review", cloud=cloud)
    assert review.of_type(SSH_KEY) == []
    (server,) = review.of_type("hcloud:index/server:Server")
    assert server.inputs["sshKeys"] == dev_server.inputs["sshKeys"]
    assert server.inputs["sshKeys"][0].isdigit()  # an id, as ssh_keys takes it


def test_a_key_name_missing_from_the_project_fails_naming_the_setting(stack_run):
    spec = example_spec("dev")
    spec["providers"] = {"hetzner": {"sshKeyName": "ops-laptop"}}
    with pytest.raises(Exception, match="ops-laptop") as caught:
        stack_run(spec, stack="dev", cloud=FakeCloud())
    assert "providers.hetzner.sshKeyName" in str(caught.value)


def test_a_malformed_public_key_is_refused_like_by_hetzner():
    from tests.stack_runner import run_components

    def build():
        import pulumi_hcloud as hcloud

        hcloud.SshKey("broken", name="broken", public_key="ssh-ed25519 not-base64!")

    with pytest.raises(Exception, match="invalid input in field 'public_key'"):
        run_components(build)


def test_an_empty_key_name_is_a_spec_error():
    spec = example_spec("dev")
    spec["providers"] = {"hetzner": {"sshKeyName": "  "}}
    issue = spec_issues(spec)["cluster.providers.hetzner.sshKeyName"]
    assert "empty" in issue and "hcloud ssh-key list" in issue
