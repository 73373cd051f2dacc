"""Kubernetes over the mesh: K3s (embedded etcd) or kubeadm (external etcd).

- ``contract.KubernetesCluster``: what the platform layer receives.
- ``k3s.K3sCluster`` / ``kubeadm.KubeadmCluster``: the two distributions.
- ``common``: the node-local API load balancer, kubeconfig and provider,
  labels/taints, generated secrets, PriorityClasses.
- ``etcd.ExternalEtcd``: dedicated etcd members with their own PKI.
"""
