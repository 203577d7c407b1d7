# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_vm_power against a twin process (seeded with lab-router and lab-dns running,
lab-builder stopped), called in process as its action plugin calls it (tests/modules/runner.py), and
the twin's request log says what reached the API: stop every VM and see the VMIs go, a second run
without writes, start exactly the VMs the first run stopped, check mode storing nothing, the
remembered and the chosen run strategy, the legacy ``spec.running``, unknown VMs and unstartable
ones refused before any write, bad input with no request at all, and the storage-network setting
accepted once every VM is stopped -- the reason the module exists."""

from __future__ import annotations

import pytest

from tests.catalogue.harvester_vm_power import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_vm_power"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
MERGE = {"Content-Type": "application/merge-patch+json"}
MEMORY = "harvesterhci.io/vmRunStrategy"
STORAGE_NETWORK = {"vlan": 60, "clusterNetwork": "mgmt", "range": "10.10.60.0/24"}


def play(twin, tasks, *, module=MODULE, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, module, tasks, **kwargs)


def get(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def vm(twin, name):
    return get(twin, f"{VMS}/{name}")


def vmi(twin, name):
    return get(twin, f"{VMIS}/{name}")


def patch_vm(twin, name, body):
    twin.session().patch(twin.url(f"{VMS}/{name}"), json=body, headers=MERGE).raise_for_status()


def entries(result):
    return {(e["name"], e["before"], e["after"], e["changed"]) for e in result["vms"]}


def test_stop_all_then_again_without_writes_then_start_exactly_those(twin):
    (stop,), reqs = play(twin, [{"state": "stopped"}], diff=True)
    assert stop["changed"] is True and not stop.get("failed"), stop
    assert entries(stop) == {("lab-builder", "Stopped", "Stopped", False), ("lab-dns", "Running", "Stopped", True),
                             ("lab-router", "Running", "Stopped", True)}
    patches = writes(reqs)
    assert [(r["method"], r["path"]) for r in patches] == [("PATCH", f"{VMS}/lab-dns"), ("PATCH", f"{VMS}/lab-router")]
    assert [r["path"] for r in reqs[:2]] == [VMS, VMIS]  # one list each, then the patches, then the wait's lists
    assert vmi(twin, "lab-router") is None and vmi(twin, "lab-dns") is None  # waited: the VMIs are gone
    router = vm(twin, "lab-router")
    assert router["spec"]["runStrategy"] == "Halted" and router["status"]["printableStatus"] == "Stopped"
    assert router["metadata"]["annotations"][MEMORY] == "RerunOnFailure"
    assert stop["diff"]["before"]["default/lab-router"]["spec"] == {"runStrategy": "RerunOnFailure"}
    assert stop["diff"]["after"]["default/lab-router"]["spec"] == {"runStrategy": "Halted"}
    assert set(stop["diff"]["after"]) == {"default/lab-dns", "default/lab-router"}

    (again,), reqs = play(twin, [{"state": "stopped"}])
    assert again["changed"] is False and not again.get("failed"), again
    assert writes(reqs) == [] and len(reqs) == 2  # one list of VMs and one of VMIs: nothing to do or wait for

    to_start = [e for e in stop["vms"] if e["changed"]]
    (start, start_again), reqs = play(twin, [{"names": to_start, "state": "running"},
                                             {"names": to_start, "state": "running"}])
    assert start["changed"] is True and not start.get("failed"), start
    assert entries(start) == {("lab-dns", "Stopped", "Running", True), ("lab-router", "Stopped", "Running", True)}
    assert start_again["changed"] is False and [r["method"] for r in writes(reqs)] == ["PATCH", "PATCH"]
    for name in ("lab-router", "lab-dns"):
        assert vmi(twin, name)["status"]["phase"] == "Running"
        live = vm(twin, name)
        assert live["spec"]["runStrategy"] == "RerunOnFailure" and live["status"]["ready"] is True
    assert vm(twin, "lab-builder")["spec"]["runStrategy"] == "Halted" and vmi(twin, "lab-builder") is None


def test_check_mode_stores_nothing(twin):
    (stop, start), reqs = play(twin, [
        {"label_selector": "harvesterhci.io/creator=harvester", "state": "stopped"},
        {"names": ["lab-builder"], "state": "running"}], check=True, diff=True)
    assert stop["changed"] is True and start["changed"] is True, (stop, start)
    assert entries(stop) == {("lab-builder", "Stopped", "Stopped", False), ("lab-dns", "Running", "Stopped", True),
                             ("lab-router", "Running", "Stopped", True)}
    assert entries(start) == {("lab-builder", "Stopped", "Running", True)}
    assert start["diff"]["after"]["default/lab-builder"]["spec"] == {"runStrategy": "RerunOnFailure"}
    assert len(writes(reqs)) == 3 and stored_writes(reqs) == []  # dry-run patches only
    assert vmi(twin, "lab-router")["status"]["phase"] == "Running"
    assert vm(twin, "lab-router")["spec"]["runStrategy"] == "RerunOnFailure"
    assert vm(twin, "lab-builder")["spec"]["runStrategy"] == "Halted" and vmi(twin, "lab-builder") is None


def test_storage_network_accepted_once_every_vm_is_stopped(twin):
    setting = {"name": "storage-network", "value": STORAGE_NETWORK}
    (refused,), dummy = play(twin, [setting], module="harvester_setting")
    assert refused["failed"] and "Please stop all VMs before configuring the storage-network setting" in refused["msg"]

    (stop,), dummy = play(twin, [{"all_namespaces": True, "state": "stopped"}])
    assert stop["changed"] is True and not stop.get("failed"), stop
    (applied,), dummy = play(twin, [setting], module="harvester_setting")
    assert applied["changed"] is True and not applied.get("failed"), applied

    (start,), dummy = play(twin, [{"names": [e for e in stop["vms"] if e["changed"]], "state": "running"}])
    assert entries(start) == {("lab-dns", "Stopped", "Running", True), ("lab-router", "Stopped", "Running", True)}
    assert vmi(twin, "lab-builder") is None  # the VM that was stopped before stays stopped


def test_the_remembered_strategy_comes_back_and_a_chosen_one_is_remembered(twin):
    patch_vm(twin, "lab-router", {"spec": {"runStrategy": "Always"}})  # Harvester's controller remembers Always
    (stop, start, builder), reqs = play(twin, [
        {"name": "lab-router", "state": "stopped"},
        {"name": "default/lab-router", "state": "running"},
        {"name": "lab-builder", "state": "running", "run_strategy": "Always"}])
    assert all(r["changed"] and not r.get("failed") for r in (stop, start, builder)), (stop, start, builder)
    assert vm(twin, "lab-router")["spec"]["runStrategy"] == "Always"
    live = vm(twin, "lab-builder")
    # the annotation is written with the strategy: Harvester's mutator would replace it with the remembered one
    assert live["spec"]["runStrategy"] == "Always" and live["metadata"]["annotations"][MEMORY] == "Always"
    assert vmi(twin, "lab-builder")["status"]["phase"] == "Running"
    assert [r["method"] for r in writes(reqs)] == ["PATCH", "PATCH", "PATCH"]


def test_legacy_running_field_is_replaced_by_the_run_strategy(twin):
    patch_vm(twin, "lab-dns", {"spec": {"runStrategy": None, "running": True}})
    (stop, start), dummy = play(twin, [{"name": "lab-dns", "state": "stopped"},
                                       {"name": "lab-dns", "state": "running"}])
    assert stop["changed"] and start["changed"], (stop, start)
    spec = vm(twin, "lab-dns")["spec"]
    assert "running" not in spec and spec["runStrategy"] == "Always"  # what running=true meant, remembered
    assert vmi(twin, "lab-dns")["status"]["phase"] == "Running"


def test_unknown_vms_fail_before_any_write(twin):
    (result,), reqs = play(twin, [{"names": ["lab-router", "nope", "other/lab-dns"], "state": "stopped"}])
    assert result["failed"]
    assert result["msg"] == "VirtualMachine default/nope, other/lab-dns not found; nothing was changed"
    assert result["vms"] == ["default/nope", "other/lab-dns"]
    assert writes(reqs) == []
    assert vmi(twin, "lab-router")["status"]["phase"] == "Running"


def test_a_vm_that_cannot_start_by_itself_fails_before_any_write(twin):
    patch_vm(twin, "lab-builder", {"metadata": {"annotations": {MEMORY: "Manual"}}})
    patch_vm(twin, "lab-router", {"spec": {"runStrategy": "Halted"}})
    (result, chosen), reqs = play(twin, [
        {"names": ["lab-router", "lab-builder"], "state": "running"},
        {"names": ["lab-builder"], "state": "running", "run_strategy": "RerunOnFailure"}])
    assert result["failed"] and result["vms"] == ["default/lab-builder"]
    assert result["msg"] == ("cannot start VirtualMachine default/lab-builder remembers run strategy Manual, which does "
                             "not start a VM by itself; give run_strategy (Always or RerunOnFailure); nothing was changed")
    assert chosen["changed"] and not chosen.get("failed"), chosen
    assert [r["path"] for r in writes(reqs)] == [f"{VMS}/lab-builder"]  # the second task only
    assert vm(twin, "lab-router")["spec"]["runStrategy"] == "Halted"  # the first task wrote nothing


def test_no_wait_reports_where_the_vm_is_headed(twin):
    (result,), reqs = play(twin, [{"name": "lab-router", "state": "stopped", "wait": False}])
    assert entries(result) == {("lab-router", "Running", "Stopped", True)}
    assert len(reqs) == 3  # two lists and the patch: no polling
    assert vm(twin, "lab-router")["spec"]["runStrategy"] == "Halted"


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
