"""Catalogue of homelab.harvester.harvester_cluster_network (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"name": "mgmt", "uplinks": [{"name": "x", "nics": ["enp5s0"]}]}, "name: mgmt is the built-in management network"),
    ({"name": "averylongname", "uplinks": [{"name": "x", "nics": ["enp5s0"]}]}, "name: 'averylongname' is 13 characters"),
    ({"name": "Oob", "uplinks": [{"name": "x", "nics": ["enp5s0"]}]}, "name: 'Oob' is not a valid name"),
    ({"name": "oob"}, "uplinks: at least one uplink is needed"),
    ({"name": "oob", "uplinks": [{"name": "x", "nics": []}]}, "uplinks[0].nics: at least one NIC is needed"),
    ({"name": "oob", "uplinks": [{"name": "x", "nics": ["enp5s0"], "mtu": 100}]}, "uplinks[0].mtu: 100 is not 0 or in 576-9000"),
    ({"name": "oob", "uplinks": [{"name": "x", "nics": ["enp5s0"]}, {"name": "x", "nics": ["enp6s0"]}]}, "uplinks[1].name: 'x' is given twice"),
    ({"name": "oob", "uplinks": [{"name": "x", "nics": ["enp5s0"], "bond_mode": "lacp"}]}, "value of bond_mode must be one of"),
]


def steps(ctx):
    from tests.catalogue import Step
    oob = {"name": "oob", "uplinks": [{"name": "oob-all", "nics": ["enp5s0"], "bond_mode": "active-backup"}],
           "wait_timeout": 30}
    one_node = {"name": "oob", "uplinks": [{"name": "oob-ms02-1", "nics": ["enp5s0"], "mtu": 9000, "miimon": 100,
                                            "node_selector": {"kubernetes.io/hostname": "ms02-1"}}], "wait_timeout": 30}
    return [
        Step(oob, diff=True, name="create"),
        Step(oob, name="no-op"),
        Step({"name": "oob", "uplinks": [{"name": "oob-all", "nics": ["enp5s0"], "bond_mode": "802.3ad"}]},
             check=True, diff=True, name="check mode change"),
        Step(one_node, diff=True, name="change: replace the uplink"),
        Step({"name": "oob-vlan50", "cluster_network": "oob", "vlan_id": 50},
             module="homelab.harvester.harvester_network", name="precondition: a VM network on it"),
        Step({"name": "oob", "state": "absent", "wait_timeout": 10}, name="refused by Harvester (a VM network uses it)"),
        Step({"name": "fast", "uplinks": [{"name": "fast-all", "nics": ["enp2s0f0np0", "enp2s0f1np1"]}],
              "wait_timeout": 30}, name="refused by the network agent (NICs in mgmt-bo)"),
        Step(oob, fault={"method": "GET", "path": "clusternetworks/oob$", "status": 403}, name="API failure"),
    ]
