"""Live migrations asked for with a VirtualMachineInstanceMigration (what Harvester's migrate
action creates): KubeVirt's migration controller and Harvester's migration controllers.

* KubeVirt (kubevirt v1.7.0 pkg/virt-controller/watch/migration): the migration moves through
  the phases Pending, Scheduling, Scheduled, PreparingTarget, TargetReady, Running, Succeeded
  (each recorded in `status.phaseTransitionTimestamps`); the target is the least busy other
  Ready, schedulable node that fits the VMI's node selector and required node affinity and the
  migration's `addedNodeSelector` (none: it waits in Scheduling). From Running the VMI's
  `status.migrationState` shows it (migrationUid = the migration's UID, source and target node and
  pod, mode PreCopy, start time); on success the VMI moves to the target (`status.nodeName`, label
  `kubevirt.io/nodeName`) and the state is completed. A VMI that is not running fails it. Deleting
  the migration before it succeeds aborts it: the state ends completed and failed with
  abortRequested and abortStatus Succeeded, and the VMI stays.
* Harvester (harvester v1.8.2 pkg/controller/master/migration `OnVmimChanged`, `OnVmiChanged`):
  the VMI carries `harvesterhci.io/migrationUID` and `harvesterhci.io/migrationState` ("Pending
  migration" while the phase is unset or Pending, "Migrating" from Scheduling to Running) and
  loses both (and `harvesterhci.io/migrationTargetNodeName`) once the migration state with that
  UID is completed, or the migration failed.
"""
from __future__ import annotations

import hashlib

from .. import lookups
from ..registry import Kind
from . import Controller
from .node import _meta, fits, schedulable, vmi_node

PHASES = ("Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running")
STEP_SECONDS = 0.5  # each phase step (clock seconds)
ANN_STATE, ANN_UID, ANN_TARGET = ("harvesterhci.io/migrationState", "harvesterhci.io/migrationUID",
                                  "harvesterhci.io/migrationTargetNodeName")
PENDING, MIGRATING = "Pending migration", "Migrating"
NODE_LABEL = "kubevirt.io/nodeName"


