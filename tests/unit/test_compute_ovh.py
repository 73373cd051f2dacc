"""OVH under mocks that answer like OVH: VPS installs, flavors and images.

Expected values here are written from OVH's public documentation, never
read from the catalog or the fake tables the program is checked against.
"""

from __future__ import annotations

import pulumi
import pytest

from tests.stack_runner import example_spec, run_components

VPS = "ovh:Vps/vps:Vps"
PROJECT = "0123456789abcdef0123456789abcdef"
# The Debian 12 VPS image of the OVH API (terraform-provider-ovh's
# ovh_vps_reinstall example and acceptance test, "# Debian 12").
DEBIAN_12_VPS_IMAGE = "45b2f222-ab10-44ed-863f-720942762b6f"


def _failure(run, spec, stack) -> str:
    with pytest.raises(Exception) as caught:  # noqa: PT011 (RunError or the provider's error, whichever surfaces)
        run(spec, stack=stack)
    return str(caught.value)


def test_budget_vps_orders_install_the_admin_key_from_an_image_and_send_no_password(stack_run):
    run = stack_run(example_spec("budget"), stack="budget")
    orders = run.of_type(VPS)
    assert len(orders) == 3
    for order in orders:
        assert order.inputs["publicSshKey"].startswith("ssh-ed25519 ")
        assert order.inputs["imageId"] == DEBIAN_12_VPS_IMAGE
        assert order.inputs["doNotSendPassword"] is True
        config = {c["label"]: c["value"] for c in order.inputs["plans"][0]["configurations"]}
        assert config["vps_os"] == "Debian 12"  # the ordered OS is the installed image's


def test_the_vps_fake_refuses_a_public_key_without_an_image_like_the_provider():
    def build():
        import pulumi_ovh as ovh

        ovh.vps.Vps("lonely", ovh_subsidiary="FR", public_ssh_key="ssh-ed25519 AAAA test", plans=[
            ovh.vps.VpsPlanArgs(plan_code="vps-2025-model1", duration="P1M", pricing_mode="default")])

    with pytest.raises(Exception, match="image_id must also be set"):
        run_components(build)


def test_a_vps_os_without_a_known_image_fails_naming_the_field_and_the_fix(stack_run):
    spec = example_spec("budget")
    spec["nodeGroups"]["vps"]["image"] = "Debian 13"
    text = _failure(stack_run, spec, "budget")
    assert "nodeGroups.vps.image" in text and "'Debian 13'" in text
    assert "providers.ovh.vpsImageIds" in text and "images/available" in text


def test_vps_image_ids_give_the_id_of_an_os_the_catalog_does_not_know(stack_run):
    spec = example_spec("budget")
    spec["nodeGroups"]["vps"]["image"] = "Debian 13"
    image = "8a3b0c51-2d0e-4f6a-9b7c-0d1e2f3a4b5c"
    spec["providers"] = {"ovh": {"vpsImageIds": {"Debian 13": image}}}
    run = stack_run(spec, stack="budget")
    assert {o.inputs["imageId"] for o in run.of_type(VPS)} == {image}


def test_vps_image_ids_must_be_image_ids():
    from tests.stack_runner import spec_issues

    spec = example_spec("budget")
    spec["providers"] = {"ovh": {"vpsImageIds": {"Debian 13": "debian-13"}}}
    issues = spec_issues(spec)
    (path,) = [p for p in issues if p.startswith("cluster.providers.ovh.vpsImageIds")]
    assert "'debian-13'" in issues[path] and "images/available" in issues[path]


def _invoke_flavors(**args):
    def build():
        import pulumi_ovh as ovh

        found = ovh.cloudproject.get_flavors_output(service_name=PROJECT, **args)
        pulumi.export("names", found.flavors.apply(lambda fs: sorted(f.name for f in fs)))
        pulumi.export("regions", found.flavors.apply(lambda fs: sorted({f.region for f in fs})))

    return run_components(build).outputs


