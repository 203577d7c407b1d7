# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_vm_info in process (tests/modules/runner.py) against the twin's seeded VMs: every VM of
a namespace with its state, node and addresses; by label; one by name; an unknown one fails; reads
only."""

from __future__ import annotations

import json

import pytest

from tests.catalogue.harvester_vm_info import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_vm_info"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def test_lists_state_node_and_addresses(twin):
    (every,), reqs = play(twin, [{}])
    vms = {v["name"]: v for v in every["vms"]}
    assert sorted(vms) == ["lab-builder", "lab-dns", "lab-router"]
    router = vms["lab-router"]
    assert (router["status"], router["running"], router["node"], router["ip_addresses"]) == ("Running", True, "ms02-1", ["10.10.10.50"])
    assert router["run_strategy"] == "RerunOnFailure" and router["migrating"] is False
    builder = vms["lab-builder"]
    assert (builder["status"], builder["running"], builder["node"], builder["run_strategy"]) == ("Stopped", False, None, "Halted")
    assert every["changed"] is False and writes(reqs) == []
    assert len(reqs) == 2  # one list of VMs, one of VMIs


def test_by_label_and_by_name(twin):
    twin.session().patch(twin.url(f"{VMS}/lab-dns"), data=json.dumps({"metadata": {"labels": {"homelab.harvester/backup": "nightly"}}}),
                         headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    (labelled, everywhere, one), dummy = play(twin, [
        {"label_selector": "homelab.harvester/backup=nightly"},
        {"all_namespaces": True, "label_selector": "homelab.harvester/backup in (nightly,weekly)"},
        {"name": "default/lab-router"}])
    assert [v["name"] for v in labelled["vms"]] == ["lab-dns"]
    assert [(v["namespace"], v["name"]) for v in everywhere["vms"]] == [("default", "lab-dns")]
    assert [v["name"] for v in one["vms"]] == ["lab-router"]


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)


def test_an_unknown_vm_fails_naming_it(twin):
    (result,), reqs = play(twin, [{"name": "nope"}])
    assert result["failed"] and "VirtualMachine default/nope not found" in result["msg"]
    assert writes(reqs) == []
