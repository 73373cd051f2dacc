"""Policy 3: cloud servers carry the labels the program gives them.

The program labels Hetzner servers (``labels`` map) and tags Scaleway
instances (``tags`` list of ``key=value``) with ``cluster``, ``group`` and
``node`` (components/compute/hetzner.py, scaleway.py). It sets no region or
provider label on servers: a server's location is its own field, checked by
``allowed-regions``. These labels tie a machine in a provider account to the
cluster and node group (and so to the spec's region) it belongs to, which an
audit of where data lives starts from.

OVH VPS orders and Public Cloud instances take no labels or tags
(pulumi_ovh), and existing hosts have no cloud resource: neither is checked.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .resources import HCLOUD_SERVER, SCALEWAY_SERVER
from .values import UNKNOWN, as_mapping, elements, field, setting

POLICY = "residency-labels"
REQUIRED_LABELS = ("cluster", "group", "node")


def server_labels(resource_type: str, props) -> tuple[str, dict[str, str]] | None:
    """(field, labels) of a labelled cloud server; None for other types or unknown labels."""
    if resource_type == HCLOUD_SERVER:
        labels = field(props, "labels")
        if labels is UNKNOWN:
            return None
        return "labels", {str(k): str(v) for k, v in as_mapping(labels).items() if v is not None}
    if resource_type == SCALEWAY_SERVER:
        tags = {}
        for _, tag in elements(props, "tags"):
            key, _, value = str(tag).partition("=")
            tags[key] = value
        return "tags", tags
    return None


def check_residency_labels(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    found = server_labels(args.resource_type, args.props)
    if found is None:
        return
    where, labels = found
    required = [str(k) for k in setting(args, "requiredLabels", REQUIRED_LABELS)]
    missing = [k for k in required if not labels.get(k)]
    if missing:
        shape = "`labels` entries" if where == "labels" else "`tags` items key=value"
        report_violation(f"{args.resource_type} {args.name!r} lacks {', '.join(f'{where}.{k}' for k in missing)}: "
                         f"every cloud server carries {', '.join(required)} as {shape}, so an audit can tie it "
                         "to its cluster and node group", None)


residency_labels = ResourceValidationPolicy(
    name=POLICY,
    description="Cloud servers carry the cluster/group/node labels (Hetzner labels, Scaleway tags) the program sets.",
    validate=check_residency_labels,
    # Advisory: metadata for audits, not the residency control itself (the
    # location field is, under the mandatory allowed-regions), and OVH
    # machines cannot carry it at all. Make it mandatory per stack through
    # the pack config ("enforcementLevel": "mandatory") if audits rely on it.
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=PolicyConfigSchema(properties={
        "requiredLabels": {
            "type": "array", "items": {"type": "string"},
            "description": "Label (Hetzner) or tag key (Scaleway) every cloud server carries with a non-empty value.",
            "default": list(REQUIRED_LABELS),
        },
    }),
)
