"""Compositions: a validated spec turned into components, wired in order."""
