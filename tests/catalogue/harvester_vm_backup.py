"""Catalogue of homelab.harvester.harvester_vm_backup (see tests/catalogue/__init__.py)."""
from __future__ import annotations

NIGHTLY = {"homelab.harvester/backup": "nightly"}

BAD_INPUTS = [
    ({"vm": "lab-router"}, "missing required arguments: name"),
    ({"name": "router-1"}, "vm: is required when state is present"),
    ({"name": "Router_1", "vm": "lab-router"}, "name: 'Router_1' is not a valid name"),
    ({"name": "router-1", "vm": "lab router"}, "vm: 'lab router' is not a valid name"),
    ({"name": "router-1", "vm": "lab-router", "namespace": "Lab"}, "namespace: 'Lab' is not a valid name"),
    ({"name": "router-1", "vm": "lab-router", "type": "full"},
     "value of type must be one of: backup, snapshot, got: full"),
    ({"name": "router-1", "vm": "lab-router", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
    ({"name": "router-1", "vm": "lab-router", "labels": {"bad key!": "x"}}, "labels: 'bad key!' is not a valid label key"),
    ({"name": "router-1", "vm": "lab-router", "labels": {"tier": "-x"}}, "labels.tier: '-x' is not a valid label value"),
    ({"name": "router-1", "state": "absent", "labels": NIGHTLY}, "labels: only with state=present"),
    ({"name": "router-1", "vm": "lab-router", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
    ({"name": "router-1", "state": "absent", "keep": 2}, "keep: only with state=present"),
    ({"name": "router-1", "vm": "lab-router", "labels": NIGHTLY, "keep": 0},
     "keep: 0 must be 1 or more (0 would delete the backup just made)"),
    ({"name": "router-1", "vm": "lab-router", "keep": 2},
     "keep: needs labels: only the VM's backups that carry the labels given count (and are deleted), never a backup "
     "some other rule made"),
]


def steps(ctx):
    from tests.catalogue import Step
    router = {"name": "router-1", "vm": "lab-router", "labels": NIGHTLY, "wait_timeout": 60}
    return [
        Step({"name": "router-1", "vm": "lab-router"}, name="refused (no backup target set)"),
        Step({"name": "backup-target", "value": {"type": "nfs", "endpoint": "nfs://10.10.10.20:/volume1/harvester-backups"},
              "wait_timeout": 30}, module="homelab.harvester.harvester_setting", name="precondition: a backup target"),
        Step(router, check=True, diff=True, name="check mode create"),
        Step(router, diff=True, name="create"),
        Step(router, name="no-op"),
        Step(dict(router, labels={"homelab.harvester/backup": None, "keep": "yes"}), diff=True, name="change: labels"),
        Step({"name": "router-1", "vm": "lab-dns"}, name="refused (the name is another VM's backup)"),
        Step(router, fault={"method": "GET", "path": "virtualmachinebackups/router-1$", "status": 403}, name="API failure"),
        Step({"name": "router-1", "state": "absent", "wait_timeout": 60}, diff=True, name="delete"),
    ]
