"""Catalogue of homelab.harvester.harvester_vm_power (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"name": "lab-router", "label_selector": "app=x", "state": "stopped"},
     "parameters are mutually exclusive: name|names|label_selector"),
    ({"name": "lab-router", "names": ["lab-dns"], "state": "stopped"}, "parameters are mutually exclusive: name|names|label_selector"),
    ({"names": [], "state": "running"}, "names: must not be empty"),
    ({"name": "lab-router"}, "missing required arguments: state"),
    ({"name": "lab-router", "state": "off"}, "value of state must be one of: stopped, running, got: off"),
    ({"name": "lab-router", "state": "running", "run_strategy": "Manual"},
     "value of run_strategy must be one of: Always, RerunOnFailure, got: Manual"),
    ({"name": "lab-router", "state": "stopped", "run_strategy": "Always"}, "run_strategy: only with state=running"),
    ({"name": "Lab_Router", "state": "stopped"}, "name: 'Lab_Router' is not a valid name"),
    ({"names": ["lab-dns", "bad ns/lab-router"], "state": "stopped"}, "names[1] namespace: 'bad ns' is not a valid name"),
    ({"names": [{"vm": "lab-dns"}], "state": "stopped"}, "names[0]: has unknown key 'vm'"),
    ({"names": [5], "state": "stopped"}, "names[0]: must be a VM name, namespace/name or a dict with name and namespace"),
    ({"label_selector": "", "state": "stopped"}, "label_selector: must not be empty"),
    ({"label_selector": "tier in dev", "state": "stopped"}, "label_selector: 'tier in dev' is not a label selector requirement"),
    ({"label_selector": "app=-x", "state": "stopped"}, "label_selector: '-x' is not a valid label value"),
    ({"name": "lab-router", "all_namespaces": True, "state": "stopped"}, "all_namespaces: only with label_selector"),
    ({"namespace": "Default", "state": "stopped"}, "namespace: 'Default' is not a valid name"),
    ({"state": "stopped", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
]


def steps(ctx):
    from tests.catalogue import Step
    return [
        Step({"label_selector": "harvesterhci.io/creator=harvester", "state": "stopped"}, check=True, diff=True,
             name="check mode stop by selector"),
        Step({"name": "lab-router", "state": "stopped", "wait_timeout": 30}, diff=True, name="stop one"),
        Step({"name": "lab-router", "state": "stopped"}, name="no-op"),
        Step({"names": ["lab-router", "lab-builder"], "state": "running", "run_strategy": "Always",
              "wait_timeout": 30}, diff=True, name="start two with a chosen run strategy"),
        Step({"names": ["lab-dns", "nope"], "state": "stopped"}, name="refused (a VM that does not exist)"),
        Step({"name": "lab-dns", "state": "stopped"},
             fault={"method": "PATCH", "path": "virtualmachines/lab-dns$", "status": 403}, name="API failure"),
    ]
