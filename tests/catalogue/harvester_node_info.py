"""Catalogue of homelab.harvester.harvester_node_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations
