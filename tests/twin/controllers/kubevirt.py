"""KubeVirt's virt-controller, the part Harvester's guards depend on: a VirtualMachine's run
strategy starts or stops its VirtualMachineInstance, and both report where they are.

Start: a VMI is created from the VM template (phase Pending → Scheduling → Scheduled → Running on
the least busy Ready, schedulable node; Running brings the VMI condition Ready). Stop: the VMI is
deleted and the VM shows Stopped. Tests stop a VM the way an operator does: `spec.runStrategy:
Halted` (or `running: false`).

Run strategies and state change requests (`status.stateChangeRequests`, what virt-api's
start/stop/restart write; kubevirt v1.7.0 pkg/virt-controller/watch/vm/vm.go `syncRunStrategy`,
`isTrimFirstChangeRequestNeeded`): Always keeps a VMI; RerunOnFailure starts one when it has just
become the strategy (`status.runStrategy`, the strategy the last sync applied, differs) or on a
Start request, and does not restart a VMI that was stopped; Manual starts only on a Start request;
a first Stop request naming the live VMI's UID deletes that VMI (Always then starts a new one); a
Stop request is dropped once no VMI has its UID, a Start request once a live VMI exists. A VMI with the
condition Paused shows its VM as Paused. VMs carry KubeVirt's finalizer
`kubevirt.io/virtualMachineControllerFinalize`: deleting a VM deletes its VMI, then the finalizer
goes.

Harvester's VM controller (harvester pkg/controller/master/virtualmachine): `StoreRunStrategy`
remembers every strategy other than Halted in the annotation `harvesterhci.io/vmRunStrategy`, the
one Harvester's Start restores; `createPVCsFromAnnotation` creates the PVCs the
`harvesterhci.io/volumeClaimTemplates` annotation lists and that do not exist, skipping those whose
`harvesterhci.io/imageId` image does not exist (yet), and grows existing ones the annotation asks
more of; when a VM is gone the PVCs named in `harvesterhci.io/removedPersistentVolumeClaims` are
deleted (Steve's VM delete with `removedDisks` writes it).
"""
from __future__ import annotations

import json

from .. import quantity
from ..lookups import RUNNING_PHASES, node_names, nodes
from ..registry import Kind
from ..store import clone
from . import Controller

RUN_STRATEGY_ANNOTATION = "harvesterhci.io/vmRunStrategy"
VCT_ANNOTATION = "harvesterhci.io/volumeClaimTemplates"
IMAGE_ID_ANNOTATION = "harvesterhci.io/imageId"
REMOVED_PVCS_ANNOTATION = "harvesterhci.io/removedPersistentVolumeClaims"
VM_FINALIZER = "kubevirt.io/virtualMachineControllerFinalize"
FINAL_PHASES = ("Succeeded", "Failed")
STEP_SECONDS = 1.0  # each phase step of a starting VMI, in clock seconds


def run_strategy(vm: dict) -> str:
    spec = vm.get("spec") or {}
    if "runStrategy" in spec:
        return spec["runStrategy"]
    if "running" in spec:
        return "Always" if spec["running"] else "Halted"
    return "Halted"


