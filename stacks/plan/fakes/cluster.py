"""Fake answers of the Kubernetes cluster layer (K3s, kubeadm, etcd PKI)."""
