"""Geo-replicated data services (``dataServices``): see ``plan.py`` and ``geo_databases.py``."""
