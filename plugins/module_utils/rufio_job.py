# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Rufio Job: BMC actions run one after another against a Rufio Machine (power, one-time boot
device), followed to its end. The flow of ``rufio_job``.

Facts (tinkerbell/tinkerbell v0.25.0 ``rufio/internal/controller/job.go``, ``task.go``, the Job CRD;
../shared/reference/tinkerbell.md §4):

- ``spec.machineRef{name, namespace}`` and ``spec.tasks[]`` (at least one), each task ONE of
  ``powerAction`` (on, off, soft, status, cycle, reset), ``oneTimeBootDeviceAction{device: [..],
  efiBoot}``, ``bootDevice``, ``virtualMediaAction``;
- the controller creates Tasks ``<job>-task-<index>`` (label ``owner-name: <job>``) one at a time;
  a Task ends with condition ``Completed`` or ``Failed`` (its message says why); the Job gets
  ``Running`` True at its start, then ``Completed`` True (with ``completionTime``) once every Task
  completed, or ``Failed`` True with ``task <ns>/<task> failed``; it never looks at a finished Job
  again. A Job is a one-off: it runs once.

So the module creates the Job when there is none; an existing Job with the same tasks is followed
(or left alone when it completed: its actions happened); a failed one, or one with other tasks,
is deleted (its Tasks go with it, owned) and created again -- a re-run retries, it never runs a
completed Job twice. On an Intel AMT Machine only ``on``, ``off`` and ``cycle`` and the ``pxe``
boot device work (bmclib's AMT provider).
"""

from __future__ import annotations

from . import kinds, validate, wait
from .errors import HarvesterError
from .progress import condition_time
from .reconcile import get_path
from .validate import ValidationError

POWER_ACTIONS = ("on", "off", "soft", "status", "cycle", "reset")
BOOT_DEVICES = ("pxe", "disk", "bios", "cdrom", "safe")
OWNER_LABEL = "owner-name"


class JobFailed(HarvesterError):
    def __init__(self, message, tasks=None):
        super().__init__(message)
        self.tasks = tasks or []

    def as_dict(self):
        return {"tasks": self.tasks}


def check(params):
    validate.name(params["name"], "name")
    validate.name(params["namespace"], "namespace")
    if params["state"] == "absent":
        return
    if not params.get("machine"):
        raise ValidationError("machine", "is required when state is present")
    validate.name(params["machine"], "machine")
    actions = params.get("actions") or []
    if not actions:
        raise ValidationError("actions", "is required when state is present (at least one action)")
    for index, action in enumerate(actions):
        kind, dummy, value = str(action).partition(":")
        if action in POWER_ACTIONS:
            continue
        if kind == "boot" and value in BOOT_DEVICES:
            continue
        choices = f"{', '.join(POWER_ACTIONS)} or boot:<device> ({', '.join(BOOT_DEVICES)})"
        raise ValidationError(f"actions[{index}]", f"{action!r} is not one of {choices}")
    if params["wait_timeout"] <= 0:
        raise ValidationError("wait_timeout", f"{params['wait_timeout']:g} must be more than 0")


def task(action, efi_boot):
    """One Rufio task from an action name: ``on`` -> powerAction, ``boot:pxe`` -> a one-time boot device."""
    if action.startswith("boot:"):
        return {"oneTimeBootDeviceAction": {"device": [action.partition(":")[2]], "efiBoot": bool(efi_boot)}}
    return {"powerAction": action}


def job(params):
    machine_ns = params.get("machine_namespace") or params["namespace"]
    return kinds.RUFIO_JOB.new(params["name"], params["namespace"], spec={
        "machineRef": {"name": params["machine"], "namespace": machine_ns},
        "tasks": [task(a, params["efi_boot"]) for a in params["actions"]]})


def condition(obj, type_):
    for cond in get_path(obj, ("status", "conditions")) or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return cond
    return None


def finished(obj):
    return obj is None or condition(obj, "Completed") is not None or condition(obj, "Failed") is not None


def state_of(obj):
    if obj is None:
        return "gone"
    for type_ in ("Failed", "Completed", "Running"):
        if condition(obj, type_):
            return type_.lower()
    return "pending"


def task_summaries(client, job_obj):
    """``[{name, action, state, message}]`` of the Job's Tasks, in index order."""
    meta = job_obj["metadata"]
    items = client.list(kinds.RUFIO_TASK.path(meta["namespace"]), label_selector=f"{OWNER_LABEL}={meta['name']}")
    out = []
    for item in sorted(items, key=lambda t: t["metadata"]["name"]):
        failed, completed = condition(item, "Failed"), condition(item, "Completed")
        out.append({"name": item["metadata"]["name"], "action": _describe_task(get_path(item, ("spec", "task")) or {}),
                    "state": "failed" if failed else "completed" if completed else "running",
                    "message": (failed or completed or {}).get("message") or ""})
    return out


def _describe_task(spec):
    if spec.get("powerAction"):
        return f"power {spec['powerAction']}"
    boot = spec.get("oneTimeBootDeviceAction") or spec.get("bootDevice")
    if boot:
        device = boot.get("device")
        return f"boot {device[0] if isinstance(device, list) and device else device}"
    return "other"


def _stage(client, label):
    """What the follow reports: each Task as it starts and ends, then the Job's end."""
    def stage(obj):
        said = []
        if obj is None:
            return None
        for item in task_summaries(client, obj):
            said.append(f"{label}: {item['name']} ({item['action']}) {item['state']}")
        state = state_of(obj)
        if state in ("completed", "failed"):
            said.append((f"{label}: {state}", condition_time(obj, state.capitalize())))
        return said
    return stage


def same_tasks(live, desired):
    return get_path(live, ("spec", "machineRef")) == get_path(desired, ("spec", "machineRef")) and \
        get_path(live, ("spec", "tasks")) == get_path(desired, ("spec", "tasks"))


def _delete(client, path, label, timeout):
    client.delete(path, propagation_policy="Foreground" if not client.dry_run else None, missing_ok=True)
    if not client.dry_run:
        wait.until(lambda: client.get(path, missing_ok=True), lambda o: o is None, timeout=timeout,
                   what=f"{label} to be deleted", describe=lambda o: "still there" if o else "gone")


def run(module):
    params = module.params
    check(params)
    client = module.client
    ns, name = params["namespace"], params["name"]
    path = kinds.RUFIO_JOB.path(ns, name)
    label = f"Job {ns}/{name}"
    live = client.get(path, missing_ok=True)
    result = {"changed": False, "job": live, "state": state_of(live) if live else "absent", "tasks": []}
    if params["state"] == "absent":
        if live is not None:
            result.update(changed=True, job=None, state="absent")
            result["diff"] = {"before": {"spec": live.get("spec")}, "after": {}}
            _delete(client, path, label, params["wait_timeout"])
        return result
    desired = job(params)
    rerun = live is not None and (not same_tasks(live, desired) or condition(live, "Failed") is not None)
    if live is None or rerun:
        result["diff"] = {"before": {"spec": live.get("spec")} if live else {}, "after": {"spec": desired["spec"]}}
        result.update(changed=True, state="created")
        if rerun:
            _delete(client, path, label, params["wait_timeout"])
            if client.dry_run:  # the old Job is still stored: a dry-run create would only meet it
                result["job"] = desired
                return result
        live = result["job"] = client.create(kinds.RUFIO_JOB.path(ns), desired)
        if client.dry_run:
            return result
    if not params["wait"]:
        return result
    final = wait.until(lambda: client.get(path, missing_ok=True), finished, first=live, timeout=params["wait_timeout"],
                       what=f"Rufio {label} to complete", describe=state_of, progress=client.progress,
                       stage=_stage(client, f"Rufio {label}"))
    if final is None:
        raise JobFailed(f"Rufio {label} was deleted while it ran")
    tasks = task_summaries(client, final)
    result.update(job=final, state=state_of(final), tasks=tasks)
    failed = condition(final, "Failed")
    if failed:
        why = "; ".join(f"{t['name']} ({t['action']}): {t['message']}" for t in tasks if t["state"] == "failed")
        raise JobFailed(f"Rufio {label} failed: {failed.get('message') or 'no message'}" + (f" -- {why}" if why else ""),
                        tasks=tasks)
    return result
