"""Pieces shared by the K3s and kubeadm clusters: the local API load
balancer on every node, kubeconfig handling, labels, secrets, priorities."""
