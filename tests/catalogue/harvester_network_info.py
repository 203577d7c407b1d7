"""Catalogue of homelab.harvester.harvester_network_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"namespace": "Default"}, "namespace: 'Default' is not a valid name"),
    ({"name": "Platform"}, "name: 'Platform' is not a valid name"),
    ({"nme": "platform"}, "Unsupported parameters for (homelab.harvester.harvester_network_info) module: nme"),
]
