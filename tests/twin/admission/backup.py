"""Webhooks of the backup area: Harvester's VirtualMachineBackup mutator and validator and its
VirtualMachineRestore validator (harvester/harvester v1.8, pkg/webhook/resources/virtualmachinebackup
mutator.go and validator.go, pkg/webhook/resources/virtualmachinerestore/validator.go).

VirtualMachineBackup (backups and snapshots share this CRD, `spec.type` tells them apart):

- mutator (`mutator.harvesterhci.io`, CREATE): a name already taken in the namespace is a 400
  naming the existing object's type, "The <name> <type> is already existent. Please use another
  name for it.", prefixed with "VM Backup and Snapshot use same CRD - VirtualMachineBackup. " when
  the types differ (issue #5855: the check sits in the mutator so that it answers before the
  apiserver's AlreadyExists);
- validator CREATE, 422 Invalid with one cause: "source VM name is empty" (spec.source.name); the
  VM must exist (the lister's NotFound text) and have no running migration ("vm <ns>/<name> is in
  migration"); every PVC the VM uses must exist ("failed to get PVC <ns>/<name>: ..."); type
  `backup` needs a backup-target setting other than the default, "backup target is not set"
  (spec.type). The webhook does not probe the target (the backup-target setting's own webhook did
  when the target was set); a target that became unreachable fails the backup in the controller;
- validator UPDATE: the `harvesterhci.io/svmbackupId` annotation cannot change (400);
- validator DELETE: refused while a VMRestore of the backup has InProgress=True, "vmrestore
  <ns>/<name> is in progress" (a plain error, which Harvester's webhook server answers as 500).

VirtualMachineRestore (422 Invalid with one cause):

- CREATE, in Harvester's order: the target name is a DNS-1123 subdomain; the backup exists, is
  ready, is of a VirtualMachine and is not being deleted (spec.virtualMachineBackupName); every
  multus network of the backed-up VM exists; a `backup` needs the backup target it was taken on
  (set, and the same endpoint, bucket and region), and a delete policy when replacing is refused
  while a VM snapshot holds one of its volumes; a `snapshot` cannot be restored into another
  namespace nor replace a VM with the delete policy; `newVM` needs a target VM that does not exist
  (spec.newVM) and, with keepMacAddress, no other such restore of the backup and no source VM
  still there; replacing needs the VM to exist, not to be ready (running), and no unfinished
  restore on it (spec.target.name);
- UPDATE: "VirtualMachineRestore spec is immutable" (spec);
- DELETE: "The restore can't be removed because the restored VM <name> exists" while the target
  VM exists and is not being deleted (deleting the VM collects the restore it owns).

Not modelled: the resource and snapshot-size quotas, VolumeSnapshotClass checks (the twin has no
CSI snapshot kinds), RBAC access to the backup (SubjectAccessReview), ScheduleVMBackup checks and
the checks of backups synced from a backup target.
"""
from __future__ import annotations

from ..meta import DNS1123_SUBDOMAIN, SUBDOMAIN_MSG
from . import Chain, Request, denied
from . import settings as target_rules

GROUP = "harvesterhci.io"
VALIDATOR = "validator.harvesterhci.io"
MUTATOR = "mutator.harvesterhci.io"
SVM_BACKUP_ID = "harvesterhci.io/svmbackupId"
RETAIN = "retain"
FINISHED_MIGRATION = ("Succeeded", "Failed")


# ---------------------------------------------------------------------------------------- answers
def invalid(message: str, field: str):
    """werror.NewInvalidError: 422 Invalid with one FieldValueInvalid cause."""
    return denied(VALIDATOR, message, code=422, reason="Invalid", field=field)


def _kind(store, group: str, plural: str):
    return store.registry.by_plural(group, plural)


def _get(store, group: str, plural: str, namespace: str, name: str) -> dict | None:
    kind = _kind(store, group, plural)
    return store.peek(kind, namespace, name) if kind is not None else None


def _list(store, group: str, plural: str, namespace: str | None = None) -> list[dict]:
    kind = _kind(store, group, plural)
    return store.list(kind, namespace) if kind is not None else []


