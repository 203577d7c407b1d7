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


def steps(ctx):
    from tests.catalogue import Step
    setting = "homelab.harvester.harvester_setting"
    nfs = {"type": "nfs", "endpoint": "nfs://10.10.10.20:/volume1/harvester-backups"}
    copy = {"name": "router-copy", "backup": "router-1", "vm": "router-copy", "new_vm": True, "wait_timeout": 60}
    return [
        Step({"name": "backup-target", "value": nfs, "wait_timeout": 30}, module=setting,
             name="precondition: a backup target"),
        Step({"name": "router-1", "vm": "lab-router", "wait_timeout": 60}, module="homelab.harvester.harvester_vm_backup",
             name="precondition: a backup of lab-router"),
        Step(copy, check=True, diff=True, name="check mode restore as a new VM"),
        Step(copy, diff=True, name="restore as a new VM"),
        Step(copy, name="no-op"),
        Step({"name": "router-back", "backup": "router-1", "vm": "lab-router"}, name="refused (the VM to replace runs)"),
        Step(copy, fault={"method": "GET", "path": "virtualmachinerestores/router-copy$", "status": 403},
             name="API failure"),
        Step({"name": "backup-target", "value": dict(nfs, endpoint="nfs://10.10.10.21:/elsewhere"), "wait_timeout": 30},
             module=setting, name="precondition: the backup target moved"),
        Step(dict(copy, name="copy-2", vm="router-copy-2"), name="refused by Harvester (the backup is on another target)"),
    ]
