"""The fake clouds refuse what Hetzner, Scaleway and OVH refuse (issue 11, test quality).

Each case is one call the provider's API rejects, written from the SDK
docstring or the provider's documented limit (stacks/plan/fakes/constraints.py
names where); under mocks it must fail as it would for real, so a program
making that call cannot pass its tests. The example stacks themselves run
through the same fakes in every other test.
"""

from __future__ import annotations

import pytest

from stacks.plan.fake_cloud import FakeCloud
from tests.stack_runner import run_components

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOIJaHXCaKCZPyD6S2bhX/ZR6eVc0sCN+7JOH0B5wUW6 x@y"


def _refused(build, match: str, cloud: FakeCloud | None = None) -> None:
    with pytest.raises(Exception, match=match):
        run_components(build, cloud=cloud)


def _hcloud_rule(**overrides):
    import pulumi_hcloud as hcloud

    rule = {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0"]} | overrides
    return hcloud.FirewallRuleArgs(**rule)


@pytest.mark.parametrize(("rule", "match"), [
    ({"protocol": "tcp", "port": None}, r"port None: a port, a range 'from-to' or 'any' is required for tcp"),
    ({"protocol": "udp", "port": "70000"}, r"port '70000'"),
    ({"protocol": "icmp", "port": "22"}, "port is only allowed for tcp and udp"),
    ({"protocol": "TCP"}, r"protocol 'TCP' is not one of"),
    ({"source_ips": []}, "a rule of direction 'in' takes sourceIps"),
    ({"source_ips": ["0.0.0.0/0"], "destination_ips": ["10.0.0.0/8"]}, "a rule of direction 'in' takes sourceIps"),
    ({"source_ips": ["anywhere"]}, "is not an IP address or CIDR"),
])
def test_hetzner_firewall_rules(rule, match):
    def build():
        import pulumi_hcloud as hcloud

        hcloud.Firewall("fw", name="fw", rules=[_hcloud_rule(**rule)])

    _refused(build, match)


def test_a_valid_hetzner_firewall_passes():
    def build():
        import pulumi_hcloud as hcloud

        hcloud.Firewall("fw", name="fw", rules=[_hcloud_rule(), _hcloud_rule(protocol="icmp", port=None),
                                                _hcloud_rule(port="30000-32767")])

    run_components(build)


def test_hetzner_names_are_unique_per_project():
    cloud = FakeCloud()

    def firewall(resource_name):
        def build():
            import pulumi_hcloud as hcloud

            hcloud.Firewall(resource_name, name="shared", rules=[_hcloud_rule()])
        return build

    run_components(firewall("a"), cloud=cloud)
    run_components(firewall("a"), cloud=cloud)  # the same resource again: an update
    _refused(firewall("b"), "name 'shared' is already used", cloud=cloud)


@pytest.mark.parametrize(("server", "match"), [
    ({"name": "node_1"}, r"name 'node_1' is not a valid hostname"),
    ({"image": None}, "image is required"),
    ({"user_data": "#cloud-config\n" + "x" * 33_000}, "user_data is limited to 32768 bytes"),
])
def test_hetzner_servers(server, match):
    def build():
        import pulumi_hcloud as hcloud

        args = {"name": "node-1", "server_type": "cx23", "image": "debian-12", "location": "fsn1"} | server
        hcloud.Server("s", **args)

    _refused(build, match)


def test_a_hetzner_spread_group_holds_ten_servers():
    def build():
        import pulumi_hcloud as hcloud

        group = hcloud.PlacementGroup("spread", name="spread", type="spread")
        for i in range(11):
            hcloud.Server(f"s{i}", name=f"node-{i}", server_type="cx23", image="debian-12", location="fsn1",
                          placement_group_id=group.id.apply(int))

    _refused(build, "would hold 11 servers")


@pytest.mark.parametrize(("network", "subnet", "match"), [
    ({"ip_range": "100.64.0.0/16"}, {}, "not inside an RFC 1918"),
    ({}, {"type": "public"}, "type 'public' is not server, cloud or vswitch"),
    ({}, {"network_zone": "eu-west"}, "network_zone 'eu-west'"),
    ({}, {"ip_range": "10.1.0.0/24"}, "not inside the network's ip_range"),
])
def test_hetzner_networks(network, subnet, match):
    def build():
        import pulumi_hcloud as hcloud

        net = hcloud.Network("net", name="net", **({"ip_range": "10.0.0.0/16"} | network))
        hcloud.NetworkSubnet("subnet", network_id=net.id.apply(int),
                             **({"type": "cloud", "network_zone": "eu-central", "ip_range": "10.0.0.0/16"} | subnet))

    _refused(build, match)


def _scaleway_rule(**overrides):
    import pulumiverse_scaleway as scaleway

    rule = {"action": "accept", "protocol": "TCP", "port": 22, "ip_range": "0.0.0.0/0"} | overrides
    return scaleway.instance.SecurityGroupInboundRuleArgs(**rule)


@pytest.mark.parametrize(("group", "match"), [
    ({"inbound_default_policy": "deny"}, "inboundDefaultPolicy 'deny' is not accept or drop"),
    ({"inbound_rules": [_scaleway_rule(protocol="tcp")]}, r"protocol 'tcp' is not TCP, UDP, ICMP or ANY"),
    ({"inbound_rules": [_scaleway_rule(action="allow")]}, "action 'allow'"),
    ({"inbound_rules": [_scaleway_rule(port_range="22-23")]}, "only one of port and port_range"),
    ({"inbound_rules": [_scaleway_rule(ip="192.0.2.1")]}, "only one of ip and ip_range"),
])
def test_scaleway_security_groups(group, match):
    def build():
        import pulumiverse_scaleway as scaleway

        scaleway.instance.SecurityGroup("sg", zone="fr-par-1", **group)

    _refused(build, match)


def test_scaleway_ip_types_and_placement_policies():
    def ip():
        import pulumiverse_scaleway as scaleway

        scaleway.instance.Ip("ip", zone="fr-par-1", type="nat")

    def placement():
        import pulumiverse_scaleway as scaleway

        scaleway.instance.PlacementGroup("pg", zone="fr-par-1", policy_type="spread")

    _refused(ip, "type 'nat' is not routed_ipv4 or routed_ipv6")
    _refused(placement, "policy_type 'spread'")


def test_a_scaleway_server_uses_resources_of_its_own_zone():
    def build():
        import pulumiverse_scaleway as scaleway

        ip = scaleway.instance.Ip("ip", zone="fr-par-2", type="routed_ipv4")
        scaleway.instance.Server("s", type="DEV1-S", image="debian_bookworm", zone="fr-par-1", ip_id=ip.id)

    _refused(build, "ipId is in fr-par-2, the server in fr-par-1")


def test_a_scaleway_nic_attaches_a_private_network_of_its_region():
    def build():
        import pulumiverse_scaleway as scaleway

        vpc = scaleway.network.Vpc("vpc", region="nl-ams")
        network = scaleway.network.PrivateNetwork("pn", region="nl-ams", vpc_id=vpc.id)
        server = scaleway.instance.Server("s", type="DEV1-S", image="debian_bookworm", zone="fr-par-1")
        scaleway.instance.PrivateNic("nic", server_id=server.id, private_network_id=network.id, zone="fr-par-1")

    _refused(build, "private network of nl-ams cannot be attached in fr-par-1")


@pytest.mark.parametrize(("instance", "match"), [
    ({"billing_period": "yearly"}, "billing_period 'yearly'"),
    ({"ssh_key_create": None}, "exactly one of ssh_key and ssh_key_create"),
    ({"ssh_key": {"name": "ops"}}, "exactly one of ssh_key and ssh_key_create"),
    ({"boot_from": {"image_id": "i", "volume_id": "v"}}, "boot_from takes an image_id or a volume_id"),
])
def test_ovh_public_cloud_instances(instance, match):
    def build():
        import pulumi_ovh as ovh

        args = {"service_name": "0123456789abcdef0123456789abcdef", "region": "GRA11", "billing_period": "monthly",
                "flavor": {"flavor_id": "f"}, "boot_from": {"image_id": "i"}, "network": {"public": True},
                "ssh_key_create": {"name": "node-1", "public_key": KEY}} | instance
        ovh.cloudproject.Instance("i", **{k: v for k, v in args.items() if v is not None})

    _refused(build, match)
