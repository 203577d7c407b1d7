"""Node maintenance mode: Harvester's node-drain and maintain controllers, and the part of
KubeVirt that moves VMIs off a drained node (live migration and the `LiveMigratable` condition).

Facts (shared/reference/harvester-api.md §4; harvester v1.8 `pkg/util/drainhelper/helper.go`,
`pkg/controller/master/nodedrain/nodedrain_controller.go`,
`pkg/controller/master/node/maintain_controller.go`, `pkg/util/virtualmachineinstance`):

* A maintenance request is the Node annotation `harvesterhci.io/drain-requested: "true"` (plus
  `harvesterhci.io/drain-forced: "true"` for force), written by the Steve action
  enableMaintenanceMode (steve/nodes.py) or by any client.
* NodeDrainController (node-drain-controller), on a node carrying the request:
  - `drain_possible` refuses a single control plane, or fewer/more than exactly three
    control-plane/etcd nodes without `maintain-status`; without force, any non-migratable VM
    (`non_migratable`) refuses too. A refusal removes drain-requested, drain-forced and
    maintain-status again and leaves nothing else behind (the "silent drop"; the reason is only
    logged, here in the twin's log).
  - VMs whose VMI is labelled `harvesterhci.io/maintain-mode-strategy` ShutdownAndRestartAfterEnable,
    ShutdownAndRestartAfterDisable or Shutdown are stopped (`runStrategy: Halted`), the first two
    annotated `harvesterhci.io/maintain-mode-strategy-node-name: <node>`; with force, every
    non-migratable VM is stopped as well. The default strategy is Migrate.
  - it cordons the node (`spec.unschedulable: true` and the taint `kubevirt.io/drain=scheduling:
    NoSchedule`) and drains it the kubectl way: each remaining VMI is evicted, which KubeVirt's
    eviction webhook turns into an evacuation (`status.evacuationNodeName`), which
    `LiveMigrationController` below carries out. The drain waits for the node to have no VMI
    (kubectl drain's 240 s timeout; on timeout it tries again later, as a requeue would).
  - then `maintain-status: running`, and the request annotations are deleted.
* MaintainController (maintain-node-controller): a node with `maintain-status: running` and no
  VMI left becomes `completed`; VMs labelled ShutdownAndRestartAfterEnable and annotated with
  this node are started again (run strategy from `harvesterhci.io/vmRunStrategy`, else
  RerunOnFailure) and lose the node annotation.
* LiveMigrationController (KubeVirt virt-controller): sets the VMI condition `LiveMigratable` of
  a running VMI (False, reason `DisksNotLiveMigratable`, when a PVC it uses is not
  ReadWriteMany, with KubeVirt's message), and migrates an evacuated VMI to the least busy other
  Ready, schedulable node that fits its nodeSelector / required node affinity:
  `status.migrationState` (migrationUid, sourceNode, targetNode, targetNodeAddress, sourcePod,
  targetPod, mode PreCopy, startTimestamp, then endTimestamp and completed), then
  `status.nodeName` and the label `kubevirt.io/nodeName` move to the target.

What makes a VM non-migratable in the twin (Harvester's `FindNonMigratableVMS`):
`LastHealthyReplica` (a Longhorn volume of the VM whose only started replica is on the node),
`CDRomOrContainerDiskPresent` (a `cdrom` disk or a `containerDisk` volume), a `LiveMigratable`
False condition (its reason: `DisksNotLiveMigratable` for a ReadWriteOnce PVC) and
`NodeSchedulingRequirementsNotMet` (no other Ready, schedulable node fits its nodeSelector or
required node affinity). Host devices (PCI passthrough) cannot be expressed: the twin's
VirtualMachine schema has no `hostDevices`. There is no VirtualMachineInstanceMigration kind in
the twin, so a migration shows only in the VMI's status.
"""
from __future__ import annotations

import hashlib
import logging
import uuid

from .. import lookups
from ..registry import Kind
from . import Controller

log = logging.getLogger("twin.controllers.node")

