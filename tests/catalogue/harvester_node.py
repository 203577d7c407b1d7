"""Catalogue of homelab.harvester.harvester_node (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"maintenance": True}, "missing required arguments: name"),
    ({"name": "ms02-1"}, "one of the following is required: maintenance, cordon"),
    ({"name": "ms02-1", "maintenance": True, "cordon": True}, "parameters are mutually exclusive: maintenance|cordon"),
    ({"name": "", "maintenance": True}, "name: must not be empty"),
    ({"name": "MS02_1", "maintenance": True}, "name: 'MS02_1' is not a valid name"),
    ({"name": "ms02-1", "maintenance": False, "force": True}, "force: only with maintenance=true"),
    ({"name": "ms02-1", "cordon": True, "force": True}, "force: only with maintenance=true"),
    ({"name": "ms02-1", "maintenance": True, "method": "kubectl"},
     "value of method must be one of: auto, steve, annotation, got: kubectl"),
    ({"name": "ms02-1", "maintenance": "maybe"}, "argument 'maintenance' is of type"),
    ({"name": "ms02-1", "maintenance": True, "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
]


def steps(ctx):
    from tests.catalogue import Step
    return [
        Step({"name": "ms02-3", "cordon": True}, diff=True, name="cordon"),
        Step({"name": "ms02-3", "cordon": True}, name="no-op"),
        Step({"name": "ms02-3", "cordon": False}, name="uncordon"),
        Step({"name": "ms02-1", "maintenance": True}, check=True, diff=True, name="check mode maintenance"),
        Step({"name": "ms02-2", "maintenance": True, "wait_timeout": 60}, diff=True,
             name="change: maintenance (lab-dns migrates)"),
        Step({"name": "ms02-1", "maintenance": True}, name="refused (another control-plane node in maintenance)"),
        Step({"name": "ms02-3", "cordon": True}, fault={"method": "GET", "path": "/nodes/ms02-3$", "status": 403},
             name="API failure"),
        Step({"name": "ms02-2", "maintenance": False, "wait_timeout": 60}, diff=True,
             name="leave maintenance (Longhorn rebuilt)"),
    ]
