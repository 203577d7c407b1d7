"""Catalogue of homelab.harvester.harvester_storage_network (see tests/catalogue/__init__.py)."""
from __future__ import annotations

PLAN = {"vlan": 60, "range": "10.10.60.0/24"}

BAD_INPUTS = [
    ({"range": "10.10.60.0/24"}, "vlan: is required with state=present"),
    ({"vlan": 60}, "range: is required with state=present"),
    ({"vlan": 4095, "range": "10.10.60.0/24"}, "vlan: 4095 is outside the valid VLAN range 0..4094"),
    ({"vlan": 1, "range": "10.10.60.0/24"}, "vlan: VLAN 1 is not allowed on the mgmt cluster network (use 2..4094)"),
    ({"vlan": 60, "range": "10.10.60.7/24"}, "range: 10.10.60.7/24 is not a network address; the subnet is 10.10.60.0/24"),
    ({"vlan": 60, "range": "10.0.0.0/8"}, "range: prefix /8 is too wide; the minimum prefix length is 16"),
    ({"vlan": 60, "range": "10.10.60.0"}, "range: '10.10.60.0' is not a CIDR"),
    ({"vlan": 60, "range": "10.10.60.0/24", "exclude": ["10.10.61.0/28"]},
     "exclude[0]: 10.10.61.0/28 is not inside range 10.10.60.0/24"),
    ({"vlan": 60, "range": "10.10.60.0/24", "exclude": ["10.10.60.0/28", "10.10.60.8/29"]},
     "exclude[1]: 10.10.60.8/29 overlaps exclude[0] 10.10.60.0/28"),
    ({"vlan": 60, "range": "10.10.60.0/24", "cluster_network": ""}, "cluster_network: is required"),
    ({"state": "absent", "vlan": 60}, "vlan: is not used with state=absent"),
    ({"vlan": 60, "range": "10.10.60.0/24", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
    ({"vlan": 60, "range": "10.10.60.0/24", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
]

# Refused after reading the cluster, before any write (tests/modules/test_harvester_storage_network.py):
# the seeded lab runs lab-dns and lab-router.
REFUSALS = [
    (dict(PLAN), "storage-network not applied: Harvester refuses to change it while VMs run (default/lab-dns, "
                 "default/lab-router); stop them, or set stop_vms=true"),
]


def steps(ctx):
    from tests.catalogue import Step
    return [
        Step(dict(PLAN), name="refused while VMs run (structured: refused_by)"),
        Step(dict(PLAN, stop_vms=True), check=True, diff=True, name="check mode: what it would stop, apply and start"),
        Step(dict(PLAN, stop_vms=True, wait_timeout=60), diff=True, name="stop, apply, wait, start"),
        Step(dict(PLAN, stop_vms=True), name="no-op"),
        Step(dict(PLAN, range="10.10.60.0/30", stop_vms=True, wait_timeout=60),
             name="refused by Harvester after the stop (range too small): the VMs start again"),
        Step({"state": "absent", "stop_vms": True, "wait_timeout": 60},
             fault={"method": "GET", "path": "settings/storage-network$", "status": 403},
             name="API failure"),
    ]
