"""The resource verbs over HTTP: get, list, watch, create, update, patch, delete, deletecollection,
and the status and scale subresources. Translates requests into store operations and store
answers into the JSON (or Table) the apiserver sends.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aiohttp import web

from . import conversion, errors, patch, protobuf, table
from .conversion_request import to_storage_request
from .registry import Kind
from .selectors import parse_field_selector, parse_label_selector
from .store import Store, clone

WATCH_DEFAULT_TIMEOUT = 1800  # seconds; the apiserver picks 30-60 min for watches without timeoutSeconds


@dataclass
class Target:
    kind: Kind
    version: str
    namespace: str  # "" for cluster scope or all namespaces
    name: str
    sub: str  # "" | "status" | "scale"


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def json_response(obj, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    resp = web.Response(body=dumps(obj), status=status, content_type="application/json")
    for w in warnings or []:
        resp.headers.add("Warning", _warning_value(w))
    return resp


def _warning_value(text: str) -> str:
    """A Warning header as k8s.io/apiserver's warning recorder writes it: code 299, agent `-`."""
    return '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def as_version(kind: Kind, version: str, obj: dict, registry=None) -> dict:
    """Objects are stored in the storage version and served in the version asked for (conversion.py)."""
    return conversion.from_storage(kind, version, obj, registry)


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise errors.bad_request(f'Invalid dry run value: "{v}"' if v else "dryRun: Unsupported value: \"\"")
    return bool(values)


