"""KubeVirt's virt-controller, the part Harvester's guards depend on: a VirtualMachine's run
strategy starts or stops its VirtualMachineInstance, and both report where they are.

Start: a VMI is created from the VM template (phase Pending → Scheduling → Scheduled → Running on
the least busy Ready, schedulable node). Stop: the VMI is deleted and the VM shows Stopped.
Tests stop a VM the way an operator does: `spec.runStrategy: Halted` (or `running: false`).

Harvester's VM controller (`StoreRunStrategy`, harvester pkg/controller/master/virtualmachine)
remembers every strategy other than Halted in the annotation `harvesterhci.io/vmRunStrategy`, the
one Harvester's Start restores.
"""
from __future__ import annotations

from ..lookups import RUNNING_PHASES, node_names, nodes
from ..registry import Kind
from ..store import clone
from . import Controller

STARTING = ("Always", "RerunOnFailure")
RUN_STRATEGY_ANNOTATION = "harvesterhci.io/vmRunStrategy"
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

    def _kinds(self) -> tuple[Kind, Kind]:
        return self.kind("kubevirt.io", "virtualmachines"), self.kind("kubevirt.io", "virtualmachineinstances")

    async def on_change(self, kind: Kind, obj: dict) -> None:
        vm_kind, vmi_kind = self._kinds()
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        if kind.plural == "virtualmachineinstances":
            self._report(vm_kind, ns, name, obj)
            return
        vmi = self.get(vmi_kind, ns, name)
        strategy = run_strategy(obj)
        if strategy in STARTING and vmi is None:
            self._start(vmi_kind, obj)
        elif strategy == "Halted" and vmi is not None and not vmi["metadata"].get("deletionTimestamp"):
            self.mutate(vm_kind, ns, name, lambda o: o.setdefault("status", {}).update(printableStatus="Stopping"),
                        status=True)
            self.delete(vmi_kind, ns, name)
        elif vmi is None:
            self._report(vm_kind, ns, name, None)

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        if kind.plural == "virtualmachineinstances":
            vm_kind, _ = self._kinds()
            self._report(vm_kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], None)

    def _report(self, vm_kind: Kind, ns: str, name: str, vmi: dict | None) -> None:
        """The VM's printableStatus, ready and created follow its VMI."""
        phase = ((vmi or {}).get("status") or {}).get("phase")

        def update(vm):
            status = vm.setdefault("status", {})
            if vmi is None:
                status.update(printableStatus="Stopped", created=False)
                status.pop("ready", None)
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
            if self.mutate(vmi_kind, ns, name, step) is None:
                return


class RunStrategyMemory(Controller):
    """Harvester's StoreRunStrategy: a VM with a template and a strategy other than Halted gets
    that strategy in its `harvesterhci.io/vmRunStrategy` annotation (kept when it is Halted)."""

    name = "harvester-vm-controller"
    watches = (("kubevirt.io", "virtualmachines"),)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        strategy = run_strategy(obj)
        annotations = obj["metadata"].get("annotations") or {}
        if strategy == "Halted" or not (obj.get("spec") or {}).get("template") \
                or annotations.get(RUN_STRATEGY_ANNOTATION) == strategy:
            return

        def remember(vm):  # on the re-read object: the strategy may have moved since the event
            if run_strategy(vm) != "Halted":
                vm["metadata"].setdefault("annotations", {})[RUN_STRATEGY_ANNOTATION] = run_strategy(vm)
        self.mutate(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], remember)


CONTROLLERS = [VirtualMachineController, RunStrategyMemory]
