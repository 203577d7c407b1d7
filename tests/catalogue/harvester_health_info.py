"""Catalogue of homelab.harvester.harvester_health_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"sections": ["nodes", "vms"]}, "value of sections must be one or more of: nodes, volumes, settings, images, upgrade, clusters"),
    ({"section": ["nodes"]}, "Unsupported parameters for (homelab.harvester.harvester_health_info) module: section"),
]
