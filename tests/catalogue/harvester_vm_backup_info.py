"""Catalogue of homelab.harvester.harvester_vm_backup_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"namespace": "Lab"}, "namespace: 'Lab' is not a valid name"),
    ({"vm": "Lab_Router"}, "vm: 'Lab_Router' is not a valid name"),
    ({"type": "full"}, "value of type must be one of: backup, snapshot, got: full"),
    ({"label_selector": "set in nightly"}, "label_selector: 'set in nightly' is not a label selector requirement"),
    ({"label_selector": ""}, "label_selector: must not be empty"),
    ({"keep": -1}, "keep: -1 must be 0 or more"),
    ({"keep": "many"}, "argument 'keep' is of type"),
]
