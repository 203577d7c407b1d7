"""KubeVirt's virt-api subresources Harvester's VM actions call
(`/apis/subresources.kubevirt.io/v1/namespaces/<ns>/virtualmachines/<name>/start|stop|restart`,
`.../virtualmachineinstances/<name>/pause|unpause|softreboot`), as kubevirt v1.7.0
pkg/virt-api/rest/lifecycle.go does them, acting on the twin's objects through the store (so the
VM webhooks see every write).

* start: a live VMI -> Conflict "VM is already running"; Halted -> the run strategy patched to
  Always (test-and-replace, as `getRunningPatch`; Harvester's mutator then restores the
  remembered one); RerunOnFailure / Manual -> a Start state change request on the VM status (Stop
  first when the VMI finished); RerunOnFailure with a Failed VMI, Always and Once -> Conflict.
* stop (used by forceStop with a zero grace period): Always / Once -> runStrategy Halted;
  RerunOnFailure / Manual with a live VMI -> a Stop request for that VMI's UID; Halted -> only a
  shorter grace period is accepted; no live VMI -> Conflict "VM is not running".
* restart: Halted / Once -> Conflict "RunStategy <s> does not support manual restart requests"
  (upstream's spelling), no VMI -> Conflict "VM is not running: Halted", else Stop(UID) + Start.
* A state change request is refused while another is queued (500 "unable to complete request:
  stop/start already underway"); a stop request replaces the queue.
* pause / unpause / softreboot read the VMI (404 when there is none): pause needs a Running VMI
  without a liveness probe that is not paused; unpause a paused Running VMI and no snapshot in
  progress; softreboot a Running, unpaused VMI. virt-handler's part is done at once: the VMI
  condition Paused (reason PausedByUser) is set or removed; a soft reboot changes nothing visible.

Errors are Kubernetes Status errors (`Operation cannot be fulfilled on virtualmachine.kubevirt.io
"<name>": <why>`, `virtualmachineinstance.kubevirt.io "<name>" not found`, 500 InternalError).
"""
from __future__ import annotations

from ..errors import ApiError
from ..store import clone

ACTOR = "system:serviceaccount:harvester-system:kubevirt-apiserver"
FINAL = ("Succeeded", "Failed")


def conflict(resource: str, name: str, why: str) -> ApiError:
    """errors.NewConflict(v1.Resource(resource), name, err)."""
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {resource}.kubevirt.io "{name}": {why}',
                    details={"name": name, "group": "kubevirt.io", "kind": resource})


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource}.kubevirt.io "{name}" not found',
                    details={"name": name, "group": "kubevirt.io", "kind": resource})


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")


def vm_run_strategy(vm: dict) -> str:
    spec = vm.get("spec") or {}
    if spec.get("running") is not None and spec.get("runStrategy") is not None:
        raise internal("running and runstrategy are mutually exclusive")
    if spec.get("running") is not None:
        return "Always" if spec["running"] else "Halted"
    return spec.get("runStrategy") or "Halted"


def is_final(vmi: dict | None) -> bool:
    return vmi is not None and (vmi.get("status") or {}).get("phase") in FINAL


def paused(vmi: dict) -> bool:
    return any(c.get("type") == "Paused" and c.get("status") == "True"
               for c in (vmi.get("status") or {}).get("conditions") or [])


