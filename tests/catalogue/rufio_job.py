"""Catalogue of homelab.harvester.rufio_job (see tests/catalogue/__init__.py)."""
from __future__ import annotations


def args(**extra):
    out = {"name": "ms02-1-install", "machine": "ms02-1", "actions": ["boot:pxe", "on"]}
    out.update(extra)
    return out


BAD_INPUTS = [
    (args(machine=None), "machine: is required when state is present"),
    (args(actions=[]), "actions: is required when state is present (at least one action)"),
    (args(actions=["boot:pxe", "restart"]),
     "actions[1]: 'restart' is not one of on, off, soft, status, cycle, reset or boot:<device> (pxe, disk, bios, cdrom, safe)"),
    (args(actions=["boot:usb"]), "actions[0]: 'boot:usb' is not one of"),
    (args(name="ms02_1"), "name: 'ms02_1' is not a valid name"),
    (args(wait_timeout=0), "wait_timeout: 0 must be more than 0"),
]


# The parity suite runs the steps on the twin that also serves Tinkerbell's and Rufio's CRDs; Rufio
# itself does not act there (no AMT answers outside --bare), so the Job is left unfollowed.
TWIN_FIXTURE = "tink_twin"


def steps(ctx):
    from tests.catalogue import Step
    job = args(namespace="default", wait=False)
    return [
        Step(job, check=True, diff=True, name="check mode: would create the Job"),
        Step(job, diff=True, name="create the Job"),
        Step(job, name="no-op: the same Job is left alone"),
        Step(dict(job, actions=["boot:pxe", "cycle"]), check=True, name="check mode: other tasks make a new Job"),
        Step(job, fault={"method": "GET", "path": "jobs/ms02-1-install$", "status": 403}, name="API failure"),
        Step({"name": "ms02-1-install", "namespace": "default", "state": "absent"}, name="delete"),
    ]
