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