DRAIN_REQUESTED = "harvesterhci.io/drain-requested"
DRAIN_FORCED = "harvesterhci.io/drain-forced"
MAINTAIN_STATUS = "harvesterhci.io/maintain-status"
RUNNING, COMPLETED = "running", "completed"
DRAIN_TAINT = "kubevirt.io/drain"  # Harvester's drainKey, also KubeVirt's node-drain taint key
NODE_NAME_LABEL = "kubevirt.io/nodeName"
STRATEGY_LABEL = "harvesterhci.io/maintain-mode-strategy"
STRATEGY_NODE_ANNOTATION = "harvesterhci.io/maintain-mode-strategy-node-name"
RUN_STRATEGY_ANNOTATION = "harvesterhci.io/vmRunStrategy"
RESTART_AFTER_ENABLE = "ShutdownAndRestartAfterEnable"
RESTART_AFTER_DISABLE = "ShutdownAndRestartAfterDisable"
SHUTDOWN_STRATEGIES = (RESTART_AFTER_ENABLE, RESTART_AFTER_DISABLE, "Shutdown")
CP_LABEL, ETCD_LABEL = "node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/etcd"
HA_CONTROL_PLANES = 3

# util.LastHealthyReplicaKey, ContainerDiskOrCDRomKey, NodeSchedulingRequirementsNotMetKey
LAST_HEALTHY_REPLICA = "LastHealthyReplica"
CDROM_OR_CONTAINER_DISK = "CDRomOrContainerDiskPresent"
SCHEDULING_NOT_MET = "NodeSchedulingRequirementsNotMet"
DISKS_NOT_MIGRATABLE = "DisksNotLiveMigratable"  # KubeVirt VirtualMachineInstanceReasonDisksNotMigratable
ERR_SINGLE_CP = "single controlplane cluster, cannot place controlplane in maintenance mode"
ERR_HA_CP = "another controlplane is already in maintenance mode, cannot place current node in maintenance mode"

DRAIN_TIMEOUT = 240.0  # kubectl drain's timeout in Harvester's drain helper (clock seconds)
POLL = 1.0  # how often the drain looks again (clock seconds)
MIGRATION_SECONDS = 3.0  # one live migration, from start to completed (clock seconds)


# ---------------------------------------------------------------------------------------- reading
def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def annotations(obj: dict) -> dict:
    return _meta(obj).get("annotations") or {}


def is_ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def schedulable(node: dict) -> bool:
    """nodedrain's isNodeReady: Ready and not cordoned."""
    return is_ready(node) and not (node.get("spec") or {}).get("unschedulable")


def vmi_node(vmi: dict) -> str:
    return (_meta(vmi).get("labels") or {}).get(NODE_NAME_LABEL) or (vmi.get("status") or {}).get("nodeName") or ""


def vmis_on(store, node_name: str) -> list[dict]:
    """virtualmachineinstance.ListByNode: the VMIs labelled with the node (any phase)."""
    kind = store.registry.by_plural("kubevirt.io", "virtualmachineinstances")
    return [v for v in (store.list(kind) if kind else []) if vmi_node(v) == node_name]


def vm_ref(vmi: dict) -> str:
    """`ns/<vm>` from the VMI's VirtualMachine owner (findVM), else the VMI's own name."""
    meta = _meta(vmi)
    owner = next((o["name"] for o in meta.get("ownerReferences") or []
                  if o.get("kind") == "VirtualMachine" and o.get("apiVersion") == "kubevirt.io/v1"), meta["name"])
    return f"{meta.get('namespace', '')}/{owner}"


def _vmi_ref(vmi: dict) -> str:
    return f"{_meta(vmi).get('namespace', '')}/{_meta(vmi)['name']}"


def drain_possible(store, node: dict) -> str | None:
    """drainhelper.DrainPossible: None, or the error the action answers and the controller logs."""
    labels = _meta(node).get("labels") or {}
    if CP_LABEL not in labels and ETCD_LABEL not in labels:
        return None
    planes = [n for n in lookups.nodes(store)
              if CP_LABEL in (_meta(n).get("labels") or {}) or ETCD_LABEL in (_meta(n).get("labels") or {})]
    if len(planes) == 1:
        return ERR_SINGLE_CP
    available = sum(1 for n in planes if MAINTAIN_STATUS not in annotations(n))
    return None if available == HA_CONTROL_PLANES else ERR_HA_CP


def _matches_expression(labels: dict, expr: dict) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False  # Gt/Lt are not modelled: such a term matches nothing


def fits(vmi: dict, node: dict) -> bool:
    """The VMI's nodeSelector and required node affinity (matchExpressions) admit the node."""
    spec = vmi.get("spec") or {}
    labels = _meta(node).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    return any(all(_matches_expression(labels, e) for e in t.get("matchExpressions") or []) for t in terms)


