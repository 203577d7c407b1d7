"""Catalogue of homelab.harvester.harvester_health_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"sections": ["nodes", "vms"]}, "value of sections must be one or more of: nodes, volumes, settings, images, upgrade, clusters"),
    ({"section": ["nodes"]}, "Unsupported parameters for (homelab.harvester.harvester_health_info) module: section"),
]


def steps(ctx):
    from tests.catalogue import Step
    return [
        Step({}, name="every section of a healthy lab"),
        Step({"sections": ["volumes"]}, check=True, name="volumes only, check mode"),
        Step({"name": "ms02-3", "cordon": True}, module="homelab.harvester.harvester_node",
             name="precondition: ms02-3 cordoned"),
        Step({"sections": ["nodes", "settings", "upgrade"]}, name="a cordoned node is a problem"),
        Step({"sections": ["images", "clusters"]}, name="images and clusters"),
        Step({}, fault={"method": "GET", "path": "longhorn-system/volumes$", "status": 403}, name="API failure"),
    ]
