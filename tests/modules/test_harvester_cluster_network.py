# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_cluster_network against a real twin process, called in process as its action plugin
calls it (tests/modules/runner.py): a cluster network on the free OOB NIC (enp5s0) of every node
becomes ready with a VlanStatus per node; a second run writes nothing; check mode stores nothing;
a network on the 10GbE ports (already in mgmt-bo) fails with the agent's message; diff, uplink
changes, stale uplinks, absent; bad input with no request at all. Through ansible-playbook:
module_defaults (tests/integration/test_action_group.py), AWX credentials
(test_awx_credential_env.py), both execution paths (test_parity.py)."""

from __future__ import annotations

import pytest

from tests.catalogue.harvester_cluster_network import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_cluster_network"
API = "/apis/network.harvesterhci.io/v1beta1"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get(twin, plural, name):
    r = twin.session().get(twin.url(f"{API}/{plural}/{name}"))
    return r.json() if r.status_code == 200 else None


OOB = {"name": "oob", "uplinks": [{"name": "oob-all", "nics": ["enp5s0"], "bond_mode": "active-backup"}], "wait_timeout": 30}


def test_create_ready_on_every_node_then_unchanged(twin):
    (first,), reqs = play(twin, [OOB], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert [s["node"] for s in first["vlan_statuses"]] == ["ms02-1", "ms02-2", "ms02-3"]
    assert all(s["ready"] for s in first["vlan_statuses"])
    assert first["diff"]["before"] == {"cluster_network": {}, "vlan_configs": {}}
    assert first["diff"]["after"]["vlan_configs"]["oob-all"]["spec"] == {
        "clusterNetwork": "oob", "uplink": {"nics": ["enp5s0"], "bondOptions": {"mode": "active-backup"}}}
    assert [r["method"] for r in stored_writes(reqs)] == ["POST", "POST"]
    vc = get(twin, "vlanconfigs", "oob-all")
    assert vc["spec"]["uplink"] == {"nics": ["enp5s0"], "bondOptions": {"mode": "active-backup", "miimon": -1}}  # CRD default
    assert any(c["type"] == "ready" and c["status"] == "True" for c in get(twin, "clusternetworks", "oob")["status"]["conditions"])

    (second,), reqs = play(twin, [OOB])
    assert second["changed"] is False and not second.get("failed"), second
    assert writes(reqs) == []
    assert len(reqs) <= 5, reqs  # GET cn, LIST vc, GET vc, GET cn + LIST vs (ready at once)


def test_check_mode_stores_nothing(twin):
    (result,), reqs = play(twin, [OOB], check=True, diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert stored_writes(reqs) == []
    assert get(twin, "clusternetworks", "oob") is None and get(twin, "vlanconfigs", "oob-all") is None
    assert "oob-all" in result["diff"]["after"]["vlan_configs"]
    play(twin, [OOB])
    changed = {"name": "oob", "uplinks": [{"name": "oob-all", "nics": ["enp5s0"], "bond_mode": "802.3ad"}]}
    (update, delete), reqs = play(twin, [changed, {"name": "oob", "state": "absent"}], check=True)
    assert update["changed"] is True and delete["changed"] is True and not update.get("failed"), (update, delete)
    assert stored_writes(reqs) == []
    assert get(twin, "vlanconfigs", "oob-all")["spec"]["uplink"]["bondOptions"]["mode"] == "active-backup"


def test_nics_already_enslaved_fail_with_the_agents_message(twin):
    tengig = {"name": "fast", "uplinks": [{"name": "fast-all", "nics": ["enp2s0f0np0", "enp2s0f1np1"]}], "wait_timeout": 30}
    (result,), dummy = play(twin, [tengig])
    assert result["failed"], result
    assert "has been enslaved by the link with index 10" in result["msg"], result["msg"]
    assert "VlanStatus fast-ms02-" in result["msg"] and "\n" not in result["msg"]


def test_update_the_uplink_and_replace_a_stale_one(twin):
    play(twin, [OOB])
    renamed = {"name": "oob", "uplinks": [{"name": "oob-ms02-1", "nics": ["enp5s0"], "mtu": 9000, "miimon": 100,
                                           "node_selector": {"kubernetes.io/hostname": "ms02-1"}}], "wait_timeout": 30}
    (result,), reqs = play(twin, [renamed], diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert [s["node"] for s in result["vlan_statuses"]] == ["ms02-1"]
    assert "oob-all" in result["diff"]["before"]["vlan_configs"] and "oob-all" not in result["diff"]["after"]["vlan_configs"]
    assert [r["method"] for r in stored_writes(reqs)] == ["DELETE", "POST"]
    assert get(twin, "vlanconfigs", "oob-all") is None
    vc = get(twin, "vlanconfigs", "oob-ms02-1")
    assert vc["spec"]["uplink"]["linkAttributes"]["mtu"] == 9000 and vc["spec"]["uplink"]["bondOptions"]["miimon"] == 100
    (again,), reqs = play(twin, [renamed])
    assert again["changed"] is False and writes(reqs) == []


def test_absent_twice(twin):
    play(twin, [OOB])
    gone = {"name": "oob", "state": "absent", "wait_timeout": 30}
    (first, second), reqs = play(twin, [gone, gone])
    assert first["changed"] is True and second["changed"] is False and not first.get("failed"), first
    assert [r["method"] for r in writes(reqs)] == ["DELETE", "DELETE"]
    assert get(twin, "clusternetworks", "oob") is None and get(twin, "vlanconfigs", "oob-all") is None


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
