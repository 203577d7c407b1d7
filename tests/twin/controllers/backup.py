"""Controllers of the backup area: Harvester's VM backup and restore controllers, with the part of
the CSI snapshotter, the Longhorn CSI provisioner and longhorn-manager they drive (harvester
pkg/controller/master/backup backup.go, backup_status.go, restore.go, util.go).

VirtualMachineBackup (finalizer `wrangler.cattle.io/harvester-vm-backup-controller`):

1. status, once (initBackup): readyToUse false, sourceUID, `source` (the VM's name, namespace,
   labels, annotations and spec), one `volumeBackups` entry per PVC volume of the VM (name
   `<backup>-volume-<pvc>`, the VM's volume name, the CSI driver, the PVC's metadata and spec,
   readyToUse false, volumeSize = the bound Longhorn volume's size), the VolumeSnapshotClass per
   CSI driver from the csi-driver-config setting, and for type backup `backupTarget` (endpoint,
   bucket name and region of the backup-target setting). A missing VM or PVC, or an unbound PVC,
   is an error instead (setStatusError);
2. InProgress=True "Operation in progress", Ready=False "Not ready"; a `backup` then moves each
   volume to the backup target at BACKUP_RATE bytes per STEP, writing each volumeBackups[].progress
   and status.progress weighted by volume size (as v1.8's updateConditions; later releases weigh
   by the running sum, which can pass 100); a `snapshot` (in-cluster, Longhorn snapshots) is ready
   after SNAPSHOT_TIME and reports no progress;
3. done: every volumeBackups[] readyToUse with creationTime (and longhornBackupName for a backup),
   status.readyToUse true, creationTime, InProgress=False and Ready=True "Operation complete"; for
   a backup the files land on the target (below);
4. error (setStatusError, and updateConditions for a failed volume): status.error {time, message},
   InProgress=False reason Error with the message, Ready=False "Not Ready". A backup target that is
   in the environment's `unreachable` list while volumes are moving fails them: the volume's
   `error.message` is the backup store's mount error, the backup's "VolumeSnapshot <name> in error
   state". The twin does not retry a failed backup (Harvester's stays failed too).

Deleting a backup (OnRemove, then the VolumeSnapshots' garbage collection, whose contents'
Delete policy makes Longhorn remove the volume backups): its files are removed from the target;
while the target is unreachable the finalizer stays and the removal is retried every RETRY.

The backup target's content is the world outside the API, so it lives in the environment:
`GET /_twin/environment` shows `{"backupstore": {<target URL>: [<path>, ...]}}` with Harvester's
metadata file `harvester/vmbackups/<namespace>/<name>.cfg` and one Longhorn volume backup
`backupstore/volumes/<volume>/backups/<longhorn backup>.cfg` per volume.

VirtualMachineRestore (finalizer `wrangler.cattle.io/harvester-vm-restore-controller`):

1. complete false, InProgress=True and Ready=False "Initializing VirtualMachineRestore";
2. `restores`: per volume backup the new PVC `restore-<backup>-<restore UID>-<volume>` with the
   backed-up PVC spec; `deletedVolumes` (the old PVCs) when replacing without the retain policy;
3. the PVCs are created (dataSource: the VolumeSnapshot of the volume backup, owner: the
   restore), and the VM: a new one from the backup's `source` (run strategy from the source or
   RerunOnFailure, annotations `restore.harvesterhci.io/last-restore-uid` and
   `restore.harvesterhci.io/name`, template labels creator and vmName, MAC addresses dropped
   unless keepMacAddress), or the existing one rewritten with the source spec, runStrategy Halted
   and the new claims; the restore gets the VM as owner and status.targetUID.
   InProgress=True "Creating new PVCs", Ready=False "Waiting for new PVCs" meanwhile;
4. the provisioner stand-in: each PVC gets a Longhorn Volume `pvc-<PVC UID>` like the backed-up
   one (restored from the backup target at RESTORE_RATE per STEP for a backup, `status.restores[]`
   progress and volumeSize, the whole weighted and held at 90 until the VM runs; at once for a
   snapshot), replicas like the source volume's, then the PVC Bound to it. An unreachable target
   fails the restore: "volume longhorn-system/<volume> restore failed: <mount error>";
5. the VM is started (a Halted one gets the strategy Harvester remembered, else RerunOnFailure, as
   KubeVirt's start with Harvester's mutator gives), both conditions False "Waiting for target vm
   to be ready" until it is ready;
6. with the delete policy the old PVCs (and, as their StorageClass's reclaimPolicy Delete does,
   their Longhorn volumes) are deleted; then restoreTime, complete true, InProgress=False and
   Ready=True "Operation complete".

An error (the backup missing or not ready) sets both conditions False with reason Error and the
message, and is retried every RETRY. Not modelled: secrets (secretBackups), VolumeSnapshot and
VolumeSnapshotContent objects (the twin serves no CSI snapshot kinds), Longhorn Backup and
BackupVolume objects, filesystem freeze, ScheduleVMBackup, backups synced from a target.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid

from .. import backup_stores
from ..admission import settings as target_rules
from ..admission.backup import backup_type, current_target, is_ready
from ..registry import Kind
from ..store import clone
from . import Controller

GROUP = "harvesterhci.io"
LONGHORN = "longhorn-system"
GIB = 1 << 30
STEP = 1.0  # clock seconds between two progress writes
BACKUP_RATE = 8 * GIB  # bytes a volume backup moves to the target per STEP
RESTORE_RATE = 8 * GIB  # bytes a volume restore reads back per STEP
SNAPSHOT_TIME = 3.0  # an in-cluster snapshot (the CSI VolumeSnapshot, and a volume from it) is ready after this
RETRY = 5.0  # Harvester's requeue after an error
HOLD_BEFORE_START = 90  # restoreProgressBeforeVMStart
STORE_KEY = "backupstore"
METADATA_DIR = "harvester/vmbackups"
RESTORE_NAME = "restore.harvesterhci.io/name"
LAST_RESTORE = "restore.harvesterhci.io/last-restore-uid"
RUN_STRATEGY_MEMORY = "harvesterhci.io/vmRunStrategy"
DEFAULT_CSI = {"driver.longhorn.io": {"volumeSnapshotClassName": "longhorn-snapshot",
                                      "backupVolumeSnapshotClassName": "longhorn"}}
QUANTITY = re.compile(r"^([0-9.]+)([KMGTPE]i?|k)?$")
UNITS = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
         **{f"{u}i": 1 << (10 * (i + 1)) for i, u in enumerate("KMGTPE")}}


class _Failed(Exception):
    """A step failed with the message Harvester records."""


class _Gone(Exception):
    """The object a run works on was deleted (or is being deleted): the run ends."""


class _StoreDown(Exception):
    """The backup target cannot be reached: a removal waits."""


def quantity(text) -> int:
    found = QUANTITY.match(str(text or "0"))
    return int(float(found.group(1)) * UNITS[found.group(2) or ""]) if found else 0


def harvester_condition(obj: dict, type_: str, status: str, reason: str, message: str, now: str) -> None:
    """updateCondition: the condition is replaced when its status, reason or message changes
    (newProgressingCondition / newReadyCondition set only these and lastTransitionTime)."""
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    new = {"type": type_, "status": status, "message": message, "lastTransitionTime": now}
    if reason:
        new["reason"] = reason
    for i, c in enumerate(conditions):
        if c.get("type") == type_:
            if (c.get("status"), c.get("reason", ""), c.get("message", "")) != (status, reason, message):
                conditions[i] = new
            return
    conditions.append(new)


def set_phase(obj: dict, phase: str, now: str, message: str = "") -> None:
    """The condition pairs of Harvester's backup and restore controllers."""
    pairs = {
        "progress": (("True", "", message or "Operation in progress"), ("False", "", "Not ready")),
        "complete": (("False", "", "Operation complete"), ("True", "", "Operation complete")),
        "error": (("False", "Error", message), ("False", "", "Not Ready")),
        "restore-error": (("False", "Error", message), ("False", "Error", message)),
        "restore-wait": (("True", "", message), ("False", "", message)),
        "restore-vm": (("False", "", message), ("False", "", message)),
    }
    (p_status, p_reason, p_message), (r_status, r_reason, r_message) = pairs[phase]
    if phase == "restore-wait":
        r_message = {"Creating new PVCs": "Waiting for new PVCs"}.get(message, message)
    harvester_condition(obj, "InProgress", p_status, p_reason, p_message, now)
    harvester_condition(obj, "Ready", r_status, r_reason, r_message, now)


