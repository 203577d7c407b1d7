"""Controllers of the longhorn area: what longhorn-manager's reconcilers do after a write.

* SettingController: `status.applied` becomes true one sync after a change; the danger-zone
  settings Longhorn only rolls out with every volume detached (taint-toleration,
  system-managed-components-node-selector, priority-class, storage-network; and
  endpoint-network-for-rwx-volume with every RWX volume detached) stay `applied: false` while
  their new value waits, and become true once the volumes are detached.
* VolumeController: a volume is attached on the node of the running VMI that uses its PVC
  (PVC spec.volumeName = volume name), else detached; replicas run while it is attached and stop
  when it detaches; robustness is healthy / degraded / faulted from the healthy running replicas
  (unknown while detached); a degraded attached volume gets a new replica on a node without one,
  which rebuilds and turns healthy after a delay, and failed replicas are then removed; a
  Longhorn node becoming schedulable again (a node back from maintenance) re-checks every volume.
* InstanceManagerController: the instance-manager pod that runs a node's replicas is evicted by a
  node drain. The twin has no pods: a node counts as drained while it is cordoned with the
  `kubevirt.io/drain` taint Harvester's maintenance mode puts on it (a plain cordon evicts
  nothing), and Longhorn's PodDisruptionBudget lets the eviction happen only once no volume is
  attached on the node and -- unless `node-drain-policy` is `always-allow` -- every running
  replica there has a running healthy replica elsewhere (`block-if-contains-last-replica`, the
  default; the other policies are treated like it). Its running replicas then go to `error`, so
  their volumes degrade; when the node is back, the VolumeController rebuilds them.
* NodeController: Longhorn Node conditions Ready / Schedulable from the Kubernetes Node
  (cordoned -> Schedulable False, KubernetesNodeCordoned), disk scheduledReplica bookkeeping.
* BackupTargetController: `available` from spec.backupTargetURL: whether the lab's store
  answers (lab/backup-stores.yml and the environment's `unreachable` list, backup_stores.py).

Objects Longhorn owns carry its `longhorn.io` finalizer; deleting a Volume removes its replicas.
"""
from __future__ import annotations

import hashlib
import uuid

from .. import backup_stores, lookups
from ..admission.longhorn import APPLY_WHEN_ALL_DETACHED, APPLY_WHEN_RWX_DETACHED, NAMESPACE
from ..registry import Kind
from . import Controller

GROUP = "longhorn.io"
FINALIZER = "longhorn.io"
SYNC_DELAY = 2.0  # seconds (scaled by --speed) between a setting change and its sync
REPLENISH_DELAY = 5.0  # a degraded volume gets its new replica after this
REBUILD_TIME = 10.0  # a new replica rebuilds for this long before it is healthy
BACKUP_TARGET_DELAY = 2.0


def lh_condition(obj: dict, type_: str, status: str, reason: str = "", message: str = "", *, now: str) -> None:
    """Longhorn-style condition (type, status, reason, message, lastProbeTime, lastTransitionTime)."""
    conditions = obj.setdefault("status", {}).get("conditions") or []
    obj["status"]["conditions"] = conditions
    current = next((c for c in conditions if c.get("type") == type_), None)
    if current is None:
        current = {"type": type_, "lastProbeTime": ""}
        conditions.append(current)
    if current.get("status") != status:
        current["lastTransitionTime"] = now
    current.update(status=status, reason=reason, message=message)
    current.setdefault("lastProbeTime", "")


