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


def steps(ctx):
    from tests.catalogue import Step
    backup = "homelab.harvester.harvester_vm_backup"
    nightly = {"set": "nightly"}
    # created in this order, names sorted the same way: the newest-first order holds whether or not
    # two share a creation second (ties go by name, last first)
    return [
        Step({"name": "a-1", "vm": "lab-router", "type": "snapshot", "labels": nightly, "wait_timeout": 30},
             module=backup, name="precondition: a snapshot"),
        Step({"name": "a-2", "vm": "lab-router", "type": "snapshot", "labels": nightly, "wait_timeout": 30},
             module=backup, name="precondition: a newer snapshot"),
        Step({"name": "b-1", "vm": "lab-dns", "type": "snapshot", "wait_timeout": 30},
             module=backup, name="precondition: another VM's snapshot"),
        Step({}, name="all in default"),
        Step({"vm": "lab-router", "keep": 1}, name="one VM, keep the newest"),
        Step({"label_selector": "set=nightly", "keep": 0}, check=True, name="by selector, check mode"),
        Step({"all_namespaces": True, "type": "backup"}, name="every namespace, backups only (none)"),
        Step({}, fault={"method": "GET", "path": "virtualmachinebackups$", "status": 403}, name="API failure"),
    ]
