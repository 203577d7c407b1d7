# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/cluster_network.py: input checks, the VlanConfig we
build, the managed fields (server defaults never drift), and the readiness of VlanStatuses."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import cluster_network as cnet
from ansible_collections.homelab.harvester.plugins.module_utils import reconcile
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError


def params(**kw):
    base = {"name": "oob", "state": "present", "wait_timeout": 120,
            "uplinks": [{"name": "oob-all", "nics": ["enp5s0"], "bond_mode": "802.3ad", "miimon": None, "mtu": None,
                         "node_selector": None}]}
    base.update(kw)
    return base


@pytest.mark.parametrize("kw, message", [
    ({"name": "mgmt"}, "name: mgmt is the built-in"),
    ({"name": "abcdefghijklm"}, "is 13 characters, at most 12"),
    ({"uplinks": []}, "uplinks: at least one uplink"),
    ({"uplinks": [{"name": "a", "nics": ["enp5s0", "enp5s0"]}]}, "uplinks[0].nics: a NIC is listed twice"),
    ({"uplinks": [{"name": "a", "nics": ["a-very-long-nic-name"]}]}, "is not a network interface name"),
    ({"uplinks": [{"name": "a", "nics": ["x"], "miimon": -2}]}, "uplinks[0].miimon: -2 must be -1 or more"),
    ({"uplinks": [{"name": "a", "nics": ["x"], "mtu": 9001}]}, "uplinks[0].mtu: 9001 is not 0 or in 576-9000"),
    ({"uplinks": [{"name": "a", "nics": ["x"], "mtu": 9000}, {"name": "b", "nics": ["y"], "mtu": 1500}]}, "same mtu"),
    ({"wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_bad_input(kw, message):
    with pytest.raises(ValidationError) as e:
        cnet.check(params(**kw))
    assert message in str(e.value)


def test_absent_needs_no_uplinks_and_mtu_0_equals_1500():
    cnet.check(params(state="absent", uplinks=None))
    cnet.check(params(uplinks=[{"name": "a", "nics": ["x"], "mtu": 0}, {"name": "b", "nics": ["y"], "mtu": 1500}]))


def test_desired_vlan_config_and_no_drift_from_server_defaults():
    uplink = {"name": "oob-all", "nics": ["enp5s0"], "bond_mode": "active-backup", "miimon": None, "mtu": 0,
              "node_selector": {"kubernetes.io/hostname": "ms02-1"}}
    desired = cnet.desired_vlan_config("oob", uplink)
    assert desired["spec"] == {"clusterNetwork": "oob", "nodeSelector": {"kubernetes.io/hostname": "ms02-1"},
                               "uplink": {"nics": ["enp5s0"], "bondOptions": {"mode": "active-backup"},
                                          "linkAttributes": {"mtu": 0}}}
    live = {"metadata": {"name": "oob-all", "labels": {cnet.LABEL_CLUSTER_NETWORK: "oob"},
                         "annotations": {cnet.ANNOTATION_MATCHED_NODES: '["ms02-1"]'}},
            "spec": {"clusterNetwork": "oob", "nodeSelector": {"kubernetes.io/hostname": "ms02-1"},
                     "uplink": {"nics": ["enp5s0"], "bondOptions": {"mode": "active-backup", "miimon": -1},
                                "linkAttributes": {"mtu": 1500, "txQLen": -1}}}}
    assert reconcile.differing(desired, live, cnet.vlan_config_fields(uplink)) == []
    assert cnet.matched_nodes(live) == ["ms02-1"]
    moved = dict(uplink, nics=["enp6s0"], miimon=100)
    changed = reconcile.differing(cnet.desired_vlan_config("oob", moved), live, cnet.vlan_config_fields(moved))
    assert [f.path[-1] for f in changed] == ["nics", "miimon"]


def test_empty_node_selector_means_every_node():
    uplink = {"name": "a", "nics": ["x"], "bond_mode": "802.3ad", "node_selector": {}}
    live = {"metadata": {"name": "a"}, "spec": {"clusterNetwork": "oob", "nodeSelector": {},
                                                "uplink": {"nics": ["x"], "bondOptions": {"mode": "802.3ad"}}}}
    assert reconcile.differing(cnet.desired_vlan_config("oob", uplink), live, cnet.vlan_config_fields(uplink)) == []


def vs(node, vc, status, message=""):
    return {"metadata": {"name": f"oob-{node}-0000"},
            "status": {"node": node, "vlanConfig": vc, "clusterNetwork": "oob",
                       "conditions": [{"type": "ready", "status": status, "message": message}]}}


READY_CN = {"metadata": {"name": "oob"}, "status": {"conditions": [{"type": "ready", "status": "True"}]}}


def test_health_waits_for_every_node_and_reports_errors():
    expected = {"oob-all": ["ms02-1", "ms02-2"]}
    h = cnet.Health(READY_CN, [vs("ms02-1", "oob-all", "True")], expected)
    assert not h.ready() and h.failed() is None and h.missing() == [("oob-all", "ms02-2")]
    assert h.summary() == "ClusterNetwork ready; oob-all/ms02-1: ready; oob-all/ms02-2: no VlanStatus"
    h = cnet.Health(READY_CN, [vs("ms02-1", "oob-all", "True"), vs("ms02-2", "oob-all", "True")], expected)
    assert h.ready()
    bad = vs("ms02-2", "oob-all", "False", "enp2s0f0np0 has been enslaved by the link with index 10")
    h = cnet.Health(READY_CN, [vs("ms02-1", "oob-all", "True"), bad], expected)
    assert not h.ready()
    assert h.failed() == ("VlanStatus oob-ms02-2-0000 of VlanConfig oob-all on node ms02-2: enp2s0f0np0 has been "
                          "enslaved by the link with index 10")
    not_ready_cn = {"metadata": {"name": "oob"}, "status": {"conditions": [{"type": "ready", "status": "False"}]}}
    assert not cnet.Health(not_ready_cn, [vs("ms02-1", "oob-all", "True"), vs("ms02-2", "oob-all", "True")], expected).ready()
    assert cnet.Health(not_ready_cn, [], {"oob-all": []}).ready()  # covers no node: nothing to wait for