def not_found(group: str, plural: str, name: str) -> str:
    resource = f"{plural}.{group}" if group else plural
    return f'{resource} "{name}" not found'


def condition(obj: dict, type_: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_), {})


def backup_type(backup: dict) -> str:
    return (backup.get("spec") or {}).get("type") or "backup"


def is_ready(backup: dict) -> bool:
    return (backup.get("status") or {}).get("readyToUse") is True


def current_target(store) -> dict | None:
    """The decoded backup-target setting, or None when it is the default (not set)."""
    setting = _get(store, GROUP, "settings", "", "backup-target") or {}
    try:
        target = target_rules.decode_backup_target(setting.get("value") or "")
    except ValueError:
        return None
    return None if target_rules.is_default_target(target) else target


def go_target(target: dict) -> str:
    """`%+v` of Harvester's *settings.BackupTarget, as its messages print it."""
    return (f"&{{Type:{target['type']} Endpoint:{target['endpoint']} AccessKeyID:{target['accessKeyId']} "
            f"SecretAccessKey:{target['secretAccessKey']} BucketName:{target['bucketName']} "
            f"BucketRegion:{target['bucketRegion']} Cert:{target['cert']} "
            f"VirtualHostedStyle:{str(target['virtualHostedStyle']).lower()} "
            f"RefreshIntervalInSeconds:{int(target['refreshIntervalInSeconds'])}}}")


def same_target(recorded: dict | None, target: dict) -> bool:
    """backuputil.IsBackupTargetSame: endpoint, bucket name and region."""
    recorded = recorded or {}
    return all((recorded.get(k) or "") == (target.get(k) or "") for k in ("endpoint", "bucketName", "bucketRegion"))


