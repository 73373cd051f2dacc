"""Fake answers of the platform layer (CNI, add-ons)."""