class VirtualMachineController(Controller):
    name = "virt-controller"
    watches = (("kubevirt.io", "virtualmachines"), ("kubevirt.io", "virtualmachineinstances"))
    finalizer = VM_FINALIZER  # only VMs: the base class adds it on the VMs it watches

    def _kinds(self) -> tuple[Kind, Kind]:
        return self.kind("kubevirt.io", "virtualmachines"), self.kind("kubevirt.io", "virtualmachineinstances")

    async def dispatch(self, kind: Kind, type_: str, obj: dict) -> None:
        if kind.plural == "virtualmachineinstances":  # no finalizer on VMIs
            if type_ == "DELETED":
                await self.on_deleted(kind, obj)
            elif not obj["metadata"].get("deletionTimestamp"):
                await self.on_change(kind, obj)
            return
        await super().dispatch(kind, type_, obj)

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        _, vmi_kind = self._kinds()
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        if self.get(vmi_kind, ns, name) is not None:
            self.delete(vmi_kind, ns, name)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        vm_kind, vmi_kind = self._kinds()
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        if kind.plural == "virtualmachineinstances":
            self._report(vm_kind, ns, name, obj)
            return
        vmi = self.get(vmi_kind, ns, name)
        if self._trim_requests(vm_kind, obj, vmi):
            return  # the status write brings the VM back here
        strategy = run_strategy(obj)
        status = obj.get("status") or {}
        requests = status.get("stateChangeRequests") or []
        start_requested = bool(requests) and requests[0].get("action") == "Start"
        live = vmi is not None and not vmi["metadata"].get("deletionTimestamp")
        if live and requests and requests[0].get("action") == "Stop" and requests[0].get("uid") == vmi["metadata"]["uid"]:
            self._stop(vm_kind, vmi_kind, ns, name)
        elif vmi is None and (strategy == "Always" or (strategy in ("Manual", "RerunOnFailure") and start_requested)
                              or (strategy == "RerunOnFailure" and status.get("runStrategy") != strategy)):
            self._start(vmi_kind, obj)  # RerunOnFailure starts when asked or when it just became the strategy
        elif strategy == "Halted" and live:
            self._stop(vm_kind, vmi_kind, ns, name)
        elif vmi is None:
            self._report(vm_kind, ns, name, None)
        if status.get("runStrategy") != strategy:  # the strategy this sync applied
            self.mutate(vm_kind, ns, name, lambda o: o.setdefault("status", {}).__setitem__("runStrategy", strategy),
                        status=True)

    def _stop(self, vm_kind: Kind, vmi_kind: Kind, ns: str, name: str) -> None:
        self.mutate(vm_kind, ns, name, lambda o: o.setdefault("status", {}).update(printableStatus="Stopping"),
                    status=True)
        self.delete(vmi_kind, ns, name)

    def _trim_requests(self, vm_kind: Kind, vm: dict, vmi: dict | None) -> bool:
        """isTrimFirstChangeRequestNeeded: drop the first request once it is done."""
        requests = (vm.get("status") or {}).get("stateChangeRequests") or []
        if not requests:
            return False
        first = requests[0]
        done = False
        if first.get("action") == "Stop":
            done = vmi is None or not first.get("uid") or first.get("uid") != vmi["metadata"]["uid"]
        elif first.get("action") == "Start":
            done = vmi is not None and not vmi["metadata"].get("deletionTimestamp") \
                and (vmi.get("status") or {}).get("phase") not in FINAL_PHASES
        if not done:
            return False

        def pop(o):
            queue = (o.get("status") or {}).get("stateChangeRequests") or []
            if queue and queue[0] == first:
                queue = queue[1:]
                if queue:
                    o["status"]["stateChangeRequests"] = queue
                else:
                    o["status"].pop("stateChangeRequests", None)
        return self.mutate(vm_kind, vm["metadata"].get("namespace", ""), vm["metadata"]["name"], pop,
                           status=True) is not None

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        if kind.plural == "virtualmachineinstances":
            vm_kind, _ = self._kinds()
            self._report(vm_kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], None)

    def _report(self, vm_kind: Kind, ns: str, name: str, vmi: dict | None) -> None:
        """The VM's printableStatus, ready and created follow its VMI."""
        phase = ((vmi or {}).get("status") or {}).get("phase")

        paused = any(c.get("type") == "Paused" and c.get("status") == "True"
                     for c in ((vmi or {}).get("status") or {}).get("conditions") or [])

        def update(vm):
            status = vm.setdefault("status", {})
            if vmi is None:
                status.update(printableStatus="Stopped", created=False)
                status.pop("ready", None)
            elif phase == "Running" and paused:
                status.update(printableStatus="Paused", created=True, ready=False)
            elif phase == "Running":
                status.update(printableStatus="Running", created=True, ready=True)
            elif phase in RUNNING_PHASES:
                status.update(printableStatus="Starting", created=True, ready=False)
            else:
                status.update(printableStatus=phase or "Unknown", created=True, ready=False)
        if self.get(vm_kind, ns, name) is not None:
            self.mutate(vm_kind, ns, name, update, status=True)

    def _pick_node(self) -> str | None:
        busy: dict[str, int] = {}
        _, vmi_kind = self._kinds()
        for vmi in self.store.list(vmi_kind):
            node = (vmi.get("status") or {}).get("nodeName")
            if node:
                busy[node] = busy.get(node, 0) + 1
        ready = []
        for n in nodes(self.store):
            conds = {c["type"]: c["status"] for c in (n.get("status") or {}).get("conditions") or []}
            if conds.get("Ready") == "True" and not (n.get("spec") or {}).get("unschedulable"):
                ready.append(n["metadata"]["name"])
        candidates = [n for n in node_names(self.store) if n in ready]
        return min(candidates, key=lambda n: (busy.get(n, 0), n)) if candidates else None

    def _start(self, vmi_kind: Kind, vm: dict) -> None:
        template = clone((vm.get("spec") or {}).get("template") or {})
        meta = vm["metadata"]
        vmi = {"apiVersion": vmi_kind.api_version(vmi_kind.storage_version), "kind": "VirtualMachineInstance",
               "metadata": {"name": meta["name"], "namespace": meta.get("namespace", ""),
                            "labels": (template.get("metadata") or {}).get("labels") or {},
                            "ownerReferences": [{"apiVersion": vm["apiVersion"], "kind": "VirtualMachine",
                                                 "name": meta["name"], "uid": meta["uid"], "controller": True,
                                                 "blockOwnerDeletion": True}]},
               "spec": template.get("spec") or {}, "status": {"phase": "Pending"}}
        if self.create(vmi_kind, vmi) is not None:
            self.spawn(self._schedule(vmi_kind, meta.get("namespace", ""), meta["name"]))

    async def _schedule(self, vmi_kind: Kind, ns: str, name: str) -> None:
        node = self._pick_node()
        for phase in ("Scheduling", "Scheduled", "Running"):
            await self.clock.sleep(STEP_SECONDS)
            if phase == "Scheduling" and node is None:
                return  # stays Pending: no node can take it

            def step(o, phase=phase):
                o.setdefault("status", {})["phase"] = phase
                if phase != "Scheduling":
                    o["status"]["nodeName"] = node
                    o["metadata"].setdefault("labels", {})["kubevirt.io/nodeName"] = node
                if phase == "Running":
                    conditions = [c for c in o["status"].get("conditions") or [] if c.get("type") != "Ready"]
                    o["status"]["conditions"] = [{"type": "Ready", "status": "True", "lastProbeTime": None,
                                                  "lastTransitionTime": self.clock.now()}, *conditions]
            if self.mutate(vmi_kind, ns, name, step) is None:
                return


