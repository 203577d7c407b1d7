# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_node_info against a real twin process, called in process as its action plugin calls
it (tests/modules/runner.py). The lab's three nodes with the mgmt bond over both 10GbE ports; a
port taken down by merge-patching the ``nic`` LinkMonitor (it has no status subresource) is
reported down; a few GETs (one per kind), zero writes, the same answer in check mode. Through
ansible-playbook: module_defaults (tests/integration/test_action_group.py), AWX credentials with
and without a CA (test_awx_credential_env.py), both execution paths (test_parity.py)."""

from __future__ import annotations

import json

import pytest

from tests.modules.runner import run_tasks, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_node_info"
LINKMONITORS = "/apis/network.harvesterhci.io/v1beta1/linkmonitors"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def members(info, cn="mgmt"):
    return [(m["name"], m["state"]) for m in info["bonds"][cn]["members"]]


def test_three_healthy_nodes_with_one_get_per_kind_and_no_writes(twin):
    (result, checked), reqs = play(twin, [{}, {}])
    assert result["changed"] is False and not result.get("failed"), result
    assert checked == result  # deterministic
    nodes = result["nodes"]
    assert [n["name"] for n in nodes] == ["ms02-1", "ms02-2", "ms02-3"]
    assert [n["internal_ip"] for n in nodes] == ["10.10.10.11", "10.10.10.12", "10.10.10.13"]
    for n in nodes:
        assert n["ready"] and n["schedulable"] and n["maintenance"] is None, n
        assert "control-plane" in n["roles"] and "etcd" in n["roles"]
        assert members(n) == [("enp2s0f0np0", "up"), ("enp2s0f1np1", "up")]
        assert n["bonds"]["mgmt"]["healthy"] and n["bonds"]["mgmt"]["state"] == "up"
        assert n["bonds"]["mgmt"]["mtu"] == 1500  # the mgmt ClusterNetwork's uplink-mtu (lab_bond.mtu)
        assert n["longhorn"]["ready"] and n["longhorn"]["schedulable"] and n["longhorn"]["disks"]
        assert all(d["ready"] and d["schedulable"] for d in n["longhorn"]["disks"])
        assert n["problems"] == [] and n["healthy"] is True, n["problems"]
    assert [r["method"] for r in reqs] == ["GET"] * 10  # 5 kinds, two tasks, never per node


def test_a_nic_taken_down_is_reported_down(twin):
    s = twin.session()
    lm = s.get(twin.url(f"{LINKMONITORS}/nic")).json()
    links = lm["status"]["linkStatus"]
    links["ms02-2"] = [dict(e, state="down") if e["name"] == "enp2s0f1np1" else e for e in links["ms02-2"]]
    r = s.patch(twin.url(f"{LINKMONITORS}/nic"), data=json.dumps({"status": {"linkStatus": links}}),
                headers={"Content-Type": "application/merge-patch+json"})
    r.raise_for_status()
    (everything, one), reqs = play(twin, [{}, {"name": "ms02-2"}], check=True)
    by_name = {n["name"]: n for n in everything["nodes"]}
    assert by_name["ms02-1"]["healthy"] and by_name["ms02-3"]["healthy"]
    sick = by_name["ms02-2"]
    assert members(sick) == [("enp2s0f0np0", "up"), ("enp2s0f1np1", "down")]
    assert sick["bonds"]["mgmt"]["members_up"] == 1 and sick["bonds"]["mgmt"]["healthy"] is False
    assert sick["problems"] == ["NIC enp2s0f1np1 of bond mgmt-bo is down"] and sick["healthy"] is False
    assert one["changed"] is False and one["nodes"] == [sick]
    assert writes(reqs) == []


def test_unknown_node_fails_cleanly(twin):
    (result, empty), reqs = play(twin, [{"name": "ms02-9"}, {"name": " "}])
    assert result["failed"] and result["msg"] == "node 'ms02-9' not found" and result["node"] == "ms02-9"
    assert empty["failed"] and empty["msg"].startswith("name: must not be empty")
    assert [r["method"] for r in reqs] == ["GET"]  # the empty name never reached the API