def _pvc_names(vmi: dict) -> list[str]:
    return [((v or {}).get("persistentVolumeClaim") or {}).get("claimName")
            for v in (vmi.get("spec") or {}).get("volumes") or []
            if ((v or {}).get("persistentVolumeClaim") or {}).get("claimName")]


def _has_cdrom_or_container_disk(vmi: dict) -> bool:
    spec = vmi.get("spec") or {}
    disks = ((spec.get("domain") or {}).get("devices") or {}).get("disks") or []
    return any("cdrom" in (d or {}) for d in disks) or any("containerDisk" in (v or {}) for v in spec.get("volumes") or [])


def _last_healthy_replica_vms(store, node_name: str) -> list[str]:
    """listVolumeNames + listVMI: VMs of volumes whose replicas have at most one started, and that
    one on this node."""
    kind = store.registry.by_plural("longhorn.io", "replicas")
    replicas = store.list(kind, "longhorn-system") if kind else []
    by_volume: dict[str, list[dict]] = {}
    for r in replicas:
        by_volume.setdefault((r.get("spec") or {}).get("volumeName") or "", []).append(r)
    out = []
    vkind = store.registry.by_plural("longhorn.io", "volumes")
    vmi_kind = store.registry.by_plural("kubevirt.io", "virtualmachineinstances")
    for volume, reps in sorted(by_volume.items()):
        started = [r for r in reps if (r.get("status") or {}).get("started")]
        if len(started) > 1 or not any((r.get("spec") or {}).get("nodeID") == node_name for r in started):
            continue
        vol = store.peek(vkind, "longhorn-system", volume) if vkind else None
        ks = ((vol or {}).get("status") or {}).get("kubernetesStatus") or {}
        for w in ks.get("workloadsStatus") or []:
            if w.get("workloadType") == "VirtualMachineInstance" and vmi_kind is not None:
                vmi = store.peek(vmi_kind, ks.get("namespace", ""), w.get("workloadName", ""))
                if vmi is not None:
                    out.append(vm_ref(vmi))
    return out


def non_migratable(store, node: dict) -> dict[str, list[str]]:
    """nodedrain.FindNonMigratableVMS: reason -> `ns/name` of the VMs that cannot leave the node by
    live migration (keys sorted here; Go's map order is random)."""
    name = _meta(node)["name"]
    result: dict[str, list[str]] = {}
    last = _last_healthy_replica_vms(store, name)
    if last:
        result[LAST_HEALTHY_REPLICA] = last
    vmis = sorted(vmis_on(store, name), key=_vmi_ref)
    cdrom = [_vmi_ref(v) for v in vmis if _has_cdrom_or_container_disk(v)]
    if cdrom:
        result[CDROM_OR_CONTAINER_DISK] = cdrom
    for vmi in vmis:
        for c in (vmi.get("status") or {}).get("conditions") or []:
            if c.get("type") == "LiveMigratable" and c.get("status") == "False":
                result.setdefault(c.get("reason") or "", []).append(_vmi_ref(vmi))
    others = [n for n in lookups.nodes(store) if _meta(n)["name"] != name and schedulable(n)]
    stuck = [_vmi_ref(v) for v in vmis if not any(fits(v, n) for n in others)]
    if stuck:
        result[SCHEDULING_NOT_MET] = stuck
    return dict(sorted(result.items()))


def unhealthy_vm_list(store, node: dict) -> list[dict]:
    """The listUnhealthyVM answer: one entry per reason."""
    return [{"message": f"The following VMs cannot be migrated due to {reason} condition", "vms": vms}
            for reason, vms in non_migratable(store, node).items()]


