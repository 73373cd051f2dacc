"""Kubernetes over the mesh: K3s (embedded etcd) or kubeadm (external etcd)."""
