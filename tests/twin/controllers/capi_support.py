"""What the Cluster API, CAPHV and Talos controllers of the twin share: names of labels,
annotations and kinds, the two condition styles, owner references, and `Reconciler`, a
controller that works like controller-runtime: every event (of its own kind or of a kind it
watches for it) becomes "reconcile this object", and reconciling reads the live state.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import random

from ..registry import Kind
from . import Controller

log = logging.getLogger("twin.controllers.capi")

CAPI = "cluster.x-k8s.io"
INFRA = "infrastructure.cluster.x-k8s.io"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io"
CONTROLPLANE = "controlplane.cluster.x-k8s.io"

CLUSTER_NAME = "cluster.x-k8s.io/cluster-name"
CONTROL_PLANE = "cluster.x-k8s.io/control-plane"
DEPLOYMENT_NAME = "cluster.x-k8s.io/deployment-name"
CLONED_FROM_NAME = "cluster.x-k8s.io/cloned-from-name"
CLONED_FROM_GROUPKIND = "cluster.x-k8s.io/cloned-from-groupkind"
PAUSED = "cluster.x-k8s.io/paused"
SECRET_TYPE = "cluster.x-k8s.io/secret"

NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's rand.String alphabet


def random_suffix(n: int = 5) -> str:
    return "".join(random.choice(NAME_CHARS) for _ in range(n))


def short_hash(value: str, n: int = 5) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()
    return "".join(NAME_CHARS[int(digest[i:i + 2], 16) % len(NAME_CHARS)] for i in range(0, 2 * n, 2))


# ---------------------------------------------------------------------------------- conditions
def _condition(obj: dict, type_: str, status: str, now: str) -> dict:
    """The condition of `type_` in status.conditions (added when missing), its
    lastTransitionTime set to `now` when its status changes."""
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    current = next((c for c in conditions if c.get("type") == type_), None)
    if current is None:
        current = {"type": type_}
        conditions.append(current)
    if current.get("status") != status or "lastTransitionTime" not in current:
        current["lastTransitionTime"] = now
    return current


def set_v1beta2_condition(obj: dict, type_: str, status: str, reason: str, message: str = "", *,
                          now: str) -> None:
    """metav1.Condition (CAPI v1beta2, CAPHV v1beta1): reason and message always present,
    observedGeneration the object's generation, lastTransitionTime kept while status stays."""
    current = _condition(obj, type_, status, now)
    current.update(status=status, reason=reason, message=message)
    generation = obj["metadata"].get("generation")
    if generation:
        current["observedGeneration"] = generation


def set_v1beta1_condition(obj: dict, type_: str, status: str, reason: str = "", message: str = "",
                          severity: str = "", *, now: str) -> None:
    """CAPI v1beta1 condition (CACPPT/CABPT v1alpha3): severity only on False, reason and message
    left out when empty (their schema wants at least one character)."""
    current = _condition(obj, type_, status, now)
    current["status"] = status
    for key, value in (("reason", reason), ("message", message),
                       ("severity", severity if status == "False" else "")):
        if value:
            current[key] = value
        else:
            current.pop(key, None)
    obj["status"]["conditions"].sort(key=lambda c: (c["type"] != "Ready", c["type"]))  # CAPI keeps Ready first


def condition_status(obj: dict | None, type_: str) -> str:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return c.get("status", "Unknown")
    return "Unknown"


# ---------------------------------------------------------------------------------- references
def owner_ref(obj: dict, *, controller: bool = False) -> dict:
    ref = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
           "uid": obj["metadata"]["uid"]}
    if controller:
        ref.update(controller=True, blockOwnerDeletion=True)
    return ref


def ensure_owner(obj: dict, ref: dict) -> None:
    refs = obj["metadata"].setdefault("ownerReferences", [])
    if not any(r.get("uid") == ref["uid"] for r in refs):
        refs.append(ref)


def owned_by(obj: dict, uid: str) -> bool:
    return any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])


def owner_of_kind(obj: dict, kind: str) -> dict | None:
    return next((r for r in obj["metadata"].get("ownerReferences") or [] if r.get("kind") == kind), None)


def labels(obj: dict) -> dict:
    return obj["metadata"].get("labels") or {}