# ---------------------------------------------------------------------------------------- writing
class NodeWriter(Controller):
    """Writes several node-maintenance actors share (the drain controller, the maintain
    controller, Steve's disableMaintenanceMode)."""

    def nodes_kind(self) -> Kind:
        return self.kind("", "nodes")

    def vms_kind(self) -> Kind:
        return self.kind("kubevirt.io", "virtualmachines")

    def halt(self, ref: str) -> None:
        """findAndStopVM: `runStrategy: Halted` (nothing when it already is)."""
        ns, _, name = ref.partition("/")

        def stop(vm):
            spec = vm.setdefault("spec", {})
            spec.pop("running", None)
            spec["runStrategy"] = "Halted"
        self.mutate(self.vms_kind(), ns, name, stop)

    def restart_vms(self, strategy: str, node_name: str) -> list[str]:
        """Start the VMs labelled `strategy` that maintenance of `node_name` shut down: their
        remembered run strategy (else RerunOnFailure), and the node annotation removed."""
        started = []
        for vm in lookups.virtual_machines(self.store):
            meta = _meta(vm)
            if (meta.get("labels") or {}).get(STRATEGY_LABEL) != strategy \
                    or annotations(vm).get(STRATEGY_NODE_ANNOTATION) != node_name:
                continue

            def start(o):
                o.setdefault("spec", {})["runStrategy"] = annotations(o).get(RUN_STRATEGY_ANNOTATION) or "RerunOnFailure"
                o["spec"].pop("running", None)
                o["metadata"]["annotations"].pop(STRATEGY_NODE_ANNOTATION, None)
            if self.mutate(self.vms_kind(), meta.get("namespace", ""), meta["name"], start) is not None:
                started.append(f"{meta.get('namespace', '')}/{meta['name']}")
        return started


def drop_request(node: dict) -> None:
    """What the drain controller removes when it gives up: the request and any status."""
    for key in (DRAIN_REQUESTED, DRAIN_FORCED, MAINTAIN_STATUS):
        node["metadata"].setdefault("annotations", {}).pop(key, None)


def cordon(node: dict) -> None:
    spec = node.setdefault("spec", {})
    spec["unschedulable"] = True
    if not any(t.get("key") == DRAIN_TAINT for t in spec.get("taints") or []):
        spec.setdefault("taints", []).append({"key": DRAIN_TAINT, "value": "scheduling", "effect": "NoSchedule"})


def uncordon(node: dict) -> None:
    """disableMaintenanceMode's node change: schedulable, taint and every maintenance annotation gone."""
    spec = node.setdefault("spec", {})
    spec["unschedulable"] = False
    taints = [t for t in spec.get("taints") or [] if t.get("key") != DRAIN_TAINT]
    if taints:
        spec["taints"] = taints
    else:
        spec.pop("taints", None)
    drop_request(node)


# ---------------------------------------------------------------------------------------- controllers
class NodeDrainController(NodeWriter):
    name = "node-drain-controller"
    watches = (("", "nodes"),)

    def start(self) -> None:
        self.draining: set[str] = set()  # the same instance restarts after a reset
        super().start()

    async def on_change(self, kind: Kind, obj: dict) -> None:
        name = _meta(obj)["name"]
        if DRAIN_REQUESTED in annotations(obj) and name not in self.draining:
            self.draining.add(name)
            self.spawn(self.drain(name))

    def give_up(self, name: str, why: str) -> None:
        log.info("node-drain-controller: %s: %s; request removed", name, why)
        self.mutate(self.nodes_kind(), "", name, drop_request)

    async def drain(self, name: str) -> None:
        try:
            while True:
                node = self.get(self.nodes_kind(), "", name)
                if node is None or DRAIN_REQUESTED not in annotations(node):
                    return
                if await self.attempt(node):
                    return
                await self.clock.sleep(DRAIN_TIMEOUT)  # the requeue after a failed drain
        finally:
            self.draining.discard(name)

    async def attempt(self, node: dict) -> bool:
        """One reconcile of OnNodeChange; False when the drain must be tried again later."""
        name = _meta(node)["name"]
        why = drain_possible(self.store, node)
        if why:
            self.give_up(name, f"enabling maintenance mode is impossible: {why}")
            return True
        forced = DRAIN_FORCED in annotations(node)
        blocked = non_migratable(self.store, node)
        if blocked and not forced:
            reasons = "; ".join(f"{','.join(vms)} cannot be migrated due to {r}" for r, vms in blocked.items())
            self.give_up(name, f"enabling maintenance mode is impossible, non-migratable VMs found: {reasons}")
            return True
        stopping = self.shut_down(node, blocked if forced else {})
        if self.mutate(self.nodes_kind(), "", name, cordon) is None:
            log.info("node-drain-controller: %s: error during node cordon", name)
            return False
        waited = 0.0
        while True:
            left = [v for v in vmis_on(self.store, name) if not _meta(v).get("deletionTimestamp")]
            if not left:
                break
            if waited >= DRAIN_TIMEOUT:
                log.info("node-drain-controller: %s: drain timed out with VMIs %s left", name,
                         ", ".join(_vmi_ref(v) for v in left))
                return False
            for vmi in left:
                if vm_ref(vmi) not in stopping:
                    self.evict(vmi, name)
            await self.clock.sleep(POLL)
            waited += POLL

        def done(o):
            for key in (DRAIN_REQUESTED, DRAIN_FORCED):
                o["metadata"].setdefault("annotations", {}).pop(key, None)
            o["metadata"]["annotations"][MAINTAIN_STATUS] = RUNNING
        self.mutate(self.nodes_kind(), "", name, done)
        return True

    def shut_down(self, node: dict, forced_out: dict[str, list[str]]) -> set[str]:
        """Stop the VMs with a shutdown maintain-mode strategy (annotating those to restart) and,
        with force, the non-migratable ones. Returns their `ns/name`."""
        name = _meta(node)["name"]
        refs: list[str] = []
        for vmi in vmis_on(self.store, name):
            strategy = (_meta(vmi).get("labels") or {}).get(STRATEGY_LABEL)
            if strategy not in SHUTDOWN_STRATEGIES:
                continue
            ref = vm_ref(vmi)
            refs.append(ref)
            if strategy in (RESTART_AFTER_ENABLE, RESTART_AFTER_DISABLE):
                ns, _, vm_name = ref.partition("/")
                self.mutate(self.vms_kind(), ns, vm_name,
                            lambda o: o["metadata"].setdefault("annotations", {}).__setitem__(STRATEGY_NODE_ANNOTATION, name))
        for vms in forced_out.values():
            refs += vms
        for ref in dict.fromkeys(refs):
            self.halt(ref)
        return set(refs)

    def evict(self, vmi: dict, node_name: str) -> None:
        """What KubeVirt's eviction webhook does when kubectl drain evicts a virt-launcher pod of a
        VMI with evictionStrategy LiveMigrate: mark the VMI for evacuation."""
        if (vmi.get("status") or {}).get("evacuationNodeName") == node_name:
            return
        meta = _meta(vmi)
        self.mutate(self.kind("kubevirt.io", "virtualmachineinstances"), meta.get("namespace", ""), meta["name"],
                    lambda o: o.setdefault("status", {}).__setitem__("evacuationNodeName", node_name))


