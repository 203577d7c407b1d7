"""Refusals of the lab plan (inventory/lab, checked by the filter homelab.harvester.lab_plan_errors
before the roles write anything): ``PLAN_REFUSALS`` is ``[(what is changed, change, message), ...]``;
``change(lab, hosts)`` edits a copy of the plan (group_vars/all/lab.yml as a dict and the host_vars by
host). tests/integration/test_roles_site.py runs site.yml on each and asserts the message and that
nothing was written; docs/bad-inputs.md lists them."""
from __future__ import annotations


def duplicate_vlan(lab, hosts):
    lab["lab_vlans"][2]["id"] = 30


def gateway_outside(lab, hosts):
    lab["lab_vlans"][1]["gateway"] = "10.10.99.1"


def overlapping_subnets(lab, hosts):
    lab["lab_vlans"][3]["cidr"] = "10.10.40.0/23"


def bond_with_one_nic(lab, hosts):
    hosts["ms02-2"]["lab_node"]["bond_nics"] = hosts["ms02-2"]["lab_node"]["bond_nics"][:1]


def routed_storage_vlan(lab, hosts):
    lab["lab_vlans"][3]["gateway"] = "10.10.60.1"


PLAN_REFUSALS = [
    ("lab_vlans[2].id: 30 (the id of platform)", duplicate_vlan,
     "lab_vlans[2] (cluster): id 30 is already used by lab_vlans[1] (platform)"),
    ("lab_vlans[1].gateway: 10.10.99.1", gateway_outside,
     "lab_vlans[1] (platform): gateway 10.10.99.1 is not inside 10.10.30.0/24"),
    ("lab_vlans[3].cidr: 10.10.40.0/23", overlapping_subnets,
     "lab_vlans[3] (storage): cidr 10.10.40.0/23 overlaps lab_vlans[2] (cluster) 10.10.40.0/24"),
    ("ms02-2 lab_node.bond_nics: one NIC", bond_with_one_nic,
     "lab_node (ms02-2): bond_nics must have exactly 2 NICs, found 1"),
    ("lab_vlans[3].gateway: 10.10.60.1 (the storage VLAN)", routed_storage_vlan,
     "lab_vlans[3] (storage): gateway must be null: the storage VLAN becomes Harvester's storage network "
     "(Longhorn replication), which is L2 only and never routed"),
]
