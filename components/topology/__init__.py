"""From a validated spec to the machines it describes (no cloud calls)."""
