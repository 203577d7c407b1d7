# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restoring a Harvester VM from a backup or snapshot (VirtualMachineRestore): the flow of
``harvester_vm_restore``, which refuses before any write what Harvester would refuse, in words
that say what to do.

Facts (harvester pkg/webhook/resources/virtualmachinerestore/validator.go,
pkg/controller/master/backup/restore.go):

- ``spec.target`` names the VM (in the restore's namespace); ``virtualMachineBackupName`` /
  ``virtualMachineBackupNamespace`` the backup; ``newVM`` creates the VM, otherwise the existing
  one is replaced; ``deletionPolicy`` ``retain`` keeps the replaced VM's old volumes, anything else
  (Harvester's default, ``delete``) deletes them once the VM runs; ``keepMacAddress`` only with
  ``newVM``;
- the webhook needs the backup ready, a new VM's name free, a replaced VM existing and stopped
  (not ready) with no other restore on it unfinished; a snapshot cannot be restored into another
  namespace nor replace a VM with the delete policy; the spec never changes afterwards;
- the controller creates new PVCs from the backup, creates or rewrites the VM, **starts it**, and
  ends with ``status.complete: true`` and ``Ready`` True ("Operation complete"); an error is
  ``InProgress`` False reason ``Error`` with the message (Harvester retries; this module stops
  waiting and reports it).
"""

from __future__ import annotations

from . import kinds, progress, reconcile, validate
from .errors import HarvesterError
from .reconcile import Field
from .validate import ValidationError
from .vm_backup import backup_type, condition, error_message, is_ready
from .vm_backup import summary as backup_summary
from .wait import should_wait, until

KIND = kinds.VM_RESTORE
POLICIES = ("retain", "delete")
STOPPED = "Stopped"
POWER_MODULE = "homelab.harvester.harvester_vm_power"
# option -> path of the spec field it sets (the whole spec is immutable)
SPEC = {"vm": ("spec", "target", "name"), "backup": ("spec", "virtualMachineBackupName"),
        "backup_namespace": ("spec", "virtualMachineBackupNamespace"), "new_vm": ("spec", "newVM"),
        "deletion_policy": ("spec", "deletionPolicy"), "keep_mac_address": ("spec", "keepMacAddress")}
FIELDS = [Field(path) for path in SPEC.values()]


def check(params):
    """Every input check of harvester_vm_restore, before any request."""
    validate.subdomain(params["name"], "name")
    validate.name(params["namespace"], "namespace")
    validate.subdomain(params["backup"], "backup")
    if params.get("backup_namespace") is not None:
        validate.name(params["backup_namespace"], "backup_namespace")
    validate.subdomain(params["vm"], "vm")
    if params.get("keep_mac_address") and not params["new_vm"]:
        raise ValidationError("keep_mac_address", "only with new_vm=true (a replaced VM keeps its own MAC addresses)")
    validate.wait_timeout(params)


def backup_namespace(params):
    return params.get("backup_namespace") or params["namespace"]


def desired(params):
    return KIND.new(params["name"], params["namespace"], spec={
        "target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": params["vm"]},
        "virtualMachineBackupName": params["backup"], "virtualMachineBackupNamespace": backup_namespace(params),
        "newVM": bool(params["new_vm"]), "deletionPolicy": params["deletion_policy"],
        "keepMacAddress": bool(params.get("keep_mac_address"))})


def _ref(params):
    return f"VirtualMachineRestore {params['namespace']}/{params['name']}"


def check_same(live, body, params):
    """An existing restore of this name must be the same restore (its spec is immutable)."""
    for option, path in SPEC.items():
        have, want = reconcile.get_path(live, path), reconcile.get_path(body, path)
        if option in ("new_vm", "keep_mac_address"):
            have, want = bool(have), bool(want)
        elif option == "deletion_policy":
            have = have or "delete"
        if have != want:
            raise ValidationError(option, f"{_ref(params)} exists with {'.'.join(path[1:])} {have!r}, not {want!r}; "
                                          "a restore cannot change: choose another name")


# --- the checks Harvester would make, before the write --------------------------------------------
def check_backup(client, params):
    """The backup must exist and be ready; a snapshot stays in its namespace and cannot replace a
    VM with the delete policy. Returns it."""
    ns, name = backup_namespace(params), params["backup"]
    backup = client.get(kinds.VM_BACKUP.path(ns, name), missing_ok=True)
    what = f"VirtualMachineBackup {ns}/{name}"
    if backup is None:
        raise ValidationError("backup", f"{what} not found")
    if backup["metadata"].get("deletionTimestamp"):
        raise ValidationError("backup", f"{what} is being deleted")
    if not is_ready(backup):
        error = error_message(backup)
        if error:
            raise ValidationError("backup", f"{what} failed and cannot be restored: {error}")
        raise ValidationError("backup", f"{what} is not ready to use yet ({backup_summary(backup)}); wait for it "
                                        "(homelab.harvester.harvester_vm_backup with wait: true)")
    if backup_type(backup) == "snapshot":
        if ns != params["namespace"]:
            raise ValidationError("backup_namespace", f"{what} is a snapshot, which can only be restored in its own "
                                                      f"namespace ({ns}), not in {params['namespace']}")
        if not params["new_vm"] and params["deletion_policy"] == "delete":
            raise ValidationError("deletion_policy", f"{what} is a snapshot, and Harvester cannot replace a VM from a "
                                                     "snapshot with deletion_policy=delete (the snapshot needs the old "
                                                     "volumes); use retain")
    return backup


def check_target(client, params):
    """A new VM's name must be free; a VM to replace must exist and be stopped."""
    ns, name = params["namespace"], params["vm"]
    vm = client.get(kinds.VIRTUAL_MACHINE.path(ns, name), missing_ok=True)
    what = f"VirtualMachine {ns}/{name}"
    if params["new_vm"]:
        if vm is not None:
            raise ValidationError("vm", f"{what} already exists; new_vm=true creates the VM, so give a name no VM has, "
                                        "or set new_vm=false to replace this VM")
        return
    if vm is None:
        raise ValidationError("vm", f"{what} not found; set new_vm=true to create it from the backup")
    status = vm.get("status") or {}
    shown = status.get("printableStatus") or "in an unknown state"
    if status.get("ready") or shown != STOPPED:
        raise ValidationError("vm", f"{what} is {shown}; Harvester only replaces a stopped VM: stop it first: "
                                    f"{POWER_MODULE} (state: stopped)")


# --- waiting -------------------------------------------------------------------------------------
def is_complete(obj):
    return ((obj or {}).get("status") or {}).get("complete") is True


def failure(obj):
    if obj is None:
        return "the restore was deleted"
    c = condition(obj, "InProgress")
    return f"Harvester reports: {c.get('message')}" if c.get("reason") == "Error" else None


def stage(obj):
    """What a wait on a restore reports: Harvester's percent, then complete."""
    return progress.percent(KIND.kind, obj, is_complete, "complete", "Ready")


def summary(obj):
    if obj is None:
        return "no such restore"
    done = ((obj.get("status") or {}).get("progress"))
    c = condition(obj, "Ready")
    shown = f"progress {done}%, " if done is not None else ""
    return shown + (c.get("message") or "not picked up by Harvester yet")


# --- the flow ----------------------------------------------------------------------------------
def task(module):
    """harvester_vm_restore's ``run(module)``: ``check`` before the client exists (bad input makes
    no request), then ``run``."""
    check(module.params)
    return run(module.client, module.params)


def run(client, params, sleep=None):
    """Create the restore (after the checks) or find the same one, then wait until complete."""
    ns, name = params["namespace"], params["name"]
    path = KIND.path(ns, name)
    body = desired(params)
    live = client.get(path, missing_ok=True)
    if live is not None:
        if live["metadata"].get("deletionTimestamp"):
            raise HarvesterError(f"{_ref(params)} is being deleted; run again once it is gone")
        check_same(live, body, params)
        obj, changed = live, False
        view = reconcile.managed_view(live, FIELDS)
        diff = {"before": view, "after": view}
    else:
        check_backup(client, params)
        check_target(client, params)
        obj, changed = client.create(KIND.path(ns), body), True
        diff = {"before": {}, "after": reconcile.managed_view(body, FIELDS)}
    if should_wait(client, params):
        obj = until(lambda: client.get(path, missing_ok=True), is_complete, first=obj, timeout=params["wait_timeout"],
                    what=f"{_ref(params)} to complete", failed=failure, describe=summary, sleep=sleep,
                    progress=client.progress, stage=stage)
    return {"changed": changed, "restore": obj, "complete": is_complete(obj), "diff": diff}
