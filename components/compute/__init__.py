"""Machines on every provider, each pool producing the same ``Node`` contract."""
