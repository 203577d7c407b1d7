"""The backup area, black-box: Harvester's VirtualMachineBackup and VirtualMachineRestore webhooks
(messages and codes of pkg/webhook/resources/virtualmachinebackup and virtualmachinerestore) and
its backup and restore controllers (progress, conditions, the files on the NFS backup target as
the environment shows them, the error path when the target becomes unreachable, deletion, a
restore as a new VM and one replacing a stopped VM), through requests, kubectl and watches."""
from __future__ import annotations

import json
import time

import pytest

from tests.twin.controllers import backup as controllers

from .conftest import read_or_none as get
from .conftest import status_of, wait_for

NS = "default"
BACKUPS = f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinebackups"
RESTORES = f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinerestores"
VMS = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachines"
PVCS = f"/api/v1/namespaces/{NS}/persistentvolumeclaims"
LH_VOLUMES = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes"
SETTING = "/apis/harvesterhci.io/v1beta1/settings/backup-target"
NFS = "nfs://10.10.10.20:/volume1/harvester-backups"
MERGE = {"Content-Type": "application/merge-patch+json"}
ROUTER_VOLUME = "pvc-0b6f1d2c-7a43-4e55-9b1e-3c8d2a7f4e10"  # lab-router-rootdisk, 40 GiB
BUILDER_VOLUME = "pvc-c2d47e85-9f30-4a1b-b6c2-71e5d8a9f032"  # lab-builder-rootdisk, 80 GiB
VALIDATOR = 'admission webhook "validator.harvesterhci.io" denied the request: '
MUTATOR = 'admission webhook "mutator.harvesterhci.io" denied the request: '


# ---------------------------------------------------------------------------------------- helpers
def backup_body(name, vm, type_="backup"):
    return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineBackup", "metadata": {"name": name},
            "spec": {"type": type_, "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}}}


def restore_body(name, backup, target, *, new_vm, policy="retain", backup_ns=NS, **extra):
    spec = {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": target},
            "virtualMachineBackupName": backup, "virtualMachineBackupNamespace": backup_ns, "newVM": new_vm,
            "deletionPolicy": policy, **extra}
    return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineRestore", "metadata": {"name": name},
            "spec": spec}


def post(twin, path, body):
    return twin.session().post(twin.url(path), json=body)


def created(twin, path, body):
    r = post(twin, path, body)
    assert r.status_code == 201, r.text
    return r.json()


def refused(response, code, message, field=None):
    status = status_of(response)
    assert response.status_code == code, response.text
    assert status["message"] == message, status["message"]
    if field is not None:
        assert [c["field"] for c in status["details"]["causes"]] == [field]
    return status


def condition(obj, type_):
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


def conditions(obj):
    return {c["type"]: (c["status"], c.get("reason", ""), c["message"]) for c in (obj.get("status") or {}).get("conditions") or []}


def set_target(twin, endpoint=NFS):
    setting = get(twin, SETTING)
    setting["value"] = json.dumps({"type": "nfs", "endpoint": endpoint}) if endpoint else ""
    r = twin.session().put(twin.url(SETTING), json=setting)
    assert r.status_code == 200, r.text


def environment(twin, **changes):
    r = twin.session().patch(twin.url("/_twin/environment"), json=changes)
    r.raise_for_status()
    return r.json()


def store_files(twin):
    return twin.session().get(twin.url("/_twin/environment")).json().get("backupstore", {}).get(NFS, [])


def ready(twin, name, timeout=15):
    return wait_for(lambda: (get(twin, f"{BACKUPS}/{name}") or {}).get("status", {}).get("readyToUse") and
                    get(twin, f"{BACKUPS}/{name}"), f"backup {name} ready", timeout=timeout)


def complete(twin, name, timeout=20):
    return wait_for(lambda: (get(twin, f"{RESTORES}/{name}") or {}).get("status", {}).get("complete") and
                    get(twin, f"{RESTORES}/{name}"), f"restore {name} complete", timeout=timeout)