class LonghornController(Controller):
    """Adds Longhorn's `longhorn.io` finalizer to the kinds in `owned` (plural names), calling
    on_remove before dropping it, while still watching other kinds without touching them."""

    owned: tuple[str, ...] = ()

    def start(self) -> None:
        self.forget()  # the same instance restarts after a reset: nothing of the old world stays
        super().start()

    def forget(self) -> None:
        """Drop in-memory state (overridden where there is some)."""

    async def dispatch(self, kind: Kind, type_: str, obj: dict) -> None:
        meta = obj["metadata"]
        mine = kind.group == GROUP and kind.plural in self.owned
        if type_ == "DELETED":
            await self.on_deleted(kind, obj)
            return
        if meta.get("deletionTimestamp"):
            if mine and FINALIZER in (meta.get("finalizers") or []):
                await self.on_remove(kind, obj)
                self.remove_finalizer(kind, obj, FINALIZER)
            return
        if mine and FINALIZER not in (meta.get("finalizers") or []):
            self.add_finalizer(kind, obj, FINALIZER)
            return
        await self.on_change(kind, obj)

    def lh(self, plural: str) -> Kind:
        return self.kind(GROUP, plural)

    def lh_list(self, plural: str) -> list[dict]:
        kind = self.registry.by_plural(GROUP, plural)
        return self.store.list(kind, NAMESPACE) if kind is not None else []


def _attached(volume: dict) -> bool:
    return (volume.get("status") or {}).get("state", "detached") != "detached"


# ---------------------------------------------------------------------------------------- settings
class SettingController(LonghornController):
    name = "longhorn-setting-controller"
    watches = ((GROUP, "settings"), (GROUP, "volumes"))

    def forget(self) -> None:
        self.rolled_out: dict[str, str] = {}  # danger-zone setting -> value the components run with
        self.pending: set[str] = set()

    async def on_change(self, kind: Kind, obj: dict) -> None:
        if kind.plural == "volumes":
            for name in list(self.rolled_out):
                self.schedule(name)
            return
        name = obj["metadata"]["name"]
        if name in APPLY_WHEN_ALL_DETACHED + APPLY_WHEN_RWX_DETACHED:
            self.rolled_out.setdefault(name, obj.get("value", ""))
        self.schedule(name)

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        if kind.plural == "volumes":
            for name in list(self.rolled_out):
                self.schedule(name)

    def schedule(self, name: str) -> None:
        if name not in self.pending:
            self.pending.add(name)
            self.spawn(self.sync(name))

    async def sync(self, name: str) -> None:
        await self.clock.sleep(SYNC_DELAY)
        self.pending.discard(name)
        live = self.get(self.lh("settings"), NAMESPACE, name)
        if live is None:
            return
        value = live.get("value", "")
        applied = True
        if name in self.rolled_out and value != self.rolled_out[name]:
            volumes = self.lh_list("volumes")
            if name in APPLY_WHEN_RWX_DETACHED:
                volumes = [v for v in volumes if (v.get("spec") or {}).get("accessMode") == "rwx"]
            if any(_attached(v) for v in volumes):
                applied = False  # "... when there are attached volumes. It will be eventually applied"
            else:
                self.rolled_out[name] = value

        def write(o):
            o.setdefault("status", {})["applied"] = applied
        self.mutate(self.lh("settings"), NAMESPACE, name, write, status=True)


# ---------------------------------------------------------------------------------------- volumes
def _replica_failed(r: dict) -> bool:
    return bool((r.get("spec") or {}).get("failedAt")) or (r.get("status") or {}).get("currentState") == "error"


def _replica_healthy(r: dict) -> bool:
    return bool((r.get("spec") or {}).get("healthyAt")) and not _replica_failed(r)


