# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stopping and starting KubeVirt VirtualMachines the way Harvester does it, through the plain
Kubernetes API: the flow of ``harvester_vm_power`` (which VMs, and what a VM is, are ``vm.py``'s):

    result = vm_power.run(client, params)

How a VM is stopped and started (facts, with their sources):

- A VM's **run strategy** (``spec.runStrategy``: ``Always``, ``RerunOnFailure``, ``Manual``,
  ``Halted``, ``Once``; or the deprecated ``spec.running`` bool, which KubeVirt refuses together
  with ``runStrategy``) tells virt-controller whether a VirtualMachineInstance should exist. With
  ``Halted`` it deletes the VMI; going from ``Halted`` to ``Always`` or ``RerunOnFailure`` it
  creates one. ``Manual`` only acts on start/stop requests, so it is never a strategy to start
  with (kubevirt pkg/virt-controller/watch/go ``syncRunStrategy``).
- Harvester's **Stop** sets ``runStrategy: Halted`` by an update of the VM (harvester
  pkg/api/vm/handler.go ``stopVM``: "align behavior with kubevirt v1.1.1"); its Start calls
  KubeVirt's ``start`` subresource.
- Harvester **remembers the strategy**: its VM controller copies every non-Halted strategy into
  the annotation ``harvesterhci.io/vmRunStrategy`` (pkg/controller/master/virtualmachine
  ``StoreRunStrategy``), and its VM mutator, on an update from Halted to anything else (when
  ``spec.running`` is unset), **replaces** ``spec.runStrategy`` with that annotation, or
  ``RerunOnFailure`` without one (pkg/webhook/resources/virtualmachine/mutator.go
  ``patchRunStrategy``; the workaround for kubevirt issue 7295).