def _strict(request: web.Request) -> bool:
    mode = request.query.get("fieldValidation", "")
    if mode not in ("", "Ignore", "Warn", "Strict"):
        raise errors.bad_request(f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{mode}"')
    return mode == "Strict"


def _keep_warnings(request: web.Request, warnings: list[str]) -> list[str]:
    return [] if request.query.get("fieldValidation") == "Ignore" else warnings


async def _read_object(request: web.Request, t: Target) -> dict:
    """The body of a create or update: JSON, YAML, or protobuf for the core kinds kubectl sends so
    (patch bodies are read by the patch engine), decoded as the apiserver's create and update
    handlers decode it for the kind of the URL (_typed)."""
    raw = await request.read()
    if request.content_type == protobuf.MEDIA_TYPE:
        return protobuf.to_object(raw)
    declared = "Content-Type" in request.headers  # aiohttp reports octet-stream when none was sent
    if declared and request.content_type not in ("application/json", "application/yaml"):
        raise errors.ApiError(415, "UnsupportedMediaType",
                              "the body of the request was in an unknown format - accepted media types include: "
                              "application/json, application/yaml, application/vnd.kubernetes.protobuf")
    if not raw.strip():
        # json.go Interpret fails before any kind is known: handlers transformDecodeError's
        # second form, with summarizeData's "<empty>"
        raise errors.bad_request(f"the object provided is unrecognized (must be of type {t.kind.kind}): couldn't get "
                                 "version/kind; json parse error: unexpected end of JSON input (<empty>)")
    return _typed(t, _decode(raw), raw)


def _typed(t: Target, obj: dict, raw: bytes) -> dict:
    """apimachinery's json serializer with the URL's kind as default (serializer/json/json.go
    Decode): a built-in kind decodes into its Go type, which takes apiVersion and kind from the
    URL when the body leaves them out; a custom resource decodes into Unstructured, which needs
    `kind` in the body (MissingKindErr) and whose missing apiVersion then fails the handler's
    group-version check."""
    if t.kind.core:
        obj["apiVersion"] = obj.get("apiVersion") or t.kind.api_version(t.version)
        obj["kind"] = obj.get("kind") or t.kind.kind
        return obj
    if not obj.get("kind"):
        raise errors.bad_request(f'{t.kind.kind} in version "{t.version}" cannot be handled as a {t.kind.kind}: '
                                 f"Object 'Kind' is missing in '{raw.decode(errors='replace')}'")
    if not obj.get("apiVersion") and obj["kind"] == t.kind.kind:
        raise errors.bad_request(f"the API version in the data () does not match the expected API version "
                                 f"({t.kind.api_version(t.version)})")
    return obj


def _decode(raw: bytes) -> dict:
    try:
        obj = json.loads(raw or b"null")
    except ValueError as e:
        try:
            import yaml
            obj = yaml.safe_load(raw)
        except Exception:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {e}") from None
    if not isinstance(obj, dict):
        raise errors.bad_request("couldn't get version/kind; json parse error: the body is not a JSON object")
    return obj


def _check_url_identity(t: Target, obj: dict) -> None:
    meta = obj.get("metadata") or {}
    if t.name and meta.get("name") and meta["name"] != t.name:
        raise errors.bad_request(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({t.name})")
    if t.kind.namespaced and meta.get("namespace") and t.namespace and meta["namespace"] != t.namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request")


class Resources:
    def __init__(self, store: Store):
        self.store = store

    def _out(self, t: Target, obj: dict) -> dict:
        return as_version(t.kind, t.version, obj, self.store.registry)

    # ------------------------------------------------------------------ dispatch
    async def handle(self, request: web.Request, t: Target) -> web.StreamResponse:
        """apiextensions-apiserver's ServeHTTP: a request to a deprecated version gets its warning
        first, whatever the answer (errors included); a watch's headers are already sent."""
        warning = t.kind.versions[t.version].deprecation_warning if t.version in t.kind.versions else ""
        if not warning:
            return await self._handle(request, t)
        try:
            response = await self._handle(request, t)
        except errors.ApiError as e:
            e.headers.setdefault("Warning", _warning_value(warning))
            raise
        if not response.prepared:
            others = response.headers.popall("Warning", [])
            for value in [_warning_value(warning), *others]:
                response.headers.add("Warning", value)
        return response

    async def _handle(self, request: web.Request, t: Target) -> web.StreamResponse:
        method = request.method
        if t.sub:
            return await self._subresource(request, t)
        if not t.name:
            if method == "GET":
                if request.query.get("watch") in ("1", "true", "True"):
                    return await self.watch(request, t)
                return self.list(request, t)
            if method == "POST":
                return await self.create(request, t)
            if method == "DELETE":
                return await self.delete_collection(request, t)
            raise errors.method_not_allowed(method)
        if method == "GET":
            obj = self._out(t, self.store.get(t.kind, t.namespace, t.name))
            if table.wants_table(request.headers.get("Accept", "")):
                return json_response(table.table(t.kind, t.version, [obj], obj["metadata"]["resourceVersion"]))
            return json_response(obj)
        if method == "PUT":
            return await self.update(request, t)
        if method == "PATCH":
            return await self.patch(request, t)
        if method == "DELETE":
            return await self.delete(request, t)
        if method == "POST" and not t.kind.core:
            # apiextensions-apiserver serveResource: the request's verb is "create" whatever the
            # path; the name comes from the body (createHandler). Built-in kinds have no POST
            # route on an item path: go-restful's 405 below.
            return await self.create(request, t)
        if method == "POST":
            raise errors.ApiError(405, "MethodNotAllowed",
                                  "the server does not allow this method on the requested resource", details={},
                                  empty_details=True)
        raise errors.method_not_allowed(method)

    # ------------------------------------------------------------------ reads
    def _selector(self, request: web.Request):
        labels = parse_label_selector(request.query.get("labelSelector", ""))
        fields = parse_field_selector(request.query.get("fieldSelector", ""))
        return lambda o: labels(o["metadata"].get("labels") or {}) and fields(o)

    def list(self, request: web.Request, t: Target) -> web.Response:
        items = self.store.list(t.kind, t.namespace or None, self._selector(request))
        items = [self._out(t, o) for o in items]
        rv = self.store.resource_version
        meta: dict = {"resourceVersion": rv}
        limit = int(request.query.get("limit") or 0)
        start = int(request.query.get("continue") or 0) if request.query.get("continue", "").isdigit() else 0
        if limit and start + limit < len(items):
            meta["continue"] = str(start + limit)
            meta["remainingItemCount"] = len(items) - start - limit
            items = items[start:start + limit]
        elif start:
            items = items[start:]
        if table.wants_table(request.headers.get("Accept", "")):
            doc = table.table(t.kind, t.version, items, rv)
            doc["metadata"].update({k: v for k, v in meta.items() if k != "resourceVersion"})
            return json_response(doc)
        return json_response({"apiVersion": t.kind.api_version(t.version), "kind": t.kind.list_kind,
                              "metadata": meta, "items": items})

    async def watch(self, request: web.Request, t: Target) -> web.StreamResponse:
        predicate = self._selector(request)
        watcher, backlog = self.store.watch(t.kind, t.namespace or None, predicate,
                                            request.query.get("resourceVersion"))
        as_table = table.wants_table(request.headers.get("Accept", ""))
        timeout = float(request.query.get("timeoutSeconds") or WATCH_DEFAULT_TIMEOUT)
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                       "Transfer-Encoding": "chunked"})
        first = [True]

        def frame(type_: str, obj: dict) -> bytes:
            obj = self._out(t, clone(obj))
            if as_table:
                obj = table.table(t.kind, t.version, [obj], obj["metadata"].get("resourceVersion", ""),
                                  with_columns=first[0])
                first[0] = False
            return dumps({"type": type_, "object": obj}) + b"\n"

        try:
            await resp.prepare(request)
            for type_, obj in backlog:
                await resp.write(frame(type_, obj))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    # wake up now and then to notice a client that went away without a word
                    type_, obj = await asyncio.wait_for(watcher.queue.get(), min(remaining, 1.0))
                except TimeoutError:
                    if request.transport is None or request.transport.is_closing():
                        break
                    continue
                await resp.write(frame(type_, obj))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.unwatch(watcher)
        return resp

    # ------------------------------------------------------------------ writes
    async def create(self, request: web.Request, t: Target) -> web.Response:
        obj = await _read_object(request, t)
        _check_url_identity(Target(t.kind, t.version, t.namespace, "", ""), obj)  # createHandler: namespace only
        strict = _strict(request)
        obj, warnings = to_storage_request(self.store, t.kind, t.version, obj, namespace=t.namespace, strict=strict)
        result = self.store.create(t.kind, t.kind.storage_version, obj, namespace=t.namespace, dry_run=_dry_run(request),
                                   strict=strict)
        return json_response(self._out(t, result.obj), 201,
                             _keep_warnings(request, _own_warnings(t, warnings, result.warnings)))

    async def update(self, request: web.Request, t: Target, sub: str = "") -> web.Response:
        obj = await _read_object(request, t)
        _check_url_identity(t, obj)
        obj.setdefault("metadata", {}).setdefault("name", t.name)
        strict = _strict(request)
        obj, warnings = to_storage_request(self.store, t.kind, t.version, obj, namespace=t.namespace, name=t.name,
                                           subresource=sub, strict=strict)
        result = self.store.update(t.kind, t.kind.storage_version, obj, namespace=t.namespace, name=t.name,
                                   subresource=sub, dry_run=_dry_run(request), strict=strict)
        return json_response(self._out(t, result.obj), 200,
                             _keep_warnings(request, _own_warnings(t, warnings, result.warnings)))

    def _patched(self, request: web.Request, t: Target, raw: bytes, live: dict | None) -> dict:
        try:
            return patch.apply_patch(request.content_type, live, raw, kind=t.kind.kind, strategic_ok=t.kind.core,
                                     field_manager=request.query.get("fieldManager"),
                                     force=request.query.get("force") in ("true", "1"))
        except patch.PatchError as e:
            raise errors.ApiError(e.code, e.reason, e.message, details=e.details) from None

    async def patch(self, request: web.Request, t: Target, sub: str = "") -> web.Response:
        raw = await request.read()
        dry_run, strict = _dry_run(request), _strict(request)
        live = self.store.peek(t.kind, t.namespace, t.name)
        if live is None:
            if request.content_type == patch.APPLY and not sub:
                obj = self._patched(request, t, raw, None)
                _check_url_identity(t, obj)
                obj.setdefault("metadata", {})["name"] = t.name
                obj, warnings = to_storage_request(self.store, t.kind, t.version, obj, namespace=t.namespace,
                                                   strict=strict)
                result = self.store.create(t.kind, t.kind.storage_version, obj, namespace=t.namespace,
                                           dry_run=dry_run, strict=strict)
                return json_response(self._out(t, result.obj), 201,
                                     _keep_warnings(request, _own_warnings(t, warnings, result.warnings)))
            raise errors.not_found(t.kind.group, t.kind.plural, t.name)
        current = self._out(t, clone(live))
        obj = self._patched(request, t, raw, current)
        if not isinstance(obj, dict):
            raise errors.bad_request("the patch did not result in an object")
        _check_url_identity(t, obj)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("name", t.name)
        if not meta.get("resourceVersion"):
            meta["resourceVersion"] = live["metadata"]["resourceVersion"]  # a patch is unconditional
        obj, warnings = to_storage_request(self.store, t.kind, t.version, obj, namespace=t.namespace, name=t.name,
                                           subresource=sub, strict=strict)
        result = self.store.update(t.kind, t.kind.storage_version, obj, namespace=t.namespace, name=t.name,
                                   subresource=sub, dry_run=dry_run, strict=strict)
        return json_response(self._out(t, result.obj), 200,
                             _keep_warnings(request, _own_warnings(t, warnings, result.warnings)))

    async def delete(self, request: web.Request, t: Target) -> web.Response:
        options = {}
        raw = await request.read()
        if raw.strip():
            options = _decode(raw)
        else:  # the apiserver reads DeleteOptions from the query only when there is no body
            options = {k: v for k, v in request.query.items() if k in ("propagationPolicy", "orphanDependents")}
            if "orphanDependents" in options:
                options["orphanDependents"] = options["orphanDependents"] in ("true", "True", "1")
        dry_run = _dry_run(request) or "All" in (options.get("dryRun") or [])
        propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy")
        if options.get("orphanDependents") is True and not propagation:
            propagation = "Orphan"
        pre = options.get("preconditions") or {}
        result = self.store.delete(t.kind, t.namespace, t.name, dry_run=dry_run, propagation=propagation,
                                   precondition_uid=pre.get("uid"), precondition_rv=pre.get("resourceVersion"))
        # handlers/delete.go: 202 only for an object that stays when orphanDependents=false was sent
        status = 202 if not result.removed and options.get("orphanDependents") is False else 200
        if result.removed and not t.kind.returns_deleted_object:
            # registry/store.go finalizeDelete: the kind's registry does not return the object
            meta = result.obj["metadata"]
            details = {"name": meta["name"], "group": t.kind.group, "kind": t.kind.plural, "uid": meta["uid"]}
            return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                  "details": {k: v for k, v in details.items() if v}}, status)
        return json_response(self._out(t, result.obj), status)

    async def delete_collection(self, request: web.Request, t: Target) -> web.Response:
        dry_run = _dry_run(request)
        items = self.store.list(t.kind, t.namespace or None, self._selector(request))
        deleted = []
        for obj in items:  # store.go DeleteCollection answers the list as it was read
            meta = obj["metadata"]
            self.store.delete(t.kind, meta.get("namespace", ""), meta["name"], dry_run=dry_run,
                              propagation=request.query.get("propagationPolicy"))
            deleted.append(self._out(t, obj))
        return json_response({"apiVersion": t.kind.api_version(t.version), "kind": t.kind.list_kind,
                              "metadata": {"resourceVersion": self.store.resource_version}, "items": deleted})

    # ------------------------------------------------------------------ subresources
    async def _subresource(self, request: web.Request, t: Target) -> web.Response:
        v = t.kind.versions[t.version]
        if t.sub == "status" and v.status:
            if request.method == "GET":
                return json_response(self._out(t, self.store.get(t.kind, t.namespace, t.name)))
            if request.method == "PUT":
                return await self.update(request, t, "status")
            if request.method == "PATCH":
                return await self.patch(request, t, "status")
            raise errors.method_not_allowed(request.method)
        if t.sub == "scale" and v.scale is not None:
            return await self._scale(request, t, v.scale)
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")

    async def _scale(self, request: web.Request, t: Target, spec: dict) -> web.Response:
        live = self.store.get(t.kind, t.namespace, t.name)
        scale = _scale_of(self._out(t, clone(live)), spec)
        if request.method == "GET":
            return json_response(scale)
        if request.method not in ("PUT", "PATCH"):
            raise errors.method_not_allowed(request.method)
        raw = await request.read()
        if request.method == "PUT":
            new = _decode(raw)
        else:
            try:
                new = patch.apply_patch(request.content_type, scale, raw, kind="Scale", strategic_ok=True)
            except patch.PatchError as e:
                raise errors.ApiError(e.code, e.reason, e.message) from None
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv and rv != live["metadata"]["resourceVersion"]:
            raise errors.conflict(t.kind.group, t.kind.plural, t.name)
        replicas = (new.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid("Scale", "autoscaling", t.name, [
                ("FieldValueInvalid", "spec.replicas",
                 f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0")])
        current = self._out(t, live)
        _set_path(current, spec["specReplicasPath"], replicas)
        current, _ = to_storage_request(self.store, t.kind, t.version, current, namespace=t.namespace, name=t.name)
        result = self.store.update(t.kind, t.kind.storage_version, current, namespace=t.namespace, name=t.name,
                                   dry_run=_dry_run(request))
        return json_response(_scale_of(self._out(t, result.obj), spec))


def _own_warnings(t: Target, request_version: list[str], storage_version: list[str]) -> list[str]:
    """A body sent in another version is pruned in that version: those are the client's warnings."""
    return storage_version if t.version == t.kind.storage_version else request_version


def _get_path(obj: dict, path: str):
    for part in path.lstrip(".").split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _set_path(obj: dict, path: str, value) -> None:
    parts = path.lstrip(".").split(".")
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


def _scale_of(obj: dict, spec: dict) -> dict:
    meta = obj["metadata"]
    status = {"replicas": _get_path(obj, spec.get("statusReplicasPath", "")) or 0}
    if spec.get("labelSelectorPath"):
        selector = _get_path(obj, spec["labelSelectorPath"])
        if selector:
            status["selector"] = selector
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": _get_path(obj, spec["specReplicasPath"]) or 0}, "status": status}
