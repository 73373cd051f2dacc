"""Monthly cost estimate of a cluster and its managed-Kubernetes equivalent.

``estimate_cost(lines, catalog)`` prices each node group from the catalog
(or the spec's override for on-prem and negotiated rates) and compares the
whole with EKS and GKE using the catalog's hyperscaler data. No Pulumi.
"""

from .estimate import DEFAULT_MAX_AGE_DAYS, CostError, estimate_cost, lines_from_node_groups
from .model import ON_PREM, CostLine, CostReport, GroupCost, HyperscalerEquivalent, HyperscalerLine
from .table import format_cost_table

__all__ = [
    "DEFAULT_MAX_AGE_DAYS",
    "ON_PREM",
    "CostError",
    "CostLine",
    "CostReport",
    "GroupCost",
    "HyperscalerEquivalent",
    "HyperscalerLine",
    "estimate_cost",
    "format_cost_table",
    "lines_from_node_groups",
]