def annotations(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def deleting(obj: dict | None) -> bool:
    return bool(obj and obj["metadata"].get("deletionTimestamp"))


def split_ref(value: str, default_namespace: str) -> tuple[str, str]:
    """CAPHV's Harvester-side names: "ns/name" or just "name"."""
    ns, _, name = value.rpartition("/")
    return ns or default_namespace, name


# ---------------------------------------------------------------------------------- the reconciler
class Reconciler(Controller):
    """A controller-runtime style controller. `primary` is the (group, plural) it reconciles;
    `watches` also lists kinds whose events `map_event` turns into primary keys. Deletion: while
    the primary carries `finalizer`, `finalize(obj)` runs on every reconcile until it returns
    True, then the finalizer comes off. `due(key, stage, seconds)` models a delay."""

    primary: tuple[str, str] = ("", "")

    def __init__(self, twin):
        super().__init__(twin)
        self._pending: dict[tuple[str, str], float] = {}  # key -> loop time of its next requeue
        self._timers: dict[tuple, float] = {}

    def primary_kind(self) -> Kind | None:
        return self.registry.by_plural(*self.primary)

    async def dispatch(self, kind: Kind, type_: str, obj: dict) -> None:
        if (kind.group, kind.plural) == self.primary:
            keys = [(obj["metadata"].get("namespace", ""), obj["metadata"]["name"])]
        else:
            keys = list(self.map_event(kind, obj))
        for key in keys:
            await self.reconcile_key(key)

    async def reconcile_key(self, key: tuple[str, str]) -> None:
        kind = self.primary_kind()
        obj = self.get(kind, *key) if kind else None
        if obj is None:
            self._forget(key)
            return
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            if self.finalizer and self.finalizer in (meta.get("finalizers") or []) and await self.finalize(kind, obj):
                self.remove_finalizer(kind, obj, self.finalizer)
            return
        if self.finalizer and self.finalizer not in (meta.get("finalizers") or []) and self.claims(obj):
            self.add_finalizer(kind, obj, self.finalizer)
            return  # the MODIFIED event brings us back
        await self.reconcile(kind, obj)

    def status_writer(self, kind: Kind, obj: dict):
        """A function that applies a change to obj's status through the status subresource."""
        meta = obj["metadata"]
        return lambda change: self.mutate(kind, meta.get("namespace", ""), meta["name"], change, status=True)

    def claims(self, obj: dict) -> bool:
        """Whether to add the finalizer now. Providers add it only once CAPI owns the object
        (they return early, untouched, while the owner reference is missing)."""
        return True

    def map_event(self, kind: Kind, obj: dict):
        """Primary keys an event of another watched kind concerns."""
        return ()

    async def reconcile(self, kind: Kind, obj: dict) -> None:
        """Bring the world towards obj's spec."""

    async def finalize(self, kind: Kind, obj: dict) -> bool:
        """Clean up; True when done (the finalizer is then removed)."""
        return True

    # ------------------------------------------------------------------ time
    def requeue(self, key: tuple[str, str], seconds: float) -> None:
        """Reconcile key again after `seconds` of twin time (an earlier request wins)."""
        loop = asyncio.get_running_loop()
        when = loop.time() + seconds / self.clock.speed
        if self._pending.get(key, float("inf")) <= when:
            return
        self._pending[key] = when

        async def later():
            await asyncio.sleep(max(when - loop.time(), 0))
            if self._pending.get(key) == when:
                del self._pending[key]
            await self.reconcile_key(key)
        self.spawn(self._guarded(later()))

    async def _guarded(self, coro) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: requeued reconcile failed", self.name)

    def due(self, key: tuple[str, str], stage: str, uid: str, seconds: float) -> bool:
        """True once `seconds` of twin time have passed since this stage of this object (by uid)
        was first asked about; until then, asks for a requeue."""
        loop = asyncio.get_running_loop()
        when = self._timers.setdefault((uid, stage), loop.time() + seconds / self.clock.speed)
        left = when - loop.time()
        if left <= 0:
            return True
        self.requeue(key, left * self.clock.speed + 0.05)
        return False

    def stop(self) -> None:
        super().stop()  # cancels the requeue tasks: forget them (and the delays) with them
        self._pending.clear()
        self._timers.clear()

    def _forget(self, key: tuple[str, str]) -> None:
        self._pending.pop(key, None)


# ---------------------------------------------------------------------------------- machines
class CloneFailed(Exception):
    """A template to clone is missing: (reason, message)."""


def group_of(ref: dict) -> str:
    """A v1beta2 ref has apiGroup; a v1beta1-style ObjectReference has apiVersion."""
    return ref.get("apiGroup") or ref.get("apiVersion", "").rpartition("/")[0]


def create_machine(ctrl: Controller, *, owner: dict, name: str, cluster_name: str, machine_labels: dict,
                   version: str | None, infra_template_ref: dict, bootstrap_spec: dict,
                   bootstrap_template: dict | None = None) -> dict:
    """What a MachineSet (or a control plane provider) does for one replica: a Machine owned by
    `owner`, a HarvesterMachine cloned from the infrastructure template and a TalosConfig
    (cloned from `bootstrap_template` when given), both owned by the Machine and annotated with
    what they were cloned from. Raises CloneFailed when the infrastructure template is missing."""
    ns = owner["metadata"]["namespace"]
    infra_group = group_of(infra_template_ref)
    template_kind = ctrl.registry.by_kind(infra_group, infra_template_ref.get("kind", ""))
    template = ctrl.get(template_kind, ns, infra_template_ref.get("name", "")) if template_kind else None
    if template is None:
        raise CloneFailed(f"{infra_template_ref.get('kind')} {ns}/{infra_template_ref.get('name')} not found")
    hm_kind = ctrl.kind(INFRA, "harvestermachines")
    tc_kind = ctrl.kind(BOOTSTRAP, "talosconfigs")
    machine_kind = ctrl.kind(CAPI, "machines")
    all_labels = dict(machine_labels, **{CLUSTER_NAME: cluster_name})
    spec = {"clusterName": cluster_name,
            "bootstrap": {"configRef": {"apiGroup": BOOTSTRAP, "kind": "TalosConfig", "name": name}},
            "infrastructureRef": {"apiGroup": INFRA, "kind": "HarvesterMachine", "name": name}}
    if version:
        spec["version"] = version
    machine = ctrl.create(machine_kind, {
        "apiVersion": machine_kind.api_version(machine_kind.storage_version), "kind": "Machine",
        "metadata": {"name": name, "namespace": ns, "labels": all_labels,
                     "ownerReferences": [owner_ref(owner, controller=True)]},
        "spec": spec})
    if machine is None:
        raise CloneFailed(f"failed to create Machine {ns}/{name}")
    template_meta = ((template.get("spec") or {}).get("template") or {}).get("metadata") or {}
    ctrl.create(hm_kind, {
        "apiVersion": hm_kind.api_version(hm_kind.storage_version), "kind": "HarvesterMachine",
        "metadata": {"name": name, "namespace": ns,
                     "labels": dict(template_meta.get("labels") or {}, **all_labels),
                     "annotations": dict(template_meta.get("annotations") or {}, **{
                         CLONED_FROM_NAME: template["metadata"]["name"],
                         CLONED_FROM_GROUPKIND: f"{template['kind']}.{infra_group}"}),
                     "ownerReferences": [owner_ref(machine, controller=True)]},
        "spec": dict(((template.get("spec") or {}).get("template") or {}).get("spec") or {})})
    tc_meta: dict = {"name": name, "namespace": ns, "labels": dict(all_labels),
                     "ownerReferences": [owner_ref(machine, controller=True)]}
    if bootstrap_template is not None:
        tc_meta["annotations"] = {CLONED_FROM_NAME: bootstrap_template["metadata"]["name"],
                                  CLONED_FROM_GROUPKIND: f"{bootstrap_template['kind']}.{BOOTSTRAP}"}
    ctrl.create(tc_kind, {"apiVersion": tc_kind.api_version(tc_kind.storage_version), "kind": "TalosConfig",
                          "metadata": tc_meta, "spec": dict(bootstrap_spec)})
    return machine


def machine_running(machine: dict) -> bool:
    return bool(((machine.get("status") or {}).get("nodeRef") or {}).get("name")) and not deleting(machine)


def by_age(objs: list[dict]) -> list[dict]:
    return sorted(objs, key=lambda o: (o["metadata"].get("creationTimestamp", ""), o["metadata"]["name"]))
