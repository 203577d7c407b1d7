"""Harvester's `kubevirt.io.virtualmachine` schema on Steve: the actions its formatter offers and
its action handler (harvester v1.8.2 pkg/api/vm/schema.go, formatter.go, handler.go, store.go).

The formatter empties the action map and offers, from the VM and its VMI: updateResourceQuota,
deleteResourceQuota, addVolume, removeVolume and clone always (the admin may); insert/ejectCdRomVolume
for a SATA CD-ROM without / with a hotplugged volume; start unless a start request is queued or a
live VMI exists; stop unless Halted (Manual and RerunOnFailure need a live VMI); restart with a
VMI unless Halted; pause and softreboot for a Running VMI without a liveness probe that is not
paused, unpause for a paused one; migrate, findMigratableNodes and storageMigration (and the NIC and
CPU/memory hotplug actions when the VM allows them) for a migratable VMI on a cluster of two nodes
or more; abortMigration while Harvester marks the VMI Pending migration / Migrating; backup with a
backup target set, snapshot when every PVC's provisioner has a VolumeSnapshotClass, restore for a
stopped VM that has backups; createTemplate; forceStop while Stopping;
dismissInsufficientResourceQuota and cancelStorageMigration when their annotations say so.

The handler answers 204 (200 with JSON for findMigratableNodes and findHotunpluggableNics) or, on
failure, err.Error() as text: start/restart/stop/pause/unpause/softreboot errors come wrapped as
`<action> virtual machine <ns>/<name> failed, <error>` (always 500, since the wrap hides the
Kubernetes status); body and parameter errors are InvalidBodyContent 422 (`Failed to decode request
body: %v <error>`: upstream concatenates a literal `%v`); a Kubernetes NotFound returned as is keeps
its 404.

Modelled actions: start, stop, restart, softreboot, pause, unpause, forceStop, migrate,
abortMigration, findMigratableNodes, backup, snapshot (which does nothing upstream), restore,
insertCdRomVolume, ejectCdRomVolume, addVolume, removeVolume, findHotunpluggableNics,
dismissInsufficientResourceQuota, cpuAndMemoryHotplug. createTemplate, clone, addNic, removeNic,
update/deleteResourceQuota, storageMigration and cancelStorageMigration are offered as upstream
offers them but answer 501 (the twin does not carry them out).
"""
from __future__ import annotations

import json
import math
import random

from aiohttp import web

from .. import errors, gojson_errors, quantity
from ..errors import ApiError
from ..store import clone
from . import replies, virt_api
from .replies import INVALID_ACTION, INVALID_BODY, ActionError, api_error

ACTIONS = ("start", "stop", "restart", "softreboot", "pause", "unpause", "snapshot", "migrate", "abortMigration",
           "findMigratableNodes", "insertCdRomVolume", "ejectCdRomVolume", "backup", "restore", "createTemplate",
           "addVolume", "removeVolume", "addNic", "removeNic", "findHotunpluggableNics", "clone", "forceStop",
           "dismissInsufficientResourceQuota", "updateResourceQuota", "deleteResourceQuota", "cpuAndMemoryHotplug",
           "storageMigration", "cancelStorageMigration")
NOT_MODELLED = ("createTemplate", "clone", "addNic", "removeNic", "updateResourceQuota", "deleteResourceQuota",
                "storageMigration", "cancelStorageMigration")
HARVESTER = "system:serviceaccount:harvester-system:harvester"
DECODE = "Failed to decode request body: %v {}"  # `"...: %v " + err.Error()` upstream
ANN_MIGRATION_STATE = "harvesterhci.io/migrationState"
ANN_MIGRATION_UID = "harvesterhci.io/migrationUID"
ANN_MIGRATION_TARGET = "harvesterhci.io/migrationTargetNodeName"
ANN_INSUFFICIENT_QUOTA = "harvesterhci.io/insufficient-resource-quota"
ANN_VCT = "harvesterhci.io/volumeClaimTemplates"
ANN_IMAGE_ID = "harvesterhci.io/imageId"
ANN_HOTPLUG = "harvesterhci.io/enableCPUAndMemoryHotplug"
ANN_REMOVED_PVCS = "harvesterhci.io/removedPersistentVolumeClaims"
ANN_GOLDEN_IMAGE = "harvesterhci.io/goldenImage"
ANN_CDI = "cdi.kubevirt.io/storage.createdForDataVolume"
LABEL_CREATOR, NODE_DRIVER = "harvesterhci.io/creator", "docker-machine-driver-harvester"
MAINTAIN_STATUS = "harvesterhci.io/maintain-status"
DRAIN = "kubevirt.io/drain"
MIGRATING, PENDING = "Migrating", "Pending migration"
GIB = 1024 ** 3


def _meta(obj: dict | None) -> dict:
    return (obj or {}).get("metadata") or {}


