"""What crosses stacks in a fleet (components/fleet/, docs/fleet.md).

The hub's stack exports what its spokes need to join: the klusterlet's
bootstrap kubeconfig and, per data domain, the Submariner broker's address,
client token, CA and IPsec pre-shared key, all secret outputs. Each spoke's
stack reads them with a ``pulumi.StackReference`` to the hub's stack (the
fleet's ``members.<hub>.stack``, in the same organization and project
unless fully qualified); secret outputs stay secrets through the
reference and into the spoke's Helm values. Deploy the hub first: a spoke
whose hub stack does not exist fails before creating anything.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import pulumi
import yaml

from components.fleet.plan import needed_from_hub, role
from components.fleet.names import (BOOTSTRAP_OUTPUT, BROKERS_OUTPUT, HUB_OUTPUT, SECRET_BOOTSTRAP,
                                    SECRET_BROKER_CA, SECRET_BROKER_SERVER, SECRET_BROKER_TOKEN, SECRET_IPSEC_PSK,
                                    broker_namespace, psk_secret, qualified_stack)
from components.state.outputs import read_stack_outputs


def hub_stack(spec) -> str:
    fleet = spec.fleet
    return qualified_stack(fleet.stack_of(fleet.hub), pulumi.get_organization(), pulumi.get_project())


def hub_secrets(spec) -> dict[str, pulumi.Output]:
    """A spoke's platform secrets, from the hub's outputs; {} elsewhere."""
    if role(spec) != "spoke":
        return {}
    stack = hub_stack(spec)
    _check_hub_exported(stack, spec)
    ref = pulumi.StackReference(f"{spec.name}-fleet-hub", stack_name=stack)
    secrets = {SECRET_BOOTSTRAP: ref.require_output(BOOTSTRAP_OUTPUT)}
    if spec.fleet.submariner.enabled:
        domain = spec.fleet.domain(spec.name)
        broker = ref.require_output(BROKERS_OUTPUT).apply(lambda brokers: _broker_of(brokers, domain, stack))
        secrets |= {SECRET_BROKER_SERVER: broker["server"], SECRET_BROKER_TOKEN: broker["token"],
                    SECRET_BROKER_CA: broker["ca"], SECRET_IPSEC_PSK: broker["psk"]}
    assert set(secrets) == set(needed_from_hub(spec))
    return secrets


def _check_hub_exported(stack: str, spec) -> None:
    """Fail before anything is created when the hub's stack is missing or
    has not exported what this spoke needs (a StackReference alone fails
    only once resources are on their way): the engine's ``readStackOutputs``,
    synchronously; only names are looked at, values come through the
    StackReference, which keeps secrets secret."""
    wanted = [BOOTSTRAP_OUTPUT] + ([BROKERS_OUTPUT] if spec.fleet.submariner.enabled else [])
    try:
        outputs, _ = read_stack_outputs(stack)
    except Exception as err:  # the engine's error, with what to do about it
        raise pulumi.RunError(f"cannot read the fleet hub's stack {stack} ({err}): deploy the hub "
                              f"({spec.fleet.hub}) first; nothing was planned") from None
    missing = [name for name in wanted if name not in outputs]
    if missing:
        raise pulumi.RunError(f"the fleet hub's stack {stack} has not exported {', '.join(missing)}: run `pulumi up` "
                              "on the hub (with this member in its fleet declaration) first; nothing was planned")


def _broker_of(brokers: dict, domain: str, stack: str) -> dict:
    if domain not in (brokers or {}):
        raise pulumi.RunError(f"the hub's stack {stack} exports no Submariner broker for data domain {domain!r}: "
                              "run `pulumi up` on the hub first (its fleet declaration must list this member)")
    return brokers[domain]


def export_hub(spec, cluster, platform) -> None:
    """The hub's stack outputs the spokes read (nothing on other stacks)."""
    if role(spec) != "hub":
        return
    fleet = spec.fleet
    if cluster.external_endpoint is None:
        raise pulumi.RunError("the fleet hub needs an API endpoint outside the mesh for its spokes")
    server = cluster.external_endpoint
    bootstrap = platform.objects["fleet/bootstrap-token"]
    kubeconfig = pulumi.Output.all(server, cluster.kubeconfig, bootstrap.data).apply(
        lambda a: bootstrap_kubeconfig(a[0], certificate_authority(a[1]), decoded(a[2], "token")))
    pulumi.export(BOOTSTRAP_OUTPUT, pulumi.Output.secret(kubeconfig))
    domains = sorted({fleet.domain(m) for m in fleet.spokes()}) if fleet.submariner.enabled else []
    brokers = {}
    for domain in domains:
        token = platform.objects[f"fleet/broker-token-{domain}"]
        brokers[domain] = {
            "server": server.apply(host_port), "namespace": broker_namespace(domain),
            "token": token.data.apply(lambda d: decoded(d, "token")),
            # The broker chart's documented form: ca.crt as the Secret holds it (base64).
            "ca": token.data.apply(lambda d: d["ca.crt"]),
            "psk": platform.context.secrets[psk_secret(domain)],
        }
    pulumi.export(BROKERS_OUTPUT, pulumi.Output.secret(brokers))
    pulumi.export(HUB_OUTPUT, {"apiServer": server, "regions": sorted(fleet.regions),
                               "brokers": {d: broker_namespace(d) for d in domains}})


def decoded(data: dict, key: str) -> str:
    return base64.b64decode(data[key]).decode()


def host_port(server: str) -> str:
    """``https://host:6443`` as the broker wants it (host:port, the chart's NOTES)."""
    parts = urlsplit(server)
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return f"{host}:{parts.port or 443}"


def certificate_authority(kubeconfig: str) -> str:
    """The cluster CA (base64) of an admin kubeconfig."""
    document = yaml.safe_load(kubeconfig)
    return document["clusters"][0]["cluster"]["certificate-authority-data"]


def bootstrap_kubeconfig(server: str, ca_data: str, token: str) -> str:
    """What the klusterlet registers with: the hub's API, its CA, the bootstrap account's token."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "bootstrap",
        "clusters": [{"name": "hub", "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": "bootstrap", "user": {"token": token}}],
        "contexts": [{"name": "bootstrap", "context": {"cluster": "hub", "user": "bootstrap"}}],
    }, sort_keys=False)
