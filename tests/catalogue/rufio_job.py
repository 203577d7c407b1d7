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


def steps(ctx):
    # Against the twin with Rufio's CRDs (tests/modules/test_rufio_job.py); the Job's progression needs
    # the twin's Rufio controller (issue 15's twin side): the parity steps come with it.
    return []
