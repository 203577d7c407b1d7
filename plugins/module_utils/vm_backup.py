# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups and snapshots of Harvester VMs: what a VirtualMachineBackup is, and the flows of
``harvester_vm_backup`` (one backup, present or absent, then optionally the VM's older backups
beyond ``keep``) and ``harvester_vm_backup_info`` (the backups of a namespace, newest first, with
the ones a retention rule lets go).

Facts (harvester pkg/apis/harvesterhci.io/v1beta1/backup.go, pkg/webhook/resources/virtualmachinebackup,
pkg/controller/master/backup):

- ``spec.source`` names the VM (``kubevirt.io`` ``VirtualMachine``, same namespace); ``spec.type``
  is ``backup`` (the volumes go to the backup target, the ``backup-target`` setting) or
  ``snapshot`` (Longhorn snapshots inside the cluster, no target needed). Backups and snapshots
  share the kind, so a name is taken by either ("... is already existent");
- the webhook refuses a ``backup`` while the backup-target setting is unset ("backup target is not
  set"); this module checks that before writing, so nothing is sent;
- the controller records the VM (``status.source``, ``sourceUID``), one ``volumeBackups`` entry per
  PVC, the target (``status.backupTarget``), reports ``status.progress`` (size-weighted, backups
  only), and ends with ``status.readyToUse: true`` and conditions ``Ready`` True /
  ``InProgress`` False ("Operation complete"), or with ``status.error.message`` and
  ``InProgress`` False reason ``Error``; a failed backup stays failed;
- nothing in a backup's spec can usefully change: a name that exists for another VM or type fails
  here, naming the option. Labels can change.
- deleting a backup removes its data from the target (Harvester's finalizer), which needs the
  target to be reachable.
"""

from __future__ import annotations

import json

from . import kinds, progress, reconcile, validate
from .errors import HarvesterError
from .objects import condition
from .reconcile import Field
from .validate import ValidationError
from .vm import label_selector
from .wait import should_wait, until

KIND = kinds.VM_BACKUP
TYPES = ("backup", "snapshot")
DEFAULT_TYPE = "backup"
# The options naming a series of backups (one VM's, of one type) and how many of it to keep: what
# harvester_vm_backup makes and prunes, what harvester_vm_backup_info lists and calls expired.
SERIES_ARGS = {"vm": {"type": "str"}, "type": {"type": "str", "choices": list(TYPES)}, "keep": {"type": "int"}}
TARGET_SETTING = "backup-target"
READY, IN_PROGRESS, FAILED = "ready", "in_progress", "failed"
ENTRY_KEYS = ("name", "namespace", "vm", "type", "state", "ready_to_use", "progress", "error", "created",
              "ready_at", "labels", "backup_target")


# --- reading a backup ----------------------------------------------------------------------------
def source_vm(obj):
    return (((obj or {}).get("spec") or {}).get("source") or {}).get("name")


def backup_type(obj):
    return ((obj or {}).get("spec") or {}).get("type") or DEFAULT_TYPE


def _status(obj):
    return (obj or {}).get("status") or {}


def is_ready(obj):
    """Harvester's verdict: ``status.readyToUse`` is true."""
    return _status(obj).get("readyToUse") is True


def error_message(obj):
    """The failure Harvester recorded (``status.error.message``), with the volumes' own errors."""
    error = (_status(obj).get("error") or {}).get("message")
    if not error:
        return None
    volumes = [f"volume {vb.get('volumeName') or vb.get('name')}: {vb['error']['message']}"
               for vb in _status(obj).get("volumeBackups") or [] if (vb.get("error") or {}).get("message")]
    return f"{error} ({'; '.join(volumes)})" if volumes else error


def state(obj):
    if is_ready(obj):
        return READY
    return FAILED if _status(obj).get("error") else IN_PROGRESS


def summary(obj):
    """One line for wait messages."""
    if obj is None:
        return "no such backup"
    done = _status(obj).get("progress")
    shown = f"progress {done}%, " if done is not None else ""
    c = condition(obj, "InProgress")
    return shown + (f"InProgress={c.get('status')} ({c.get('message') or c.get('reason') or ''})" if c
                    else "not picked up by Harvester yet")


def stage(obj):
    """What a wait on a backup reports: Harvester's percent, then ready to use."""
    return progress.percent(KIND.kind, obj, is_ready, "ready to use", "Ready")


def failure(obj):
    if obj is None:
        return "the backup was deleted"
    error = error_message(obj)
    return f"Harvester reports: {error}" if error else None


# --- input ----------------------------------------------------------------------------------------
def check(params):
    """Every input check of harvester_vm_backup, before any request."""
    validate.subdomain(params["name"], "name")
    validate.name(params["namespace"], "namespace")
    if params.get("vm") is not None:
        validate.subdomain(params["vm"], "vm")
    validate.wait_timeout(params)
    if params["state"] == "absent":
        for option in ("labels", "keep"):
            if params.get(option) is not None:
                raise ValidationError(option, "only with state=present")
        return
    if params.get("keep") is not None:
        if params["keep"] < 1:
            raise ValidationError("keep", f"{params['keep']} must be 1 or more (0 would delete the backup just made)")
        if not any(v is not None for v in (params.get("labels") or {}).values()):
            raise ValidationError("keep", "needs labels: only the VM's backups that carry the labels given count "
                                          "(and are deleted), never a backup some other rule made")
    if params.get("vm") is None:
        raise ValidationError("vm", "is required when state is present")
    if params.get("labels") is not None:
        validate.labels(params["labels"])


def desired(params):
    body = KIND.new(params["name"], params["namespace"], spec={
        "type": params.get("type") or DEFAULT_TYPE,
        "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": params["vm"]}})
    reconcile.set_labels(body["metadata"], params.get("labels"))
    return body


def fields(params):
    """What the diff shows: the VM and type (never patched: checked first), the labels given."""
    return [Field(("spec", "source", "name")), Field(("spec", "type"), normalise=lambda v: v or DEFAULT_TYPE),
            *reconcile.label_fields(params.get("labels"))]


def _ref(params):
    return f"VirtualMachineBackup {params['namespace']}/{params['name']}"


def check_same(live, params, want_type):
    """The existing backup must be of the VM and type asked for (a backup cannot change);
    ``None`` for either checks nothing about it."""
    if params.get("vm") is not None and source_vm(live) != params["vm"]:
        raise ValidationError("vm", f"{_ref(params)} exists and is of VM {source_vm(live)}, not {params['vm']}; "
                                    "a backup cannot change: choose another name")
    if want_type and backup_type(live) != want_type:
        raise ValidationError("type", f"{_ref(params)} exists and is a {backup_type(live)}, not a {want_type} "
                                      "(backups and snapshots share their names): choose another name")


def target_configured(value):
    """False when the backup-target setting holds Harvester's default (nothing set)."""
    if not value:
        return False
    try:
        target = json.loads(value)
    except ValueError:
        return True  # not ours to judge: Harvester's webhook will
    return not isinstance(target, dict) or any(target.values())


def require_target(client):
    setting = client.get(kinds.HARVESTER_SETTING.path(name=TARGET_SETTING), missing_ok=True) or {}
    if not target_configured(setting.get("value")):
        raise ValidationError("type", "backup needs a backup target, and Harvester's backup-target setting is not set; "
                                      "set it (homelab.harvester.harvester_setting, name backup-target, an NFS or S3 "
                                      "target) or take a snapshot (type: snapshot, kept inside the cluster)")


# --- the flow of harvester_vm_backup -------------------------------------------------------------
def task(module):
    """harvester_vm_backup's ``run(module)``: ``check`` before the client exists (bad input makes
    no request), then ``run``."""
    check(module.params)
    return run(module.client, module.params)


def run(client, params, sleep=None):
    """Present: create the backup (or patch its labels) and wait until it is ready to use;
    absent: delete it and wait until Harvester has removed its data. Returns the module result."""
    ns, name, timeout = params["namespace"], params["name"], params["wait_timeout"]
    path = KIND.path(ns, name)
    managed = fields(params)
    if params["state"] == "absent":
        if params.get("vm") is not None or params.get("type"):
            live = client.get(path, missing_ok=True)
            if live is not None:
                check_same(live, params, params.get("type"))
        changed, dummy, dummy2, diff = reconcile.ensure_absent(client, KIND, ns, name, fields=managed,
                                                               wait=params["wait"], delete_timeout=timeout)
        return {"changed": changed, "diff": diff}
    body = desired(params)
    live = client.get(path, missing_ok=True)
    if live is not None and live["metadata"].get("deletionTimestamp"):
        raise HarvesterError(f"{_ref(params)} is being deleted; run again once it is gone")
    if live is None:
        if backup_type(body) == "backup":
            require_target(client)
        obj = client.create(KIND.path(ns), body)
        changed, diff = True, {"before": {}, "after": reconcile.managed_view(body, managed)}
    else:
        check_same(live, params, backup_type(body))
        obj, changed = live, False
        diff = {"before": reconcile.managed_view(live, managed), "after": reconcile.managed_view(live, managed)}
        if reconcile.differing(body, live, managed):
            changed, dummy, obj, diff = reconcile.ensure_present(client, KIND, body, fields=managed)
    if should_wait(client, params):
        obj = until(lambda: client.get(path, missing_ok=True), is_ready, first=obj, timeout=timeout,
                    what=f"{_ref(params)} to be ready to use", failed=failure, describe=summary, sleep=sleep,
                    progress=client.progress, stage=stage)
    result = {"changed": changed, "backup": obj, "ready_to_use": is_ready(obj), "diff": diff}
    if params.get("keep") is not None:
        result["expired"] = prune(client, params, obj, sleep=sleep)
        result["changed"] = changed or bool(result["expired"])
    return result


# --- retention: harvester_vm_backup keep ----------------------------------------------------------
def counted(client, params, obj):
    """The backups a retention rule of this task counts, newest first: those of its VM and type that
    carry every label given (a label given as null is not asked for). In check mode this task's
    backup was not stored, or not waited on: it is counted as the real run would see it after its
    wait (ready; in progress with ``wait: false``), so check mode names what the real run deletes.
    A backup the real run sees fail stops it before any deletion."""
    wanted = {k: v for k, v in (params.get("labels") or {}).items() if v is not None}
    found = listing(client, {"namespace": params["namespace"], "vm": params["vm"], "type": backup_type(obj)})["backups"]
    entries = [e for e in found if all(e["labels"].get(k) == v for k, v in wanted.items())]
    if not client.dry_run:  # check mode: count this task's backup as the real run would (see above)
        return entries
    this = entry(obj)
    if params["wait"] and this["state"] == IN_PROGRESS:
        this["state"] = READY
    names = [e["name"] for e in entries]
    if this["name"] in names:
        entries[names.index(this["name"])] = this
    else:
        entries.insert(0, this)  # made now: the newest
    return entries


def prune(client, params, obj, sleep=None):
    """Delete the backups ``counted`` beyond the ``keep`` newest ready ones (``expired``), waiting
    for each to be gone with ``wait``; in check mode, the same deletes with ``dryRun=All`` (the
    client). Returns the entries deleted (or that would be)."""
    gone = expired(counted(client, params, obj), params["keep"])
    for e in gone:
        reconcile.ensure_absent(client, KIND, e["namespace"], e["name"], wait=params["wait"],
                                delete_timeout=params["wait_timeout"], sleep=sleep)
    return gone


# --- the flow of harvester_vm_backup_info --------------------------------------------------------
def info_task(module):
    """harvester_vm_backup_info's ``run(module)``: ``check_info`` before any request, then the
    ``listing``."""
    check_info(module.params)
    return listing(module.client, module.params)


def check_info(params):
    validate.name(params["namespace"], "namespace")
    if params.get("vm") is not None:
        validate.subdomain(params["vm"], "vm")
    if params.get("label_selector") is not None:
        if not params["label_selector"].strip():
            raise ValidationError("label_selector", "must not be empty (leave it out to list every backup)")
        label_selector(params["label_selector"])
    if params.get("keep") is not None and params["keep"] < 0:
        raise ValidationError("keep", f"{params['keep']} must be 0 or more")


def entry(obj):
    """One backup as the info module returns it."""
    meta, status = obj.get("metadata") or {}, _status(obj)
    return {"name": meta.get("name"), "namespace": meta.get("namespace"), "vm": source_vm(obj), "type": backup_type(obj),
            "state": state(obj), "ready_to_use": is_ready(obj), "progress": status.get("progress"),
            "error": error_message(obj), "created": meta.get("creationTimestamp"), "ready_at": status.get("creationTime"),
            "labels": meta.get("labels") or {}, "backup_target": (status.get("backupTarget") or {}).get("endpoint")}


def expired(entries, keep):
    """Per VM (entries newest first): every backup older than its ``keep`` newest ready ones,
    except those still in progress."""
    out, ready_seen = [], {}
    for e in entries:
        vm = f"{e['namespace']}/{e['vm']}"
        if ready_seen.get(vm, 0) >= keep and e["state"] != IN_PROGRESS:
            out.append(e)
        elif e["state"] == READY:
            ready_seen[vm] = ready_seen.get(vm, 0) + 1
    return out


def listing(client, params):
    """The backups selected by namespace, label selector, VM and type, newest first."""
    scope = None if params.get("all_namespaces") else params["namespace"]
    items = client.list(KIND.path(scope), label_selector=params.get("label_selector"))
    items = [o for o in items if (params.get("vm") is None or source_vm(o) == params["vm"])
             and (not params.get("type") or backup_type(o) == params["type"])]
    items.sort(key=lambda o: (o["metadata"].get("creationTimestamp") or "", o["metadata"]["name"]), reverse=True)
    entries = [entry(o) for o in items]
    by_vm = {}
    for e in entries:
        by_vm.setdefault(f"{e['namespace']}/{e['vm']}", []).append(e["name"])
    result = {"changed": False, "backups": entries, "by_vm": by_vm}
    if params.get("keep") is not None:
        result["expired"] = expired(entries, params["keep"])
    return result
