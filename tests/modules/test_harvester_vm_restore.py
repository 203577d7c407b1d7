# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_vm_restore in process (tests/modules/runner.py) against a twin process, and the twin's
request log says what reached the API: a backup restored as a new VM (running, on its own new
volume) and a second run without writes; a stopped VM replaced from its backup, its old volume
deleted by request; a snapshot restored over its VM keeping the old volume; refusals before any
write (backup not ready or failed, new VM's name taken, the VM to replace missing or running, the
snapshot restrictions, another restore of that name); check mode storing nothing; and bad input with
no request at all."""

from __future__ import annotations

import json

import pytest

from tests.catalogue.harvester_vm_restore import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes
from tests.twin.tests.conftest import wait_for

pytestmark = [pytest.mark.twin]

MODULE = "harvester_vm_restore"
NS = "default"
BACKUPS = f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinebackups"
RESTORES = f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinerestores"
VMS = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachines"
PVCS = f"/api/v1/namespaces/{NS}/persistentvolumeclaims"
SETTING = "/apis/harvesterhci.io/v1beta1/settings/backup-target"
NFS = "nfs://10.10.10.20:/volume1/harvester-backups"
POWER = "harvester_vm_power"


def play(twin, tasks, *, module=MODULE, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, module, tasks, **kwargs)


def get(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def backup(twin, name, vm, type_="backup", ready=True):
    """A backup made through the API (and waited for), with the NFS target set for type backup."""
    if type_ == "backup" and not (get(twin, SETTING) or {}).get("value"):
        setting = get(twin, SETTING)
        setting["value"] = json.dumps({"type": "nfs", "endpoint": NFS})
        twin.session().put(twin.url(SETTING), json=setting).raise_for_status()
    body = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineBackup", "metadata": {"name": name},
            "spec": {"type": type_, "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}}}
    twin.session().post(twin.url(BACKUPS), json=body).raise_for_status()
    if ready:
        wait_for(lambda: (get(twin, f"{BACKUPS}/{name}").get("status") or {}).get("readyToUse"), f"{name} ready",
                 timeout=20)


def test_restore_as_a_new_vm_then_again_without_writes(twin):
    backup(twin, "router-1", "lab-router")
    task = {"name": "router-copy", "backup": "router-1", "vm": "router-copy", "new_vm": True}
    (first,), reqs = play(twin, [task], diff=True)
    assert first["changed"] is True and first["complete"] is True and not first.get("failed"), first
    status = first["restore"]["status"]
    messages = {c["type"]: c["message"] for c in status["conditions"]}
    assert messages == {"InProgress": "Operation complete", "Ready": "Operation complete"}
    assert first["diff"]["after"]["spec"] == {"target": {"name": "router-copy"}, "virtualMachineBackupName": "router-1",
                                              "virtualMachineBackupNamespace": NS, "newVM": True,
                                              "deletionPolicy": "retain", "keepMacAddress": False}
    assert [(r["method"], r["path"]) for r in reqs[:4]] == [
        ("GET", f"{RESTORES}/router-copy"), ("GET", f"{BACKUPS}/router-1"), ("GET", f"{VMS}/router-copy"),
        ("POST", RESTORES)]
    assert [r["method"] for r in writes(reqs)] == ["POST"]
    vm = get(twin, f"{VMS}/router-copy")
    assert vm["status"]["ready"] is True and status["targetUID"] == vm["metadata"]["uid"]
    claim = vm["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert claim == status["restores"][0]["persistentVolumeClaimSpec"]["metadata"]["name"]
    assert get(twin, f"{PVCS}/{claim}")["status"]["phase"] == "Bound"
    assert get(twin, f"{VMS}/lab-router")["status"]["ready"] is True  # the source VM is untouched

    (again,), reqs = play(twin, [task])
    assert again["changed"] is False and again["complete"] is True, again
    assert [(r["method"], r["path"]) for r in reqs] == [("GET", f"{RESTORES}/router-copy")]


def test_replace_a_stopped_vm_and_delete_its_old_volume(twin):
    backup(twin, "builder-1", "lab-builder")
    (result,), reqs = play(twin, [
        {"name": "builder-back", "backup": "builder-1", "vm": "lab-builder", "deletion_policy": "delete"}])
    assert result["changed"] and result["complete"] and not result.get("failed"), result
    assert result["restore"]["status"]["deletedVolumes"] == ["lab-builder-rootdisk"]
    vm = get(twin, f"{VMS}/lab-builder")
    assert vm["status"]["ready"] is True  # Harvester starts the restored VM
    assert vm["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"].startswith(
        "restore-builder-1-")
    assert get(twin, f"{PVCS}/lab-builder-rootdisk") is None


def test_stop_then_replace_from_a_snapshot_keeping_the_old_volume(twin):
    backup(twin, "dns-snap", "lab-dns", type_="snapshot")
    (stopped,), dummy = play(twin, [{"name": "lab-dns", "state": "stopped"}], module=POWER)
    assert stopped["changed"], stopped
    (result,), reqs = play(twin, [{"name": "dns-back", "backup": "dns-snap", "target": "lab-dns"}])
    assert result["changed"] and result["complete"] and not result.get("failed"), result
    assert "deletedVolumes" not in result["restore"]["status"]
    assert get(twin, f"{PVCS}/lab-dns-rootdisk") is not None
    assert get(twin, f"{VMS}/lab-dns")["status"]["ready"] is True


def test_refusals_before_any_write(twin):
    backup(twin, "router-1", "lab-router")
    backup(twin, "dns-snap", "lab-dns", type_="snapshot")
    twin.session().patch(twin.url("/_twin/environment"), json={"unreachable": [NFS]}).raise_for_status()
    backup(twin, "router-broken", "lab-router", ready=False)
    wait_for(lambda: (get(twin, f"{BACKUPS}/router-broken").get("status") or {}).get("error"), "the backup failed")
    results, reqs = play(twin, [
        {"name": "r1", "backup": "nope", "vm": "copy", "new_vm": True},
        {"name": "r2", "backup": "router-broken", "vm": "copy", "new_vm": True},
        {"name": "r3", "backup": "router-1", "vm": "lab-dns", "new_vm": True},
        {"name": "r4", "backup": "router-1", "vm": "lab-router"},
        {"name": "r5", "backup": "router-1", "vm": "ghost"},
        {"name": "r6", "backup": "dns-snap", "namespace": "kube-system", "backup_namespace": NS, "vm": "copy",
         "new_vm": True},
        {"name": "r7", "backup": "dns-snap", "vm": "lab-builder", "deletion_policy": "delete"},
    ])
    expected = [
        ("backup", "backup: VirtualMachineBackup default/nope not found"),
        ("backup", "backup: VirtualMachineBackup default/router-broken failed and cannot be restored: VolumeSnapshot "
                   "router-broken-volume-lab-router-rootdisk in error state (volume rootdisk: cannot mount nfs"),
        ("vm", "vm: VirtualMachine default/lab-dns already exists; new_vm=true creates the VM"),
        ("vm", "vm: VirtualMachine default/lab-router is Running; Harvester only replaces a stopped VM: stop it first: "
               "homelab.harvester.harvester_vm_power (state: stopped)"),
        ("vm", "vm: VirtualMachine default/ghost not found; set new_vm=true to create it from the backup"),
        ("backup_namespace", "backup_namespace: VirtualMachineBackup default/dns-snap is a snapshot, which can only be "
                             "restored in its own namespace (default), not in kube-system"),
        ("deletion_policy", "deletion_policy: VirtualMachineBackup default/dns-snap is a snapshot, and Harvester cannot "
                            "replace a VM from a snapshot with deletion_policy=delete"),
    ]
    for result, (option, message) in zip(results, expected, strict=True):
        assert result["failed"] and result["option"] == option and result["msg"].startswith(message), result
    assert writes(reqs) == []
    assert get(twin, RESTORES)["items"] == []


def test_another_restore_of_that_name_fails_on_the_option(twin):
    backup(twin, "router-1", "lab-router")
    (made, other), reqs = play(twin, [
        {"name": "copy", "backup": "router-1", "vm": "router-copy", "new_vm": True},
        {"name": "copy", "backup": "router-1", "vm": "router-copy-2", "new_vm": True}])
    assert made["changed"] and not made.get("failed"), made
    assert other["failed"] and other["option"] == "vm"
    assert other["msg"] == ("vm: VirtualMachineRestore default/copy exists with target.name 'router-copy', not "
                            "'router-copy-2'; a restore cannot change: choose another name")
    assert [r["method"] for r in writes(reqs)] == ["POST"]


def test_check_mode_stores_nothing_and_lets_harvester_judge(twin):
    backup(twin, "router-1", "lab-router")
    task = {"name": "copy", "backup": "router-1", "vm": "router-copy", "new_vm": True}
    (result,), reqs = play(twin, [task], check=True)
    assert result["changed"] is True and result["complete"] is False and not result.get("failed"), result
    assert len(writes(reqs)) == 1 and stored_writes(reqs) == []
    assert get(twin, f"{RESTORES}/copy") is None and get(twin, f"{VMS}/router-copy") is None

    setting = get(twin, SETTING)
    setting["value"] = json.dumps({"type": "nfs", "endpoint": "nfs://10.10.10.20:/volume1/harvester-images"})
    twin.session().put(twin.url(SETTING), json=setting).raise_for_status()
    (refused,), reqs = play(twin, [task], check=True)
    assert refused["failed"] and refused["status"] == 422, refused
    assert "backup target &{Type:nfs Endpoint:nfs://10.10.10.20:/volume1/harvester-images" in refused["msg"]
    assert "is not matched in vmBackup default/router-1" in refused["msg"]
    assert len(writes(reqs)) == 1 and stored_writes(reqs) == []  # the dry-run create Harvester's webhook refused


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
