"""Catalogue of homelab.harvester.harvester_vm_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"namespace": "Default"}, "namespace: 'Default' is not a valid name"),
    ({"label_selector": "a b"}, "label_selector: 'a b' is not a label selector requirement"),
    ({"name": "lab-router", "all_namespaces": True}, "all_namespaces: not with name"),
    ({"name": "lab-router", "label_selector": "a=b"}, "label_selector: not with name"),
    ({"name": "Lab_Router"}, "name: 'Lab_Router' is not a valid name"),
]


def steps(ctx):
    from tests.catalogue import Step
    return [
        Step({}, name="all in default"),
        Step({"name": "default/lab-router"}, name="by namespace/name"),
        Step({"label_selector": "harvesterhci.io/creator=harvester"}, check=True, name="by selector, check mode"),
        Step({"name": "lab-dns", "state": "stopped", "wait_timeout": 30}, module="homelab.harvester.harvester_vm_power",
             name="precondition: lab-dns stopped"),
        Step({"all_namespaces": True}, name="every namespace"),
        Step({"name": "nope"}, name="an unknown VM fails"),
        Step({}, fault={"method": "GET", "path": "virtualmachineinstances$", "status": 403}, name="API failure"),
    ]
