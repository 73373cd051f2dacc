"""PriorityClasses that keep application pods from starving the platform.

On hyperconverged nodes (control plane + worker, seed 004) the API server,
etcd and the kubelet are protected by kube-reserved/system-reserved (they
are outside the pods' allocatable); these classes order the pods: platform
add-ons preempt applications, and applications without a class get the
global default, below the platform and preemptible.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

# (name, value, global default, description). Kubernetes' own
# system-cluster-critical / system-node-critical (2e9+) stay above all.
CLASSES = (
    ("sovereign-platform-critical", 1_000_000_000, False,
     "Platform add-ons the cluster cannot run without (CNI operator, storage, ingress)."),
    ("sovereign-platform", 100_000_000, False, "Platform services (monitoring, GitOps, Vault)."),
    ("sovereign-workload", 1_000, True, "Applications: the default, preempted before any platform pod."),
    ("sovereign-batch", -1_000, False, "Batch and best-effort work, never preempting anything."),
)


def priority_classes(name: str, provider: k8s.Provider, *, depends_on: list[pulumi.Resource],
                     parent: pulumi.Resource) -> dict[str, k8s.scheduling.v1.PriorityClass]:
    out = {}
    for class_name, value, default, description in CLASSES:
        out[class_name] = k8s.scheduling.v1.PriorityClass(
            f"{name}-{class_name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=class_name, labels={"app.kubernetes.io/managed-by": "sovereign-cloud"}),
            value=value,
            global_default=default,
            preemption_policy="Never" if value < 0 else "PreemptLowerPriority",
            description=description,
            opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=depends_on),
        )
    return out