class MigrationController(Controller):
    name = "virt-controller-migrations"
    watches = (("kubevirt.io", "virtualmachineinstancemigrations"),)

    def start(self) -> None:
        self.running: set[tuple[str, str]] = set()
        super().start()

    def kinds(self) -> tuple[Kind, Kind]:
        return self.kind("kubevirt.io", "virtualmachineinstancemigrations"), self.kind("kubevirt.io", "virtualmachineinstances")

    async def on_change(self, kind: Kind, obj: dict) -> None:
        meta, status = obj["metadata"], obj.get("status") or {}
        key = (meta.get("namespace", ""), meta["name"])
        if status.get("phase") in ("Succeeded", "Failed") or key in self.running:
            return
        self.running.add(key)
        self.spawn(self.migrate(key, meta["uid"], (obj.get("spec") or {})))

    def _phase(self, key: tuple[str, str], phase: str) -> bool:
        vmim_kind, _ = self.kinds()

        def set_phase(o):
            st = o.setdefault("status", {})
            st["phase"] = phase
            st.setdefault("phaseTransitionTimestamps", []).append({"phase": phase,
                                                                    "phaseTransitionTimestamp": self.clock.now()})
        return self.mutate(vmim_kind, key[0], key[1], set_phase, status=True) is not None

    def target(self, vmi: dict, added: dict) -> dict | None:
        _, vmi_kind = self.kinds()
        busy: dict[str, int] = {}
        for v in self.store.list(vmi_kind):
            busy[vmi_node(v)] = busy.get(vmi_node(v), 0) + 1
        source = vmi_node(vmi)
        fitting = [n for n in lookups.nodes(self.store)
                   if _meta(n)["name"] != source and schedulable(n) and fits(vmi, n)
                   and all((_meta(n).get("labels") or {}).get(k) == v for k, v in (added or {}).items())]
        return min(fitting, key=lambda n: (busy.get(_meta(n)["name"], 0), _meta(n)["name"])) if fitting else None

    async def migrate(self, key: tuple[str, str], uid: str, spec: dict) -> None:
        vmim_kind, vmi_kind = self.kinds()
        ns = key[0]
        try:
            if not self._phase(key, "Pending"):
                return
            vmi = self.get(vmi_kind, ns, spec.get("vmiName", ""))
            if vmi is None or (vmi.get("status") or {}).get("phase") != "Running":
                self._phase(key, "Failed")
                return
            target = None
            while target is None:
                await self.clock.sleep(STEP_SECONDS)
                if self.get(vmim_kind, *key) is None:  # deleted before it was scheduled
                    return self._abort(ns, spec["vmiName"], uid, vmi_node(vmi), "", "", "0" * 64)
                vmi = self.get(vmi_kind, ns, spec["vmiName"])
                if vmi is None:
                    self._phase(key, "Failed")
                    return
                target = self.target(vmi, spec.get("addedNodeSelector") or {})
            source, name = vmi_node(vmi), spec["vmiName"]
            address = next((a.get("address") for a in (target.get("status") or {}).get("addresses") or []
                            if a.get("type") == "InternalIP"), "")
            suffix = hashlib.sha256(uid.encode()).hexdigest()
            for phase in PHASES:
                if not self._phase(key, phase):
                    return self._abort(ns, name, uid, source, _meta(target)["name"], address, suffix)
                if phase == "Running":
                    self._begin(ns, name, uid, source, _meta(target)["name"], address, suffix)
                await self.clock.sleep(STEP_SECONDS)
            if self.get(vmim_kind, *key) is None:
                return self._abort(ns, name, uid, source, _meta(target)["name"], address, suffix)
            self._finish(ns, name, _meta(target)["name"])
            self._phase(key, "Succeeded")
        finally:
            self.running.discard(key)

    def _state(self, uid, source, target_name, address, suffix, name) -> dict:
        return {"migrationUid": uid, "sourceNode": source, "targetNode": target_name, "targetNodeAddress": address,
                "sourcePod": f"virt-launcher-{name}-{suffix[:5]}", "targetPod": f"virt-launcher-{name}-{suffix[5:10]}",
                "mode": "PreCopy", "startTimestamp": self.clock.now(), "completed": False}

    def _begin(self, ns, name, uid, source, target_name, address, suffix) -> None:
        _, vmi_kind = self.kinds()

        def begin(o):
            st = o.setdefault("status", {})
            st["migrationMethod"] = "LiveMigration"
            st["migrationState"] = self._state(uid, source, target_name, address, suffix, name)
        self.mutate(vmi_kind, ns, name, begin, status=True)

    def _finish(self, ns, name, target_name) -> None:
        _, vmi_kind = self.kinds()

        def finish(o):
            st = o.setdefault("status", {})
            st["nodeName"] = target_name
            o["metadata"].setdefault("labels", {})[NODE_LABEL] = target_name
            st.setdefault("migrationState", {}).update(completed=True, endTimestamp=self.clock.now(),
                                                       targetNodeDomainDetected=True,
                                                       targetNodeDomainReadyTimestamp=self.clock.now())
        self.mutate(vmi_kind, ns, name, finish)

    def _abort(self, ns, name, uid, source, target_name, address, suffix) -> None:
        _, vmi_kind = self.kinds()

        def aborted(o):
            st = o.setdefault("status", {})
            state = st.get("migrationState") or {}
            if state.get("migrationUid") != uid:
                state = self._state(uid, source, target_name, address, suffix, name)
            state.update(abortRequested=True, abortStatus="Succeeded", failed=True, completed=True,
                         endTimestamp=self.clock.now())
            st["migrationState"] = state
        self.mutate(vmi_kind, ns, name, aborted, status=True)


class HarvesterMigrationController(Controller):
    """Harvester's vmim and vmi migration handlers: the VMI annotations the UI and the VM
    formatter read."""

    name = "harvester-migration-controller"
    watches = (("kubevirt.io", "virtualmachineinstancemigrations"), ("kubevirt.io", "virtualmachineinstances"))

    def _annotate(self, ns: str, name: str, uid: str | None, state: str | None) -> None:
        vmi_kind = self.kind("kubevirt.io", "virtualmachineinstances")

        def write(o):
            ann = o["metadata"].setdefault("annotations", {})
            if uid:
                ann[ANN_UID], ann[ANN_STATE] = uid, state
            else:
                for key in (ANN_UID, ANN_STATE, ANN_TARGET):
                    ann.pop(key, None)
                if not ann:
                    o["metadata"].pop("annotations")
        self.mutate(vmi_kind, ns, name, write)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        meta, status = obj["metadata"], obj.get("status") or {}
        ns = meta.get("namespace", "")
        if kind.plural == "virtualmachineinstances":
            state = status.get("migrationState") or {}
            ann = meta.get("annotations") or {}
            if state.get("completed") and ann.get(ANN_UID) and ann.get(ANN_UID) == state.get("migrationUid"):
                self._annotate(ns, meta["name"], None, None)
            return
        vmi_name = (obj.get("spec") or {}).get("vmiName", "")
        phase = status.get("phase", "")
        if phase in ("", "Pending"):
            self._annotate(ns, vmi_name, meta["uid"], PENDING)
        elif phase in PHASES:
            self._annotate(ns, vmi_name, meta["uid"], MIGRATING)
        elif phase == "Failed":
            vmi = self.get(self.kind("kubevirt.io", "virtualmachineinstances"), ns, vmi_name)
            if vmi is not None and (vmi["metadata"].get("annotations") or {}).get(ANN_UID) == meta["uid"]:
                self._annotate(ns, vmi_name, None, None)


CONTROLLERS = [MigrationController, HarvesterMigrationController]
