"""Catalogue of homelab.harvester.harvester_node_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations


def steps(ctx):
    from tests.catalogue import Step
    return [
        Step({}, name="every node"),
        Step({"name": "ms02-2"}, check=True, name="one node, check mode"),
        Step({"name": "ms02-3", "cordon": True}, module="homelab.harvester.harvester_node",
             name="precondition: ms02-3 cordoned"),
        Step({"name": "ms02-3"}, name="a cordoned node reports its problems"),
        Step({"name": "ms02-9"}, name="an unknown node fails"),
        Step({}, fault={"method": "GET", "path": "linkmonitors", "status": 403}, name="API failure"),
    ]