def vm_claims(vm: dict) -> list[str]:
    volumes = ((((vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("volumes")) or []
    return [v["persistentVolumeClaim"]["claimName"] for v in volumes
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


def migrating(store, namespace: str, name: str) -> bool:
    """A running VirtualMachineInstanceMigration of the VM (what Harvester's index looks up), or,
    where the twin serves no migration kind, the VMI's own migrationState while it runs."""
    if _kind(store, "kubevirt.io", "virtualmachineinstancemigrations") is not None:
        return any((m.get("spec") or {}).get("vmiName") == name
                   and (m.get("status") or {}).get("phase") not in FINISHED_MIGRATION
                   for m in _list(store, "kubevirt.io", "virtualmachineinstancemigrations", namespace))
    vmi = _get(store, "kubevirt.io", "virtualmachineinstances", namespace, name) or {}
    state = (vmi.get("status") or {}).get("migrationState") or {}
    return bool(state.get("startTimestamp")) and not state.get("completed") and not state.get("failed")


# ---------------------------------------------------------------------------------------- VirtualMachineBackup
def mutate_backup(req: Request) -> None:
    if req.kind != "VirtualMachineBackup" or req.operation != "CREATE":
        return
    existing = _get(req.store, GROUP, "virtualmachinebackups", req.namespace, req.name)
    if existing is None:
        return
    message = f"The {req.name} {backup_type(existing)} is already existent. Please use another name for it."
    if backup_type(existing) != backup_type(req.obj):
        message = "VM Backup and Snapshot use same CRD - VirtualMachineBackup. " + message
    raise denied(MUTATOR, message)


def validate_backup(req: Request) -> None:
    if req.operation == "DELETE":
        for r in _list(req.store, GROUP, "virtualmachinerestores"):
            spec = r.get("spec") or {}
            if (spec.get("virtualMachineBackupNamespace"), spec.get("virtualMachineBackupName")) != (req.namespace, req.name):
                continue
            if not r["metadata"].get("deletionTimestamp") and condition(r, "InProgress").get("status") == "True":
                raise denied(VALIDATOR, f"vmrestore {r['metadata']['namespace']}/{r['metadata']['name']} is in progress",
                             code=500, reason="InternalError")
        return
    if req.operation == "UPDATE":
        old = (req.old["metadata"].get("annotations") or {}).get(SVM_BACKUP_ID)
        if (req.obj["metadata"].get("annotations") or {}).get(SVM_BACKUP_ID) != old:
            raise denied(VALIDATOR, f"annotation {SVM_BACKUP_ID} isn't allowed for updating")
        return
    backup = req.obj
    source = (backup.get("spec") or {}).get("source") or {}
    if not source.get("name"):
        raise invalid("source VM name is empty", "spec.source.name")
    if (backup.get("status") or {}).get("source") is None:  # a backup made here, not synced from a target
        vm = _get(req.store, "kubevirt.io", "virtualmachines", req.namespace, source["name"])
        if vm is None:
            raise invalid(not_found("kubevirt.io", "virtualmachines", source["name"]), "spec.source.name")
        if migrating(req.store, req.namespace, source["name"]):
            raise invalid(f"vm {req.namespace}/{source['name']} is in migration", "spec.source.name")
        for claim in vm_claims(vm):
            if _get(req.store, "", "persistentvolumeclaims", req.namespace, claim) is None:
                raise invalid(f"failed to get PVC {req.namespace}/{claim}: "
                              f"{not_found('', 'persistentvolumeclaims', claim)}", "spec.source.name")
    if backup_type(backup) == "snapshot":
        return
    if current_target(req.store) is None:
        raise invalid("backup target is not set", "spec.type")


# ---------------------------------------------------------------------------------------- VirtualMachineRestore
def _restore_backup(req: Request, spec: dict) -> dict:
    ns, name = spec.get("virtualMachineBackupNamespace") or "", spec.get("virtualMachineBackupName") or ""
    backup = _get(req.store, GROUP, "virtualmachinebackups", ns, name)
    field = "spec.virtualMachineBackupName"
    if backup is None:
        raise invalid(f"can't get vmbackup {ns}/{name}, err: {not_found(GROUP, 'virtualmachinebackups', name)}", field)
    if not is_ready(backup):
        raise invalid(f"VMBackup {ns}/{name} is not ready", field)
    kind = ((backup.get("spec") or {}).get("source") or {}).get("kind")
    if kind != "VirtualMachine":
        raise invalid(f"unsupported backup source kind: {kind}", field)
    if backup["metadata"].get("deletionTimestamp"):
        raise invalid(f"vmbackup {ns}/{name} is deleted", field)
    return backup


def _check_networks(req: Request, backup: dict) -> None:
    source = (backup.get("status") or {}).get("source") or {}
    for net in (((source.get("spec") or {}).get("template") or {}).get("spec") or {}).get("networks") or []:
        ref = ((net or {}).get("multus") or {}).get("networkName")
        if not ref:
            continue
        ns, slash, name = ref.rpartition("/")
        if _get(req.store, "k8s.cni.cncf.io", "network-attachment-definitions", ns if slash else "default", name) is None:
            raise invalid(f"failed to get network attachment definition {ref}, err: "
                          f"{not_found('k8s.cni.cncf.io', 'network-attachment-definitions', name)}",
                          "spec.virtualMachineBackupName")


def _check_type(req: Request, spec: dict, backup: dict) -> None:
    field = "spec.virtualMachineBackupName"
    replace_deleting = not spec.get("newVM") and spec.get("deletionPolicy") != RETAIN
    if backup_type(backup) == "snapshot":
        if req.namespace != backup["metadata"]["namespace"]:
            raise invalid("restore to other namespace with backup type snapshot is not supported", field)
        if replace_deleting:
            raise invalid("delete policy with backup type snapshot for replacing VM is not supported", field)
        return
    target = current_target(req.store)
    if target is None:
        raise invalid("backup target is not set", field)
    if not same_target((backup.get("status") or {}).get("backupTarget"), target):
        raise invalid(f"backup target {go_target(target)} is not matched in vmBackup "
                      f"{backup['metadata']['namespace']}/{backup['metadata']['name']}", field)
    if not replace_deleting:
        return
    snapshots = [b for b in _list(req.store, GROUP, "virtualmachinebackups") if backup_type(b) == "snapshot"]
    for vb in (backup.get("status") or {}).get("volumeBackups") or []:
        pvc = (vb.get("persistentVolumeClaim") or {}).get("metadata") or {}
        ref = f"{pvc.get('namespace')}/{pvc.get('name')}"
        users = [s["metadata"]["name"] for s in snapshots
                 if any(f"{(((v.get('persistentVolumeClaim') or {}).get('metadata')) or {}).get('namespace')}/"
                        f"{(((v.get('persistentVolumeClaim') or {}).get('metadata')) or {}).get('name')}" == ref
                        for v in (s.get("status") or {}).get("volumeBackups") or [])]
        if users:
            raise invalid(f'can\'t use delete policy, the volume "{ref}" is used by the VM Snapshot(s) {", ".join(users)}',
                          field)


def _check_new_vm(req: Request, spec: dict, backup: dict) -> None:
    target = spec["target"]["name"]
    vm = _get(req.store, "kubevirt.io", "virtualmachines", req.namespace, target)
    if spec.get("newVM"):
        if vm is not None:
            raise invalid(f"VM {target} is already exists", "spec.newVM")
        if not spec.get("keepMacAddress"):
            return
        backup_ref = (spec.get("virtualMachineBackupNamespace"), spec.get("virtualMachineBackupName"))
        for other in _list(req.store, GROUP, "virtualmachinerestores"):
            o = other.get("spec") or {}
            if (o.get("virtualMachineBackupNamespace"), o.get("virtualMachineBackupName")) == backup_ref \
                    and o.get("newVM") and o.get("keepMacAddress"):
                raise invalid(f"can't restore the new vm with the same macaddress as the vmrestore "
                              f"{other['metadata']['namespace']}/{other['metadata']['name']}", "spec.keepMacAddress")
        source_name = ((backup.get("spec") or {}).get("source") or {}).get("name", "")
        source = _get(req.store, "kubevirt.io", "virtualmachines", backup["metadata"]["namespace"], source_name)
        if source is not None and source["metadata"].get("uid") == (backup.get("status") or {}).get("sourceUID"):
            raise invalid("can't restore the new vm with the same macaddress because the source vm is still existent",
                          "spec.keepMacAddress")
        return
    if vm is None:
        raise invalid(f"can't replace nonexistent vm {target}", "spec.target.name")
    if (vm.get("status") or {}).get("ready"):
        raise invalid(f'Please stop the VM "{target}" before doing a restore', "spec.target.name")
    for other in _list(req.store, GROUP, "virtualmachinerestores", req.namespace):
        if ((other.get("spec") or {}).get("target") or {}).get("name") == target \
                and not other["metadata"].get("deletionTimestamp") and not (other.get("status") or {}).get("complete"):
            raise invalid(f"Please wait for the previous VM restore on the {req.namespace}/{target} to be complete first.",
                          "spec.target.name")


def validate_restore(req: Request) -> None:
    if req.operation == "DELETE":
        target = (((req.old or {}).get("spec") or {}).get("target") or {}).get("name", "")
        vm = _get(req.store, "kubevirt.io", "virtualmachines", req.namespace, target)
        if vm is not None and not vm["metadata"].get("deletionTimestamp"):
            raise invalid(f"The restore can't be removed because the restored VM {target} exists", "spec.target.name")
        return
    spec = req.obj.get("spec") or {}
    if req.operation == "UPDATE":
        if spec != (req.old.get("spec") or {}):
            raise invalid("VirtualMachineRestore spec is immutable", "spec")
        return
    target = (spec.get("target") or {}).get("name", "")
    if len(target) > 253 or not DNS1123_SUBDOMAIN.match(target):
        raise invalid(f"Target VM name is invalid, err: [{SUBDOMAIN_MSG}]", "spec.target.name")
    backup = _restore_backup(req, spec)
    _check_networks(req, backup)
    _check_type(req, spec, backup)
    _check_new_vm(req, spec, backup)


def register(chain: Chain) -> None:
    """Add this area's mutating and validating hooks to the chain."""
    chain.mutate_with(GROUP, "VirtualMachineBackup", mutate_backup)
    chain.validate_with(GROUP, "VirtualMachineBackup", validate_backup)
    chain.validate_with(GROUP, "VirtualMachineRestore", validate_restore)
