"""Harvester's VM actions on Steve, black-box through requests and kubectl: which actions the VM
formatter offers in which state, and what each action does to the twin's KubeVirt model, with
the action handler's answers (harvester v1.8.2 pkg/api/vm, kubevirt v1.7.0 virt-api)."""
from __future__ import annotations

import json

from .conftest import wait_for

V1 = "/v1/harvester/kubevirt.io.virtualmachines/default"
NS = "default"
VMS = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachines"
VMIS = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachineinstances"
VMIMS = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachineinstancemigrations"
SETTING = "/apis/harvesterhci.io/v1beta1/settings/backup-target"
NFS = "nfs://10.10.10.20:/volume1/harvester-backups"


def kube(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def steve(twin, name):
    r = twin.session().get(twin.url(f"{V1}/{name}"))
    assert r.status_code == 200, r.text
    return r.json()


def act(twin, name, action, body=None, raw=None):
    kwargs = {"data": raw} if raw is not None else {"json": body} if body is not None else {}
    return twin.session().post(twin.url(f"{V1}/{name}"), params={"action": action}, **kwargs)


def done(response, status=204):
    assert response.status_code == status, response.text
    return response


def text(response, status, message):
    assert (response.status_code, response.text) == (status, message)
    assert response.headers["Content-Type"].startswith("text/plain")


def running(twin, name):
    return wait_for(lambda: (kube(twin, f"{VMIS}/{name}") or {}).get("status", {}).get("phase") == "Running"
                    and kube(twin, f"{VMIS}/{name}"), f"{name} running")


def stopped(twin, name):
    wait_for(lambda: kube(twin, f"{VMIS}/{name}") is None and
             kube(twin, f"{VMS}/{name}")["status"].get("printableStatus") == "Stopped", f"{name} stopped")


# ---------------------------------------------------------------------------------------- what is offered
def test_the_actions_follow_the_vm_state(twin):
    live = set(steve(twin, "lab-router")["actions"])
    assert {"stop", "restart", "pause", "softreboot", "migrate", "findMigratableNodes", "createTemplate", "snapshot",
            "addVolume", "removeVolume", "clone", "updateResourceQuota", "deleteResourceQuota"} <= live
    assert not {"start", "unpause", "abortMigration", "restore", "forceStop", "backup"} & live  # no backup target yet
    halted = set(steve(twin, "lab-builder")["actions"])
    assert "start" in halted and not {"stop", "restart", "pause", "migrate"} & halted
    url = steve(twin, "lab-builder")["actions"]["start"]
    assert url == twin.url(f"{V1}/lab-builder?action=start")


# ---------------------------------------------------------------------------------------- power
def test_stop_then_start_restores_the_remembered_strategy(twin):
    done(act(twin, "lab-router", "stop"))
    assert kube(twin, f"{VMS}/lab-router")["spec"]["runStrategy"] == "Halted"
    stopped(twin, "lab-router")
    assert "start" in steve(twin, "lab-router")["actions"]
    done(act(twin, "lab-router", "start"))  # virt-api patches Always; Harvester's mutator restores the strategy
    assert kube(twin, f"{VMS}/lab-router")["spec"]["runStrategy"] == "RerunOnFailure"
    vmi = running(twin, "lab-router")
    assert vmi["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachine"
    owned = twin.session().get(twin.url(f"/v1/harvester/kubevirt.io.virtualmachineinstances/{NS}/lab-router")).json()
    assert owned["metadata"]["relationships"] == [
        {"fromId": "default/lab-router", "fromType": "kubevirt.io.virtualmachine", "rel": "owner"}]
    text(act(twin, "lab-router", "start"), 500, 'start virtual machine default/lab-router failed, Operation cannot be '
                                               'fulfilled on virtualmachine.kubevirt.io "lab-router": VM is already running')


def test_start_needs_the_vms_volumes(twin):
    twin.session().patch(twin.url(f"{VMS}/lab-builder"), headers={"Content-Type": "application/merge-patch+json"},
                         json={"spec": {"template": {"spec": {"volumes": [
                             {"name": "rootdisk", "persistentVolumeClaim": {"claimName": "lost"}}]}}}}).raise_for_status()
    text(act(twin, "lab-builder", "start"), 500,
         'start virtual machine default/lab-builder failed, persistentvolumeclaims "lost" not found')


def test_restart_replaces_the_vmi_through_state_change_requests(twin):
    before = running(twin, "lab-dns")["metadata"]["uid"]
    done(act(twin, "lab-dns", "restart"))
    requests = kube(twin, f"{VMS}/lab-dns")["status"].get("stateChangeRequests")
    assert requests in ([{"action": "Stop", "uid": before}, {"action": "Start"}], [{"action": "Start"}], None)
    wait_for(lambda: (kube(twin, f"{VMIS}/lab-dns") or {}).get("metadata", {}).get("uid") not in (None, before),
             "a new VMI")
    running(twin, "lab-dns")
    wait_for(lambda: not kube(twin, f"{VMS}/lab-dns")["status"].get("stateChangeRequests"), "the requests done")
    text(act(twin, "lab-builder", "restart"), 500, 'restart virtual machine default/lab-builder failed, Operation cannot '
         'be fulfilled on virtualmachine.kubevirt.io "lab-builder": RunStategy Halted does not support manual restart '
         'requests')


def test_pause_unpause_and_soft_reboot(twin):
    done(act(twin, "lab-dns", "pause"))
    vmi = kube(twin, f"{VMIS}/lab-dns")
    paused = next(c for c in vmi["status"]["conditions"] if c["type"] == "Paused")
    assert (paused["status"], paused["reason"]) == ("True", "PausedByUser")
    wait_for(lambda: kube(twin, f"{VMS}/lab-dns")["status"]["printableStatus"] == "Paused", "the VM shown Paused")
    actions = set(steve(twin, "lab-dns")["actions"])
    assert "unpause" in actions and not {"pause", "softreboot"} & actions
    text(act(twin, "lab-dns", "pause"), 500, 'pause virtual machine default/lab-dns failed, Operation cannot be fulfilled '
                                             'on virtualmachineinstance.kubevirt.io "lab-dns": VMI is already paused')
    text(act(twin, "lab-dns", "softreboot"), 500, 'softreboot virtual machine default/lab-dns failed, Operation cannot '
                                                  'be fulfilled on virtualmachineinstance.kubevirt.io "lab-dns": VMI is paused')
    done(act(twin, "lab-dns", "unpause"))
    wait_for(lambda: kube(twin, f"{VMS}/lab-dns")["status"]["printableStatus"] == "Running", "Running again")
    done(act(twin, "lab-dns", "softreboot"))
    text(act(twin, "lab-builder", "pause"), 500, 'pause virtual machine default/lab-builder failed, '
                                                 'virtualmachineinstance.kubevirt.io "lab-builder" not found')


def test_force_stop_is_offered_while_stopping(twin):
    twin.session().patch(twin.url(f"{VMS}/lab-dns/status"), headers={"Content-Type": "application/merge-patch+json"},
                         json={"status": {"printableStatus": "Stopping"}}).raise_for_status()
    assert "forceStop" in steve(twin, "lab-dns")["actions"]
    done(act(twin, "lab-dns", "forceStop"))  # RerunOnFailure: a Stop request for the VMI
    wait_for(lambda: kube(twin, f"{VMIS}/lab-dns") is None or
             kube(twin, f"{VMIS}/lab-dns")["metadata"].get("deletionTimestamp") or
             kube(twin, f"{VMIS}/lab-dns")["spec"].get("terminationGracePeriodSeconds") == 0, "the VMI stopping")


# ---------------------------------------------------------------------------------------- migration
def test_migrate_to_a_node_moves_the_vmi_and_clears_harvesters_marks(twin):
    nodes = done(act(twin, "lab-router", "findMigratableNodes"), 200).json()
    assert nodes == {"nodes": ["ms02-2", "ms02-3"]}
    text(act(twin, "lab-router", "migrate", {"nodeName": "ms02-1"}), 500, "The target node is non-migratable")
    text(act(twin, "lab-router", "migrate", raw=""), 422, "InvalidBodyContent 422: Failed to decode request body: %v EOF")
    done(act(twin, "lab-router", "migrate", {"nodeName": "ms02-2"}))
    vmim = twin.session().get(twin.url(VMIMS)).json()["items"][0]
    assert vmim["metadata"]["generateName"] == "lab-router-" and vmim["spec"] == {
        "vmiName": "lab-router", "addedNodeSelector": {"kubernetes.io/hostname": "ms02-2"}}
    wait_for(lambda: kube(twin, f"{VMIMS}/{vmim['metadata']['name']}")["status"].get("phase") == "Succeeded",
             "the migration to succeed")
    vmi = wait_for(lambda: (lambda v: v if not (v["metadata"].get("annotations") or {}) else None)(
        kube(twin, f"{VMIS}/lab-router")), "Harvester's migration marks gone")
    assert vmi["status"]["nodeName"] == "ms02-2" and vmi["status"]["migrationState"]["completed"] is True
    assert vmi["status"]["migrationState"]["migrationUid"] == vmim["metadata"]["uid"]


def test_abort_migration_deletes_the_pending_migration(twin):
    text(act(twin, "lab-router", "abortMigration"), 500, "The VM is not in migrating state")
    for node in ("ms02-2", "ms02-3"):
        twin.kubectl("cordon", node)  # nowhere to go: the migration waits
    done(act(twin, "lab-router", "migrate", {}))
    wait_for(lambda: (kube(twin, f"{VMIS}/lab-router")["metadata"].get("annotations") or {})
             .get("harvesterhci.io/migrationState") == "Pending migration", "Pending migration")
    assert "abortMigration" in steve(twin, "lab-router")["actions"]
    done(act(twin, "lab-router", "abortMigration"))
    assert twin.session().get(twin.url(VMIMS)).json()["items"] == []
    vmi = wait_for(lambda: (lambda v: v if not (v["metadata"].get("annotations") or {}) else None)(
        kube(twin, f"{VMIS}/lab-router")), "the marks gone")
    assert vmi["status"]["nodeName"] == "ms02-1"
    assert vmi["status"]["migrationState"]["abortStatus"] == "Succeeded"


# ---------------------------------------------------------------------------------------- backups
def set_target(twin):
    setting = kube(twin, SETTING)
    setting["value"] = json.dumps({"type": "nfs", "endpoint": NFS})
    twin.session().put(twin.url(SETTING), json=setting).raise_for_status()
    wait_for(lambda: any(c["type"] == "configured" and c["status"] == "True"
                         for c in kube(twin, SETTING).get("status", {}).get("conditions", [])), "the target configured")


def test_backup_and_restore_actions(twin):
    text(act(twin, "lab-builder", "backup", {"name": "b1"}), 500, "backup target is invalid")
    set_target(twin)
    assert "backup" in steve(twin, "lab-builder")["actions"]
    text(act(twin, "lab-builder", "backup", {}), 422, "InvalidBodyContent 422: Parameter backup name is required")
    text(act(twin, "lab-builder", "backup", {"name": 5}), 422, "InvalidBodyContent 422: Failed to decode request body: "
         "%v json: cannot unmarshal number into Go struct field BackupInput.name of type string")
    done(act(twin, "lab-builder", "backup", {"name": "b1"}))
    backup = kube(twin, f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinebackups/b1")
    assert backup["spec"] == {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "lab-builder"},
                              "type": "backup"}
    wait_for(lambda: kube(twin, f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinebackups/b1")
             .get("status", {}).get("readyToUse"), "the backup ready", timeout=20)
    assert "restore" in steve(twin, "lab-builder")["actions"]
    text(act(twin, "lab-builder", "restore", {"name": "r1"}), 422,
         "InvalidBodyContent 422: Parameter name and backupName are required")
    text(act(twin, "lab-builder", "restore", {"name": "r1", "backupName": "nope"}), 404,
         'virtualmachinebackups.harvesterhci.io "nope" not found')
    done(act(twin, "lab-builder", "restore", {"name": "r1", "backupName": "b1"}))
    restore = kube(twin, f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinerestores/r1")
    assert restore["spec"]["target"]["name"] == "lab-builder" and restore["spec"]["newVM"] is False


# ---------------------------------------------------------------------------------------- the rest
def test_volumes_cd_roms_and_undeclared_or_unmodelled_actions(twin):
    text(act(twin, "lab-builder", "ejectCdRomVolume", {"deviceName": "cd"}), 422,
         "InvalidBodyContent 422: can not find the SATA CD-ROM device cd from the VM default/lab-builder")
    text(act(twin, "lab-builder", "addVolume", {"diskName": "data"}), 422,
         "InvalidBodyContent 422: Parameter `diskName` and `volumeName` are required")
    text(act(twin, "lab-builder", "addVolume", {"diskName": "data", "volumeSourceName": "lab-dns-rootdisk"}), 500,
         "the volume is non-shareable and already used by other VMs")
    text(act(twin, "lab-builder", "removeVolume", {"diskName": "data"}), 500,
         "disk `data` not found in virtual machine `default/lab-builder`")
    done(act(twin, "lab-builder", "removeVolume", {"diskName": "rootdisk"}))
    spec = kube(twin, f"{VMS}/lab-builder")["spec"]["template"]["spec"]
    assert spec.get("volumes", []) == [] and spec["domain"]["devices"].get("disks", []) == []
    assert done(act(twin, "lab-router", "findHotunpluggableNics"), 200).json() == {"interfaces": []}
    bad = act(twin, "lab-builder", "explode")
    assert bad.status_code == 422 and bad.json()["message"] == "Invalid action: explode"
    assert act(twin, "nope", "start").status_code == 404
    assert act(twin, "lab-builder", "clone", {"targetVm": "copy"}).status_code == 501


def test_insert_and_eject_a_cd_rom(twin):
    s = twin.session()
    image = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
             "metadata": {"name": "tools", "namespace": NS}, "spec": {"displayName": "tools", "sourceType": "upload"}}
    s.post(twin.url(f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachineimages"), json=image).raise_for_status()
    s.patch(twin.url(f"{VMS}/lab-builder"), headers={"Content-Type": "application/merge-patch+json"},
            json={"metadata": {"annotations": {"harvesterhci.io/volumeClaimTemplates": "[]"}},
                  "spec": {"template": {"spec": {"domain": {"devices": {"disks": [
                      {"name": "rootdisk", "disk": {"bus": "virtio"}},
                      {"name": "cd", "cdrom": {"bus": "sata"}}]}}}}}}).raise_for_status()
    assert "insertCdRomVolume" in steve(twin, "lab-builder")["actions"]
    done(act(twin, "lab-builder", "insertCdRomVolume", {"DeviceName": "cd", "imageName": "default/tools"}))
    vm = kube(twin, f"{VMS}/lab-builder")
    volume = next(v for v in vm["spec"]["template"]["spec"]["volumes"] if v["name"] == "cd")
    claim = volume["persistentVolumeClaim"]
    assert claim["hotpluggable"] is True and claim["claimName"].startswith("lab-builder-cd-")
    templates = json.loads(vm["metadata"]["annotations"]["harvesterhci.io/volumeClaimTemplates"])
    assert [t["metadata"]["name"] for t in templates] == [claim["claimName"]]
    assert templates[0]["metadata"]["annotations"] == {"harvesterhci.io/imageId": "default/tools"}
    assert "ejectCdRomVolume" in steve(twin, "lab-builder")["actions"]
    done(act(twin, "lab-builder", "ejectCdRomVolume", {"deviceName": "cd"}))
    vm = kube(twin, f"{VMS}/lab-builder")
    assert [v["name"] for v in vm["spec"]["template"]["spec"]["volumes"]] == ["rootdisk"]
    assert vm["metadata"]["annotations"]["harvesterhci.io/volumeClaimTemplates"] == ""
