# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_vm_backup_info in process (tests/modules/runner.py) against a twin process: the backups
and snapshots of a namespace newest first, filtered by VM, type and labels, the ones a retention
rule lets go (never one in progress), every namespace, check mode, one request, and bad input with
no request."""

from __future__ import annotations

import json

import pytest

from tests.catalogue.harvester_vm_backup_info import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, writes
from tests.twin.tests.conftest import wait_for

pytestmark = [pytest.mark.twin]

MODULE = "harvester_vm_backup_info"
BACKUPS = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinebackups"
SETTING = "/apis/harvesterhci.io/v1beta1/settings/backup-target"
NFS = "nfs://10.10.10.20:/volume1/harvester-backups"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def backup(twin, name, vm, type_="snapshot", labels=None, ready=True):
    body = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineBackup",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"type": type_, "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}}}
    twin.session().post(twin.url(BACKUPS), json=body).raise_for_status()
    if ready:
        wait_for(lambda: twin.session().get(twin.url(f"{BACKUPS}/{name}")).json().get("status", {}).get("readyToUse"),
                 f"{name} ready")


def test_newest_first_filters_and_retention(twin):
    setting = twin.session().get(twin.url(SETTING)).json()
    setting["value"] = json.dumps({"type": "nfs", "endpoint": NFS})
    twin.session().put(twin.url(SETTING), json=setting).raise_for_status()
    for name in ("a-1", "a-2", "a-3"):
        backup(twin, name, "lab-router", labels={"set": "nightly"})
    backup(twin, "b-1", "lab-dns", labels={"set": "nightly"})
    backup(twin, "c-1", "lab-router", type_="backup")
    (everything, router, nightly, snapshots, other_ns), reqs = play(twin, [
        {}, {"vm": "lab-router", "keep": 1}, {"label_selector": "set=nightly", "keep": 2}, {"type": "snapshot", "keep": 0},
        {"namespace": "kube-system"}], check=True)
    order = [(e["created"], e["name"]) for e in everything["backups"]]
    assert order == sorted(order, reverse=True) and {n for dummy, n in order} == {"a-1", "a-2", "a-3", "b-1", "c-1"}
    entry = next(e for e in everything["backups"] if e["name"] == "c-1")
    assert entry["vm"] == "lab-router" and entry["type"] == "backup" and entry["state"] == "ready"
    assert entry["progress"] == 100 and entry["backup_target"] == NFS and entry["ready_at"] and entry["error"] is None
    snap = next(e for e in everything["backups"] if e["name"] == "b-1")
    assert snap["labels"] == {"set": "nightly"} and snap["progress"] is None and snap["backup_target"] is None
    assert "expired" not in everything and everything["changed"] is False
    assert set(router["by_vm"]) == {"default/lab-router"} and "b-1" not in [e["name"] for e in router["backups"]]
    assert router["by_vm"]["default/lab-router"] == [e["name"] for e in router["backups"]]
    assert router["expired"] == router["backups"][1:]  # every one but the newest
    assert [e["name"] for e in nightly["expired"]] == ["a-1"] and "c-1" not in [e["name"] for e in nightly["backups"]]
    assert {e["name"] for e in snapshots["expired"]} == {"a-1", "a-2", "a-3", "b-1"}
    assert other_ns["backups"] == [] and other_ns["by_vm"] == {}
    assert len(reqs) == 5 and writes(reqs) == []


def test_all_namespaces(twin):
    backup(twin, "a-1", "lab-router")
    (result,), reqs = play(twin, [{"all_namespaces": True, "namespace": "ignored"}])
    assert [(e["namespace"], e["name"]) for e in result["backups"]] == [("default", "a-1")]
    assert [r["path"] for r in reqs] == ["/apis/harvesterhci.io/v1beta1/virtualmachinebackups"]


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
