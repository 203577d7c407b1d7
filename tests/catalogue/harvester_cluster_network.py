"""Catalogue of homelab.harvester.harvester_cluster_network (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"name": "mgmt", "uplinks": [{"name": "x", "nics": ["enp5s0"]}]}, "name: mgmt is the built-in management network"),
    ({"name": "averylongname", "uplinks": [{"name": "x", "nics": ["enp5s0"]}]}, "name: 'averylongname' is 13 characters"),
    ({"name": "Oob", "uplinks": [{"name": "x", "nics": ["enp5s0"]}]}, "name: 'Oob' is not a valid name"),
    ({"name": "oob"}, "uplinks: at least one uplink is needed"),
    ({"name": "oob", "uplinks": [{"name": "x", "nics": []}]}, "uplinks[0].nics: at least one NIC is needed"),
    ({"name": "oob", "uplinks": [{"name": "x", "nics": ["enp5s0"], "mtu": 100}]}, "uplinks[0].mtu: 100 is not 0 or in 576-9000"),
    ({"name": "oob", "uplinks": [{"name": "x", "nics": ["enp5s0"]}, {"name": "x", "nics": ["enp6s0"]}]}, "uplinks[1].name: 'x' is given twice"),
    ({"name": "oob", "uplinks": [{"name": "x", "nics": ["enp5s0"], "bond_mode": "lacp"}]}, "value of bond_mode must be one of"),
]