class VolumeController(LonghornController):
    name = "longhorn-volume-controller"
    watches = ((GROUP, "volumes"), (GROUP, "replicas"), ("kubevirt.io", "virtualmachineinstances"),
               ("", "persistentvolumeclaims"), (GROUP, "nodes"))
    owned = ("volumes", "replicas")

    def forget(self) -> None:
        self.rebuilding: set[str] = set()

    async def on_change(self, kind: Kind, obj: dict) -> None:
        if kind.group == GROUP and kind.plural == "volumes":
            self.reconcile(obj["metadata"]["name"])
        elif kind.group == GROUP and kind.plural == "replicas":
            self.reconcile((obj.get("spec") or {}).get("volumeName") or "")
        else:  # a VMI, a PVC, or a Longhorn node (schedulable again: a degraded volume may rebuild now)
            for v in self.lh_list("volumes"):
                self.reconcile(v["metadata"]["name"])

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        if kind.group == GROUP and kind.plural == "replicas":
            self.reconcile((obj.get("spec") or {}).get("volumeName") or "")
        elif kind.group != GROUP:
            for v in self.lh_list("volumes"):
                self.reconcile(v["metadata"]["name"])

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        if kind.plural == "volumes":
            for r in self.replicas_of(obj["metadata"]["name"]):
                self.delete(self.lh("replicas"), NAMESPACE, r["metadata"]["name"])

    def replicas_of(self, volume: str) -> list[dict]:
        return [r for r in self.lh_list("replicas")
                if (r.get("spec") or {}).get("volumeName") == volume
                or (r["metadata"].get("labels") or {}).get("longhornvolume") == volume]

    def user(self, volume: str) -> tuple[dict | None, dict | None]:
        """(the PVC bound to the volume, the running VMI that uses that PVC)."""
        pvc_kind = self.registry.by_plural("", "persistentvolumeclaims")
        pvcs = [p for p in (self.store.list(pvc_kind) if pvc_kind else [])
                if (p.get("spec") or {}).get("volumeName") == volume]
        if not pvcs:
            return None, None
        pvc = pvcs[0]
        ns, claim = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
        for vmi in lookups.running_vmis(self.store):
            if vmi["metadata"].get("namespace") != ns:
                continue
            claims = [((v or {}).get("persistentVolumeClaim") or {}).get("claimName")
                      for v in (vmi.get("spec") or {}).get("volumes") or []]
            if claim in claims:
                return pvc, vmi
        return pvc, None

    def reconcile(self, name: str) -> None:
        vkind, rkind = self.lh("volumes"), self.lh("replicas")
        volume = self.get(vkind, NAMESPACE, name)
        if volume is None or volume["metadata"].get("deletionTimestamp"):
            return
        now = self.clock.now()
        pvc, vmi = self.user(name)
        node = ""
        if vmi is not None:
            node = (vmi.get("status") or {}).get("nodeName") or \
                (vmi["metadata"].get("labels") or {}).get("kubevirt.io/nodeName", "")
        attached = bool(node)

        # replicas follow the engine: running while attached, stopped when detached
        for r in self.replicas_of(name):
            rname = r["metadata"]["name"]
            if (r.get("status") or {}).get("currentState") == "error" and not (r.get("spec") or {}).get("failedAt"):
                self.mutate(rkind, NAMESPACE, rname, lambda o: o["spec"].__setitem__("failedAt", now))
                continue
            if _replica_failed(r):
                want = "stopped"
            else:
                want = "running" if attached else "stopped"

            def run(o, want=want):
                st = o.setdefault("status", {})
                st["currentState"] = want
                st["started"] = want == "running"
            if (r.get("status") or {}).get("currentState") != want:
                self.mutate(rkind, NAMESPACE, rname, run, status=True)

        replicas = self.replicas_of(name)
        wanted = int((volume.get("spec") or {}).get("numberOfReplicas") or 3)
        healthy = sum(1 for r in replicas if _replica_healthy(r))
        if not attached:
            robustness = "unknown"
        elif healthy >= wanted:
            robustness = "healthy"
        elif healthy > 0:
            robustness = "degraded"
        else:
            robustness = "faulted"

        def write(o):
            st = o.setdefault("status", {})
            if st.get("robustness") != "degraded" and robustness == "degraded":
                st["lastDegradedAt"] = now
            st["state"] = "attached" if attached else "detached"
            st["robustness"] = robustness
            st["currentNodeID"] = node
            if attached:
                st["ownerID"] = node
            ks = st.setdefault("kubernetesStatus", {})
            if pvc is not None:
                ks.update(namespace=pvc["metadata"]["namespace"], pvcName=pvc["metadata"]["name"], pvName=name,
                          pvStatus="Bound")
            if vmi is not None:
                vmi_name = vmi["metadata"]["name"]
                suffix = hashlib.sha256(vmi["metadata"].get("uid", vmi_name).encode()).hexdigest()[:5]
                old = (ks.get("workloadsStatus") or [{}])[0]
                pod = old.get("podName") if old.get("workloadName") == vmi_name else f"virt-launcher-{vmi_name}-{suffix}"
                ks["workloadsStatus"] = [{"podName": pod, "podStatus": "Running", "workloadName": vmi_name,
                                          "workloadType": "VirtualMachineInstance"}]
                ks["lastPodRefAt"] = ""
            elif ks.get("workloadsStatus"):
                ks["workloadsStatus"] = []
                ks["lastPodRefAt"] = now
        self.mutate(vkind, NAMESPACE, name, write, status=True)

        if attached and 0 < healthy < wanted and name not in self.rebuilding:
            self.rebuilding.add(name)
            self.spawn(self.replenish(name))

    async def replenish(self, name: str) -> None:
        """Schedule a new replica for a degraded volume, let it rebuild, then clean up failed ones."""
        try:
            while True:
                await self.clock.sleep(REPLENISH_DELAY)
                volume = self.get(self.lh("volumes"), NAMESPACE, name)
                if volume is None or not _attached(volume):
                    return
                replicas = self.replicas_of(name)
                wanted = int((volume.get("spec") or {}).get("numberOfReplicas") or 3)
                healthy = [r for r in replicas if _replica_healthy(r)]
                if not healthy or len(healthy) >= wanted:
                    return
                created = self.new_replica(volume, replicas)
                if created is None:
                    self.mark_unschedulable(name)
                    return
                self.mark_scheduled(name)
                await self.clock.sleep(REBUILD_TIME)
                rname = created["metadata"]["name"]
                now = self.clock.now()

                def rebuilt(o, now=now):
                    if not _replica_failed(o):
                        o["spec"]["healthyAt"] = now
                done = self.mutate(self.lh("replicas"), NAMESPACE, rname, rebuilt)
                if done is None:
                    continue
                for r in self.replicas_of(name):
                    if _replica_failed(r):
                        self.delete(self.lh("replicas"), NAMESPACE, r["metadata"]["name"])
                self.reconcile(name)
        finally:
            self.rebuilding.discard(name)

    def mark_unschedulable(self, name: str) -> None:
        now = self.clock.now()
        self.mutate(self.lh("volumes"), NAMESPACE, name,
                    lambda o: lh_condition(o, "Scheduled", "False", "ReplicaSchedulingFailure",
                                           "insufficient nodes to schedule a new replica", now=now), status=True)

    def mark_scheduled(self, name: str) -> None:
        now = self.clock.now()
        self.mutate(self.lh("volumes"), NAMESPACE, name,
                    lambda o: lh_condition(o, "Scheduled", "True", "", "", now=now), status=True)

    def new_replica(self, volume: dict, replicas: list[dict]) -> dict | None:
        name = volume["metadata"]["name"]
        spec = volume.get("spec") or {}
        busy = {(r.get("spec") or {}).get("nodeID") for r in replicas if not _replica_failed(r)}
        target = None
        for node in sorted(self.lh_list("nodes"), key=lambda n: n["metadata"]["name"]):
            if node["metadata"]["name"] in busy or not (node.get("spec") or {}).get("allowScheduling", True):
                continue
            conds = {c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []}
            if conds.get("Ready") != "True" or conds.get("Schedulable") != "True":
                continue
            target = node
            break
        if target is None:
            return None
        node_name = target["metadata"]["name"]
        disk_id, disk = next(iter(((target.get("spec") or {}).get("disks") or {}).items()), ("", {}))
        disk_uuid = (((target.get("status") or {}).get("diskStatus") or {}).get(disk_id) or {}).get("diskUUID", "")
        suffix = uuid.uuid4().hex[:8]
        body = {
            "apiVersion": "longhorn.io/v1beta2", "kind": "Replica",
            "metadata": {"name": f"{name}-r-{suffix}", "namespace": NAMESPACE, "finalizers": [FINALIZER],
                         "labels": {"longhornvolume": name, "longhornnode": node_name,
                                    "longhorndiskuuid": disk_uuid},
                         "ownerReferences": [{"apiVersion": "longhorn.io/v1beta2", "kind": "Volume", "name": name,
                                              "uid": volume["metadata"]["uid"], "controller": True}]},
            "spec": {"volumeName": name, "volumeSize": str(spec.get("size", "0")), "nodeID": node_name,
                     "diskID": disk_uuid, "diskPath": disk.get("path", ""),
                     "dataDirectoryName": f"{name}-{uuid.uuid4().hex[:8]}", "engineName": f"{name}-e-0",
                     "image": spec.get("image", ""), "dataEngine": spec.get("dataEngine", "v1"), "active": True,
                     "desireState": "running", "healthyAt": "", "failedAt": "", "hardNodeAffinity": "",
                     "rebuildRetryCount": 0, "evictionRequested": False},
        }
        created = self.create(self.lh("replicas"), body)
        if created is None:
            return None
        ip = next((a.get("address") for n in lookups.nodes(self.store) if n["metadata"]["name"] == node_name
                   for a in (n.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"), "")

        def run(o):
            o["status"] = {"currentState": "running", "currentImage": spec.get("image", ""), "ownerID": node_name,
                           "ip": ip, "storageIP": ip, "port": 10000, "started": True,
                           "instanceManagerName": (((target.get("status") or {}).get("diskStatus") or {})
                                                   .get(disk_id) or {}).get("instanceManagerName", "")}
        self.mutate(self.lh("replicas"), NAMESPACE, created["metadata"]["name"], run, status=True)
        return created


# ---------------------------------------------------------------------------------------- nodes
class NodeController(LonghornController):
    name = "longhorn-node-controller"
    watches = ((GROUP, "nodes"), ("", "nodes"), (GROUP, "replicas"), (GROUP, "settings"))
    owned = ("nodes",)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        if kind.group == GROUP and kind.plural == "settings":
            if obj["metadata"]["name"] != "disable-scheduling-on-cordoned-node":
                return
        for node in self.lh_list("nodes"):
            self.reconcile(node["metadata"]["name"])

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        if kind.plural in ("nodes", "replicas"):
            for node in self.lh_list("nodes"):
                self.reconcile(node["metadata"]["name"])

    def reconcile(self, name: str) -> None:
        k8s = next((n for n in lookups.nodes(self.store) if n["metadata"]["name"] == name), None)
        setting = self.get(self.lh("settings"), NAMESPACE, "disable-scheduling-on-cordoned-node")
        honour_cordon = (setting or {}).get("value", "true") == "true"
        replicas = [r for r in self.lh_list("replicas") if (r.get("spec") or {}).get("nodeID") == name]
        now = self.clock.now()

        def write(o):
            if k8s is None:
                lh_condition(o, "Ready", "False", "KubernetesNodeGone",
                             f"Kubernetes node missing: node {name} has been removed from the cluster", now=now)
            else:
                ready = next((c for c in (k8s.get("status") or {}).get("conditions") or []
                              if c.get("type") == "Ready"), {})
                if ready.get("status") == "True":
                    lh_condition(o, "Ready", "True", "", f"Node {name} is ready", now=now)
                else:
                    lh_condition(o, "Ready", "False", "KubernetesNodeNotReady",
                                 f"Kubernetes node {name} not ready: {ready.get('reason', 'Unknown')}", now=now)
            cordoned = bool(((k8s or {}).get("spec") or {}).get("unschedulable"))
            if cordoned and honour_cordon:
                lh_condition(o, "Schedulable", "False", "KubernetesNodeCordoned", f"Node {name} is cordoned",
                             now=now)
            else:
                lh_condition(o, "Schedulable", "True", "", "", now=now)
            disks = (o.get("status") or {}).get("diskStatus") or {}
            for disk in disks.values():
                mine = {r["metadata"]["name"]: int((r.get("spec") or {}).get("volumeSize") or 0)
                        for r in replicas if (r.get("spec") or {}).get("diskID") == disk.get("diskUUID")}
                disk["scheduledReplica"] = dict(sorted(mine.items()))
                disk["storageScheduled"] = sum(mine.values())
        self.mutate(self.lh("nodes"), NAMESPACE, name, write, status=True)


# ---------------------------------------------------------------------------------------- instance managers
DRAIN_TAINT = "kubevirt.io/drain"


def _drained(node: dict) -> bool:
    spec = node.get("spec") or {}
    return bool(spec.get("unschedulable")) and any(t.get("key") == DRAIN_TAINT for t in spec.get("taints") or [])


class InstanceManagerController(LonghornController):
    name = "longhorn-instance-manager-controller"
    watches = (("", "nodes"), (GROUP, "volumes"), (GROUP, "replicas"))

    async def on_change(self, kind: Kind, obj: dict) -> None:
        for node in lookups.nodes(self.store):
            if _drained(node):
                self.evict(node["metadata"]["name"])

    def evict(self, name: str) -> None:
        if any(_attached(v) and (v.get("status") or {}).get("currentNodeID") == name for v in self.lh_list("volumes")):
            return  # an engine still runs there: the PodDisruptionBudget keeps the pod
        replicas = self.lh_list("replicas")
        running = [r for r in replicas if (r.get("spec") or {}).get("nodeID") == name
                   and (r.get("status") or {}).get("currentState") == "running"]
        if not running:
            return
        policy = (self.get(self.lh("settings"), NAMESPACE, "node-drain-policy") or {}).get("value")
        if policy != "always-allow":
            for r in running:
                volume = (r.get("spec") or {}).get("volumeName")
                if not any((o.get("spec") or {}).get("volumeName") == volume and (o.get("spec") or {}).get("nodeID") != name
                           and _replica_healthy(o) and (o.get("status") or {}).get("currentState") == "running"
                           for o in replicas):
                    return  # the node holds the last running replica of a volume: eviction blocked
        for r in running:
            self.mutate(self.lh("replicas"), NAMESPACE, r["metadata"]["name"],
                        lambda o: o.setdefault("status", {}).update(currentState="error", started=False), status=True)


# ---------------------------------------------------------------------------------------- backup target
class BackupTargetController(LonghornController):
    name = "longhorn-backup-target-controller"
    watches = ((GROUP, "backuptargets"),)
    owned = ("backuptargets",)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        self.spawn(self.sync(obj["metadata"]["name"]))

    async def sync(self, name: str) -> None:
        await self.clock.sleep(BACKUP_TARGET_DELAY)
        live = self.get(self.lh("backuptargets"), NAMESPACE, name)
        if live is None:
            return
        url = (live.get("spec") or {}).get("backupTargetURL") or ""
        now = self.clock.now()

        def write(o):
            st = o.setdefault("status", {})
            if not url:
                st["available"] = False
                lh_condition(o, "Unavailable", "True", "Unavailable", "backup target URL is empty", now=now)
            elif not backup_stores.reachable(self.store, url):
                st["available"] = False
                lh_condition(o, "Unavailable", "True", "Unavailable",
                             f"failed to list backup volumes in {url}: cannot connect to the backup store", now=now)
            else:
                st["available"] = True
                if not st.get("lastSyncedAt") or st.get("conditions", [{}])[0].get("status") != "False":
                    st["lastSyncedAt"] = now
                lh_condition(o, "Unavailable", "False", "", "", now=now)
        self.mutate(self.lh("backuptargets"), NAMESPACE, name, write, status=True)


CONTROLLERS: list = [SettingController, VolumeController, NodeController, InstanceManagerController,
                     BackupTargetController]
