"""The object store: what etcd and the generic registry of kube-apiserver do for the twin.

Objects are kept per resource in their last written form. Every write goes through one
pipeline (prune and default by schema, mutating admission, metadata and schema validation,
validating admission) and then, unless it is a dry run, gets a new resourceVersion and is fanned
out to watchers. Controllers and webhooks use these same public operations.
"""
from __future__ import annotations

import asyncio
import base64
import copy
import functools
import json
import random
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from . import errors
from .admission import Chain, Request
from .clock import rfc3339
from .meta import validate_object_meta
from .registry import Kind, Registry
from .schema import StrictDecodingError

HISTORY = 20000  # events kept for watches that resume from a resourceVersion
NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's generateName alphabet
SERVICE_CIDR_PREFIX = "10.53."  # Harvester's default cluster_service_cidr 10.53.0.0/16

Key = tuple[str, str]  # (group, plural)


def clone(value):
    """Deep copy of JSON data; much faster than copy.deepcopy for plain dicts and lists."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


@dataclass
class Event:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    key: Key
    obj: dict
    old: dict | None = None


@dataclass(eq=False)  # identity semantics: watchers live in a set
class Watcher:
    key: Key
    namespace: str | None
    predicate: Callable[[dict], bool]
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)

    def offer(self, ev: Event) -> None:
        """Queue the event as this watcher sees it: a change that moves an object into or out of
        the selection is an ADDED or DELETED, as the apiserver's watch cache reports it."""
        if ev.key != self.key:
            return
        if self.namespace and ev.obj["metadata"].get("namespace") != self.namespace:
            return
        now = self.predicate(ev.obj)
        was = self.predicate(ev.old) if ev.old is not None else now
        if ev.type == "MODIFIED":
            if now and not was:
                self.queue.put_nowait(("ADDED", ev.obj))
            elif was and not now:
                self.queue.put_nowait(("DELETED", ev.obj))
            elif now:
                self.queue.put_nowait(("MODIFIED", ev.obj))
        elif now:
            self.queue.put_nowait((ev.type, ev.obj))


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
        ev = Event(self._rv, type_, kind.key, clone(obj), old)
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
            self._check_namespace(kind, req.namespace, name)
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

    def _check_namespace(self, kind: Kind, namespace: str, name: str) -> None:
        """The NamespaceLifecycle admission plugin: it runs after decoding (pruning, defaults) and
        before every mutating webhook, so a missing namespace is a 404 and a terminating one a 403
        whatever a webhook or the schema would say."""
        if not kind.namespaced:
            return
        ns_kind = self.registry.by_plural("", "namespaces")
        ns = self.peek(ns_kind, "", namespace)
        if ns is None:
            raise errors.not_found("", "namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(
                403, "Forbidden",
                f'{errors.resource_ref(kind.group, kind.plural)} "{name}" is forbidden: unable to create new '
                f"content in namespace {namespace} because it is being terminated",
                details={"name": name, "kind": kind.plural, "group": kind.group})

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
        self._prepare_core(kind, obj, None)
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
        self._prepare_core(kind, obj, live)
        warnings = self._admit(kind, version, obj, clone(live), "UPDATE", strict=strict, dry_run=dry_run,
                               subresource=subresource, actor=actor)
        self._check_finalizers(kind, obj, live)
        if _same(obj, live):
            return WriteResult(clone(live), warnings)  # a no-op write keeps resourceVersion, no event
        if not kind.core and _spec_changed(kind, version, obj, live):
            obj["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
        if dry_run:
            return WriteResult(obj, warnings)
        return self._commit(kind, obj, live, warnings)

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

    def _commit(self, kind: Kind, obj: dict, live: dict, warnings: list[str]) -> WriteResult:
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        obj["metadata"]["resourceVersion"] = self._next_rv()
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers") \
                and not _namespace_finalizers(kind, obj):
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
        if kind.group == "" and kind.kind == "Namespace":
            finalizers_spec = (obj.get("spec") or {}).get("finalizers") or []
            obj.setdefault("status", {})["phase"] = "Terminating"
            if finalizers_spec:
                # namespace storage's own Delete: deletionTimestamp and the phase, no grace period
                meta.setdefault("deletionTimestamp", rfc3339())
                if dry_run:
                    return WriteResult(obj)
                result = self._commit(kind, obj, live, [])
                self._schedule(lambda: self._terminate_namespace(name))
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
        result = self._commit(kind, obj, live, [])
        if "foregroundDeletion" in finalizers:
            self._schedule(lambda: self._collect_dependents(meta["uid"]))
        if "orphan" in finalizers:
            self._schedule(lambda: self._orphan_dependents(kind, meta["uid"]))
        return result

    # ------------------------------------------------------------------ garbage collection
    def _schedule(self, fn: Callable[[], None]) -> None:
        """Run GC work after the response, as the apiserver's controllers do, or now when no
        event loop runs (unit use)."""
        try:
            asyncio.get_running_loop().call_soon(fn)
        except RuntimeError:
            fn()

    def _all(self):
        for key, bucket in self._objects.items():
            kind = self.registry.by_plural(*key)
            if kind is None:
                continue
            for obj in list(bucket.values()):
                yield kind, obj

    def _exists_uid(self, uid: str) -> bool:
        return any(o["metadata"]["uid"] == uid for _, o in self._all())

    def _dependents(self, uid: str) -> list[tuple[Kind, dict]]:
        return [(k, o) for k, o in self._all()
                if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])]

    def _after_removal(self, kind: Kind, obj: dict) -> None:
        uid = obj["metadata"]["uid"]
        self._schedule(lambda: self._collect_dependents(uid))
        for owner_uid in [r.get("uid") for r in obj["metadata"].get("ownerReferences") or []]:
            self._schedule(functools.partial(self._release_foreground_owner, owner_uid))
        if kind.namespaced:
            ns = obj["metadata"].get("namespace", "")
            self._schedule(lambda: self._finish_namespace(ns))

    def _collect_dependents(self, owner_uid: str) -> None:
        """Background GC: delete dependents whose owners are all gone (or being deleted in the
        foreground, which waits for them)."""
        owner_alive = self._find_uid(owner_uid)
        if owner_alive and "foregroundDeletion" not in (owner_alive[1]["metadata"].get("finalizers") or []):
            return
        for dkind, dep in self._dependents(owner_uid):
            others = [r for r in dep["metadata"].get("ownerReferences") or []
                      if r.get("uid") != owner_uid and self._exists_uid(r.get("uid"))]
            if others or dep["metadata"].get("deletionTimestamp"):
                continue
            self.delete(dkind, dep["metadata"].get("namespace", ""), dep["metadata"]["name"],
                        actor="system:garbage-collector")
        if owner_alive:
            self._release_foreground_owner(owner_uid)

    def _find_uid(self, uid: str) -> tuple[Kind, dict] | None:
        return next(((k, o) for k, o in self._all() if o["metadata"]["uid"] == uid), None)

    def _release_foreground_owner(self, uid: str | None) -> None:
        found = self._find_uid(uid) if uid else None
        if not found:
            return
        kind, owner = found
        fins = owner["metadata"].get("finalizers") or []
        if "foregroundDeletion" not in fins or self._dependents(uid):
            return
        obj = clone(owner)
        obj["metadata"]["finalizers"] = [f for f in fins if f != "foregroundDeletion"]
        self._commit(kind, obj, owner, [])

    def _orphan_dependents(self, kind: Kind, uid: str) -> None:
        for dkind, dep in self._dependents(uid):
            obj = clone(dep)
            obj["metadata"]["ownerReferences"] = [r for r in dep["metadata"]["ownerReferences"] if r.get("uid") != uid]
            if not obj["metadata"]["ownerReferences"]:
                del obj["metadata"]["ownerReferences"]
            self._commit(dkind, obj, dep, [])
        found = self._find_uid(uid)
        if found:
            owner = found[1]
            obj = clone(owner)
            obj["metadata"]["finalizers"] = [f for f in owner["metadata"].get("finalizers") or [] if f != "orphan"]
            self._commit(found[0], obj, owner, [])

    # ------------------------------------------------------------------ namespaces
    def _terminate_namespace(self, name: str) -> None:
        """The namespace controller: delete everything inside, then let the namespace go."""
        for kind, obj in list(self._all()):
            if kind.namespaced and obj["metadata"].get("namespace") == name and not obj["metadata"].get("deletionTimestamp"):
                self.delete(kind, name, obj["metadata"]["name"], actor="system:namespace-controller")
        self._finish_namespace(name)

    def _finish_namespace(self, name: str) -> None:
        ns_kind = self.registry.by_plural("", "namespaces")
        ns = self.peek(ns_kind, "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if any(k.namespaced and o["metadata"].get("namespace") == name for k, o in self._all()):
            return
        obj = clone(ns)
        obj.setdefault("spec", {})["finalizers"] = []
        if not obj["metadata"].get("finalizers"):
            self._commit(ns_kind, obj, ns, [])

    # ------------------------------------------------------------------ core kind specifics
    def _prepare_core(self, kind: Kind, obj: dict, live: dict | None) -> None:
        """What the built-in registries do on write for the core kinds we serve."""
        if kind.group != "":
            return
        if kind.kind == "Namespace" and live is None:
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
        elif kind.kind == "Namespace":
            obj["spec"] = clone(live.get("spec") or {})  # finalizers change only through /finalize
            obj["status"] = clone(live.get("status") or {})
        if kind.kind in ("Secret", "ConfigMap"):
            _check_base64(kind, obj.get("data" if kind.kind == "Secret" else "binaryData"))
        if kind.kind == "Secret":
            string_data = obj.pop("stringData", None) or {}
            data = obj.setdefault("data", {})
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            obj.setdefault("type", "Opaque")
            if not data:
                obj.pop("data")
        elif kind.kind == "Service":
            spec = obj.setdefault("spec", {})
            if live is not None and (live.get("spec") or {}).get("clusterIP"):
                spec["clusterIP"] = live["spec"]["clusterIP"]
            elif spec.get("type", "ClusterIP") != "ExternalName" and not spec.get("clusterIP"):
                spec["clusterIP"] = f"{SERVICE_CIDR_PREFIX}{random.randint(0, 255)}.{random.randint(1, 254)}"
            if spec.get("clusterIP"):
                spec["clusterIPs"] = [spec["clusterIP"]]
            for port in spec.get("ports") or []:  # core/v1 defaults.go SetDefaults_Service
                if isinstance(port, dict) and port.get("targetPort") in (None, 0, "") and "port" in port:
                    port["targetPort"] = port["port"]

    # ------------------------------------------------------------------ test hooks
    def reset(self) -> None:
        """Forget every object and event (the seeding code loads the lab again after this)."""
        self._objects.clear()
        self._events.clear()
        self.environment = {}

    def snapshot(self) -> dict:
        """Every object and the environment, copied (``restore`` puts them back)."""
        return {"objects": copy.deepcopy(self._objects), "environment": copy.deepcopy(self.environment)}

    def restore(self, snapshot: dict) -> None:
        """The objects and environment of ``snapshot``; the resourceVersion counter keeps counting
        up (a client never sees it go back), the watch history starts empty as after a reset."""
        self._objects = copy.deepcopy(snapshot["objects"])
        self.environment = copy.deepcopy(snapshot["environment"])
        self._events.clear()


_B64 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _check_base64(kind: Kind, data) -> None:
    """Typed core objects decode []byte fields while reading the body: bad base64 is a 400."""
    for value in (data or {}).values() if isinstance(data, dict) else ():
        if not isinstance(value, str):
            continue
        bad = next((i for i, ch in enumerate(value) if ch not in _B64), None)
        if bad is None:
            try:
                base64.b64decode(value, validate=True)
                continue
            except ValueError:
                bad = len(value) - len(value) % 4 if len(value) % 4 else len(value) - 1
        raise errors.bad_request(f'{kind.kind} in version "v1" cannot be handled as a {kind.kind}: '
                                 f"illegal base64 data at input byte {bad}")


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


def _namespace_finalizers(kind: Kind, obj: dict) -> list:
    """A Namespace's spec.finalizers (`kubernetes`): the namespace controller empties them once the
    namespace holds nothing, and only then does a Terminating namespace go."""
    if kind.group != "" or kind.kind != "Namespace":
        return []
    return (obj.get("spec") or {}).get("finalizers") or []