class MaintainController(NodeWriter):
    """maintain-node-controller; it also looks again when a VMI goes (the twin has no resync)."""

    name = "maintain-node-controller"
    watches = (("", "nodes"), ("kubevirt.io", "virtualmachineinstances"))

    async def on_change(self, kind: Kind, obj: dict) -> None:
        self.check_all()

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        self.check_all()

    def check_all(self) -> None:
        for node in lookups.nodes(self.store):
            if annotations(node).get(MAINTAIN_STATUS) == RUNNING and not vmis_on(self.store, _meta(node)["name"]):
                self.complete(_meta(node)["name"])

    def complete(self, name: str) -> None:
        self.restart_vms(RESTART_AFTER_ENABLE, name)

        def flip(o):
            if annotations(o).get(MAINTAIN_STATUS) == RUNNING:
                o["metadata"]["annotations"][MAINTAIN_STATUS] = COMPLETED
        self.mutate(self.nodes_kind(), "", name, flip)


class LiveMigrationController(Controller):
    name = "virt-controller-migration"
    watches = (("kubevirt.io", "virtualmachineinstances"), ("", "nodes"), ("", "persistentvolumeclaims"))

    def start(self) -> None:
        self.migrating: set[tuple[str, str]] = set()
        super().start()

    def vmi_kind(self) -> Kind:
        return self.kind("kubevirt.io", "virtualmachineinstances")

    async def on_change(self, kind: Kind, obj: dict) -> None:
        vmis = [obj] if kind.plural == "virtualmachineinstances" else \
            self.store.list(self.vmi_kind())
        for vmi in vmis:
            self.set_migratable(vmi)
            if (vmi.get("status") or {}).get("evacuationNodeName"):
                self.start_migration(vmi)

    def migratable(self, vmi: dict) -> tuple[str, str, str]:
        """(status, reason, message) of the LiveMigratable condition (checkVolumesForMigration)."""
        pvc_kind = self.registry.by_plural("", "persistentvolumeclaims")
        ns = _meta(vmi).get("namespace", "")
        for claim in _pvc_names(vmi):
            pvc = self.store.peek(pvc_kind, ns, claim) if pvc_kind else None
            if pvc is None:
                return ("False", DISKS_NOT_MIGRATABLE, f"cannot migrate VMI: Unable to determine if PVC {claim} is shared, "
                        "live migration requires that all PVCs must be shared (using ReadWriteMany access mode)")
            if "ReadWriteMany" not in ((pvc.get("spec") or {}).get("accessModes") or []):
                return ("False", DISKS_NOT_MIGRATABLE, f"cannot migrate VMI: PVC {claim} is not shared, "
                        "live migration requires that all PVCs must be shared (using ReadWriteMany access mode)")
        return "True", "", ""

    def set_migratable(self, vmi: dict) -> None:
        if (vmi.get("status") or {}).get("phase") != "Running":
            return
        status, reason, message = self.migratable(vmi)
        want = {"type": "LiveMigratable", "status": status, "lastProbeTime": None, "lastTransitionTime": None}
        if reason:
            want.update(reason=reason, message=message)
        conditions = (vmi.get("status") or {}).get("conditions") or []
        if next((c for c in conditions if c.get("type") == "LiveMigratable"), None) == want:
            return

        def write(o):
            conds = [c for c in o.setdefault("status", {}).get("conditions") or [] if c.get("type") != "LiveMigratable"]
            o["status"]["conditions"] = [*conds, want]
        self.mutate(self.vmi_kind(), _meta(vmi).get("namespace", ""), _meta(vmi)["name"], write)

    def target(self, vmi: dict, source: str) -> dict | None:
        busy: dict[str, int] = {}
        for v in self.store.list(self.vmi_kind()):
            busy[vmi_node(v)] = busy.get(vmi_node(v), 0) + 1
        fitting = [n for n in lookups.nodes(self.store)
                   if _meta(n)["name"] != source and schedulable(n) and fits(vmi, n)]
        return min(fitting, key=lambda n: (busy.get(_meta(n)["name"], 0), _meta(n)["name"])) if fitting else None

    def start_migration(self, vmi: dict) -> None:
        meta, status = _meta(vmi), vmi.get("status") or {}
        key = (meta.get("namespace", ""), meta["name"])
        source = status.get("evacuationNodeName")
        if key in self.migrating or vmi_node(vmi) != source or status.get("phase") != "Running":
            return
        cond = next((c for c in status.get("conditions") or [] if c.get("type") == "LiveMigratable"), {})
        if cond.get("status") == "False":
            return  # KubeVirt refuses the eviction: the VMI stays until the drain gives up
        target = self.target(vmi, source)
        if target is None:
            return  # the target pod cannot be scheduled: the migration waits (retried on node changes)
        self.migrating.add(key)
        self.spawn(self.migrate(key, source, target))

    async def migrate(self, key: tuple[str, str], source: str, target: dict) -> None:
        ns, name = key
        target_name = _meta(target)["name"]
        address = next((a.get("address") for a in (target.get("status") or {}).get("addresses") or []
                        if a.get("type") == "InternalIP"), "")
        try:
            vmi = self.get(self.vmi_kind(), ns, name)
            if vmi is None:
                return
            uid = str(uuid.uuid4())
            suffix = hashlib.sha256(uid.encode()).hexdigest()

            def begin(o):
                st = o.setdefault("status", {})
                st["migrationMethod"] = "LiveMigration"
                st["migrationState"] = {
                    "migrationUid": uid, "sourceNode": source, "targetNode": target_name,
                    "targetNodeAddress": address, "sourcePod": f"virt-launcher-{name}-{suffix[:5]}",
                    "targetPod": f"virt-launcher-{name}-{suffix[5:10]}", "mode": "PreCopy",
                    "startTimestamp": self.clock.now(), "completed": False}
            if self.mutate(self.vmi_kind(), ns, name, begin) is None:
                return
            await self.clock.sleep(MIGRATION_SECONDS)

            def finish(o):
                st = o.setdefault("status", {})
                st["nodeName"] = target_name
                o["metadata"].setdefault("labels", {})[NODE_NAME_LABEL] = target_name
                st.pop("evacuationNodeName", None)
                state = st.setdefault("migrationState", {})
                state.update(completed=True, endTimestamp=self.clock.now(), targetNodeDomainDetected=True,
                             targetNodeDomainReadyTimestamp=self.clock.now())
            self.mutate(self.vmi_kind(), ns, name, finish)
        finally:
            self.migrating.discard(key)


CONTROLLERS = [NodeDrainController, MaintainController, LiveMigrationController]