def watch_backup(twin, name, rv, done, timeout=20):
    """Every state of backup `name` after resourceVersion `rv` until done(obj), from watches in
    short windows resumed from the last resourceVersion, as informers do."""
    objs, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        params = {"watch": "true", "resourceVersion": rv, "fieldSelector": f"metadata.name={name}", "timeoutSeconds": "2"}
        with twin.session().get(twin.url(BACKUPS), params=params, stream=True, timeout=(5, 10)) as r:
            for line in r.iter_lines():
                if not line:
                    continue
                event = json.loads(line)
                objs.append(event["object"])
                rv = event["object"]["metadata"]["resourceVersion"]
                if done(event["object"]):
                    return objs
    raise AssertionError(f"watch ended first; last status: {objs[-1].get('status') if objs else None}")


def stop_vm(twin, name):
    twin.session().patch(twin.url(f"{VMS}/{name}"), json={"spec": {"runStrategy": "Halted"}},
                         headers=MERGE).raise_for_status()
    wait_for(lambda: get(twin, f"{VMS}/{name}")["status"].get("printableStatus") == "Stopped", f"{name} stopped")


# ---------------------------------------------------------------------------------------- backup webhooks
@pytest.mark.parametrize("vm, type_, message, field", [
    ("", "snapshot", "source VM name is empty", "spec.source.name"),
    ("nope", "snapshot", 'virtualmachines.kubevirt.io "nope" not found', "spec.source.name"),
    ("lab-router", "backup", "backup target is not set", "spec.type"),
])
def test_backup_create_refusals(twin, vm, type_, message, field):
    refused(post(twin, BACKUPS, backup_body("b", vm, type_)), 422, VALIDATOR + message, field)
    assert get(twin, f"{BACKUPS}/b") is None


def test_a_vm_whose_pvc_is_missing_cannot_be_backed_up(twin):
    r = twin.session().patch(twin.url(f"{VMS}/lab-builder"), headers=MERGE, json={"spec": {"template": {"spec": {
        "volumes": [{"name": "rootdisk", "persistentVolumeClaim": {"claimName": "gone"}}]}}}})
    r.raise_for_status()
    refused(post(twin, BACKUPS, backup_body("b", "lab-builder", "snapshot")), 422,
            VALIDATOR + 'failed to get PVC default/gone: persistentvolumeclaims "gone" not found', "spec.source.name")