def weighted(parts: list[tuple[int, int]]) -> int | None:
    """Progress of (progress, size) parts weighted by size; None without any size."""
    total = sum(size for dummy, size in parts)
    return sum(p * size for p, size in parts) // total if total else None


# ---------------------------------------------------------------------------------------- the backup store
def store_url(target: dict) -> str:
    return target_rules.backup_endpoint(target)


def reachable(store, target: dict) -> bool:
    return backup_stores.reachable(store, store_url(target)) and \
        not target_rules.unreachable(store, target["endpoint"])


def put_files(store, url: str, add=(), remove=()) -> None:
    content = dict(store.environment.get(STORE_KEY) or {})
    files = (set(content.get(url) or []) | set(add)) - set(remove)
    if files:
        content[url] = sorted(files)
    else:
        content.pop(url, None)
    store.environment[STORE_KEY] = content


def backup_files(backup: dict) -> list[str]:
    meta = backup["metadata"]
    files = [f"{METADATA_DIR}/{meta['namespace']}/{meta['name']}.cfg"]
    for vb in (backup.get("status") or {}).get("volumeBackups") or []:
        volume = ((vb.get("persistentVolumeClaim") or {}).get("spec") or {}).get("volumeName", "")
        if vb.get("longhornBackupName"):
            files.append(f"backupstore/volumes/{volume}/backups/{vb['longhornBackupName']}.cfg")
    return files


