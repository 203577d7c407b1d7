"""The object store: what etcd and the generic registry of kube-apiserver do for the twin.

Objects are kept per resource in their last written form. Every write goes through one
pipeline (prune and default by schema, mutating admission, metadata and schema validation,
validating admission) and then, unless it is a dry run, gets a new resourceVersion and is fanned
out to watchers. Controllers and webhooks use these same public operations.
"""
from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from . import errors
from .admission import Chain, Request
from .clock import rfc3339
from .core_writes import prepare_core
from .jsoncopy import clone
from .meta import validate_object_meta
from .namespaces import NamespaceLifecycle, is_namespace, spec_finalizers
from .owners import OwnerCascade
from .registry import Kind, Registry
from .schema import StrictDecodingError
from .watch import Event, Key, Watcher

HISTORY = 20000  # events kept for watches that resume from a resourceVersion
NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's generateName alphabet


@dataclass
class WriteResult:
    obj: dict
    warnings: list[str] = field(default_factory=list)
    created: bool = False
    removed: bool = False  # for deletes: gone now (else waiting on finalizers)


class Store:
    def __init__(self, registry: Registry, admission: Chain | None = None):
        self.registry = registry
        self.admission = admission or Chain()
        self._objects: dict[Key, dict[tuple[str, str], dict]] = {}
        self._rv = 0
        self._events: deque[Event] = deque(maxlen=HISTORY)
        self._watchers: set[Watcher] = set()
        # Facts about the world outside the API that webhooks and controllers consult, set by
        # tests through /_twin/environment, e.g. {"unreachable": ["nfs://10.10.10.20:/x"]}.
        self.environment: dict = {}
        self.owners = OwnerCascade(self)
        self.namespaces = NamespaceLifecycle(self)

    # ------------------------------------------------------------------ reads
    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def kind(self, group: str, plural: str) -> Kind:
        k = self.registry.by_plural(group, plural)
        if k is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        return k

    def _bucket(self, kind: Kind) -> dict[tuple[str, str], dict]:
        return self._objects.setdefault(kind.key, {})

    def peek(self, kind: Kind, namespace: str, name: str) -> dict | None:
        """The live object itself (no copy) or None: for the store's own bookkeeping."""
        return self._bucket(kind).get((namespace or "", name))

    def get(self, kind: Kind, namespace: str, name: str) -> dict:
        obj = self.peek(kind, namespace, name)
        if obj is None:
            raise errors.not_found(kind.group, kind.plural, name)
        return clone(obj)

    def list(self, kind: Kind, namespace: str | None = None,
             predicate: Callable[[dict], bool] | None = None) -> list[dict]:
        items = []
        for (ns, _), obj in sorted(self._bucket(kind).items()):
            if namespace and ns != namespace:
                continue
            if predicate and not predicate(obj):
                continue
            items.append(clone(obj))
        return items

    # ------------------------------------------------------------------ watch
    def watch(self, kind: Kind, namespace: str | None, predicate: Callable[[dict], bool],
              since: str | None) -> tuple[Watcher, list[tuple[str, dict]]]:
        """Register a watcher. Returns it and the events to send first: the current objects as
        ADDED when `since` is empty or "0", else the history after `since` (410 if too old)."""
        w = Watcher(kind.key, namespace, predicate)
        backlog: list[tuple[str, dict]] = []
        if not since or since == "0":
            backlog = [("ADDED", o) for o in self.list(kind, namespace, predicate)]
        else:
            try:
                start = int(since)
            except ValueError:
                raise errors.bad_request(f'invalid resource version: "{since}"') from None
            oldest = self._events[0].rv if self._events else self._rv + 1
            if start < oldest - 1 and start < self._rv:
                raise errors.gone(f"too old resource version: {start} ({oldest - 1})")
            replay = Watcher(kind.key, namespace, predicate)
            for ev in self._events:
                if ev.rv > start:
                    replay.offer(ev)
            while not replay.queue.empty():
                backlog.append(replay.queue.get_nowait())
        self._watchers.add(w)
        return w, backlog

    def unwatch(self, w: Watcher) -> None:
        self._watchers.discard(w)

    def _emit(self, kind: Kind, type_: str, obj: dict, old: dict | None) -> None:
        self._record(Event(self._rv, type_, kind.key, clone(obj), old))

    def _record(self, ev: Event) -> None:
        self._events.append(ev)
        for w in list(self._watchers):
            w.offer(ev)

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    # ------------------------------------------------------------------ the write pipeline
    def _check_type(self, kind: Kind, version: str, obj: dict) -> None:
        if not isinstance(obj, dict):
            raise errors.bad_request("the body of the request was not a JSON object")
        api_version, k = obj.get("apiVersion"), obj.get("kind")
        if not k or not api_version:
            missing = "kind" if not k else "apiVersion"
            raise errors.bad_request(f"Object '{missing}' is missing in '{json.dumps(obj)[:200]}'")
        if k != kind.kind or api_version != kind.api_version(version):
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({kind.api_version(version)})" if k == kind.kind else
                f"{k} in version \"{api_version.rpartition('/')[2]}\" cannot be handled as a {kind.kind}: "
                f"no kind \"{k}\" is registered for version \"{api_version}\"")

    def _admit(self, kind: Kind, version: str, obj: dict, old: dict | None, operation: str, *,
               strict: bool, dry_run: bool, subresource: str = "", actor: str = "user") -> list[str]:
        """Prune and default, mutate, validate. Changes obj in place; returns warnings."""
        warnings: list[str] = []
        v = kind.versions[version]
        if v.schema is not None:
            try:
                admitted, warnings, _ = v.schema.admit(obj, strict=strict)
            except StrictDecodingError as e:
                raise errors.bad_request(str(e)) from None
            meta = obj.get("metadata")
            obj.clear()
            obj.update(admitted)
            if meta is not None:
                obj["metadata"] = meta
        name = obj["metadata"].get("name") or obj["metadata"].get("generateName", "")
        req = Request(operation, kind.group, kind.kind, name, obj["metadata"].get("namespace", ""),
                      obj, old, dry_run, subresource, self, actor)
        if operation == "CREATE":
            self.namespaces.admit_create(kind, req.namespace, name)
        self.admission.mutate(req)
        causes = validate_object_meta(obj["metadata"], group=kind.group, kind=kind.kind,
                                      namespaced=kind.namespaced)
        if v.schema is not None:
            causes += [(e.reason, e.path, e.message) for e in v.schema.validate(obj)]
        if causes:
            raise errors.invalid(kind.kind, kind.group, name, causes)
        self.admission.validate(req)
        if v.go_json is not None:
            v.go_json.encode(obj)  # a built-in kind is stored as its Go type writes it (gojson.py)
        return warnings

    def create(self, kind: Kind, version: str, obj: dict, *, namespace: str = "", dry_run: bool = False,
               strict: bool = False, actor: str = "user") -> WriteResult:
        obj = clone(obj)
        self._check_type(kind, version, obj)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if kind.namespaced:
            meta["namespace"] = meta.get("namespace") or namespace
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choice(NAME_CHARS) for _ in range(5))
        for server_owned in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                             "deletionGracePeriodSeconds", "generation", "managedFields", "selfLink"):
            meta.pop(server_owned, None)
        v = kind.versions[version]
        if v.status:
            obj.pop("status", None)  # status is set through the status subresource only
        prepare_core(kind, obj, None)
        warnings = self._admit(kind, version, obj, None, "CREATE", strict=strict, dry_run=dry_run, actor=actor)
        key = (meta.get("namespace", ""), meta["name"])
        if key in self._bucket(kind):
            raise errors.already_exists(kind.group, kind.plural, meta["name"])
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339()
        if not kind.core:
            meta["generation"] = 1
        if dry_run:
            return WriteResult(obj, warnings, created=True)
        meta["resourceVersion"] = self._next_rv()
        self._bucket(kind)[key] = obj
        self._emit(kind, "ADDED", obj, None)
        return WriteResult(clone(obj), warnings, created=True)

    def update(self, kind: Kind, version: str, obj: dict, *, namespace: str = "", name: str = "",
               subresource: str = "", dry_run: bool = False, strict: bool = False,
               actor: str = "user") -> WriteResult:
        """PUT semantics: the whole object, optimistic concurrency by resourceVersion."""
        obj = clone(obj)
        self._check_type(kind, version, obj)
        meta = obj.setdefault("metadata", {})
        name = name or meta.get("name", "")
        if kind.namespaced:
            meta["namespace"] = meta.get("namespace") or namespace
        live = self.peek(kind, meta.get("namespace", ""), name)
        if live is None:
            raise errors.not_found(kind.group, kind.plural, name)
        rv = meta.get("resourceVersion")
        if not rv and not kind.core:
            raise errors.invalid(kind.kind, kind.group, name, [
                ("FieldValueInvalid", "metadata.resourceVersion",
                 "Invalid value: 0x0: must be specified for an update")])
        if rv and rv != live["metadata"]["resourceVersion"]:
            raise errors.conflict(kind.group, kind.plural, name)
        if meta.get("uid") and meta["uid"] != live["metadata"]["uid"]:
            raise errors.ApiError(409, "Conflict",
                                  f"Precondition failed: UID in precondition: {meta['uid']}, "
                                  f"UID in object meta: {live['metadata']['uid']}")
        obj = self._carry_over(kind, version, obj, live, subresource)
        prepare_core(kind, obj, live)
        warnings = self._admit(kind, version, obj, clone(live), "UPDATE", strict=strict, dry_run=dry_run,
                               subresource=subresource, actor=actor)
        self._check_finalizers(kind, obj, live)
        if _same(obj, live):
            return WriteResult(clone(live), warnings)  # a no-op write keeps resourceVersion, no event
        if not kind.core and _spec_changed(kind, version, obj, live):
            obj["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
        if dry_run:
            return WriteResult(obj, warnings)
        return self.commit(kind, obj, live, warnings)

    def _carry_over(self, kind: Kind, version: str, obj: dict, live: dict, subresource: str) -> dict:
        """Keep what a client may not change through this endpoint."""
        meta = obj["metadata"]
        for owned in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "generation", "resourceVersion"):
            if owned in live["metadata"]:
                meta[owned] = live["metadata"][owned]
            else:
                meta.pop(owned, None)
        meta.pop("managedFields", None)
        has_status = kind.versions[version].status
        if subresource == "status":
            new = clone(live)  # only status changes through /status
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            new["apiVersion"] = obj["apiVersion"]
            return new
        if has_status:
            if "status" in live:
                obj["status"] = clone(live["status"])
            else:
                obj.pop("status", None)
        return obj

    def _check_finalizers(self, kind: Kind, obj: dict, live: dict) -> None:
        if not live["metadata"].get("deletionTimestamp"):
            return
        added = set(obj["metadata"].get("finalizers") or []) - set(live["metadata"].get("finalizers") or [])
        if added:
            raise errors.invalid(kind.kind, kind.group, live["metadata"]["name"], [
                ("FieldValueForbidden", "metadata.finalizers",
                 f"Forbidden: no new finalizers can be added if the object is being deleted, found new "
                 f"finalizers []string{{{', '.join(json.dumps(f) for f in sorted(added))}}}")])

    def commit(self, kind: Kind, obj: dict, live: dict, warnings: list[str]) -> WriteResult:
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        obj["metadata"]["resourceVersion"] = self._next_rv()
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers") \
                and not spec_finalizers(kind, obj):
            del self._bucket(kind)[key]
            self._emit(kind, "DELETED", obj, live)
            self._after_removal(kind, obj)
            return WriteResult(clone(obj), warnings, removed=True)
        self._bucket(kind)[key] = obj
        self._emit(kind, "MODIFIED", obj, live)
        return WriteResult(clone(obj), warnings)

    # ------------------------------------------------------------------ delete
    def delete(self, kind: Kind, namespace: str, name: str, *, dry_run: bool = False,
               propagation: str | None = None, precondition_uid: str | None = None,
               precondition_rv: str | None = None, actor: str = "user") -> WriteResult:
        live = self.peek(kind, namespace, name)
        if live is None:
            raise errors.not_found(kind.group, kind.plural, name)
        if precondition_uid and precondition_uid != live["metadata"]["uid"]:
            raise errors.ApiError(409, "Conflict",
                                  f"Precondition failed: UID in precondition: {precondition_uid}, "
                                  f"UID in object meta: {live['metadata']['uid']}")
        if precondition_rv and precondition_rv != live["metadata"]["resourceVersion"]:
            raise errors.ApiError(409, "Conflict",
                                  f"Precondition failed: ResourceVersion in precondition: {precondition_rv}, "
                                  f"ResourceVersion in object meta: {live['metadata']['resourceVersion']}")
        if propagation not in (None, "", "Background", "Foreground", "Orphan"):
            raise errors.invalid("DeleteOptions", "", "", [
                ("FieldValueNotSupported", "propagationPolicy",
                 f'Unsupported value: "{propagation}": supported values: "Foreground", "Background", "Orphan"')])
        req = Request("DELETE", kind.group, kind.kind, name, namespace, None, clone(live), dry_run, "", self, actor)
        self.admission.validate(req)
        obj = clone(live)
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")  # the garbage collector removes it once no dependent is left
        if propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if is_namespace(kind):
            finalizers_spec = (obj.get("spec") or {}).get("finalizers") or []
            obj.setdefault("status", {})["phase"] = "Terminating"
            if finalizers_spec:
                # namespace storage's own Delete: deletionTimestamp and the phase, no grace period
                meta.setdefault("deletionTimestamp", rfc3339())
                if dry_run:
                    return WriteResult(obj)
                result = self.commit(kind, obj, live, [])
                self.schedule(lambda: self.namespaces.terminate(name))
                return result
        if not finalizers:
            last = clone(live)  # what the registry returns of an object removed at once: its last state
            if dry_run:
                return WriteResult(last, removed=True)
            meta.setdefault("deletionTimestamp", rfc3339())
            meta["deletionGracePeriodSeconds"] = 0
            del self._bucket(kind)[(namespace or "", name)]
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            self._emit(kind, "DELETED", obj, live)
            self._after_removal(kind, obj)
            return WriteResult(last, removed=True)
        if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
            return WriteResult(obj)  # already being deleted: nothing changes
        meta.setdefault("deletionTimestamp", rfc3339())
        meta["deletionGracePeriodSeconds"] = 0
        meta["finalizers"] = finalizers
        if dry_run:
            return WriteResult(obj)
        result = self.commit(kind, obj, live, [])
        if "foregroundDeletion" in finalizers:
            self.schedule(lambda: self.owners.collect_dependents(meta["uid"]))
        if "orphan" in finalizers:
            self.schedule(lambda: self.owners.orphan_dependents(meta["uid"]))
        return result

    # ------------------------------------------------------------------ after a write
    def schedule(self, fn: Callable[[], None]) -> None:
        """Run controller work (garbage collection, namespace cleanup) after the response, as the
        apiserver's controllers do, or now when no event loop runs (unit use)."""
        try:
            asyncio.get_running_loop().call_soon(fn)
        except RuntimeError:
            fn()

    def all_objects(self):
        """Every stored (kind, live object), for the controllers that look across kinds."""
        for key, bucket in self._objects.items():
            kind = self.registry.by_plural(*key)
            if kind is None:
                continue
            for obj in list(bucket.values()):
                yield kind, obj

    def _after_removal(self, kind: Kind, obj: dict) -> None:
        self.owners.object_removed(obj)
        if kind.namespaced:
            ns = obj["metadata"].get("namespace", "")
            self.schedule(lambda: self.namespaces.finish(ns))

    # ------------------------------------------------------------------ test hooks
    def reset(self) -> None:
        """Forget every object and event (the seeding code loads the lab again after this)."""
        self._objects.clear()
        self._events.clear()
        self.environment = {}

    def snapshot(self) -> dict:
        """Every object and the environment, copied (``restore`` puts them back)."""
        return {"objects": clone(self._objects), "environment": clone(self.environment)}

    def restore(self, snapshot: dict) -> None:
        """The objects and environment of ``snapshot``, each one ADDED again with a new
        resourceVersion, as seeding writes them: the counter keeps counting up (a client never sees
        it go back) and the watch history holds those ADDED events, so a watch from an object's
        resourceVersion replays what came after it instead of meeting 410 Gone."""
        self._objects = clone(snapshot["objects"])
        self.environment = clone(snapshot["environment"])
        self._events.clear()
        for key, bucket in self._objects.items():
            for obj in bucket.values():
                obj["metadata"]["resourceVersion"] = self._next_rv()
                self._record(Event(self._rv, "ADDED", key, clone(obj), None))


def _same(a: dict, b: dict) -> bool:
    strip = ("resourceVersion", "managedFields")
    am = {k: v for k, v in a["metadata"].items() if k not in strip}
    bm = {k: v for k, v in b["metadata"].items() if k not in strip}
    if am != bm:
        return False
    return {k: v for k, v in a.items() if k not in ("metadata", "apiVersion")} == \
        {k: v for k, v in b.items() if k not in ("metadata", "apiVersion")}


def _spec_changed(kind: Kind, version: str, new: dict, old: dict) -> bool:
    """CRs bump generation on any change outside metadata (and outside status when the status
    subresource is on)."""
    skip = {"metadata", "apiVersion", "kind"}
    if kind.versions[version].status:
        skip.add("status")
    return {k: v for k, v in new.items() if k not in skip} != {k: v for k, v in old.items() if k not in skip}