- The ``subresources.kubevirt.io/v1 .../virtualmachines/<name>/start|stop`` PUTs are served by
  virt-api, not the apiserver: they take dry-run in their body instead of ``?dryRun=All`` (so the
  client's one check-mode choke point would not cover them), and their effect on the strategy
  changed between KubeVirt releases (stop: ``running=false`` / ``Halted`` / a status change
  request only).
- Harvester's storage-network webhook counts a VM as stopped when its ``printableStatus`` is
  ``Stopped`` and its strategy is ``Halted`` or its VMI is gone or final (pkg/util/virtualmachine
  ``IsVMStopped``).

So this module writes one **merge patch per VM** on the VirtualMachine itself: stop =
``runStrategy: Halted`` (and the current strategy into the annotation, as Harvester's controller
would, so the start restores exactly it); start = ``runStrategy: <strategy>`` together with the
annotation set to the same value (else Harvester's mutator would overwrite an explicitly chosen
strategy with the remembered one). ``spec.running`` is removed when present. The patch carries the
live ``resourceVersion`` (a 409 re-reads and plans again), works with ``dryRun=All``, and is what
Harvester's own Stop does.
"""

from __future__ import annotations

from . import validate
from .errors import Conflict
from .retry import on_conflict
from .validate import ValidationError
from .vm import (
    ANNOTATION,
    DEFAULT_START,
    HALTED,
    KIND,
    SHOWN,
    STARTABLE,
    STOPPED,
    VMI_KIND,
    VmsRefused,
    describe,
    is_live,
    is_stopped,
    label_selector,
    printable,
    reached,
    read,
    ref,
    remembered,
    run_strategy,
    select,
    shown,
    targets,
)
from .wait import should_wait, until

STATES = {"stopped": STOPPED, "running": "Running"}


def check(params):
    """Every input check, before any request (raises ``ValidationError``)."""
    validate.name(params["namespace"], "namespace")
    if params.get("names") is not None and not params["names"]:
        raise ValidationError("names", "must not be empty (leave it out to select every VM; skip the task when "
                                       "there is nothing to stop or start)")
    if params.get("all_namespaces") and (params.get("name") is not None or params.get("names") is not None):
        raise ValidationError("all_namespaces", "only with label_selector or without name and names "
                                                "(names take namespace/name)")
    if params.get("label_selector") is not None:
        label_selector(params["label_selector"])
    targets(params)
    if params.get("run_strategy") and params["state"] != "running":
        raise ValidationError("run_strategy", "only with state=running (it is the strategy a VM starts with)")
    validate.wait_timeout(params)


# --- planning ------------------------------------------------------------------------------
def start_strategy(vm, chosen=None):
    """The strategy to start ``vm`` with: ``chosen``, else the remembered one, else
    RerunOnFailure (as Harvester's mutator does). ``None`` when the remembered one cannot start a
    VM by itself (Manual, Once) and none was chosen."""
    if chosen:
        return chosen
    memory = remembered(vm)
    if memory in (None, HALTED):
        return DEFAULT_START
    return memory if memory in STARTABLE else None


def _strategy_patch(vm, strategy, memory):
    meta = vm.get("metadata") or {}
    patch = {"metadata": {"resourceVersion": meta.get("resourceVersion")}, "spec": {"runStrategy": strategy}}
    if "running" in (vm.get("spec") or {}):
        patch["spec"]["running"] = None  # KubeVirt refuses running together with runStrategy
    if memory and remembered(vm) != memory:
        patch["metadata"]["annotations"] = {ANNOTATION: memory}
    if patch["metadata"]["resourceVersion"] is None:
        del patch["metadata"]["resourceVersion"]
    return patch


def _start_pending(vm, current):
    """virt-controller has not acted on the strategy yet (``status.runStrategy`` is the one it
    last acted on), or a start request waits in ``status.stateChangeRequests``."""
    status = vm.get("status") or {}
    observed = status.get("runStrategy")
    return bool(observed and observed != current) or any(
        (r or {}).get("action") == "Start" for r in status.get("stateChangeRequests") or [])


class NotStartable(Exception):
    """``plan`` cannot start this VM with a merge patch; the message says why and what to do."""


def plan(state, vm, vmi, chosen=None):
    """The merge patch that brings ``vm`` to ``state`` (``stopped``/``running``), or ``None``
    when no write is needed (it is there, or on its way: Stopping, Starting). Raises
    ``NotStartable`` for a VM a run-strategy patch cannot start."""
    current = run_strategy(vm)
    if state == "stopped":
        if current == HALTED or is_stopped(vm, vmi):
            return None  # halted, or shut down from inside the guest: Harvester counts both as stopped
        return _strategy_patch(vm, HALTED, current)
    if current != HALTED:
        if is_live(vmi) or printable(vm) != STOPPED or _start_pending(vm, current):
            return None  # runs, or is starting
        raise NotStartable(f"is stopped with run strategy {current}, which KubeVirt does not start again by itself "
                           "(shut down from inside the guest, or Manual); start it from the Harvester UI or with "
                           "virtctl start")
    strategy = start_strategy(vm, chosen)
    if strategy is None:
        raise NotStartable(f"remembers run strategy {remembered(vm)}, which does not start a VM by itself; "
                           f"give run_strategy ({' or '.join(STARTABLE)})")
    return _strategy_patch(vm, strategy, strategy)


def _view(vm):
    """The parts of a VM this module writes, for the diff."""
    spec = vm.get("spec") or {}
    view = {"spec": {k: spec[k] for k in ("runStrategy", "running") if spec.get(k) is not None}}
    if remembered(vm):
        view["metadata"] = {"annotations": {ANNOTATION: remembered(vm)}}
    return view


def _patched(vm, patch):
    spec = dict(vm.get("spec") or {})
    for k, v in patch["spec"].items():
        if v is None:
            spec.pop(k, None)
        else:
            spec[k] = v
    meta = dict(vm.get("metadata") or {})
    if "annotations" in patch["metadata"]:
        meta["annotations"] = dict(meta.get("annotations") or {}, **patch["metadata"]["annotations"])
    return dict(vm, spec=spec, metadata=meta)


# --- the flow ------------------------------------------------------------------------------------
def _write(client, vm_key, vm, vmi, state, chosen, sleep=None):
    """Patch one VM; on a 409, re-read it and its VMI and plan again. ``(the VM as planned on,
    the patch)``, or ``None`` when no write is needed (any more)."""
    path = KIND.path(*vm_key)
    current = [vm, vmi]
    lost = []  # (planned on, patch) of a write stored although its answer was lost

    def attempt():
        try:
            patch = plan(state, current[0], current[1], chosen)
        except NotStartable as e:
            raise VmsRefused(f"VirtualMachine {ref(vm_key)} {e}", [ref(vm_key)]) from None
        if patch is None:
            return lost[0] if lost else None  # a repeat found our own write stored: still this run's change
        try:
            client.merge_patch(path, patch)
        except Conflict as e:
            if e.maybe_stored and not lost:
                lost.append((current[0], patch))
            current[:] = [client.get(path), client.get(VMI_KIND.path(*vm_key), missing_ok=True)]
            raise
        return current[0], patch
    return on_conflict(attempt, sleep=sleep)


def _refusals(selected, state, chosen):
    """Every selected VM this run cannot handle, checked before the first write."""
    problems = []
    for vm_key, vm, vmi in selected:
        try:
            plan(state, vm, vmi, chosen)
        except NotStartable as e:
            problems.append((vm_key, str(e)))
    if problems:
        text = "; ".join(f"{ref(k)} {why}" for k, why in problems[:SHOWN])
        raise VmsRefused(f"cannot start VirtualMachine {text}; nothing was changed", [ref(k) for k, dummy in problems])


def _wait(client, selected, state, timeout, sleep=None, clock=None):
    """Poll until every selected VM has reached ``state``; the last ``{key: (vm, vmi)}`` read.
    The selection's own read comes first: a VM written by this run had not reached the state
    there (else it would not have been written), so it is never taken as done too early, and a
    run that wrote nothing and finds everything there reads nothing more."""
    keys = [entry[0] for entry in selected]
    scopes = sorted({k[0] for k in keys})

    def look():
        vms, vmis = read(client, scopes)
        return {k: (vms.get(k), vmis.get(k)) for k in keys}

    def pending(seen):
        return [k for k in keys if seen[k][0] is None or not reached(state, *seen[k])]

    def gone(seen):
        lost = [k for k in keys if seen[k][0] is None]
        return f"VirtualMachine {shown(lost)} was deleted" if lost else None

    def summary(seen):
        return "; ".join(f"{ref(k)} {describe(*seen[k])}" for k in pending(seen)[:SHOWN])
    return until(look, lambda seen: not pending(seen), timeout=timeout, failed=gone, describe=summary,
                 what=f"{len(keys)} VM(s) to be {state}", first={k: (vm, vmi) for k, vm, vmi in selected},
                 sleep=sleep, clock=clock, interval=0.5)


def task(module):
    """harvester_vm_power's ``run(module)``: ``check`` before the client exists (bad input makes no
    request), then ``run``."""
    check(module.params)
    return run(module.client, module.params)


def run(client, params, sleep=None, clock=None):
    """Select, check all, patch what needs it, wait. Returns the module result (``changed``,
    ``vms``, ``diff``)."""
    state, chosen = params["state"], params.get("run_strategy")
    selected = select(client, params)
    _refusals(selected, state, chosen)
    written, diff = set(), {"before": {}, "after": {}}
    for vm_key, vm, vmi in selected:
        answer = _write(client, vm_key, vm, vmi, state, chosen, sleep=sleep)
        if answer is not None:
            planned_on, patch = answer
            written.add(vm_key)
            diff["before"][ref(vm_key)] = _view(planned_on)
            diff["after"][ref(vm_key)] = _view(_patched(planned_on, patch))
    final = {}
    if should_wait(client, params) and selected:
        final = _wait(client, selected, state, params.get("wait_timeout") or 300, sleep=sleep, clock=clock)
    vms = [_entry(vm_key, vm, STATES[state] if vm_key in written else None, final.get(vm_key))
           for vm_key, vm, dummy in selected]
    return {"changed": bool(written), "vms": vms, "diff": diff}


def _entry(vm_key, vm, headed, seen):
    """One ``vms`` entry. ``after``: the status the wait saw; without a wait, where a written VM is
    headed (check mode, ``wait=false``), else the status before."""
    after = printable(seen[0]) if seen else headed or printable(vm)
    return {"namespace": vm_key[0], "name": vm_key[1], "before": printable(vm), "after": after, "changed": headed is not None}
