"""The image of an existing node: never changed behind the operator's back,
never silently left alone.

Changing ``image`` in the spec would otherwise rebuild every node of the
group *at once* (Hetzner, Scaleway and OVH Public Cloud replace a server
whose image changes; an OVH VPS reinstalls itself when its ``image_id``
does): all disks wiped in parallel, an etcd quorum and a control plane
gone in one ``pulumi up``, Hetzner replacements colliding on the unique
server name. So the inputs that only matter when a machine is installed
(image, first-boot user data, installed SSH key) are in ``ignore_changes``,
and the program compares, on every run, the image each server was built
from (its output, i.e. the stack's state) with the spec's:

- a node keeping an older image is named in a warning, with its URN and
  how to rebuild it: list it in ``providers.rebuildNodes``;
- a listed node has nothing ignored, so its server is rebuilt from the
  group's current image, user data and key on that ``pulumi up`` (its disk
  is wiped; it boots with its host key again and rejoins the cluster).
  At most one control-plane or etcd node at a time; remove the entry
  afterwards (the next run reports it if left).

``pulumi up --replace <urn>`` alone does not do it: the engine feeds
ignored inputs from the old state to the replacement, which would boot
the old image again.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from components.spec.cluster import ClusterSpec
from components.spec.errors import SpecIssue

REBUILD_FIELD = "providers.rebuildNodes"


def rebuild_issues(spec: ClusterSpec) -> list[SpecIssue]:
    """What is wrong with ``providers.rebuildNodes`` (a spec rule's shape:
    register it in components/spec/rules.py to report it with the others)."""
    from components.topology.plan import plan_nodes

    nodes = {p.name: p for p in plan_nodes(spec)}
    cloud = sorted(n for n, p in nodes.items() if p.provider != "existing")
    issues = []
    for name in spec.providers.rebuild_nodes:
        if name not in nodes:
            issues.append(SpecIssue(REBUILD_FIELD, f"no node is named {name!r}",
                                    f"list nodes by name, e.g. {', '.join(cloud[:3]) or 'a cloud node'}"))
        elif nodes[name].provider == "existing":
            issues.append(SpecIssue(REBUILD_FIELD, f"{name} is an existing host: the program never installed it",
                                    "reinstall it yourself and remove it from rebuildNodes"))
    critical = sorted(n for n in set(spec.providers.rebuild_nodes) & set(nodes)
                      if {"control-plane", "etcd"} & set(nodes[n].roles))
    if len(critical) > 1:
        issues.append(SpecIssue(REBUILD_FIELD, f"lists the control-plane/etcd nodes {critical}",
                                "rebuild one control-plane or etcd node at a time (quorum), one `pulumi up` each"))
    return issues


def rebuild_nodes(spec: ClusterSpec) -> frozenset[str]:
    """The nodes to rebuild on this run (raises with every issue otherwise)."""
    issues = rebuild_issues(spec)
    if issues:
        raise ValueError("; ".join(str(i) for i in issues))
    return frozenset(spec.providers.rebuild_nodes)


def server_options(parent: pulumi.Resource, install_time: list[str], *, rebuilding: bool,
                   always_ignored: tuple[str, ...] = (), **options) -> pulumi.ResourceOptions:
    """Options of a server: its install-time inputs (Pulumi property names,
    camelCase as the engine reads them) ignored unless it is rebuilt."""
    ignored = list(always_ignored) + ([] if rebuilding else list(install_time))
    return pulumi.ResourceOptions(parent=parent, ignore_changes=ignored, **options)


def report_image(server: pulumi.CustomResource, *, node: str, field: str, wanted: pulumi.Input[str],
                 deployed: pulumi.Input[str | None], rebuilding: bool,
                 label: Callable[[str], str] = str) -> None:
    """Warn when ``server`` runs another image than ``field`` asks for.

    ``deployed`` is the image the server was built from (an output: the
    stack's state), ``wanted`` the spec's; ``label`` names an image id.
    """
    def report(values) -> None:
        want, have, urn = values
        if not have or want is None:
            return
        same = _bare(have) == _bare(want)
        if rebuilding and same:
            pulumi.log.warn(
                f"{REBUILD_FIELD} lists {node}, which already runs {label(want)}: nothing to rebuild; remove it "
                f"(for a fresh install from the same image: `pulumi up --replace {urn}`)", resource=server)
        elif rebuilding:
            pulumi.log.info(f"{node} is rebuilt from {label(want)} (was {label(have)}): its disk is wiped and it "
                            f"rejoins the cluster; remove it from {REBUILD_FIELD} afterwards", resource=server)
        elif not same:
            pulumi.log.warn(
                f"{node} keeps image {label(have)}: {field} is now {label(want)}, which new nodes get, but an image "
                "change is never applied to existing nodes (it would rebuild the whole group at once). To rebuild "
                f"{node} from {label(want)} (its disk is wiped), add it to {REBUILD_FIELD} and run `pulumi up`, "
                f"one control-plane or etcd node at a time. Resource: {urn}", resource=server)

    pulumi.Output.all(wanted, deployed, server.urn).apply(report)


def _bare(image: str) -> str:
    """Scaleway answers "fr-par-1/<uuid>" for a UUID it was given as "<uuid>"."""
    return str(image).rsplit("/", 1)[-1].strip().lower()
