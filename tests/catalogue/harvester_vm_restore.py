"""Catalogue of homelab.harvester.harvester_vm_restore (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"backup": "router-1", "vm": "copy"}, "missing required arguments: name"),
    ({"name": "r", "vm": "copy"}, "missing required arguments: backup"),
    ({"name": "r", "backup": "router-1"}, "missing required arguments: vm"),
    ({"name": "R_1", "backup": "router-1", "vm": "copy"}, "name: 'R_1' is not a valid name"),
    ({"name": "r", "backup": "Router_1", "vm": "copy"}, "backup: 'Router_1' is not a valid name"),
    ({"name": "r", "backup": "router-1", "vm": "copy", "namespace": "Lab"}, "namespace: 'Lab' is not a valid name"),
    ({"name": "r", "backup": "router-1", "backup_namespace": "a b", "vm": "copy"},
     "backup_namespace: 'a b' is not a valid name"),
    ({"name": "r", "backup": "router-1", "vm": "Copy"}, "vm: 'Copy' is not a valid name"),
    ({"name": "r", "backup": "router-1", "vm": "copy", "deletion_policy": "purge"},
     "value of deletion_policy must be one of: retain, delete, got: purge"),
    ({"name": "r", "backup": "router-1", "vm": "lab-router", "keep_mac_address": True},
     "keep_mac_address: only with new_vm=true"),
    ({"name": "r", "backup": "router-1", "vm": "copy", "new_vm": True, "wait_timeout": -5},
     "wait_timeout: -5 must be more than 0"),
]
