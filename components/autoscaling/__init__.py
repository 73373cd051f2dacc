"""Autoscaled Hetzner node groups: cluster-autoscaler and the mesh join of its servers."""