def _status(obj: dict | None) -> dict:
    return (obj or {}).get("status") or {}


def _template_spec(vm: dict) -> dict:
    return (((vm.get("spec") or {}).get("template") or {}).get("spec")) or {}


def _domain(vm: dict) -> dict:
    return _template_spec(vm).get("domain") or {}


def _conditions(obj: dict | None) -> list[dict]:
    return _status(obj).get("conditions") or []


def _condition_true(obj: dict | None, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in _conditions(obj))


def _strategy(vm: dict) -> str | None:
    try:
        return virt_api.vm_run_strategy(vm)
    except ApiError:
        return None


def plain(text: str) -> ActionError:
    """A Go error that is neither an APIError nor a StatusError: 500 with its text."""
    return ActionError(500, text)


def status_error(err: ApiError) -> ActionError:
    """A Kubernetes StatusError returned as is: its own code, its message."""
    return ActionError(err.code, err.message)


class VMActions:
    def __init__(self, twin):
        self.twin = twin
        self.store = twin.store
        self.virt = virt_api.VirtAPI(self.store)

    # ------------------------------------------------------------------ reads
    def kind(self, group: str, plural: str):
        return self.store.registry.by_plural(group, plural)

    def vmi(self, vm: dict) -> dict | None:
        kind = self.kind("kubevirt.io", "virtualmachineinstances")
        obj = self.store.peek(kind, _meta(vm).get("namespace", ""), _meta(vm)["name"]) if kind else None
        return clone(obj) if obj is not None else None

    def setting(self, name: str) -> dict | None:
        kind = self.kind("harvesterhci.io", "settings")
        return self.store.peek(kind, "", name) if kind else None

    def setting_value(self, name: str) -> str:
        s = self.setting(name) or {}
        return s.get("value") or s.get("default") or ""

    def pvc(self, ns: str, name: str) -> dict | None:
        kind = self.kind("", "persistentvolumeclaims")
        return self.store.peek(kind, ns, name) if kind else None

    def nodes(self) -> list[dict]:
        return self.store.list(self.kind("", "nodes"))

    def claims(self, vm: dict) -> list[str]:
        return [(v.get("persistentVolumeClaim") or {}).get("claimName") for v in _template_spec(vm).get("volumes") or []
                if (v.get("persistentVolumeClaim") or {}).get("claimName")]

    def backup_target_set(self) -> bool:
        """DecodeBackupTarget(value) is not the default (empty) target."""
        try:
            target = json.loads(self.setting_value("backup-target") or "{}")
        except ValueError:
            return False
        return isinstance(target, dict) and (target.get("type") or any(v for v in target.values()))

    # ------------------------------------------------------------------ formatter
    def offered(self, vm: dict) -> list[str]:
        vmi = self.vmi(vm)
        migratable = self.can_migrate(vmi)
        # (when, actions) in the formatter's order
        offers = (
            (lambda: self.can_insert_cd_rom(vm), ["insertCdRomVolume"]),
            (lambda: self.can_eject_cd_rom(vm), ["ejectCdRomVolume"]),
            (lambda: self.can_start(vm, vmi), ["start"]),
            (lambda: self.can_stop(vm, vmi), ["stop"]),
            (lambda: self.can_restart(vm, vmi), ["restart"]),
            (lambda: self.can_pause(vmi), ["softreboot", "pause"]),
            (lambda: self.can_unpause(vmi), ["unpause"]),
            (lambda: migratable, ["migrate", "findMigratableNodes", "storageMigration"]),
            (lambda: migratable and self.can_hotplug_cpu_memory(vm), ["cpuAndMemoryHotplug"]),
            (lambda: migratable and self.nic_hot_action_error(vm) is None, ["addNic"]),
            (lambda: migratable and self.hot_unplug_error(vm) is None, ["removeNic", "findHotunpluggableNics"]),
            (lambda: _meta(vmi).get("annotations", {}).get(ANN_MIGRATION_STATE) in (MIGRATING, PENDING), ["abortMigration"]),
            (lambda: self.can_backup(vm, vmi), ["backup"]),
            (lambda: self.can_snapshot(vm, vmi), ["snapshot"]),
            (lambda: self.can_restore(vm, vmi), ["restore"]),
            (lambda: vmi is None or (not _meta(vmi).get("deletionTimestamp")
                                     and _status(vmi).get("phase") in ("Running", "Succeeded")), ["createTemplate"]),
            (lambda: _status(vm).get("printableStatus") == "Stopping", ["forceStop"]),
            (lambda: ANN_INSUFFICIENT_QUOTA in (_meta(vm).get("annotations") or {}), ["dismissInsufficientResourceQuota"]),
            (lambda: any(e.get("targetVolume") for e in self.claim_templates(vm)), ["cancelStorageMigration"]),
        )
        out = ["updateResourceQuota", "deleteResourceQuota", "addVolume", "removeVolume", "clone"]
        for when, actions in offers:
            if when():
                out += actions
        return out

    @staticmethod
    def starting(vm: dict) -> bool:
        return any(r.get("action") == "Start" for r in _status(vm).get("stateChangeRequests") or [])

    def can_start(self, vm: dict, vmi: dict | None) -> bool:
        if self.starting(vm):
            return False
        return vmi is None or virt_api.is_final(vmi) or _status(vmi).get("phase", "") in ("Unknown", "")

    def can_restart(self, vm: dict, vmi: dict | None) -> bool:
        return not self.starting(vm) and _strategy(vm) not in (None, "Halted") and vmi is not None

    def can_stop(self, vm: dict, vmi: dict | None) -> bool:
        strategy = _strategy(vm)
        if strategy == "Halted":
            return False
        if strategy in ("Manual", "RerunOnFailure"):
            return vmi is not None and _status(vmi).get("phase") in ("Pending", "Scheduling", "Scheduled", "Running")
        return True

    @staticmethod
    def can_pause(vmi: dict | None) -> bool:
        return vmi is not None and _status(vmi).get("phase") == "Running" \
            and (vmi.get("spec") or {}).get("livenessProbe") is None and not _condition_true(vmi, "Paused")

    @staticmethod
    def can_unpause(vmi: dict | None) -> bool:
        return vmi is not None and _status(vmi).get("phase") == "Running" and _condition_true(vmi, "Paused")

    @staticmethod
    def migratable_error(vmi: dict) -> str | None:
        """ValidateVMMigratable."""
        ref = f"{_meta(vmi).get('namespace')}/{_meta(vmi).get('name')}"
        if _status(vmi).get("phase") != "Running":
            return f"VM {ref} is not live migratable as it is not running"
        if (_meta(vmi).get("annotations") or {}).get(ANN_MIGRATION_UID):
            return f"VM {ref} is not live migratable as it is already in a migrating state"
        if ((vmi.get("spec") or {}).get("nodeSelector") or {}).get("kubernetes.io/hostname"):
            return f"VM {ref} is not live migratable as node selector is set"
        devices = (((vmi.get("spec") or {}).get("domain") or {}).get("devices")) or {}
        if devices.get("hostDevices"):
            return f"VM {ref} is not live migratable as PCIe or USB devices are attached"
        if devices.get("gpus"):
            return f"VM {ref} is not live migratable as vGPU devices are attached"
        for c in _conditions(vmi):
            if c.get("type") == "LiveMigratable":
                if c.get("status") == "False":
                    return f"VM {ref} is not live migratable as the condition reported with reason: {c.get('reason', '')}"
                break
        return None

    def can_migrate(self, vmi: dict | None) -> bool:
        if vmi is None or _meta(vmi).get("deletionTimestamp") or (_meta(vmi).get("annotations") or {}).get(ANN_MIGRATION_STATE):
            return False
        return len(self.nodes()) >= 2 and self.migratable_error(vmi) is None

    @staticmethod
    def can_hotplug_cpu_memory(vm: dict) -> bool:
        cpu = _domain(vm).get("cpu")
        if cpu is not None and (cpu.get("cores", 0) != 1 or cpu.get("threads", 0) != 1):
            return False
        if _status(vm).get("printableStatus") != "Running":
            return False
        if str((_meta(vm).get("annotations") or {}).get(ANN_HOTPLUG, "")).lower() != "true":
            return False
        return not any(c.get("status") == "True" and c.get("type") in ("RestartRequired", "HotVCPUChange", "HotMemoryChange")
                       for c in _conditions(vm))

    @staticmethod
    def nic_hot_action_error(vm: dict) -> str | None:
        ref = f"{_meta(vm).get('namespace')}/{_meta(vm).get('name')}"
        if (_meta(vm).get("labels") or {}).get(LABEL_CREATOR) == NODE_DRIVER:
            return f"{ref} doesn't support both HotPlugNic and HotUnplugNic as it is a guest cluster node"
        if any(not i.get("macAddress") for i in (_domain(vm).get("devices") or {}).get("interfaces") or []):
            return (f"{ref} doesn't support both HotPlugNic and HotUnplugNic as macAddress is missing for some "
                    "interfaces in the VM spec")
        return None

    @staticmethod
    def unpluggable_error(iface: dict) -> str | None:
        if iface.get("state") == "absent":
            return f"{iface.get('name')} was already registered for hot-unplugging"
        if iface.get("bridge") is None:
            return f"{iface.get('name')} is not in bridge mode"
        if iface.get("model") not in (None, "", "virtio"):
            return f"{iface.get('name')} is not using virtio model"
        return None

    def hot_unplug_error(self, vm: dict) -> str | None:
        common = self.nic_hot_action_error(vm)
        if common:
            return common
        ref = f"{_meta(vm).get('namespace')}/{_meta(vm).get('name')}"
        ifaces = (_domain(vm).get("devices") or {}).get("interfaces") or []
        if len(ifaces) <= 1:
            return f"{ref} doesn't support HotUnplugNic as it has only one nic"
        why = [self.unpluggable_error(i) for i in ifaces]
        if any(w is None for w in why):
            return None
        return f"{ref} doesn't support HotUnplugNic as none of its interfaces is hot-unpluggable: {', '.join(why)}"

    @staticmethod
    def cd_rom_disks(vm: dict) -> list[dict]:
        return [d for d in (_domain(vm).get("devices") or {}).get("disks") or [] if d.get("cdrom") is not None]

    def can_insert_cd_rom(self, vm: dict) -> bool:
        volumes = {v.get("name") for v in _template_spec(vm).get("volumes") or []}
        empty = [d for d in self.cd_rom_disks(vm) if d.get("name") not in volumes]
        return bool(empty) and all((d["cdrom"] or {}).get("bus") == "sata" for d in empty)

    def can_eject_cd_rom(self, vm: dict) -> bool:
        hot = {v.get("name") for v in _template_spec(vm).get("volumes") or []
               if (v.get("persistentVolumeClaim") or {}).get("hotpluggable")}
        ejectable = [d for d in self.cd_rom_disks(vm) if d.get("name") in hot]
        return bool(ejectable) and all((d["cdrom"] or {}).get("bus") == "sata" for d in ejectable)

    def _backup_common(self, vm: dict, vmi: dict | None) -> bool:
        if _status(vm).get("snapshotInProgress") is not None:
            return False
        if _meta(vm).get("deletionTimestamp") or (vmi is not None and _meta(vmi).get("deletionTimestamp")):
            return False
        return vmi is None or _status(vmi).get("phase") in ("Running", "Succeeded")

    def can_backup(self, vm: dict, vmi: dict | None) -> bool:
        if not self._backup_common(vm, vmi):
            return False
        ns = _meta(vm).get("namespace", "")
        for claim in self.claims(vm):
            pvc = self.pvc(ns, claim)
            if pvc is not None and ANN_CDI in (_meta(pvc).get("annotations") or {}):
                return False
        return bool(self.backup_target_set())

    def can_snapshot(self, vm: dict, vmi: dict | None) -> bool:
        if not self._backup_common(vm, vmi):
            return False
        try:
            drivers = json.loads(self.setting_value("csi-driver-config") or "{}")
        except ValueError:
            return False
        ns = _meta(vm).get("namespace", "")
        for claim in self.claims(vm):
            pvc = self.pvc(ns, claim)
            if pvc is None:
                continue
            if not (drivers.get(self.provisioner(pvc)) or {}).get("volumeSnapshotClassName"):
                return False
        return True

    def provisioner(self, pvc: dict) -> str:
        annotations = _meta(pvc).get("annotations") or {}
        found = annotations.get("volume.beta.kubernetes.io/storage-provisioner") or \
            annotations.get("volume.kubernetes.io/storage-provisioner")
        if found:
            return found
        sc_name = (pvc.get("spec") or {}).get("storageClassName")
        kind = self.kind("storage.k8s.io", "storageclasses")
        sc = self.store.peek(kind, "", sc_name) if kind and sc_name else None
        return (sc or {}).get("provisioner", "")

    def can_restore(self, vm: dict, vmi: dict | None) -> bool:
        if _status(vm).get("ready") or _status(vm).get("snapshotInProgress") is not None or vmi is not None:
            return False
        kind = self.kind("harvesterhci.io", "virtualmachinebackups")
        uid = _meta(vm).get("uid")
        return any(_status(b).get("sourceUID") == uid for b in self.store.list(kind)) if kind else False

    def claim_templates(self, vm: dict) -> list[dict]:
        try:
            entries = json.loads((_meta(vm).get("annotations") or {}).get(ANN_VCT) or "[]")
        except ValueError:
            return []
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    # ------------------------------------------------------------------ the action handler
    async def act(self, request, action: str, vm: dict) -> web.Response | None:
        """Do(): None (204) or a 200 response; raises ActionError."""
        ns, name = _meta(vm).get("namespace", ""), _meta(vm)["name"]
        raw = await request.read()
        handler = getattr(self, f"do_{action}", None)
        if handler is None:
            if action in NOT_MODELLED:
                raise ActionError(501, f"the twin does not carry out the {action} action")
            raise api_error(INVALID_ACTION, "Unsupported action")
        try:
            body = handler(ns, name, raw)
        except ApiError as e:  # a Kubernetes StatusError returned unwrapped
            raise status_error(e) from None
        return None if body is None else replies.action_json(body)

    def _wrapped(self, action: str, ns: str, name: str, fn) -> None:
        """`fmt.Errorf("%s virtual machine %s/%s failed, %v", ...)`: always a 500."""
        try:
            fn()
        except ApiError as e:
            raise plain(f"{action} virtual machine {ns}/{name} failed, {e.message}") from None
        except ActionError as e:
            raise plain(f"{action} virtual machine {ns}/{name} failed, {e.text}") from None

    def _start_pre_check(self, ns: str, name: str) -> None:
        vm = self.virt.vm(ns, name)
        for claim in self.claims(vm):
            if self.pvc(ns, claim) is None:
                raise errors.not_found("", "persistentvolumeclaims", claim)

    def do_start(self, ns, name, raw):
        def start():
            self._start_pre_check(ns, name)
            self.virt.start(ns, name)
        self._wrapped("start", ns, name, start)

    def do_restart(self, ns, name, raw):
        self._wrapped("restart", ns, name, lambda: self.virt.restart(ns, name))

    def do_stop(self, ns, name, raw):
        def stop():  # "align behavior with kubevirt v1.1.1": runStrategy Halted by an update
            vm = self.virt.vm(ns, name)
            if (vm.get("spec") or {}).get("runStrategy") == "Halted":
                return
            vm["spec"]["runStrategy"] = "Halted"
            self.update_vm(vm)
        self._wrapped("stop", ns, name, stop)

    def do_pause(self, ns, name, raw):
        self._wrapped("pause", ns, name, lambda: self.virt.pause(ns, name))

    def do_unpause(self, ns, name, raw):
        self._wrapped("unpause", ns, name, lambda: self.virt.unpause(ns, name))

    def do_softreboot(self, ns, name, raw):
        self._wrapped("softreboot", ns, name, lambda: self.virt.soft_reboot(ns, name))

    def do_forceStop(self, ns, name, raw):
        try:
            self.virt.stop(ns, name, grace_period=0)
        except ApiError as e:
            if "Halted does not support manual stop requests" in e.message:
                return None
            raise

    def do_snapshot(self, ns, name, raw):
        return None  # "currently the snapshot CRD creation is handled by UI, we do nothing here"

    def update_vm(self, vm: dict) -> dict:
        kind = self.kind("kubevirt.io", "virtualmachines")
        meta = vm["metadata"]
        return self.store.update(kind, kind.storage_version, vm, namespace=meta.get("namespace", ""), name=meta["name"],
                                 actor=HARVESTER).obj

    # ------------------------------------------------------------------ backups
    def _check_backup_target(self) -> None:
        setting = self.setting("backup-target") or {}
        configured = any(c.get("type") == "configured" and c.get("status") == "True" for c in _conditions(setting))
        if not (configured and self.backup_target_set()):
            raise plain("backup target is invalid")

    def do_backup(self, ns, name, raw):
        body = replies.decode_input(raw, "BackupInput", ("name",), package="vm", template=DECODE)
        if not body["name"]:
            raise api_error(INVALID_BODY, "Parameter backup name is required")
        self._check_backup_target()
        kind = self.kind("harvesterhci.io", "virtualmachinebackups")
        backup = {"apiVersion": kind.api_version(kind.storage_version), "kind": "VirtualMachineBackup",
                  "metadata": {"name": body["name"], "namespace": ns},
                  "spec": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": name},
                           "type": "backup"}}
        try:
            self.store.create(kind, kind.storage_version, backup, namespace=ns, actor=HARVESTER)
        except ApiError as e:
            raise plain(f"failed to create VM backup, error: {e.message}") from None

    def do_restore(self, ns, name, raw):
        body = replies.decode_input(raw, "RestoreInput", ("name", "backupName"), package="vm",
                                    template=DECODE)
        if not body["name"] or not body["backupName"]:
            raise api_error(INVALID_BODY, "Parameter name and backupName are required")
        self._check_backup_target()
        backups = self.kind("harvesterhci.io", "virtualmachinebackups")
        if self.store.peek(backups, ns, body["backupName"]) is None:
            raise errors.not_found("harvesterhci.io", "virtualmachinebackups", body["backupName"])
        kind = self.kind("harvesterhci.io", "virtualmachinerestores")
        restore = {"apiVersion": kind.api_version(kind.storage_version), "kind": "VirtualMachineRestore",
                   "metadata": {"name": body["name"], "namespace": ns},
                   "spec": {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": name},
                            "virtualMachineBackupNamespace": ns, "virtualMachineBackupName": body["backupName"],
                            "newVM": False}}
        try:
            self.store.create(kind, kind.storage_version, restore, namespace=ns, actor=HARVESTER)
        except ApiError as e:
            raise plain(f"failed to create restore, error: {e.message}") from None

    # ------------------------------------------------------------------ migration
    def drained(self, node: dict) -> bool:
        annotations = _meta(node).get("annotations") or {}
        if MAINTAIN_STATUS in annotations or "harvesterhci.io/drain-requested" in annotations:
            return True
        if (node.get("spec") or {}).get("unschedulable"):
            return True
        return any(t.get("key") in ("node.kubernetes.io/unreachable", "node.kubernetes.io/unschedulable")
                   for t in (node.get("spec") or {}).get("taints") or [])

    def migratable_nodes(self, vmi: dict) -> list[str]:
        """findMigratableNodesByVMI: nodes matching the VMI pod's node selector and required node
        affinity (hostname terms left out), not the current node, not drained. The twin has no
        pods: the VMI's own nodeSelector and affinity stand in for its virt-launcher pod's."""
        from ..controllers.node import _matches_expression  # the same matching as the drain's
        spec = vmi.get("spec") or {}
        selector = {k: v for k, v in (spec.get("nodeSelector") or {}).items() if k != "kubernetes.io/hostname"}
        required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                    .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
        expressions = [e for t in required.get("nodeSelectorTerms") or [] for e in t.get("matchExpressions") or []
                       if e.get("key") != "kubernetes.io/hostname" and e.get("operator") in ("In", "NotIn", "Exists", "DoesNotExist")]
        out = []
        for node in sorted(self.nodes(), key=lambda n: _meta(n)["name"]):
            labels = _meta(node).get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            if not all(_matches_expression(labels, e) for e in expressions):
                continue
            if _meta(node)["name"] == _status(vmi).get("nodeName") or self.drained(node):
                continue
            out.append(_meta(node)["name"])
        return out

    def _vmi_or_404(self, ns: str, name: str) -> dict:
        kind = self.kind("kubevirt.io", "virtualmachineinstances")
        vmi = self.store.peek(kind, ns, name)
        if vmi is None:
            raise errors.not_found("kubevirt.io", "virtualmachineinstances", name)
        return clone(vmi)

    def do_findMigratableNodes(self, ns, name, raw):
        vmi = self._vmi_or_404(ns, name)
        why = self.migratable_error(vmi)
        if why:
            raise plain(why)
        return {"nodes": self.migratable_nodes(vmi)}

    def do_migrate(self, ns, name, raw):
        body = replies.decode_input(raw, "MigrateInput", ("nodeName",), package="vm", template=DECODE)
        self.migrate(ns, name, body["nodeName"])

    def migrate(self, ns: str, name: str, node_name: str) -> None:
        vmi = self._vmi_or_404(ns, name)
        if _status(vmi).get("phase") != "Running":
            raise plain("The VM is not in running state")
        if not _condition_true(vmi, "Ready"):
            raise plain("Can't migrate the VM, the VM is not in ready status")
        why = self.migratable_error(vmi)
        if why:
            raise plain(why)
        if node_name:
            nodes = self.migratable_nodes(vmi)
            if not nodes:
                raise plain(f"can't migrate the VM to the node {node_name}: no matching migratable nodes found")
            if node_name not in nodes:
                raise plain("The target node is non-migratable")
        vmim_kind = self.kind("kubevirt.io", "virtualmachineinstancemigrations")
        if vmim_kind is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        vmim = {"apiVersion": vmim_kind.api_version(vmim_kind.storage_version), "kind": "VirtualMachineInstanceMigration",
                "metadata": {"generateName": f"{name}-", "namespace": ns}, "spec": {"vmiName": name}}
        if node_name:
            if node_name == _status(vmi).get("nodeName"):
                raise api_error(INVALID_BODY, "The VM is currently running on the target node")
            vmi_kind = self.kind("kubevirt.io", "virtualmachineinstances")
            vmi["metadata"].setdefault("annotations", {})[ANN_MIGRATION_TARGET] = node_name
            self.store.update(vmi_kind, vmi_kind.storage_version, vmi, namespace=ns, name=name, actor=HARVESTER)
            vmim["spec"]["addedNodeSelector"] = {"kubernetes.io/hostname": node_name}
        self.store.create(vmim_kind, vmim_kind.storage_version, vmim, namespace=ns, actor=HARVESTER)

    def do_abortMigration(self, ns, name, raw):
        vmi = self._vmi_or_404(ns, name)
        if (_meta(vmi).get("annotations") or {}).get(ANN_MIGRATION_STATE) not in (MIGRATING, PENDING):
            raise plain("The VM is not in migrating state")
        kind = self.kind("kubevirt.io", "virtualmachineinstancemigrations")
        uid = (_meta(vmi).get("annotations") or {}).get(ANN_MIGRATION_UID) or \
            (_status(vmi).get("migrationState") or {}).get("migrationUid", "")
        for vmim in self.store.list(kind, ns) if kind else []:
            if _meta(vmim).get("uid") != uid:
                continue
            phase = _status(vmim).get("phase", "")
            if phase not in ("", "Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"):
                raise plain(f'cannot abort the migration as it is in "{phase}" phase')
            self.store.delete(kind, ns, _meta(vmim)["name"], actor=HARVESTER)

    # ------------------------------------------------------------------ volumes
    def _vm(self, ns: str, name: str) -> dict:
        return self.virt.vm(ns, name)

    def _sata_cd_rom(self, vm: dict, device: str) -> None:
        if not any(d.get("name") == device and (d.get("cdrom") or {}).get("bus") == "sata" for d in self.cd_rom_disks(vm)):
            raise api_error(INVALID_BODY, f"can not find the SATA CD-ROM device {device} from the VM "
                                          f"{_meta(vm).get('namespace')}/{_meta(vm).get('name')}")

    def _append_claim_template(self, vm: dict, pvc: dict) -> None:
        annotations = _meta(vm).get("annotations") or {}
        if ANN_VCT not in annotations:
            return
        entries = self.claim_templates(vm) + [pvc]
        annotations[ANN_VCT] = json.dumps(entries, separators=(",", ":"))

    def _drop_claim_templates(self, vm: dict, names: list[str]) -> None:
        annotations = _meta(vm).get("annotations") or {}
        if ANN_VCT not in annotations:
            return
        kept = [e for e in self.claim_templates(vm) if _meta(e).get("name") not in names]
        annotations[ANN_VCT] = json.dumps(kept, separators=(",", ":")) if kept else ""

    def do_insertCdRomVolume(self, ns, name, raw):
        body = replies.decode_input(raw, "InsertCdRomVolumeActionInput", ("DeviceName", "imageName"),
                                    package="vm", template=DECODE)
        vm = self._vm(ns, name)
        self._sata_cd_rom(vm, body["DeviceName"])
        parts = body["imageName"].split("/", 1)
        if len(parts) != 2:
            raise plain(f"invalid image name: {body['imageName']}, should be namespace/name")
        image_kind = self.kind("harvesterhci.io", "virtualmachineimages")
        image = self.store.peek(image_kind, parts[0], parts[1])
        if image is None:
            raise errors.not_found("harvesterhci.io", "virtualmachineimages", parts[1])
        size = max(int(_status(image).get("virtualSize") or 0), int(_status(image).get("size") or 0))
        claim = f"{name}-{body['DeviceName']}-" + "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        pvc = {"metadata": {"name": claim, "annotations": {ANN_IMAGE_ID: body["imageName"]}},
               "spec": {"accessModes": ["ReadWriteMany"], "volumeMode": "Block",
                        "resources": {"requests": {"storage": f"{math.ceil(size / GIB)}Gi"}},
                        "storageClassName": _status(image).get("storageClassName", "")}}
        self._append_claim_template(vm, pvc)
        vm["spec"]["template"]["spec"].setdefault("volumes", []).append(
            {"name": body["DeviceName"], "persistentVolumeClaim": {"claimName": claim, "hotpluggable": True}})
        self.update_vm(vm)

    def do_ejectCdRomVolume(self, ns, name, raw):
        body = replies.decode_input(raw, "EjectCdRomVolumeActionInput", ("deviceName",), package="vm",
                                    template=DECODE)
        vm = self._vm(ns, name)
        self._sata_cd_rom(vm, body["deviceName"])
        volumes = _template_spec(vm).get("volumes") or []
        claims = [(v.get("persistentVolumeClaim") or {}).get("claimName") for v in volumes
                  if v.get("name") == body["deviceName"] and v.get("persistentVolumeClaim")]
        self._drop_claim_templates(vm, claims)
        vm["spec"]["template"]["spec"]["volumes"] = [v for v in volumes if v.get("name") != body["deviceName"]]
        self.update_vm(vm)
        pvc_kind = self.kind("", "persistentvolumeclaims")
        for claim in claims:
            try:
                self.store.delete(pvc_kind, ns, claim, actor=HARVESTER)
            except ApiError as e:
                if e.code != 404:
                    raise

    def do_addVolume(self, ns, name, raw):
        body = replies.decode_input(raw, "AddVolumeInput", ("diskName", "volumeSourceName"),
                                    package="vm", template=DECODE)
        if not body["diskName"] or not body["volumeSourceName"]:
            raise api_error(INVALID_BODY, "Parameter `diskName` and `volumeName` are required")
        pvc = self.pvc(ns, body["volumeSourceName"])
        if pvc is None:
            raise errors.not_found("", "persistentvolumeclaims", body["volumeSourceName"])
        self._check_attachable(pvc)
        vm = self._vm(ns, name)
        if self.provisioner(pvc) == "driver.longhorn.io" or \
                "ReadWriteMany" not in ((pvc.get("spec") or {}).get("accessModes") or []):
            for other in self.store.list(self.kind("kubevirt.io", "virtualmachines"), ns):
                if _meta(other)["name"] != name and body["volumeSourceName"] in self.claims(other):
                    raise plain("the volume is non-shareable and already used by other VMs")
        domain = vm["spec"]["template"]["spec"].setdefault("domain", {})
        domain.setdefault("devices", {}).setdefault("disks", []).append({"name": body["diskName"], "disk": {"bus": "scsi"}})
        vm["spec"]["template"]["spec"].setdefault("volumes", []).append(
            {"name": body["diskName"], "persistentVolumeClaim": {"claimName": _meta(pvc)["name"], "hotpluggable": True}})
        spec = pvc.get("spec") or {}
        self._append_claim_template(vm, {"metadata": {"name": _meta(pvc)["name"]},
                                         "spec": {k: spec[k] for k in ("accessModes", "resources", "volumeMode",
                                                                       "storageClassName") if k in spec}})
        self.update_vm(vm)

    def _check_attachable(self, pvc: dict) -> None:
        sc_name = (pvc.get("spec") or {}).get("storageClassName")
        if sc_name is None:
            raise plain(f"volme {_meta(pvc)['name']} with empty StorageClass is not permitted")
        sc_kind = self.kind("storage.k8s.io", "storageclasses")
        sc = self.store.peek(sc_kind, "", sc_name) if sc_kind else None
        if sc is None:
            raise errors.not_found("storage.k8s.io", "storageclasses", sc_name)
        mode = sc.get("volumeBindingMode")
        if mode is None or mode == "WaitForFirstConsumer":
            return
        if _status(pvc).get("phase") != "Bound":
            raise plain(f"volme {_meta(pvc)['name']} not bound yet")

    def do_removeVolume(self, ns, name, raw):
        body = replies.decode_input(raw, "RemoveVolumeInput", ("diskName",), package="vm", template=DECODE)
        if not body["diskName"]:
            raise api_error(INVALID_BODY, "Parameter `volumeName` are required")
        vm = self._vm(ns, name)
        devices = vm["spec"]["template"]["spec"].setdefault("domain", {}).setdefault("devices", {})
        disks = devices.get("disks") or []
        kept = [d for d in disks if d.get("name") != body["diskName"]]
        if len(kept) == len(disks):
            raise plain(f"disk `{body['diskName']}` not found in virtual machine `{ns}/{name}`")
        volumes = _template_spec(vm).get("volumes") or []
        claims = [(v.get("persistentVolumeClaim") or {}).get("claimName") for v in volumes
                  if v.get("name") == body["diskName"] and v.get("persistentVolumeClaim")]
        devices["disks"] = kept
        vm["spec"]["template"]["spec"]["volumes"] = [v for v in volumes if v.get("name") != body["diskName"]]
        self._drop_claim_templates(vm, claims)
        self.update_vm(vm)

    # ------------------------------------------------------------------ the rest
    def do_findHotunpluggableNics(self, ns, name, raw):
        vm = self._vm(ns, name)
        names = []
        if self.hot_unplug_error(vm) is None:
            names = [i.get("name") for i in (_domain(vm).get("devices") or {}).get("interfaces") or []
                     if self.unpluggable_error(i) is None]
        return {"interfaces": names}

    def do_dismissInsufficientResourceQuota(self, ns, name, raw):
        vm = self._vm(ns, name)
        annotations = _meta(vm).get("annotations") or {}
        if ANN_INSUFFICIENT_QUOTA not in annotations:
            raise plain("cannot dismiss insufficient resource quota message")
        del annotations[ANN_INSUFFICIENT_QUOTA]
        try:
            self.update_vm(vm)
        except ApiError as e:
            raise plain(f"failed to update vm {ns}/{name}, error: {e.message}") from None

    def do_cpuAndMemoryHotplug(self, ns, name, raw):
        vm = self._vm(ns, name)
        if not self.can_hotplug_cpu_memory(vm):
            raise api_error(INVALID_ACTION, "CPU and memory hotplug is not supported for this VM")
        try:
            value = gojson_errors.decode(raw.decode("utf-8", "replace"))
        except gojson_errors.GoJSONError as e:
            raise api_error(INVALID_BODY, DECODE.format(e)) from None
        value = value if isinstance(value, dict) else {}
        sockets, memory = value.get("sockets") or 0, value.get("memory") or ""
        if not sockets and not memory:
            return None
        domain = vm["spec"]["template"]["spec"]["domain"]
        if sockets:
            domain.setdefault("cpu", {})["sockets"] = int(sockets)
        if memory:
            try:
                domain.setdefault("memory", {})["guest"] = str(quantity.parse(memory))
            except quantity.QuantityError as e:
                raise plain(f"failed to parse memory quantity: {e}") from None
        self.update_vm(vm)
