"""Catalogue of homelab.harvester.harvester_network_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"namespace": "Default"}, "namespace: 'Default' is not a valid name"),
    ({"name": "Platform"}, "name: 'Platform' is not a valid name"),
    ({"label_selector": " "}, "label_selector: must not be empty"),
    ({"nme": "platform"}, "Unsupported parameters for (homelab.harvester.harvester_network_info) module: nme"),
]


def steps(ctx):
    from tests.catalogue import Step
    network = "homelab.harvester.harvester_network"
    managed = {"app.kubernetes.io/managed-by": "homelab.harvester.vlans"}
    return [
        Step({"name": "platform", "vlan_id": 30, "labels": managed,
              "route": {"mode": "manual", "cidr": "10.10.30.0/24", "gateway": "10.10.30.1"}},
             module=network, name="precondition: a managed network"),
        Step({"name": "scratch", "vlan_id": 99}, module=network, name="precondition: an unmanaged network"),
        Step({}, name="all in default"),
        Step({"name": "platform"}, name="by name"),
        Step({"label_selector": "app.kubernetes.io/managed-by=homelab.harvester.vlans"}, check=True,
             name="by selector, check mode"),
        Step({"namespace": None, "cluster_network": "mgmt"}, name="every namespace, one cluster network"),
        Step({"name": "nope"}, name="missing"),
        Step({}, fault={"method": "GET", "path": "network-attachment-definitions$", "status": 403},
             name="API failure"),
    ]
