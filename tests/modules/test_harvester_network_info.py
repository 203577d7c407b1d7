# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_network_info against a real twin process, called in process as its action plugin
calls it (tests/modules/runner.py): the twin's VM networks read back in one request, filtered by
label, name and cluster network; bad input refused without a request. Through ansible-playbook:
module_defaults (tests/integration/test_action_group.py), AWX credentials
(test_awx_credential_env.py), both execution paths (test_parity.py)."""

from __future__ import annotations

import pytest

from tests.catalogue.harvester_network_info import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_network_info"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def make_networks(twin):
    tasks = [{"name": "platform", "vlan_id": 30, "route": {"mode": "manual", "cidr": "10.10.30.0/24", "gateway": "10.10.30.1"},
              "labels": {"app.kubernetes.io/managed-by": "homelab.harvester.vlans"}},
             {"name": "cluster", "vlan_id": 40, "labels": {"app.kubernetes.io/managed-by": "homelab.harvester.vlans"}},
             {"name": "scratch", "vlan_id": 99}]
    results, dummy = run_tasks(twin, "harvester_network", tasks)
    assert not any(r.get("failed") for r in results), results


def test_lists_filters_and_reads_once(twin):
    make_networks(twin)
    (every, managed, one, missing, on_mgmt), reqs = play(twin, [
        {}, {"label_selector": "app.kubernetes.io/managed-by=homelab.harvester.vlans"}, {"name": "platform"},
        {"name": "nope"}, {"namespace": None, "cluster_network": "mgmt"}])
    assert [n["name"] for n in every["networks"]] == ["cluster", "lab-uplink", "platform", "scratch"]
    assert every["changed"] is False
    assert [n["name"] for n in managed["networks"]] == ["cluster", "platform"]
    (platform,) = one["networks"]
    assert (platform["vlan_id"], platform["cluster_network"], platform["ready"], platform["type"]) == (30, "mgmt", True, "L2VlanNetwork")
    assert (platform["route"]["mode"], platform["route"]["cidr"], platform["route"]["gateway"]) == ("manual", "10.10.30.0/24", "10.10.30.1")
    assert missing["networks"] == []
    assert {n["name"] for n in on_mgmt["networks"]} == {"cluster", "lab-uplink", "platform", "scratch"}
    assert [r["method"] for r in reqs] == ["GET"] * 5 and writes(reqs) == []


def test_check_mode_reads_the_same(twin):
    make_networks(twin)
    (result,), reqs = play(twin, [{"label_selector": "app.kubernetes.io/managed-by=homelab.harvester.vlans"}], check=True)
    assert [n["name"] for n in result["networks"]] == ["cluster", "platform"]
    assert writes(reqs) == []


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