def test_a_migrating_vm_cannot_be_backed_up(twin):
    for node in ("ms02-2", "ms02-3"):  # no target: the migration stays unfinished
        twin.kubectl("cordon", node)
    vmim = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"name": "move-router", "namespace": NS}, "spec": {"vmiName": "lab-router"}}
    created(twin, f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachineinstancemigrations", vmim)
    refused(post(twin, BACKUPS, backup_body("b", "lab-router", "snapshot")), 422,
            VALIDATOR + "vm default/lab-router is in migration", "spec.source.name")


def test_backups_and_snapshots_share_their_names(twin):
    set_target(twin)
    created(twin, BACKUPS, backup_body("nightly", "lab-router", "snapshot"))
    refused(post(twin, BACKUPS, backup_body("nightly", "lab-dns", "snapshot")), 400,
            MUTATOR + "The nightly snapshot is already existent. Please use another name for it.")
    refused(post(twin, BACKUPS, backup_body("nightly", "lab-router", "backup")), 400,
            MUTATOR + "VM Backup and Snapshot use same CRD - VirtualMachineBackup. The nightly snapshot is already "
                      "existent. Please use another name for it.")


# ---------------------------------------------------------------------------------------- backup controller
def test_snapshot_needs_no_target_and_records_the_vm(twin):
    assert get(twin, SETTING).get("value", "") == ""
    twin.kubectl("apply", "-f", "-", input=json.dumps(backup_body("snap", "lab-router", "snapshot")))
    obj = ready(twin, "snap")
    status = obj["status"]
    assert obj["metadata"]["finalizers"] == ["wrangler.cattle.io/harvester-vm-backup-controller"]
    assert conditions(obj) == {"InProgress": ("False", "", "Operation complete"),
                               "Ready": ("True", "", "Operation complete")}
    assert "progress" not in status and "backupTarget" not in status and status["creationTime"]
    assert status["csiDriverVolumeSnapshotClassNames"] == {"driver.longhorn.io": "longhorn-snapshot"}
    assert status["sourceUID"] == get(twin, f"{VMS}/lab-router")["metadata"]["uid"]
    assert status["source"]["metadata"]["name"] == "lab-router"
    assert status["source"]["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"] == {
        "claimName": "lab-router-rootdisk"}
    [vb] = status["volumeBackups"]
    assert vb["name"] == "snap-volume-lab-router-rootdisk" and vb["volumeName"] == "rootdisk"
    assert vb["volumeSize"] == 40 << 30 and vb["readyToUse"] is True and vb["csiDriverName"] == "driver.longhorn.io"
    assert vb["persistentVolumeClaim"]["spec"]["volumeName"] == ROUTER_VOLUME
    assert "longhornBackupName" not in vb
    table = twin.kubectl("get", "vmbackup", "snap").stdout
    assert "snapshot" in table and "true" in table
    assert store_files(twin) == []


def test_backup_to_nfs_reports_progress_then_lands_on_the_target(twin):
    set_target(twin)
    rv = get(twin, BACKUPS)["metadata"]["resourceVersion"]
    obj = created(twin, BACKUPS, backup_body("router-1", "lab-router"))
    seen = watch_backup(twin, "router-1", rv, lambda o: (o.get("status") or {}).get("readyToUse"))
    progress = [o["status"]["progress"] for o in seen if "progress" in (o.get("status") or {})]
    assert progress == sorted(progress) and progress[-1] == 100
    assert 20 in progress and 80 in progress  # 40 GiB at 8 GiB a step: 20, 40, ... 100
    moving = next(o for o in seen if (o.get("status") or {}).get("progress") == 40)
    assert conditions(moving) == {"InProgress": ("True", "", "Operation in progress"), "Ready": ("False", "", "Not ready")}
    assert moving["status"]["readyToUse"] is False
    done = seen[-1]["status"]
    assert done["backupTarget"] == {"endpoint": NFS}
    assert done["csiDriverVolumeSnapshotClassNames"] == {"driver.longhorn.io": "longhorn"}
    [vb] = done["volumeBackups"]
    assert vb["progress"] == 100 and vb["longhornBackupName"].startswith("backup-")
    assert store_files(twin) == sorted([f"backupstore/volumes/{ROUTER_VOLUME}/backups/{vb['longhornBackupName']}.cfg",
                                        "harvester/vmbackups/default/router-1.cfg"])
    assert obj["metadata"]["name"] == "router-1"


def test_progress_is_weighted_by_volume_size():
    backup = {"metadata": {"uid": "u"}, "status": {"volumeBackups": [
        {"name": "a", "volumeSize": 80 << 30, "progress": 0}, {"name": "b", "volumeSize": 20 << 30, "progress": 0}]}}
    controllers._advance(backup, "now", None)
    assert [vb["progress"] for vb in backup["status"]["volumeBackups"]] == [10, 40]
    assert backup["status"]["progress"] == 16  # (10 * 80 + 40 * 20) / 100


def test_target_unreachable_midway_fails_the_backup_and_blocks_its_removal(twin):
    set_target(twin)
    created(twin, BACKUPS, backup_body("builder-1", "lab-builder"))  # 80 GiB: ten steps
    wait_for(lambda: 0 < (get(twin, f"{BACKUPS}/builder-1").get("status") or {}).get("progress", 0) < 100, "moving")
    environment(twin, unreachable=[NFS])
    failed = wait_for(lambda: (get(twin, f"{BACKUPS}/builder-1").get("status") or {}).get("error") and
                      get(twin, f"{BACKUPS}/builder-1"), "the backup failed")
    status = failed["status"]
    message = "VolumeSnapshot builder-1-volume-lab-builder-rootdisk in error state"
    assert status["error"]["message"] == message and status["readyToUse"] is False
    assert conditions(failed) == {"InProgress": ("False", "Error", message), "Ready": ("False", "", "Not Ready")}
    assert "cannot mount nfs 10.10.10.20:/volume1/harvester-backups" in status["volumeBackups"][0]["error"]["message"]
    assert store_files(twin) == []
    time.sleep(0.5)
    assert get(twin, f"{BACKUPS}/builder-1")["status"]["error"]["message"] == message  # no retry

    r = twin.session().delete(twin.url(f"{BACKUPS}/builder-1"))
    assert r.status_code in (200, 202), r.text
    time.sleep(1.0)  # two retries of Harvester's OnRemove while the target is down
    assert get(twin, f"{BACKUPS}/builder-1")["metadata"]["deletionTimestamp"]
    environment(twin, unreachable=None)
    wait_for(lambda: get(twin, f"{BACKUPS}/builder-1") is None, "the backup gone once the target is back")


def test_deleting_a_backup_removes_its_files_from_the_target(twin):
    set_target(twin)
    created(twin, BACKUPS, backup_body("dns-1", "lab-dns"))
    created(twin, BACKUPS, backup_body("router-1", "lab-router"))
    ready(twin, "dns-1")
    ready(twin, "router-1")
    assert len(store_files(twin)) == 4
    twin.kubectl("delete", "vmbackup", "dns-1")
    wait_for(lambda: get(twin, f"{BACKUPS}/dns-1") is None, "dns-1 gone")
    files = store_files(twin)
    assert "harvester/vmbackups/default/router-1.cfg" in files and len(files) == 2
    assert not any("dns-1" in f for f in files)


# ---------------------------------------------------------------------------------------- restore webhooks
@pytest.fixture
def router_backup(twin):
    """A ready NFS backup of lab-router."""
    set_target(twin)
    created(twin, BACKUPS, backup_body("router-1", "lab-router"))
    return ready(twin, "router-1")


@pytest.mark.parametrize("body, message, field", [
    (restore_body("r", "router-1", "Bad_Name", new_vm=True), "Target VM name is invalid, err: [a lowercase RFC 1123 "
     "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
     "alphanumeric character (e.g. 'example.com', regex used for validation is "
     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')]", "spec.target.name"),
    (restore_body("r", "nope", "x", new_vm=True),
     'can\'t get vmbackup default/nope, err: virtualmachinebackups.harvesterhci.io "nope" not found',
     "spec.virtualMachineBackupName"),
    (restore_body("r", "router-1", "lab-dns", new_vm=True), "VM lab-dns is already exists", "spec.newVM"),
    (restore_body("r", "router-1", "ghost", new_vm=False), "can't replace nonexistent vm ghost", "spec.target.name"),
    (restore_body("r", "router-1", "lab-router", new_vm=False),
     'Please stop the VM "lab-router" before doing a restore', "spec.target.name"),
])
def test_restore_create_refusals(twin, router_backup, body, message, field):
    refused(post(twin, RESTORES, body), 422, VALIDATOR + message, field)


def test_restore_needs_a_ready_backup_on_the_same_target(twin, router_backup):
    created(twin, BACKUPS, backup_body("builder-1", "lab-builder"))
    refused(post(twin, RESTORES, restore_body("r", "builder-1", "copy", new_vm=True)), 422,
            VALIDATOR + "VMBackup default/builder-1 is not ready", "spec.virtualMachineBackupName")
    ready(twin, "builder-1")
    set_target(twin, "nfs://10.10.10.20:/volume1/harvester-images")  # every backup is ready: the setting may change
    refused(post(twin, RESTORES, restore_body("r", "router-1", "copy", new_vm=True)), 422, VALIDATOR + (
        "backup target &{Type:nfs Endpoint:nfs://10.10.10.20:/volume1/harvester-images AccessKeyID: SecretAccessKey: "
        "BucketName: "
        "BucketRegion: Cert: VirtualHostedStyle:false RefreshIntervalInSeconds:0} is not matched in vmBackup "
        "default/router-1"), "spec.virtualMachineBackupName")


def test_snapshot_restore_restrictions(twin):
    created(twin, BACKUPS, backup_body("snap", "lab-builder", "snapshot"))
    ready(twin, "snap")
    other = "/apis/harvesterhci.io/v1beta1/namespaces/kube-system/virtualmachinerestores"
    refused(post(twin, other, restore_body("r", "snap", "copy", new_vm=True)), 422,
            VALIDATOR + "restore to other namespace with backup type snapshot is not supported",
            "spec.virtualMachineBackupName")
    refused(post(twin, RESTORES, restore_body("r", "snap", "lab-builder", new_vm=False, policy="delete")), 422,
            VALIDATOR + "delete policy with backup type snapshot for replacing VM is not supported",
            "spec.virtualMachineBackupName")


# ---------------------------------------------------------------------------------------- restore controller
def test_restore_as_a_new_vm(twin, router_backup):
    obj = created(twin, RESTORES, restore_body("copy-1", "router-1", "router-copy", new_vm=True))
    done = complete(twin, "copy-1")
    status = done["status"]
    assert conditions(done) == {"InProgress": ("False", "", "Operation complete"),
                                "Ready": ("True", "", "Operation complete")}
    assert done["metadata"]["finalizers"] == ["wrangler.cattle.io/harvester-vm-restore-controller"]
    assert status["progress"] == 100 and status["restoreTime"] and "deletedVolumes" not in status
    [r] = status["restores"]
    claim = f"restore-router-1-{obj['metadata']['uid']}-rootdisk"
    assert r["persistentVolumeClaimSpec"]["metadata"] == {"name": claim, "namespace": NS}
    assert r["volumeBackupName"] == "router-1-volume-lab-router-rootdisk" and r["volumeSize"] == 40 << 30
    vm = get(twin, f"{VMS}/router-copy")
    assert status["targetUID"] == vm["metadata"]["uid"]
    assert done["metadata"]["ownerReferences"][0]["name"] == "router-copy"
    annotations = vm["metadata"]["annotations"]
    assert annotations["restore.harvesterhci.io/name"] == "copy-1"
    assert annotations["restore.harvesterhci.io/last-restore-uid"] == f"copy-1-{obj['metadata']['uid']}"
    assert vm["spec"]["runStrategy"] == "RerunOnFailure" and vm["status"]["ready"] is True
    assert vm["spec"]["template"]["metadata"]["labels"] == {"harvesterhci.io/creator": "harvester",
                                                            "harvesterhci.io/vmName": "router-copy"}
    assert vm["spec"]["template"]["spec"]["volumes"] == [{"name": "rootdisk", "persistentVolumeClaim": {"claimName": claim}}]
    pvc = get(twin, f"{PVCS}/{claim}")
    assert pvc["status"]["phase"] == "Bound" and pvc["spec"]["dataSource"]["kind"] == "VolumeSnapshot"
    assert pvc["metadata"]["annotations"]["restore.harvesterhci.io/name"] == "copy-1"
    assert pvc["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachineRestore"
    volume = get(twin, f"{LH_VOLUMES}/{pvc['spec']['volumeName']}")
    assert volume["spec"]["size"] == str(40 << 30) and volume["spec"]["fromBackup"].startswith(f"{NFS}?backup=backup-")
    wait_for(lambda: get(twin, f"{LH_VOLUMES}/{pvc['spec']['volumeName']}")["status"].get("state") == "attached",
             "the restored volume attached to the new VM")
    assert get(twin, f"{VMS}/lab-router")["status"]["ready"] is True  # the source is untouched
    r = twin.session().patch(twin.url(f"{RESTORES}/copy-1"), json={"spec": {"newVM": False}}, headers=MERGE)
    refused(r, 422, VALIDATOR + "VirtualMachineRestore spec is immutable", "spec")
    refused(twin.session().delete(twin.url(f"{RESTORES}/copy-1")), 422,
            VALIDATOR + "The restore can't be removed because the restored VM router-copy exists", "spec.target.name")


def test_restore_replacing_a_stopped_vm_deletes_its_old_volume(twin):
    set_target(twin)
    created(twin, BACKUPS, backup_body("builder-1", "lab-builder"))
    ready(twin, "builder-1")
    obj = created(twin, RESTORES, restore_body("back-1", "builder-1", "lab-builder", new_vm=False, policy="delete"))
    wait_for(lambda: condition(get(twin, f"{RESTORES}/back-1"), "InProgress")["status"] == "True", "in progress")
    refused(twin.session().delete(twin.url(f"{BACKUPS}/builder-1")), 500,
            'admission webhook "validator.harvesterhci.io" denied the request: vmrestore default/back-1 is in progress')
    done = complete(twin, "back-1")
    assert done["status"]["deletedVolumes"] == ["lab-builder-rootdisk"]
    claim = f"restore-builder-1-{obj['metadata']['uid']}-rootdisk"
    vm = get(twin, f"{VMS}/lab-builder")
    assert vm["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim
    assert vm["spec"]["runStrategy"] == "RerunOnFailure" and vm["status"]["ready"] is True  # restored, then started
    assert get(twin, f"{PVCS}/lab-builder-rootdisk") is None
    wait_for(lambda: get(twin, f"{LH_VOLUMES}/{BUILDER_VOLUME}") is None, "the old Longhorn volume deleted")
    refused(post(twin, RESTORES, restore_body("back-2", "builder-1", "lab-builder", new_vm=False)), 422,
            VALIDATOR + 'Please stop the VM "lab-builder" before doing a restore', "spec.target.name")


def test_restore_fails_while_the_target_is_down_then_resumes(twin):
    set_target(twin)
    created(twin, BACKUPS, backup_body("builder-1", "lab-builder"))
    ready(twin, "builder-1")
    created(twin, RESTORES, restore_body("back-1", "builder-1", "lab-builder", new_vm=False))  # 80 GiB: ten steps
    environment(twin, unreachable=[NFS])
    stuck = wait_for(lambda: condition(get(twin, f"{RESTORES}/back-1"), "InProgress").get("reason") == "Error" and
                     get(twin, f"{RESTORES}/back-1"), "the restore error")
    message = condition(stuck, "InProgress")["message"]
    assert message.startswith("volume longhorn-system/pvc-") and " restore failed: cannot mount nfs " in message
    assert (condition(stuck, "Ready")["status"], condition(stuck, "Ready")["reason"]) == ("False", "Error")
    assert stuck["status"]["complete"] is False
    environment(twin, unreachable=None)
    complete(twin, "back-1", timeout=30)  # retried after Harvester's requeue
    assert get(twin, f"{PVCS}/lab-builder-rootdisk") is not None  # retain: the old volume stays


# ---------------------------------------------------------------------------------------- upstream CRDs
def test_upstream_crds_backup_and_restore(upstream_twin):
    twin = upstream_twin
    created(twin, BACKUPS, backup_body("snap", "lab-dns", "snapshot"))
    obj = ready(twin, "snap")
    assert obj["status"]["source"]["spec"]["template"]["spec"]["domain"]["cpu"] == {"cores": 1, "sockets": 1, "threads": 1}
    stop_vm(twin, "lab-dns")
    created(twin, RESTORES, restore_body("back", "snap", "lab-dns", new_vm=False))
    done = complete(twin, "back")
    assert done["status"]["restores"][0]["volumeName"] == "rootdisk"
    assert get(twin, f"{VMS}/lab-dns")["status"]["ready"] is True