def test_the_flavor_fake_answers_what_ovh_sells_in_the_region_and_honours_name_filter():
    assert _invoke_flavors(region="GRA11", name_filter="b3-8") == {"names": ["b3-8"], "regions": ["GRA11"]}
    assert _invoke_flavors(region="GRA11", name_filter="b3-999")["names"] == []
    gra11 = _invoke_flavors(region="GRA11")["names"]
    assert {"b3-8", "b3-16", "c3-4", "d2-2", "l4-90"} <= set(gra11)
    assert "b3-999" not in gra11
    # The 3-AZ Paris region sells the current generation only, no GPUs here.
    paris = _invoke_flavors(region="EU-WEST-PAR")["names"]
    assert "b3-8" in paris and "b2-30" not in paris and "l4-90" not in paris
    assert _invoke_flavors(region="XX-NOWHERE-1")["names"] == []


def test_a_flavor_ovh_does_not_sell_in_the_region_fails_the_program_clearly(stack_run):
    spec = example_spec("prod")
    group = spec["nodeGroups"]["gpu-gra"]
    group.pop("gpus")
    group.update(instanceType="b2-30", region="EU-WEST-PAR")  # the catalog says "all regions"
    spec.pop("dataServices")  # its replicas are in the region this group leaves
    text = _failure(stack_run, spec, "prod")
    assert "nodeGroups.gpu-gra.instanceType" in text and "'b2-30'" in text and "EU-WEST-PAR" in text
    assert "b3-8" in text  # what the region does offer


def test_prod_gpu_instance_boots_the_flavor_and_image_ovh_lists_in_gra11(stack_run):
    run = stack_run(example_spec("prod"), stack="prod")
    (instance,) = run.of_type("ovh:CloudProject/instance:Instance")

    def build():
        import pulumi_ovh as ovh

        flavors = ovh.cloudproject.get_flavors_output(service_name=PROJECT, region="GRA11", name_filter="l4-90")
        images = ovh.cloudproject.get_images_output(service_name=PROJECT, region="GRA11", os_type="linux")
        pulumi.export("flavor", flavors.flavors.apply(lambda fs: fs[0].id))
        pulumi.export("image", images.images.apply(lambda im: next(i.id for i in im if i.name == "Debian 12")))

    listed = run_components(build).outputs
    assert instance.inputs["flavor"]["flavorId"] == listed["flavor"]
    assert instance.inputs["bootFrom"]["imageId"] == listed["image"]


def _invoke_images(**args):
    def build():
        import pulumi_ovh as ovh

        found = ovh.cloudproject.get_images_output(service_name=PROJECT, **args)
        pulumi.export("images", found.images.apply(lambda im: sorted((i.name, i.type) for i in im)))

    return run_components(build).outputs["images"]


def test_the_image_fake_answers_per_region_and_honours_os_type():
    linux = _invoke_images(region="GRA11", os_type="linux")
    assert ("Debian 12", "linux") in linux and ("Ubuntu 24.04", "linux") in linux
    assert all(kind == "linux" for _, kind in linux)
    windows = _invoke_images(region="GRA11", os_type="windows")
    assert windows and all(kind == "windows" for _, kind in windows)
    assert _invoke_images(region="XX-NOWHERE-1", os_type="linux") == []


def test_an_image_ovh_does_not_offer_fails_the_program_naming_the_field(stack_run):
    spec = example_spec("prod")
    spec["nodeGroups"]["gpu-gra"]["image"] = "Debian 10"
    text = _failure(stack_run, spec, "prod")
    assert "nodeGroups.gpu-gra.image" in text and "'Debian 10'" in text and "Debian 12" in text


def test_reading_the_deployed_image_logs_no_sdk_warning(stack_run, caplog):
    """Output types are dicts whose ``get`` of a camelCase key warns on every
    ``pulumi up`` ("Key 'imageId' not found in InstanceBootFrom")."""
    import logging

    with caplog.at_level(logging.WARNING):
        run = stack_run(example_spec("prod"), stack="prod")
    assert run.of_type("ovh:CloudProject/instance:Instance")
    assert [r.getMessage() for r in caplog.records if "not found in" in r.getMessage()] == []
