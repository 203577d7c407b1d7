"""Catalogue of homelab.harvester.harvester_vm_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"namespace": "Default"}, "namespace: 'Default' is not a valid name"),
    ({"label_selector": "a b"}, "label_selector: 'a b' is not a label selector requirement"),
    ({"name": "lab-router", "all_namespaces": True}, "all_namespaces: not with name"),
    ({"name": "lab-router", "label_selector": "a=b"}, "label_selector: not with name"),
    ({"name": "Lab_Router"}, "name: 'Lab_Router' is not a valid name"),
]
