# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_storage_network against a twin process (seeded with lab-router and lab-dns running,
lab-builder stopped), called in process as its action plugin calls it: refused while VMs run (as a
structured result, nothing written), the whole sequence with stop_vms (stopped and marked in one
patch, applied, Completed, started with their own run strategies, progress in that order), a second
run without writes, a stop whose answer is lost, an interruption right after the setting write
finished by the next run (even one that may not stop VMs), Harvester refusing the value after the
stop (the VMs start again), check mode storing nothing, and bad input with no request at all."""

from __future__ import annotations

import json

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import storage_network
from tests.catalogue.harvester_storage_network import BAD_INPUTS, PLAN, REFUSALS
from tests.modules.runner import assert_all_refused_without_a_request, run, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_storage_network"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
SETTING = "/apis/harvesterhci.io/v1beta1/settings/storage-network"
WANTED = {"vlan": 60, "clusterNetwork": "mgmt", "range": "10.10.60.0/24", "exclude": []}
MARK = storage_network.MARK_LABEL
RESTORE = storage_network.RESTORE_ANNOTATION


def get(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def running(twin):
    return sorted(v["metadata"]["name"] for v in get(twin, VMIS)["items"] if (v.get("status") or {}).get("phase") == "Running")


def marked(twin):
    return sorted(v["metadata"]["name"] for v in get(twin, VMS)["items"] if MARK in (v["metadata"].get("labels") or {}))


def setting_value(twin):
    value = get(twin, SETTING).get("value")
    return json.loads(value) if value else None


def vm_patches(requests):
    return [r["path"].rsplit("/", 1)[1] for r in writes(requests) if "/virtualmachines/" in r["path"]]


def test_refused_while_vms_run_with_a_structured_result_and_nothing_written(twin):
    (args, message), = REFUSALS
    result, reqs = run(twin, MODULE, args)
    assert message in result["msg"]
    assert result["failed"] and result["refused_by"] == "running_vms", result
    assert result["vms"] == ["default/lab-dns", "default/lab-router"]
    assert "nothing was changed" in result["msg"] and "stop_vms=true" in result["msg"]
    assert writes(reqs) == [] and setting_value(twin) is None


def test_stop_apply_wait_start_then_a_run_without_writes(twin):
    before = running(twin)
    assert before == ["lab-dns", "lab-router"]
    result, reqs = run(twin, MODULE, dict(PLAN, stop_vms=True), diff=True)
    assert result["changed"] and not result["failed"], result
    assert [s["step"] for s in result["steps"]] == ["stop_vms", "apply", "configured", "start_vms"]
    assert result["steps"][0]["vms"] == result["steps"][3]["vms"] == ["default/lab-dns", "default/lab-router"]
    assert result["value"] == WANTED and result["configured"] is True
    assert result["diff"] == {"before": {}, "after": {"value": WANTED}}
    assert [(v["name"], v["stopped"], v["started"], v["run_strategy"]) for v in result["vms"]] == [
        ("lab-dns", True, True, "RerunOnFailure"), ("lab-router", True, True, "RerunOnFailure")]
    # the order of the writes: each VM stopped (and marked) once, the setting, each VM started once
    paths = [r["path"] for r in writes(reqs)]
    assert paths == [f"{VMS}/lab-dns", f"{VMS}/lab-router", SETTING, f"{VMS}/lab-dns", f"{VMS}/lab-router"]
    messages = [e["msg"] for e in result["progress"]]
    order = [next(i for i, m in enumerate(messages) if text in m) for text in
             ("VMs stopped 2/2", "setting applied", "Completed", "VMs started 2/2")]
    assert order == sorted(order), messages
    assert running(twin) == before and marked(twin) == [] and setting_value(twin) == WANTED
    assert get(twin, f"{VMS}/lab-builder")["spec"]["runStrategy"] == "Halted"  # stopped before: left alone

    again, reqs = run(twin, MODULE, dict(PLAN, stop_vms=True))
    assert again["changed"] is False and again["steps"] == [] and writes(reqs) == [], again
    assert len(reqs) == 3  # the setting, the VMs, the VMIs


def test_a_stop_whose_answer_is_lost_is_started_again(twin):
    """The old defect: the stop PATCH stored, its answer lost, the repeat 409, the re-read shows
    the VM halted -- it must still come back."""
    twin.fault(method="PATCH", path="virtualmachines/lab-router$", reset_after=True, count=1)
    result, reqs = run(twin, MODULE, dict(PLAN, stop_vms=True))
    assert result["changed"] and not result["failed"], result
    assert [r.get("fault") for r in reqs if r["method"] == "PATCH" and r["path"].endswith("lab-router")][0] == "reset_after"
    assert "default/lab-router" in result["steps"][-1]["vms"]
    assert running(twin) == ["lab-dns", "lab-router"] and marked(twin) == []


def test_an_interrupt_after_the_setting_write_is_finished_by_the_next_run(twin, monkeypatch):
    def interrupted(self, first):
        raise KeyboardInterrupt  # Ctrl-C the moment the setting was written
    with monkeypatch.context() as m:
        m.setattr(storage_network.Run, "wait_configured", interrupted)
        with pytest.raises(KeyboardInterrupt):
            run(twin, MODULE, dict(PLAN, stop_vms=True))
    assert running(twin) == [] and marked(twin) == ["lab-dns", "lab-router"]
    assert setting_value(twin) == WANTED
    vm = get(twin, f"{VMS}/lab-router")
    assert vm["metadata"]["annotations"][RESTORE] == "RerunOnFailure" and vm["spec"]["runStrategy"] == "Halted"

    # the next run may not even stop VMs: the setting holds the value, so it only finishes
    result, reqs = run(twin, MODULE, dict(PLAN))
    assert result["changed"] and not result["failed"], result
    assert [s["step"] for s in result["steps"]] == ["start_vms"]
    assert vm_patches(reqs) == ["lab-dns", "lab-router"] and SETTING not in [r["path"] for r in writes(reqs)]
    assert running(twin) == ["lab-dns", "lab-router"] and marked(twin) == []
    assert get(twin, f"{VMS}/lab-builder")["spec"]["runStrategy"] == "Halted"


def test_a_value_harvester_refuses_after_the_stop_starts_the_vms_again(twin):
    result, reqs = run(twin, MODULE, dict(PLAN, range="10.10.60.0/30", stop_vms=True))
    assert result["failed"] and "storage-network not applied" in result["msg"], result
    assert "allocatable IP address range" in result["msg"] and "the VMs it stopped run again" in result["msg"]
    assert [s["step"] for s in result["steps"]] == ["stop_vms", "start_vms"]
    assert running(twin) == ["lab-dns", "lab-router"] and marked(twin) == [] and setting_value(twin) is None


def test_check_mode_says_what_it_would_do_and_stores_nothing(twin):
    result, reqs = run(twin, MODULE, dict(PLAN, stop_vms=True), check=True, diff=True)
    assert result["changed"] and not result["failed"], result
    assert [s["step"] for s in result["steps"]] == ["stop_vms", "apply", "start_vms"]
    assert result["steps"][0]["vms"] == result["steps"][2]["vms"] == ["default/lab-dns", "default/lab-router"]
    assert stored_writes(reqs) == [] and running(twin) == ["lab-dns", "lab-router"]


def test_absent_disables_it_again(twin):
    run(twin, MODULE, dict(PLAN, stop_vms=True))
    result, reqs = run(twin, MODULE, {"state": "absent", "stop_vms": True})
    assert result["changed"] and result["value"] is None and result["configured"] is True, result
    assert setting_value(twin) is None and running(twin) == ["lab-dns", "lab-router"]


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = run_tasks(twin, MODULE, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