class BackupArea(Controller):
    """What the backup and restore controllers share: one run (task) per object, writes that end
    the run when the object went away, reads of the kinds they look at."""

    def __init__(self, twin):
        super().__init__(twin)
        self._runs: dict[str, asyncio.Task] = {}  # object UID -> its run

    def start_run(self, kind: Kind, obj: dict) -> None:
        uid = obj["metadata"]["uid"]
        task = self._runs.get(uid)
        if task is None or task.done():
            self._runs[uid] = self.spawn(self._guarded(kind, obj["metadata"]["namespace"], obj["metadata"]["name"], uid))

    async def _guarded(self, kind: Kind, ns: str, name: str, uid: str) -> None:
        try:
            await self.run(kind, ns, name, uid)
        except _Gone:
            return

    async def run(self, kind: Kind, ns: str, name: str, uid: str) -> None:
        """The whole reconcile of one object, until it is done."""

    def write(self, kind: Kind, ns: str, name: str, uid: str, change) -> dict:
        """mutate with change(obj, now); raises _Gone when the object is gone or being deleted."""
        now = self.clock.now()
        result = self.mutate(kind, ns, name, lambda o: change(o, now) if o["metadata"]["uid"] == uid else None)
        if result is None or result["metadata"]["uid"] != uid or result["metadata"].get("deletionTimestamp"):
            raise _Gone
        return result

    def k(self, group: str, plural: str) -> Kind:
        return self.kind(group, plural)

    def setting(self, name: str) -> dict:
        return self.get(self.k(GROUP, "settings"), "", name) or {}

    def lh_volume(self, name: str) -> dict | None:
        return self.get(self.k("longhorn.io", "volumes"), LONGHORN, name) if name else None

    def live(self, kind: Kind, ns: str, name: str, uid: str) -> dict | None:
        """The object if it is still the one a task works on and not being deleted."""
        obj = self.get(kind, ns, name)
        if obj is None or obj["metadata"]["uid"] != uid or obj["metadata"].get("deletionTimestamp"):
            return None
        return obj


