"""Catalogue of homelab.harvester.harvester_network (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"name": "vlan30", "vlan_id": 5000}, "vlan_id: 5000 is not in 1-4094"),
    ({"name": "vlan30", "vlan_id": 0}, "vlan_id: 0 is not in 1-4094"),
    ({"name": "Platform"}, "name: 'Platform' is not a valid name"),
    ({"name": "p" * 64}, "is 64 characters, at most 63 are allowed"),
    ({"name": "vlan30", "namespace": "my_ns"}, "namespace: 'my_ns' is not a valid name"),
    ({"name": "vlan30", "cluster_network": "storage-network"}, "cluster_network: 'storage-network' is 15 characters"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"mode": "manual", "gateway": "10.10.30.1"}},
     "route.cidr: is required when route.mode is manual"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"mode": "manual", "cidr": "10.10.30.0/33", "gateway": "10.10.30.1"}},
     "route.cidr: '10.10.30.0/33' is not a CIDR"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"mode": "manual", "cidr": "10.10.30.0/24", "gateway": "10.10.40.1"}},
     "route.gateway: 10.10.40.1 is not inside route.cidr 10.10.30.0/24"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"mode": "auto", "cidr": "10.10.30.0/24"}}, "route.cidr: only with route.mode manual"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"mode": "auto", "dhcp_server": "gw"}}, "route.dhcp_server: 'gw' is not an IP address"),
    ({"name": "vlan30", "route": {"mode": "auto"}}, "route: needs vlan_id"),
    ({"name": "vlan30", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
    ({"name": "vlan30", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
    ({"name": "vlan30", "labels": {"network.harvesterhci.io/vlan-id": "30"}},
     "labels: network.harvesterhci.io/vlan-id is set by Harvester's network controller"),
    ({"name": "vlan30", "labels": {"team": "a b"}}, "labels.team: 'a b' is not a valid label value"),
]


def steps(ctx):
    from tests.catalogue import Step
    platform = {"name": "platform", "vlan_id": 30, "route": {"mode": "auto"}, "description": "Talos control planes"}
    return [
        Step(platform, diff=True, name="create"),
        Step(platform, name="no-op"),
        Step(dict(platform, vlan_id=31), check=True, diff=True, name="check mode change"),
        Step(dict(platform, labels={"team": "platform"}, description="control planes"), diff=True, name="change"),
        Step({"name": "lab-uplink", "state": "absent"}, name="refused by Harvester (a VM uses it)"),
        Step(platform, fault={"method": "GET", "path": "network-attachment-definitions/platform$", "status": 403},
             name="API failure"),
        Step({"name": "platform", "state": "absent"}, diff=True, name="delete"),
    ]


# Refused after one read of the cluster, before any write (tests/modules/test_harvester_network.py).
REFUSALS = [
    ({"name": "vlan30", "vlan_id": 30, "cluster_network": "nope"},
     "cluster_network: ClusterNetwork 'nope' does not exist on this cluster (create it with "
     "homelab.harvester.harvester_cluster_network, or use mgmt); nothing was changed"),
]
