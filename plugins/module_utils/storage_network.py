# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Harvester's ``storage-network`` setting with everything a change needs around it, the flow of
``harvester_storage_network``:

    result = storage_network.run(client, params)

Harvester refuses a storage-network change while any VM runs (or a non-system Longhorn volume is
still attached): "Please stop all VMs before configuring the storage-network setting". With
``stop_vms`` this module stops them, applies the setting, waits until Harvester has finished
(``configured`` True, reason Completed) and starts them again. What makes that safe to interrupt
at any point, and to retry after any lost answer:

- **The mark is written with the stop.** One merge patch per VM (with its resourceVersion) sets
  ``runStrategy: Halted`` (as Harvester's Stop does), the label ``homelab.harvester/stopped-for:
  storage-network`` (the reason) and the annotation ``homelab.harvester/restore-run-strategy``
  (the strategy to start it with). There is no moment at which a VM is stopped by us but not
  marked, and the list of VMs to start again lives on the cluster, not in a process's memory: a
  stop whose answer was lost (stored, then a 409 on the repeat), a Ctrl-C or a crash cannot make
  a VM "already stopped" and forgotten.
- **Every run finishes what an earlier one left.** The marked VMs are found with the label
  selector; once the setting holds the planned value and Harvester reports it Completed, each is
  started with its recorded strategy and unmarked in the same patch (again one patch with its
  resourceVersion: a repeat after a lost answer finds the mark gone and writes nothing more).
- A refusal of the value itself (Harvester's webhook, after the VMs were stopped) starts the VMs
  again at once and fails: nothing was applied. A failure or timeout after the value was stored
  leaves them stopped and marked; the message says so, and the next run starts them once
  Harvester reports Completed.

Without ``stop_vms`` a change while VMs run is refused before any write, as a structured result:
``refused_by: running_vms`` and the VMs (``vms``), no text to match.
"""

from __future__ import annotations

import time

from . import harvester_settings, kinds, vm_power
from . import setting_objects as so
from . import vm as kubevirt
from .errors import ApiError, Conflict, HarvesterError
from .progress import condition_time
from .retry import on_conflict
from .validate import ValidationError, positive
from .wait import until

SETTING = "storage-network"
MARK_LABEL = "homelab.harvester/stopped-for"
MARK_REASON = "storage-network"
RESTORE_ANNOTATION = "homelab.harvester/restore-run-strategy"
SELECTOR = f"{MARK_LABEL}={MARK_REASON}"
REFUSED_BY_RUNNING_VMS = "running_vms"
# Harvester's answers while VMs run or their volumes are still attached (storage-network webhook):
# after our own stop, Longhorn takes a few seconds to detach the volumes.
_WAIT_FOR_WORKLOADS = ("stop all vms", "stop all workloads")
APPLY_INTERVAL = 2.0
_OPTIONS = {"vlan": "vlan", "clusterNetwork": "cluster_network", "range": "range", "exclude": "exclude"}


class StorageNetworkRefused(HarvesterError):
    """The change was not made: ``refused_by`` says why (``running_vms``), ``vms`` which VMs."""

    def __init__(self, message, refused_by, vms=(), steps=()):
        super().__init__(message)
        self.refused_by, self.vms, self.steps = refused_by, list(vms), list(steps)

    def as_dict(self):
        return {"refused_by": self.refused_by, "vms": self.vms, "steps": self.steps}


class StorageNetworkFailed(HarvesterError):
    """A step failed after this run wrote something: ``steps`` done so far, ``vms`` touched."""

    def __init__(self, message, cause, vms, steps):
        super().__init__(message)
        self.cause, self.vms, self.steps = cause, list(vms), list(steps)

    def as_dict(self):
        return dict(self.cause.as_dict(), changed=bool(self.steps), vms=self.vms, steps=self.steps)


# --- input ---------------------------------------------------------------------------------------
def desired_value(params):
    """The setting's value for ``params`` (``None``: disabled, with ``state=absent``)."""
    if params["state"] == "absent":
        return None
    return {"vlan": params["vlan"], "clusterNetwork": params["cluster_network"], "range": params["range"],
            "exclude": list(params.get("exclude") or [])}


def check(params):
    """Every input check, before any request; ``ValidationError`` names the option."""
    positive(params.get("wait_timeout"), "wait_timeout")
    if params["state"] == "absent":
        for option in ("vlan", "range", "exclude"):
            if params.get(option):
                raise ValidationError(option, "is not used with state=absent (the storage network is disabled)")
        return
    for option in ("vlan", "range"):
        if params.get(option) is None:
            raise ValidationError(option, "is required with state=present")
    for problem in harvester_settings.network_problems(desired_value(params), ""):
        where, dummy, message = problem.partition(": ")
        field = where.lstrip(".")
        head, bracket, rest = field.partition("[")
        raise ValidationError(_OPTIONS.get(head, head) + bracket + rest, message)


# --- reading the cluster --------------------------------------------------------------------------
def _setting_path():
    return kinds.HARVESTER_SETTING.path(None, SETTING)


def read_vms(client):
    """Every VM and VMI of the cluster: ``{key: vm}``, ``{key: vmi}``."""
    return kubevirt.read(client, [None])


def is_marked(vm):
    return ((vm.get("metadata") or {}).get("labels") or {}).get(MARK_LABEL) == MARK_REASON


def restore_strategy(vm):
    """The run strategy a marked VM starts with: the recorded one when it starts a VM by itself."""
    recorded = ((vm.get("metadata") or {}).get("annotations") or {}).get(RESTORE_ANNOTATION)
    return recorded if recorded in kubevirt.STARTABLE else kubevirt.DEFAULT_START


def not_stopped(vms, vmis):
    """Keys of the VMs Harvester would not count as stopped, sorted."""
    return sorted(k for k, vm in vms.items() if not kubevirt.is_stopped(vm, vmis.get(k)))


def configured(obj):
    """``(done, failure message)`` of Harvester's storage-network controller for the setting as it is."""
    return so.harvester_state(SETTING, obj, None)


def stage(obj):
    cond = so.condition(obj, "configured")
    if not cond:
        return None
    text = cond.get("reason") or cond.get("status")
    if cond.get("message") and cond.get("status") != "True":
        text += f" ({cond['message']})"
    return (f"{SETTING}: {text}", condition_time(obj, "configured"))


# --- writes ----------------------------------------------------------------------------------------
def stop_patch(vm, vmi):
    """Halted (as Harvester's Stop), marked and its strategy recorded, in one patch; ``None`` when
    it needs no stop."""
    patch = vm_power.plan("stopped", vm, vmi)
    if patch is None:
        return None
    patch["metadata"].setdefault("labels", {})[MARK_LABEL] = MARK_REASON
    patch["metadata"].setdefault("annotations", {})[RESTORE_ANNOTATION] = kubevirt.run_strategy(vm)
    return patch


def start_patch(vm, vmi):
    """Started with its recorded strategy and unmarked, in one patch (only unmarked when it runs
    already); ``None`` when it is not marked."""
    if not is_marked(vm):
        return None
    try:
        patch = vm_power.plan("running", vm, vmi, restore_strategy(vm))
    except vm_power.NotStartable:
        patch = None  # not Halted any more: someone else decided; only the mark goes
    if patch is None:
        patch = {"metadata": {"resourceVersion": (vm.get("metadata") or {}).get("resourceVersion")}}
    patch["metadata"].setdefault("labels", {})[MARK_LABEL] = None
    patch["metadata"].setdefault("annotations", {})[RESTORE_ANNOTATION] = None
    return patch


def _patch_vm(client, vm_key, vm, vmi, build):
    """One VM's patch from ``build(vm, vmi)``; a 409 re-reads and builds again. Returns the patch
    stored (also one whose answer was lost: the repeat's 409 and the re-read tell), or ``None``."""
    path = kinds.VIRTUAL_MACHINE.path(*vm_key)
    current, lost = [vm, vmi], []

    def attempt():
        patch = build(*current)
        if patch is None:
            return lost[0] if lost else None
        try:
            client.merge_patch(path, patch)
        except Conflict as e:
            if e.maybe_stored and not lost:
                lost.append(patch)
            current[:] = [client.get(path, missing_ok=True), client.get(kinds.VMI.path(*vm_key), missing_ok=True)]
            if current[0] is None:
                return lost[0] if lost else None
            raise
        return patch
    return on_conflict(attempt)


# --- the flow ----------------------------------------------------------------------------------------
class Run:
    """One run of the module: what it did (``steps``), to which VMs (``touched``)."""

    def __init__(self, client, params, sleep=None, clock=None):
        # Check mode is the client's (its writes are dry runs). A dry run stores nothing, so this flow
        # cannot wait for what it wrote and reports instead what it would do: each branch on
        # dry_run below is one of those predictions or skipped waits.
        self.client, self.params, self.dry_run = client, params, client.dry_run
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.timeout = float(params.get("wait_timeout") or 600)
        self.steps = []
        self.touched = {}  # key -> {"namespace", "name", "stopped", "started", "run_strategy"}
        self.wrote = self.applied = False
        self.marked = []  # VMs an earlier run stopped and marked

    def step(self, name, **extra):
        self.steps.append(dict(step=name, **extra))

    def entry(self, vm_key, strategy):
        return self.touched.setdefault(vm_key, {"namespace": vm_key[0], "name": vm_key[1], "stopped": False,
                                                "started": False, "run_strategy": strategy})

    def vm_list(self):
        return [self.touched[k] for k in sorted(self.touched)]

    def stopped_here(self):
        return sorted(k for k, t in self.touched.items() if t["stopped"])

    # --- stopping ----------------------------------------------------------------------------------
    def stop(self, vms, vmis, keys):
        """Stop and mark the VMs of ``keys`` that run (those already stopping are only waited for)."""
        written = []
        for vm_key in keys:
            if _patch_vm(self.client, vm_key, vms[vm_key], vmis.get(vm_key), stop_patch) is not None:
                self.wrote = True
                self.entry(vm_key, kubevirt.run_strategy(vms[vm_key]))["stopped"] = True
                written.append(kubevirt.ref(vm_key))
        self.step("stop_vms", vms=written)
        if not self.dry_run:  # a dry-run stop leaves them running
            self.wait_vms(keys, "stopped")

    def wait_vms(self, keys, state):
        """Until every VM of ``keys`` is stopped (running), reporting how many are."""
        def read():
            vms, vmis = read_vms(self.client)
            return {k: (vms.get(k), vmis.get(k)) for k in keys}

        def reached(seen):
            return [k for k in keys if seen[k][0] is None or kubevirt.reached(state, *seen[k])]

        def summary(seen):
            return "; ".join(f"{kubevirt.ref(k)} {kubevirt.describe(*seen[k])}" for k in keys if k not in reached(seen))
        verb = "stopped" if state == "stopped" else "started"
        until(read, lambda seen: len(reached(seen)) == len(keys), timeout=self.timeout, describe=summary,
              what=f"{len(keys)} VM(s) to be {state}", interval=0.5, sleep=self.sleep, clock=self.clock,
              progress=self.client.progress, stage=lambda seen: f"{SETTING}: VMs {verb} {len(reached(seen))}/{len(keys)}")

    # --- the setting --------------------------------------------------------------------------------
    def apply(self, wire):
        """The setting patched to ``wire``; refusals for VMs or attached volumes retried (until the
        timeout) while Longhorn detaches the volumes of the VMs just stopped."""
        deadline = self.clock() + self.timeout
        while True:
            try:
                outcome = so.apply_value(self.client, kinds.HARVESTER_SETTING, None, SETTING, wire,
                                         lambda stored: harvester_settings.same(SETTING, stored, wire))
            except ApiError as e:
                waiting = any(text in (e.message or "").lower() for text in _WAIT_FOR_WORKLOADS)
                # a dry run stopped no VM, so no refusal for running VMs would ever clear
                if not waiting or self.dry_run or self.clock() >= deadline:
                    raise
                self.sleep(APPLY_INTERVAL)
                continue
            if outcome.changed:
                self.wrote = self.applied = True
                self.step("apply")
                if not self.dry_run:  # nothing applied to report
                    self.client.progress.report(f"{SETTING}: setting applied")
            return outcome.after

    def wait_configured(self, first):
        verdict = {}

        def done(obj):
            verdict["ok"], verdict["failure"] = configured(obj)
            return verdict["ok"]
        obj = until(lambda: self.client.get(_setting_path()), done, first=first, timeout=self.timeout,
                    what=f"Harvester to configure setting {SETTING}", failed=lambda obj: verdict.get("failure"),
                    describe=so.harvester_summary, sleep=self.sleep, clock=self.clock,
                    progress=self.client.progress, stage=stage)
        if self.applied:
            self.step("configured")
        return obj

    # --- starting ------------------------------------------------------------------------------------
    def start_marked(self):
        """Start every marked VM with its recorded strategy and unmark it; wait until they run. In
        check mode also the VMs this run would have stopped (only predicted: they run now)."""
        vms = {kubevirt.key(vm): vm for vm in self.client.list(kinds.VIRTUAL_MACHINE.path(None), label_selector=SELECTOR)}
        predicted = [k for k in self.stopped_here() if k not in vms] if self.dry_run else []  # "would start"
        if not vms and not predicted:
            return
        vmis = {kubevirt.key(vmi): vmi for vmi in self.client.list(kinds.VMI.path(None))} if vms else {}
        started, starting = [kubevirt.ref(k) for k in predicted], []
        for vm_key in sorted(vms):
            patch = _patch_vm(self.client, vm_key, vms[vm_key], vmis.get(vm_key), start_patch)
            if patch is None:
                continue
            self.wrote = True
            if "spec" in patch:  # a start; without it only the mark went (someone else started it)
                starting.append(vm_key)
                self.entry(vm_key, restore_strategy(vms[vm_key]))["started"] = True
                started.append(kubevirt.ref(vm_key))
        for vm_key in predicted:
            self.entry(vm_key, kubevirt.run_strategy(vms.get(vm_key) or {}))["started"] = True
        self.step("start_vms", vms=sorted(started))
        if starting and not self.dry_run:  # a dry-run start leaves them stopped
            self.wait_vms(starting, "running")

    # --- the whole sequence --------------------------------------------------------------------------
    def run(self):
        wanted = desired_value(self.params)
        wire = harvester_settings.serialise(wanted)
        live = self.client.get(_setting_path())
        before = live.get("value") or ""
        matches = harvester_settings.same(SETTING, before, wire)
        vms, vmis = read_vms(self.client)
        marked = self.marked = sorted(k for k, vm in vms.items() if is_marked(vm))
        busy = not_stopped(vms, vmis)
        after = live
        if not matches:
            if busy and not self.params["stop_vms"]:
                pending = (f"; {len(marked)} VM(s) stopped for it by an earlier run stay stopped until it is applied"
                           if marked else "")
                raise StorageNetworkRefused(
                    f"{SETTING} not applied: Harvester refuses to change it while VMs run ({kubevirt.shown(busy)}); "
                    f"stop them, or set stop_vms=true to let this module stop them and start them again{pending}; "
                    "nothing was changed", REFUSED_BY_RUNNING_VMS, [kubevirt.ref(k) for k in busy])
            try:
                if busy:
                    self.stop(vms, vmis, busy)
                if self.dry_run and busy:
                    self.wrote = True
                    self.step("apply")  # Harvester judges the value only once the VMs are stopped
                else:
                    after = self.apply(wire)
            except HarvesterError as e:
                self.recover(e, applied=False)
        if not self.dry_run and (self.applied or marked):  # a dry run configures nothing to wait for
            try:
                after = self.wait_configured(after)
            except HarvesterError as e:
                self.recover(e, applied=True)
        if marked or self.stopped_here():
            try:
                self.start_marked()
            except HarvesterError as e:
                self.recover(e, applied=True)
        # in check mode the value it would set, and no verdict of Harvester's yet
        value = wanted if self.dry_run else (so.json_view(after.get("value") or "") or None)
        return {
            "changed": self.wrote,
            "value": value,
            "configured": None if self.dry_run else configured(after)[0],
            "vms": self.vm_list(),
            "steps": self.steps,
            "diff": {"before": _view(so.json_view(before)), "after": _view(wanted)},
        }

    def recover(self, error, applied):
        """A step failed. Not applied: the VMs this run stopped start again at once. Applied: they
        stay stopped and marked for the next run. Raises ``StorageNetworkFailed`` when this run
        wrote anything, else the error itself."""
        waiting = sorted({kubevirt.ref(k) for k, t in self.touched.items() if t["stopped"] and not t["started"]}
                         | {kubevirt.ref(k) for k in self.marked if not self.touched.get(k, {}).get("started")})
        if not self.wrote and not (applied and waiting):
            raise error
        stopped = [kubevirt.ref(k) for k in self.stopped_here()]
        if not applied and stopped and not self.dry_run:  # a dry run stopped nothing to start again
            try:
                self.start_marked()
                tail = f"; the VMs it stopped run again ({', '.join(stopped)})"
            except HarvesterError as again:
                tail = f"; starting the VMs it stopped failed too ({again}): they stay marked, the next run starts them"
            raise StorageNetworkFailed(f"{SETTING} not applied: {error}{tail}", error, self.vm_list(), self.steps) from None
        tail = (f"; VMs left stopped and marked {SELECTOR} ({', '.join(waiting)}): run again, the next run starts them "
                "once Harvester reports the setting Completed") if waiting and not self.dry_run else ""
        raise StorageNetworkFailed(f"{SETTING}: {error}{tail}", error, self.vm_list(), self.steps) from None


def _view(value):
    """The diff's side: ``{"value": ...}``, empty when disabled."""
    return {"value": value} if value else {}


def run(client, params, sleep=None, clock=None):
    """The module's one call (after ``check``); check mode is the client's ``dry_run``."""
    return Run(client, params, sleep=sleep, clock=clock).run()


def task(module):
    """harvester_storage_network's ``run(module)``: ``check`` before the client exists (bad input
    makes no request), then ``run``."""
    check(module.params)
    return run(module.client, module.params)