# ---------------------------------------------------------------------------------------- VirtualMachineBackup
class VMBackupController(BackupArea):
    name = "harvester-vm-backup-controller"
    watches = ((GROUP, "virtualmachinebackups"),)
    finalizer = "wrangler.cattle.io/harvester-vm-backup-controller"

    async def dispatch(self, kind: Kind, type_: str, obj: dict) -> None:
        try:
            await super().dispatch(kind, type_, obj)
        except _StoreDown:
            self.spawn(self._retry_removal(kind, obj))

    async def _retry_removal(self, kind: Kind, obj: dict) -> None:
        await self.clock.sleep(RETRY)
        live = self.get(kind, obj["metadata"]["namespace"], obj["metadata"]["name"])
        if live is not None and live["metadata"]["uid"] == obj["metadata"]["uid"]:
            await self.dispatch(kind, "MODIFIED", live)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        status = obj.get("status") or {}
        if not status.get("readyToUse") and not status.get("error"):
            self.start_run(kind, obj)

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        recorded = (obj.get("status") or {}).get("backupTarget")
        target = current_target(self.store)
        if recorded is None or target is None:
            return
        url = store_url(target)
        if (recorded.get("endpoint") or "") != target["endpoint"]:
            return  # another target now: Harvester only forgets the volume snapshots
        if not reachable(self.store, target):
            raise _StoreDown(url)
        put_files(self.store, url, remove=backup_files(obj))

    async def run(self, kind: Kind, ns: str, name: str, uid: str) -> None:
        backup = self.live(kind, ns, name, uid)
        status = (backup or {}).get("status") or {}
        if backup is None or status.get("readyToUse") or status.get("error"):
            return  # the event that started this run was older than the last run's end
        try:
            if (backup.get("status") or {}).get("source") is None:
                self.write(kind, ns, name, uid, self._init(backup))
            self.write(kind, ns, name, uid, lambda o, now: set_phase(o, "progress", now))
            if backup_type(backup) == "snapshot":
                await self.clock.sleep(SNAPSHOT_TIME)
                self.write(kind, ns, name, uid, self._all_ready)
            else:
                await self._move(kind, ns, name, uid)
        except _Failed as e:
            self.write(kind, ns, name, uid, lambda o, now, m=str(e): _set_error(o, m, now))

    # -- initBackup
    def _init(self, backup: dict):
        ns = backup["metadata"]["namespace"]
        vm_name = backup["spec"]["source"]["name"]
        vm = self.get(self.k("kubevirt.io", "virtualmachines"), ns, vm_name)
        if vm is None:
            raise _Failed(f'virtualmachines.kubevirt.io "{vm_name}" not found')
        if vm["metadata"].get("deletionTimestamp"):
            raise _Failed(f"vm {ns}/{vm_name} is being deleted")
        volume_backups = [self._volume_backup(backup, vm, volume) for volume in
                          ((vm["spec"].get("template") or {}).get("spec") or {}).get("volumes") or []
                          if (volume.get("persistentVolumeClaim") or {}).get("claimName")]
        classes = self._snapshot_classes(backup, volume_backups)
        target = current_target(self.store) if backup_type(backup) == "backup" else None
        meta = vm["metadata"]

        def init(o, now):
            status = o.setdefault("status", {})
            status.update(readyToUse=False, sourceUID=meta["uid"], volumeBackups=volume_backups, secretBackups=[],
                          csiDriverVolumeSnapshotClassNames=classes,
                          source={"metadata": {k: meta[k] for k in ("name", "namespace", "labels", "annotations")
                                               if meta.get(k)}, "spec": clone(vm["spec"])})
            if target is not None:
                status["backupTarget"] = {k: target[k] for k in ("endpoint", "bucketName", "bucketRegion") if target[k]}
        return init

    def _volume_backup(self, backup: dict, vm: dict, volume: dict) -> dict:
        ns, claim = vm["metadata"]["namespace"], volume["persistentVolumeClaim"]["claimName"]
        pvc = self.get(self.k("", "persistentvolumeclaims"), ns, claim)
        if pvc is None:
            raise _Failed(f'persistentvolumeclaims "{claim}" not found')
        spec = pvc.get("spec") or {}
        if not spec.get("volumeName"):
            raise _Failed(f"unbound PVC {ns}/{claim}")
        if not spec.get("storageClassName"):
            raise _Failed(f"no storage class for PVC {ns}/{claim}")
        sc = self.get(self.k("storage.k8s.io", "storageclasses"), "", spec["storageClassName"]) or {}
        lh = self.lh_volume(spec["volumeName"])
        size = int((lh or {}).get("spec", {}).get("size") or 0) or \
            quantity(((pvc.get("status") or {}).get("capacity") or {}).get("storage"))
        pvc_meta = {k: pvc["metadata"][k] for k in ("name", "namespace", "labels", "annotations") if pvc["metadata"].get(k)}
        return {"name": f"{backup['metadata']['name']}-volume-{claim}", "volumeName": volume["name"],
                "csiDriverName": sc.get("provisioner") or "driver.longhorn.io",
                "persistentVolumeClaim": {"metadata": pvc_meta, "spec": clone(spec)},
                "readyToUse": False, "volumeSize": size}

    def _snapshot_classes(self, backup: dict, volume_backups: list[dict]) -> dict:
        setting = self.setting("csi-driver-config")
        config = dict(DEFAULT_CSI)
        for raw in (setting.get("default"), setting.get("value")):
            try:
                config.update(json.loads(raw or "{}"))
            except ValueError:
                pass
        key = "backupVolumeSnapshotClassName" if backup_type(backup) == "backup" else "volumeSnapshotClassName"
        out = {}
        for vb in volume_backups:
            driver = vb["csiDriverName"]
            if driver not in config:
                raise _Failed(f"can't find CSI driver {driver} in setting CSIDriverInfo")
            out[driver] = config[driver].get(key, "")
        return out

    # -- the volumes move to the target
    async def _move(self, kind: Kind, ns: str, name: str, uid: str) -> None:
        while True:
            await self.clock.sleep(STEP)
            backup = self.live(kind, ns, name, uid)
            if backup is None:
                return
            target = current_target(self.store)
            failure = None
            if target is None:
                failure = "backup target is not set"
            elif not reachable(self.store, target):
                failure = target_rules.backup_store_error(target)
            backup = self.write(kind, ns, name, uid, lambda o, now, f=failure: _advance(o, now, f))
            status = backup.get("status") or {}
            if status.get("error"):
                return
            if all(vb.get("readyToUse") for vb in status.get("volumeBackups") or []):
                self.write(kind, ns, name, uid, self._all_ready)
                put_files(self.store, store_url(target), add=backup_files(self.get(kind, ns, name)))
                return

    def _all_ready(self, o: dict, now: str) -> None:
        status = o.setdefault("status", {})
        for vb in status.get("volumeBackups") or []:
            vb.update(readyToUse=True, creationTime=vb.get("creationTime") or now)
            vb.pop("error", None)
        status.update(readyToUse=True, creationTime=now)
        status.pop("error", None)
        set_phase(o, "complete", now)