class VirtAPI:
    def __init__(self, store):
        self.store = store

    def _kinds(self):
        return (self.store.registry.by_plural("kubevirt.io", "virtualmachines"),
                self.store.registry.by_plural("kubevirt.io", "virtualmachineinstances"))

    def vm(self, ns: str, name: str) -> dict:
        vm_kind, _ = self._kinds()
        vm = self.store.peek(vm_kind, ns, name)
        if vm is None:
            raise not_found("virtualmachine", name)
        return clone(vm)

    def vmi(self, ns: str, name: str) -> dict | None:
        _, vmi_kind = self._kinds()
        vmi = self.store.peek(vmi_kind, ns, name)
        return clone(vmi) if vmi is not None else None

    def _update(self, kind, obj: dict, *, status: bool = False) -> dict:
        meta = obj["metadata"]
        return self.store.update(kind, kind.storage_version, obj, namespace=meta.get("namespace", ""),
                                 name=meta["name"], subresource="status" if status else "", actor=ACTOR).obj

    def _change_requests(self, vm: dict, *changes: dict) -> None:
        """getChangeRequestJson applied with PatchStatus."""
        status = vm.setdefault("status", {})
        queued = status.get("stateChangeRequests") or []
        if not queued:
            status["stateChangeRequests"] = list(changes)
        elif len(changes) == 1 and changes[0]["action"] == "Stop":
            status["stateChangeRequests"] = list(changes)
        else:
            raise internal("unable to complete request: stop/start already underway")
        status.pop("startFailure", None)
        vm_kind, _ = self._kinds()
        self._update(vm_kind, vm, status=True)

    def _set_strategy(self, vm: dict, running: bool) -> None:
        """getRunningPatch: runStrategy Always/Halted (or spec.running when that is what it uses)."""
        spec = vm.setdefault("spec", {})
        if spec.get("runStrategy") is not None:
            spec["runStrategy"] = "Always" if running else "Halted"
        else:
            spec["running"] = running
        vm_kind, _ = self._kinds()
        self._update(vm_kind, vm)

    # ------------------------------------------------------------------ VM subresources
    def start(self, ns: str, name: str) -> None:
        vm = self.vm(ns, name)
        vmi = self.vmi(ns, name)
        phase = ((vmi or {}).get("status") or {}).get("phase", "")
        if vmi is not None and not is_final(vmi) and phase not in ("Unknown", ""):
            raise conflict("virtualmachine", name, "VM is already running")
        strategy = vm_run_strategy(vm)
        if strategy == "Halted":
            self._set_strategy(vm, True)
        elif strategy in ("RerunOnFailure", "Manual"):
            if strategy == "RerunOnFailure" and phase == "Failed":
                raise conflict("virtualmachine", name, "RerunOnFailure does not support starting VM from failed state")
            restart = (strategy == "RerunOnFailure" and phase == "Succeeded") or (strategy == "Manual" and is_final(vmi))
            if restart:
                self._change_requests(vm, {"action": "Stop", "uid": vmi["metadata"]["uid"]}, {"action": "Start"})
            else:
                self._change_requests(vm, {"action": "Start"})
        elif strategy in ("Always", "Once"):
            raise conflict("virtualmachine", name, f"{strategy} does not support manual start requests")

    def stop(self, ns: str, name: str, grace_period: int | None = None) -> None:
        vm = self.vm(ns, name)
        strategy = vm_run_strategy(vm)
        vmi = self.vmi(ns, name)
        old_grace = 0
        if vmi is not None and not is_final(vmi) and grace_period is not None:
            old_grace = (vmi.get("spec") or {}).get("terminationGracePeriodSeconds") or 0
            vmi["spec"]["terminationGracePeriodSeconds"] = grace_period
            _, vmi_kind = self._kinds()
            vmi = self._update(vmi_kind, vmi)
        live = vmi is not None and not is_final(vmi)
        if strategy == "Halted":
            if not live:
                raise conflict("virtualmachine", name, "VM is not running")
            if grace_period is None or ((vmi.get("spec") or {}).get("terminationGracePeriodSeconds") is not None
                                        and grace_period >= old_grace):
                raise conflict("virtualmachine", name, "Halted only supports manual stop requests with a shorter graceperiod")
            self._change_requests(vm, {"action": "Stop", "uid": vmi["metadata"]["uid"]})
        elif strategy in ("RerunOnFailure", "Manual"):
            if not live:
                raise conflict("virtualmachine", name, "VM is not running")
            self._change_requests(vm, {"action": "Stop", "uid": vmi["metadata"]["uid"]})
        elif strategy in ("Always", "Once"):
            self._set_strategy(vm, False)

    def restart(self, ns: str, name: str) -> None:
        vm = self.vm(ns, name)
        strategy = vm_run_strategy(vm)
        if strategy in ("Halted", "Once"):
            raise conflict("virtualmachine", name, f"RunStategy {strategy} does not support manual restart requests")
        vmi = self.vmi(ns, name)
        if vmi is None:
            raise conflict("virtualmachine", name, "VM is not running: Halted")
        self._change_requests(vm, {"action": "Stop", "uid": vmi["metadata"]["uid"]}, {"action": "Start"})

    # ------------------------------------------------------------------ VMI subresources
    def _running_vmi(self, ns: str, name: str) -> dict:
        vmi = self.vmi(ns, name)
        if vmi is None:
            raise not_found("virtualmachineinstance", name)
        return vmi

    def _set_paused(self, vmi: dict, on: bool) -> None:
        conditions = [c for c in (vmi.setdefault("status", {}).get("conditions") or []) if c.get("type") != "Paused"]
        if on:
            conditions.append({"type": "Paused", "status": "True", "reason": "PausedByUser",
                               "message": "VMI was paused by user", "lastProbeTime": None, "lastTransitionTime": None})
        vmi["status"]["conditions"] = conditions
        _, vmi_kind = self._kinds()
        self._update(vmi_kind, vmi, status=True)

    def pause(self, ns: str, name: str) -> None:
        vmi = self._running_vmi(ns, name)
        if (vmi.get("status") or {}).get("phase") != "Running":
            raise conflict("virtualmachineinstance", name, "VM is not running")
        if (vmi.get("spec") or {}).get("livenessProbe") is not None:
            raise ApiError(403, "Forbidden", f'virtualmachineinstance.kubevirt.io "{name}" is forbidden: Pausing VMIs '
                                             "with LivenessProbe is currently not supported")
        if any(c.get("type") == "Paused" for c in (vmi.get("status") or {}).get("conditions") or []):
            raise conflict("virtualmachineinstance", name, "VMI is already paused")
        self._set_paused(vmi, True)

    def unpause(self, ns: str, name: str) -> None:
        vm_kind, _ = self._kinds()
        vm = self.store.peek(vm_kind, ns, name)
        if vm is not None and (vm.get("status") or {}).get("snapshotInProgress") is not None:
            raise conflict("virtualmachine", name, "VM snapshot is in progress")
        vmi = self._running_vmi(ns, name)
        if (vmi.get("status") or {}).get("phase") != "Running":
            raise conflict("virtualmachineinstance", name, "VMI is not running")
        if not any(c.get("type") == "Paused" for c in (vmi.get("status") or {}).get("conditions") or []):
            raise conflict("virtualmachineinstance", name, "VMI is not paused")
        self._set_paused(vmi, False)

    def soft_reboot(self, ns: str, name: str) -> None:
        vmi = self._running_vmi(ns, name)
        if (vmi.get("status") or {}).get("phase") != "Running":
            raise conflict("virtualmachineinstance", name, "VM is not running")
        if paused(vmi):
            raise conflict("virtualmachineinstance", name, "VMI is paused")
        conditions = (vmi.get("status") or {}).get("conditions") or []
        acpi = (((vmi.get("spec") or {}).get("domain") or {}).get("features") or {}).get("acpi") or {}
        if not any(c.get("type") == "AgentConnected" for c in conditions) and acpi.get("enabled") is False:
            raise conflict("virtualmachineinstance", name, "VMI neither have the agent connected nor the ACPI feature enabled")