class RunStrategyMemory(Controller):
    """Harvester's VM controller: StoreRunStrategy (a VM with a template and a strategy other than
    Halted gets that strategy in its `harvesterhci.io/vmRunStrategy` annotation, kept when it is
    Halted), createPVCsFromAnnotation and the removed-PVC cleanup."""

    name = "harvester-vm-controller"
    watches = (("kubevirt.io", "virtualmachines"),)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        self._create_pvcs(obj)
        strategy = run_strategy(obj)
        annotations = obj["metadata"].get("annotations") or {}
        if strategy == "Halted" or not (obj.get("spec") or {}).get("template") \
                or annotations.get(RUN_STRATEGY_ANNOTATION) == strategy:
            return

        def remember(vm):  # on the re-read object: the strategy may have moved since the event
            if run_strategy(vm) != "Halted":
                vm["metadata"].setdefault("annotations", {})[RUN_STRATEGY_ANNOTATION] = run_strategy(vm)
        self.mutate(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], remember)

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        pvc_kind = self.kind("", "persistentvolumeclaims")
        ns = obj["metadata"].get("namespace", "")
        removed = (obj["metadata"].get("annotations") or {}).get(REMOVED_PVCS_ANNOTATION, "")
        for claim in (c.strip() for c in removed.split(",")):
            if claim and self.get(pvc_kind, ns, claim) is not None:
                self.delete(pvc_kind, ns, claim)

    def _create_pvcs(self, vm: dict) -> None:
        text = (vm["metadata"].get("annotations") or {}).get(VCT_ANNOTATION) or ""
        try:
            entries = json.loads(text) if text else []
        except ValueError:
            return  # the webhook refuses such annotations; an old object is left alone
        pvc_kind, image_kind = self.kind("", "persistentvolumeclaims"), self.registry.by_plural(
            "harvesterhci.io", "virtualmachineimages")
        ns = vm["metadata"].get("namespace", "")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not (entry.get("metadata") or {}).get("name"):
                continue
            image = ((entry["metadata"].get("annotations") or {}).get(IMAGE_ID_ANNOTATION) or "").split("/")
            if len(image) == 2 and (image_kind is None or self.get(image_kind, image[0], image[1]) is None):
                continue  # "The corresponding VMImage is not created yet ... Skip this one"
            name = entry["metadata"]["name"]
            live = self.get(pvc_kind, ns, name)
            if live is None:
                pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {k: v for k, v in entry["metadata"].items() if k in ("name", "annotations", "labels")},
                       "spec": entry.get("spec") or {}}
                pvc["metadata"]["namespace"] = ns
                self.create(pvc_kind, pvc)
                continue
            wanted = _storage(entry)
            if wanted is not None and _storage(live) is not None and wanted > _storage(live):
                size = ((entry.get("spec") or {}).get("resources") or {}).get("requests") or {}

                def grow(o, size=size):
                    o.setdefault("spec", {}).setdefault("resources", {})["requests"] = dict(size)
                self.mutate(pvc_kind, ns, name, grow)


def _storage(pvc: dict):
    try:
        return quantity.parse_or_zero(
            (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")).value
    except quantity.QuantityError:
        return None


CONTROLLERS = [VirtualMachineController, RunStrategyMemory]