def _advance(o: dict, now: str, down: str | None) -> None:
    """One STEP of every unfinished volume backup; a target that is down fails them."""
    status = o.setdefault("status", {})
    volume_backups = status.get("volumeBackups") or []
    for vb in volume_backups:
        if vb.get("readyToUse"):
            continue
        if down:
            vb["error"] = {"time": now, "message": down}
            _set_error(o, f"VolumeSnapshot {vb['name']} in error state", now)
            return
        size = int(vb.get("volumeSize") or 0)
        done = min(size, size * int(vb.get("progress") or 0) // 100 + BACKUP_RATE) if size else 0
        vb["progress"] = 100 if not size or done >= size else done * 100 // size
        if vb["progress"] == 100:
            vb.update(readyToUse=True, creationTime=now,
                      longhornBackupName="backup-" + hashlib.sha256(f"{o['metadata']['uid']}/{vb['name']}".encode())
                      .hexdigest()[:16])
    progress = weighted([(int(vb.get("progress") or 0), int(vb.get("volumeSize") or 0)) for vb in volume_backups])
    if progress is not None:
        status["progress"] = progress


def _set_error(o: dict, message: str, now: str) -> None:
    status = o.setdefault("status", {})
    status["error"] = {"time": now, "message": message}
    set_phase(o, "error", now, message)


# ---------------------------------------------------------------------------------------- VirtualMachineRestore
class VMRestoreController(BackupArea):
    name = "harvester-vm-restore-controller"
    watches = ((GROUP, "virtualmachinerestores"),)
    finalizer = "wrangler.cattle.io/harvester-vm-restore-controller"

    async def on_change(self, kind: Kind, obj: dict) -> None:
        if not (obj.get("status") or {}).get("complete"):
            self.start_run(kind, obj)

    async def run(self, kind: Kind, ns: str, name: str, uid: str) -> None:
        status = self._current(kind, ns, name, uid).get("status")
        if (status or {}).get("complete"):
            return
        if status is None:
            self.write(kind, ns, name, uid, lambda o, now: (
                o.setdefault("status", {}).update(complete=False),
                set_phase(o, "restore-wait", now, "Initializing VirtualMachineRestore")))
        while True:
            try:
                await self._restore(kind, ns, name, uid)
                return
            except _Failed as e:
                self.write(kind, ns, name, uid, lambda o, now, m=str(e): set_phase(o, "restore-error", now, m))
                await self.clock.sleep(RETRY)

    def _backup(self, restore: dict) -> dict:
        spec = restore["spec"]
        backup = self.get(self.k(GROUP, "virtualmachinebackups"), spec["virtualMachineBackupNamespace"],
                          spec["virtualMachineBackupName"])
        if backup is None:
            raise _Failed(f'virtualmachinebackups.harvesterhci.io "{spec["virtualMachineBackupName"]}" not found')
        if not is_ready(backup):
            raise _Failed(f"VMBackup {backup['metadata']['name']} is not ready")
        if not (backup.get("status") or {}).get("source"):
            raise _Failed(f"empty vm backup source spec of {backup['metadata']['name']}")
        return backup

    def _current(self, kind: Kind, ns: str, name: str, uid: str) -> dict:
        restore = self.live(kind, ns, name, uid)
        if restore is None:
            raise _Gone
        return restore

    async def _restore(self, kind: Kind, ns: str, name: str, uid: str) -> None:
        restore = self._current(kind, ns, name, uid)
        backup = self._backup(restore)
        if not (restore.get("status") or {}).get("restores"):
            restore = self.write(kind, ns, name, uid, lambda o, now: _volume_restores(o, backup))
        vm = self._reconcile_vm(restore, backup)
        self._create_pvcs(restore, backup)
        self.write(kind, ns, name, uid, lambda o, now: (
            o["metadata"].__setitem__("ownerReferences", [_owner(vm, "kubevirt.io/v1", "VirtualMachine")]),
            o["status"].setdefault("targetUID", vm["metadata"]["uid"]),
            set_phase(o, "restore-wait", now, "Creating new PVCs")))
        await self._provision(kind, ns, name, uid, backup)
        await self._start_vm(kind, ns, name, uid)
        restore = self._current(kind, ns, name, uid)
        spec = restore["spec"]
        if not spec.get("newVM") and spec.get("deletionPolicy") != "retain":
            for claim in restore["status"].get("deletedVolumes") or []:
                self._delete_pvc(ns, claim)

        def complete(o, now):
            if backup_type(backup) == "backup":
                for r in o["status"].get("restores") or []:
                    r["progress"] = 100
                o["status"]["progress"] = 100
            o["status"].update(restoreTime=now, complete=True)
            set_phase(o, "complete", now)
        self.write(kind, ns, name, uid, complete)

    # -- the VM
    def _reconcile_vm(self, restore: dict, backup: dict) -> dict:
        vm_kind = self.k("kubevirt.io", "virtualmachines")
        ns, target = restore["metadata"]["namespace"], restore["spec"]["target"]["name"]
        restore_id = f"{restore['metadata']['name']}-{restore['metadata']['uid']}"
        source = backup["status"]["source"]
        claims = {r["volumeName"]: r["persistentVolumeClaimSpec"]["metadata"]["name"] for r in restore["status"]["restores"]}
        vm = self.get(vm_kind, ns, target)
        if vm is None:
            spec = clone(source["spec"])
            template = spec.get("template") or {}
            tmeta = template.get("metadata") or {}
            tspec = template.get("spec") or {}
            _use_claims(tspec, claims)
            if not restore["spec"].get("keepMacAddress"):
                for iface in ((tspec.get("domain") or {}).get("devices") or {}).get("interfaces") or []:
                    iface.pop("macAddress", None)
            new_meta = {"labels": {"harvesterhci.io/creator": "harvester", "harvesterhci.io/vmName": target}}
            if tmeta.get("annotations"):
                new_meta["annotations"] = tmeta["annotations"]
            body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                    "metadata": {"name": target, "namespace": ns,
                                 "annotations": {LAST_RESTORE: restore_id, RESTORE_NAME: restore["metadata"]["name"]}},
                    "spec": {"runStrategy": spec.get("runStrategy") or "RerunOnFailure",
                             "template": {"metadata": new_meta, "spec": tspec}}}
            vm = self.create(vm_kind, body)
            if vm is None:
                raise _Failed(f"failed to create the vm {ns}/{target}")
            return vm
        if (vm["metadata"].get("annotations") or {}).get(LAST_RESTORE) == restore_id:
            return vm

        def rewrite(o):
            o["spec"] = clone(source["spec"])
            o["spec"].pop("running", None)
            o["spec"]["runStrategy"] = "Halted"
            _use_claims((o["spec"].get("template") or {}).get("spec") or {}, claims)
            annotations = o["metadata"].setdefault("annotations", {})
            annotations.update({LAST_RESTORE: restore_id, RESTORE_NAME: restore["metadata"]["name"]})
            annotations.pop("harvesterhci.io/volumeClaimTemplates", None)
        vm = self.mutate(vm_kind, ns, target, rewrite)
        if vm is None:
            raise _Failed(f"failed to update the vm {ns}/{target}")
        return vm

    async def _start_vm(self, kind: Kind, ns: str, name: str, uid: str) -> None:
        vm_kind = self.k("kubevirt.io", "virtualmachines")
        target = self._current(kind, ns, name, uid)["spec"]["target"]["name"]

        def start(o):
            if o["spec"].get("runStrategy") == "Halted":
                memory = (o["metadata"].get("annotations") or {}).get(RUN_STRATEGY_MEMORY)
                o["spec"]["runStrategy"] = memory if memory in ("Always", "RerunOnFailure") else "RerunOnFailure"
        self.mutate(vm_kind, ns, target, start)
        while not ((self.get(vm_kind, ns, target) or {}).get("status") or {}).get("ready"):
            self.write(kind, ns, name, uid, lambda o, now: (
                _hold(o), set_phase(o, "restore-vm", now, "Waiting for target vm to be ready")))
            await self.clock.sleep(STEP)

    # -- the PVCs and the provisioner stand-in
    def _create_pvcs(self, restore: dict, backup: dict) -> None:
        pvc_kind = self.k("", "persistentvolumeclaims")
        by_name = {vb["name"]: vb for vb in backup["status"].get("volumeBackups") or []}
        for r in restore["status"]["restores"]:
            meta = r["persistentVolumeClaimSpec"]["metadata"]
            if self.get(pvc_kind, meta["namespace"], meta["name"]) is not None:
                continue
            vb = by_name[r["volumeBackupName"]]
            source = vb["persistentVolumeClaim"]
            annotations = {k: v for k, v in ((source.get("metadata") or {}).get("annotations") or {}).items()
                           if not k.startswith("pv.kubernetes.io")}
            annotations[RESTORE_NAME] = restore["metadata"]["name"]
            spec = source.get("spec") or {}
            body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": meta["name"], "namespace": meta["namespace"], "annotations": annotations,
                                 "ownerReferences": [_owner(restore, f"{GROUP}/v1beta1", "VirtualMachineRestore")]},
                    "spec": {"accessModes": spec.get("accessModes") or [],
                             "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                            "name": vb["name"]},
                             "resources": clone(spec.get("resources") or {}),
                             "storageClassName": spec.get("storageClassName"), "volumeMode": spec.get("volumeMode")},
                    "status": {"phase": "Pending"}}
            if (source.get("metadata") or {}).get("labels"):
                body["metadata"]["labels"] = source["metadata"]["labels"]
            self.create(pvc_kind, body)

    async def _provision(self, kind: Kind, ns: str, name: str, uid: str, backup: dict) -> None:
        """Longhorn's CSI driver and volume restore: each new PVC gets its volume and is bound."""
        pvc_kind = self.k("", "persistentvolumeclaims")
        by_name = {vb["name"]: vb for vb in backup["status"].get("volumeBackups") or []}
        restore = self._current(kind, ns, name, uid)
        pending = [r for r in restore["status"]["restores"]
                   if ((self.get(pvc_kind, ns, r["persistentVolumeClaimSpec"]["metadata"]["name"]) or {})
                       .get("status") or {}).get("phase") != "Bound"]
        if not pending:
            return
        if backup_type(backup) == "snapshot":
            await self.clock.sleep(SNAPSHOT_TIME)
        else:
            first = self.get(pvc_kind, ns, pending[0]["persistentVolumeClaimSpec"]["metadata"]["name"]) or {}
            await self._read_back(kind, ns, name, uid, by_name, (first.get("metadata") or {}).get("uid", ""))
        for r in pending:
            self._bind(ns, r["persistentVolumeClaimSpec"]["metadata"]["name"], by_name[r["volumeBackupName"]], backup)

    async def _read_back(self, kind: Kind, ns: str, name: str, uid: str, by_name: dict, first_pvc_uid: str) -> None:
        """The Longhorn volume restores, volume-size weighted, held at 90 until the VM runs."""
        while True:
            await self.clock.sleep(STEP)
            self._current(kind, ns, name, uid)
            target = current_target(self.store)
            if target is None or not reachable(self.store, target):
                volume = f"pvc-{first_pvc_uid}"
                error = "backup target is not set" if target is None else target_rules.backup_store_error(target)
                raise _Failed(f"volume {LONGHORN}/{volume} restore failed: {error}")

            def step(o, now):
                for r in o["status"]["restores"]:
                    size = int(by_name[r["volumeBackupName"]].get("volumeSize") or 0)
                    r["volumeSize"] = size
                    moved = size * int(r.get("progress") or 0) // 100 + RESTORE_RATE
                    r["progress"] = 100 if not size or moved >= size else moved * 100 // size
                progress = weighted([(int(r["progress"]), int(r["volumeSize"])) for r in o["status"]["restores"]])
                o["status"]["progress"] = min(HOLD_BEFORE_START, progress or 0)
            restore = self.write(kind, ns, name, uid, step)
            if all(r.get("progress") == 100 for r in restore["status"]["restores"]):
                return

    def _bind(self, ns: str, claim: str, vb: dict, backup: dict) -> None:
        pvc_kind = self.k("", "persistentvolumeclaims")
        pvc = self.get(pvc_kind, ns, claim)
        if pvc is None:
            return
        source_name = ((vb.get("persistentVolumeClaim") or {}).get("spec") or {}).get("volumeName", "")
        source = self.lh_volume(source_name) or {}
        volume = f"pvc-{pvc['metadata']['uid']}"
        spec = clone(source.get("spec") or {"size": str(vb.get("volumeSize") or 0), "numberOfReplicas": 3})
        spec.update(nodeID="", fromBackup="")
        target = (backup.get("status") or {}).get("backupTarget")
        if target and vb.get("longhornBackupName"):
            spec["fromBackup"] = (f"{target.get('endpoint', '')}?backup={vb['longhornBackupName']}"
                                  f"&volume={source_name}")
        lh_kind, replica_kind = self.k("longhorn.io", "volumes"), self.k("longhorn.io", "replicas")
        created = self.get(lh_kind, LONGHORN, volume) or self.create(lh_kind, {
            "apiVersion": "longhorn.io/v1beta2", "kind": "Volume",
            "metadata": {"name": volume, "namespace": LONGHORN, "labels": {"longhornvolume": volume}},
            "spec": spec, "status": {"state": "detached", "robustness": "unknown"}})
        if created is None:
            return
        for replica in self.store.list(replica_kind, LONGHORN):
            if (replica.get("spec") or {}).get("volumeName") != source_name:
                continue
            copy = clone(replica)
            copy["metadata"] = {"name": f"{volume}-r-{uuid.uuid4().hex[:8]}", "namespace": LONGHORN,
                                "labels": dict(replica["metadata"].get("labels") or {}, longhornvolume=volume),
                                "ownerReferences": [_owner(created, "longhorn.io/v1beta2", "Volume")]}
            copy["spec"].update(volumeName=volume, engineName=f"{volume}-e-0", failedAt="",
                                dataDirectoryName=f"{volume}-{uuid.uuid4().hex[:8]}")
            self.create(replica_kind, copy)
        capacity = ((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")

        def bound_spec(o):
            o["spec"]["volumeName"] = volume
            o["metadata"].setdefault("annotations", {}).update({
                "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.kubernetes.io/storage-provisioner": "driver.longhorn.io"})
        self.mutate(pvc_kind, ns, claim, bound_spec)
        self.mutate(pvc_kind, ns, claim, lambda o: o.__setitem__("status", {
            "phase": "Bound", "accessModes": o["spec"].get("accessModes") or [], "capacity": {"storage": capacity}}),
            status=True)

    def _delete_pvc(self, ns: str, claim: str) -> None:
        pvc_kind = self.k("", "persistentvolumeclaims")
        pvc = self.get(pvc_kind, ns, claim)
        if pvc is None:
            return
        self.delete(pvc_kind, ns, claim)
        volume = (pvc.get("spec") or {}).get("volumeName")
        if volume and self.lh_volume(volume) is not None:
            self.delete(self.k("longhorn.io", "volumes"), LONGHORN, volume)


def _volume_restores(o: dict, backup: dict) -> None:
    """initVolumesStatus: the new PVC of each volume backup, and the old PVCs to delete."""
    status = o.setdefault("status", {})
    meta, spec = o["metadata"], o["spec"]
    status["restores"] = [
        {"volumeName": vb["volumeName"], "volumeBackupName": vb["name"],
         "persistentVolumeClaimSpec": {
             "metadata": {"name": f"restore-{spec['virtualMachineBackupName']}-{meta['uid']}-{vb['volumeName']}",
                          "namespace": meta["namespace"]},
             "spec": clone((vb.get("persistentVolumeClaim") or {}).get("spec") or {})}}
        for vb in backup["status"].get("volumeBackups") or []]
    if not spec.get("newVM") and spec.get("deletionPolicy") != "retain":
        status["deletedVolumes"] = [vb["persistentVolumeClaim"]["metadata"]["name"]
                                    for vb in backup["status"].get("volumeBackups") or []]


def _use_claims(template_spec: dict, claims: dict) -> None:
    """getNewVolumes: each PVC volume of the template points at its restored claim."""
    for volume in template_spec.get("volumes") or []:
        pvc = volume.get("persistentVolumeClaim")
        if pvc is not None and volume.get("name") in claims:
            pvc["claimName"] = claims[volume["name"]]


def _hold(o: dict) -> None:
    status = o.setdefault("status", {})
    if int(status.get("progress") or 0) > HOLD_BEFORE_START:
        status["progress"] = HOLD_BEFORE_START


def _owner(obj: dict, api_version: str, kind: str) -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


CONTROLLERS: list = [VMBackupController, VMRestoreController]
