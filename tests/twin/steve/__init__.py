"""Harvester's Steve API at `/v1/harvester/...`: every kind the twin serves, read and written the
way Steve (rancher/steve v0.7.17 on rancher/apiserver v0.7.3) serves them for Harvester v1.8.2
(pkg/server/router.go, pkg/server/types.go), plus the node and VM actions. Same bearer token and
request log as the Kubernetes API (server.py); writes go through the store's write pipeline as the
user, so the webhooks, the schema and the controllers see them as they see a kubectl write.

Routes (gorilla mux in router.go, `k8sAPI` in steve pkg/server/handler): `/v1/harvester/<type>`,
`/<type>/<nameorns>` (a namespace for namespaced types, else a name), `/<type>/<ns>/<name>`;
`?action=<a>` with POST runs an action. The type is a schema id or plural name (schemas.py).

Answers, in the order the framework checks (rancher/apiserver pkg/parse, pkg/server):
* a method other than GET/POST/PUT/PATCH/DELETE: 405 MethodNotAllowed `Invalid method X not supported`;
* an unknown type (or any path the routes do not take): 404 with an empty body;
* a method the collection (GET, POST) or the resource (GET, PUT, PATCH, DELETE) does not allow:
  403 PermissionDenied `Method X not supported`;
* an action the schema does not declare: 422 InvalidAction `Invalid action: X`, before the object
  is read (then 404 when it does not exist); the action's own answer follows (nodes.py, vms.py);
* GET: the resource, or the collection (labelSelector, fieldSelector and Steve's `filter=a.b=x`
  with `,` for OR and `!=`) -- format.py;
* POST: create. No name and no generateName: generateName `<first letter of the type id>-`; a
  namespaced type needs the namespace in the body or the URL (422 InvalidBodyContent
  `metadata.namespace is required`); apiVersion/kind come from the type; `dryRun=All` and
  `fieldValidation` are passed on; 201 with the resource.
* PUT: update with the body (the formatter's fields and the reserved keys stripped); no
  metadata.resourceVersion: 500 ServerError `metadata.resourceVersion is required for update`; the
  object named and namespaced by the body is written; 200.
* PATCH: the body as a strategic merge patch (a JSON patch with that content type), sent to the
  namespace of the (empty) body: a namespaced type's path then has no namespace and the apiserver
  answers 404; Kubernetes refuses strategic merge for custom resources (415).
* DELETE: 204 with no body when the object is gone, else 200 with it (finalizers hold it). The VM
  schema first records `?removedDisks=<volume>` in `harvesterhci.io/removedPersistentVolumeClaims`
  (Harvester's VM controller deletes those PVCs with the VM) and answers its own 404
  `VirtualMachine <ns>/<name> not found` and 500 `Failed to remove vm ...`.
* Kubernetes errors (webhook refusals, 409s, 422s) come back as Steve errors with the Status'
  code as status and its reason as code; Kubernetes warnings as `Warning: 299 - <text>` headers.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from .. import errors, patch
from ..conversion_request import to_storage_request
from ..resources import as_version
from ..selectors import parse_field_selector, parse_label_selector
from . import nodes, replies, vms
from .format import Formatter, unformat
from .login import LocalAuth  # noqa: F401 - server.py builds the login from here
from .replies import INVALID_ACTION, INVALID_BODY, METHOD_NOT_ALLOWED, NOT_FOUND, PERMISSION_DENIED, SERVER_ERROR, ActionError, SteveError
from .schemas import SteveType, Types

if TYPE_CHECKING:
    from ..server import Twin

PREFIX = "/v1/harvester"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _no_route() -> errors.ApiError:
    """What the apiserver answers a path it has no route for (a namespaced resource without a
    namespace, a cluster-scoped one with one)."""
    return errors.ApiError(404, "NotFound", "the server could not find the requested resource")


def _filters(request: web.Request):
    """Steve's `filter` query (listprocessor): each parameter ANDed, `,` ORs, `!=` negates, a
    value matches when the field's text contains it."""
    groups = []
    for text in request.query.getall("filter", []):
        group = []
        for part in text.split(","):
            negate = "!=" in part
            field, _, value = part.partition("!=" if negate else "=")
            group.append((field.split("."), value, negate))
        groups.append(group)

    def values(obj, path):
        if not path:
            return [obj]
        if isinstance(obj, list):
            return [v for item in obj for v in values(item, path)]
        if isinstance(obj, dict) and path[0] in obj:
            return values(obj[path[0]], path[1:])
        return []

    def text_of(v):
        return str(v).lower() if isinstance(v, bool) else str(v)

    def one(obj, path, value):
        return any(not isinstance(v, (dict, list)) and v is not None and value in text_of(v) for v in values(obj, path))

    return lambda obj: all(any(one(obj, p, v) != neg for p, v, neg in g) for g in groups)


class Steve:
    def __init__(self, twin: Twin):
        self.twin = twin
        self.store = twin.store
        self.types = Types(twin.registry)
        self.format = Formatter(self.types, PREFIX)
        self.nodes = nodes.NodeActions(twin)
        self.vms = vms.VMActions(twin)
        # schema id -> (ResourceActions, the schema's formatter and action handler)
        self.custom = {"node": (nodes.ACTIONS, self.nodes), "kubevirt.io.virtualmachine": (vms.ACTIONS, self.vms)}

    # ------------------------------------------------------------------ routing
    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._route(request)
        except SteveError as e:
            return replies.steve_error(e)
        except errors.ApiError as e:
            return replies.steve_error(replies.from_store(e))

    async def _route(self, request: web.Request) -> web.StreamResponse:
        method, action = request.method, request.query.get("action", "")
        if method not in METHODS:
            raise SteveError(METHOD_NOT_ALLOWED, f"Invalid method {method} not supported")
        parts = [p for p in request.path[len(PREFIX):].split("/") if p]
        t = self.types.lookup(parts[0]) if 1 <= len(parts) <= 3 else None
        if t is None:
            return web.Response(status=404)
        ns = name = ""
        if len(parts) == 2:
            if t.namespaced:
                ns = parts[1]
            else:
                name = parts[1]
        elif len(parts) == 3:
            ns, name = parts[1], parts[2]
        if action and method == "POST":
            return await self.act(request, t, ns, name, action)
        allowed = ("GET", "POST") if not name else ("GET", "PUT", "PATCH", "DELETE")
        if method not in allowed:
            raise SteveError(PERMISSION_DENIED, f"Method {method} not supported")
        root = f"{request.scheme}://{request.host}"
        if method == "GET":
            if not name:
                return self.list(request, root, t, ns)
            return replies.json_answer(self.resource(root, t, self.by_id(t, ns, name)))
        if method == "POST":
            return await self.create(request, root, t, ns)
        if method == "PUT":
            return await self.update(request, root, t)
        if method == "PATCH":
            return await self.patch(request, root, t, name)
        return await self.delete(request, root, t, ns, name)

    # ------------------------------------------------------------------ reads
    def by_id(self, t: SteveType, ns: str, name: str) -> dict:
        if t.namespaced != bool(ns):
            raise _no_route()
        obj = self.store.get(t.kind, ns, name)
        return as_version(t.kind, t.version, obj, self.store.registry)

    def offered(self, t: SteveType, obj: dict) -> list[str] | None:
        custom = self.custom.get(t.id)
        return custom[1].offered(obj) if custom else None

    def resource(self, root: str, t: SteveType, obj: dict) -> dict:
        return self.format.resource(root, t, obj, self.offered(t, obj))

    def list(self, request: web.Request, root: str, t: SteveType, ns: str) -> web.Response:
        labels = parse_label_selector(request.query.get("labelSelector", ""))
        fields = parse_field_selector(request.query.get("fieldSelector", ""))
        wanted = _filters(request)
        items = self.store.list(t.kind, ns or None, lambda o: labels(o["metadata"].get("labels") or {}) and fields(o))
        items = [as_version(t.kind, t.version, o, self.store.registry) for o in items]
        data = [self.resource(root, t, o) for o in items if wanted(o)]
        current = str(request.url.with_query(None))  # URLBuilder.Current(): the path, no query
        return replies.json_answer(self.format.collection(root, current, t, data, self.store.resource_version))

    # ------------------------------------------------------------------ writes
    @staticmethod
    def _dry_run(request: web.Request) -> bool:
        return "All" in request.query.getall("dryRun", [])

    def _write_back(self, t: SteveType, obj: dict, *, namespace: str, name: str = "", create: bool,
                    request: web.Request) -> tuple[dict, list[str]]:
        strict = request.query.get("fieldValidation") == "Strict"
        obj, warnings = to_storage_request(self.store, t.kind, t.version, obj, namespace=namespace, name=name,
                                           strict=strict)
        if create:
            result = self.store.create(t.kind, t.kind.storage_version, obj, namespace=namespace,
                                       dry_run=self._dry_run(request), strict=strict)
        else:  # Steve's Update passes empty UpdateOptions: no dry run here
            result = self.store.update(t.kind, t.kind.storage_version, obj, namespace=namespace, name=name, strict=strict)
        own = result.warnings if t.version == t.kind.storage_version else warnings
        return as_version(t.kind, t.version, result.obj, self.store.registry), own

    async def create(self, request: web.Request, root: str, t: SteveType, ns: str) -> web.Response:
        body = replies.parse_body(await request.read())
        meta = body.get("metadata")
        if not isinstance(meta, dict):
            meta = body["metadata"] = {}
        if not meta.get("name") and not meta.get("generateName"):
            meta["generateName"] = t.id[:1] + "-"
        namespace = meta.get("namespace") or ""
        if t.namespaced and not namespace:
            if not ns:
                raise SteveError(INVALID_BODY, "metadata.namespace is required")
            namespace = meta["namespace"] = ns
        body["apiVersion"], body["kind"] = t.api_version(), t.kind.kind
        if not t.namespaced and namespace:
            raise _no_route()
        obj, warnings = self._write_back(t, body, namespace=namespace, create=True, request=request)
        return replies.json_answer(self.resource(root, t, obj), 201, warnings)

    async def update(self, request: web.Request, root: str, t: SteveType) -> web.Response:
        body = unformat(replies.parse_body(await request.read()))
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        if not meta.get("resourceVersion"):
            raise SteveError(SERVER_ERROR, "metadata.resourceVersion is required for update")
        body["apiVersion"], body["kind"] = t.api_version(), t.kind.kind
        name, namespace = meta.get("name") or "", meta.get("namespace") or ""
        if not name:
            raise SteveError(SERVER_ERROR, "resource name may not be empty")
        if t.namespaced != bool(namespace):
            raise _no_route()
        obj, warnings = self._write_back(t, body, namespace=namespace, name=name, create=False, request=request)
        return replies.json_answer(self.resource(root, t, obj), 200, warnings)

    async def patch(self, request: web.Request, root: str, t: SteveType, name: str) -> web.Response:
        raw = await request.read()
        if t.namespaced:  # the client is built from the (empty) body's namespace
            raise _no_route()
        json_patch = request.headers.get("Content-Type", "") == patch.JSON
        if not json_patch:
            try:
                data = json.loads(raw or b"{}")
            except ValueError as e:
                raise SteveError(SERVER_ERROR, str(e)) from None
            raw = json.dumps(unformat(data) if isinstance(data, dict) else data).encode()
        live = as_version(t.kind, t.version, self.store.get(t.kind, "", name), self.store.registry)
        try:
            new = patch.apply_patch(patch.JSON if json_patch else patch.STRATEGIC, live, raw, kind=t.kind.kind,
                                    strategic_ok=t.kind.core)
        except patch.PatchError as e:
            raise errors.ApiError(e.code, e.reason, e.message, details=e.details) from None
        new.setdefault("metadata", {}).setdefault("resourceVersion", live["metadata"]["resourceVersion"])
        obj, warnings = self._write_back(t, new, namespace="", name=name, create=False, request=request)
        return replies.json_answer(self.resource(root, t, obj), 200, warnings)

    async def delete(self, request: web.Request, root: str, t: SteveType, ns: str, name: str) -> web.Response:
        if t.id == "kubevirt.io.virtualmachine":
            return await self.delete_vm(request, root, t, ns, name)
        if t.namespaced != bool(ns):
            raise _no_route()
        return self._delete(request, root, t, ns, name)

    def _delete(self, request: web.Request, root: str, t: SteveType, ns: str, name: str) -> web.Response:
        self.store.delete(t.kind, ns, name, dry_run=self._dry_run(request),
                          propagation=request.query.get("propagationPolicy") or None)
        live = self.store.peek(t.kind, ns, name)
        if live is None:  # the byID after the delete fails: ErrorCode{Status: 204}
            return web.Response(status=204)
        return replies.json_answer(self.resource(root, t, as_version(t.kind, t.version, live, self.store.registry)))

    async def delete_vm(self, request: web.Request, root: str, t: SteveType, ns: str, name: str) -> web.Response:
        """Harvester's vmStore.Delete (pkg/api/vm/store.go)."""
        vm = self.store.peek(t.kind, ns, name)
        if vm is None:
            raise SteveError(NOT_FOUND, f"VirtualMachine {ns}/{name} not found")
        removed_disks = request.query.getall("removedDisks", [])
        pvcs = [(v.get("persistentVolumeClaim") or {}).get("claimName")
                for v in (((vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("volumes") or []
                if v.get("persistentVolumeClaim") and v.get("name") in removed_disks]
        pvc_kind = self.store.registry.by_plural("", "persistentvolumeclaims")
        keep = []
        for claim in pvcs:
            pvc = self.store.peek(pvc_kind, ns, claim)
            if pvc is None:
                raise SteveError(SERVER_ERROR, f"Failed to lookup pvc {claim} for vm {ns}/{name}, error looking up pvc "
                                               f"{claim}/{ns} from cache: persistentvolumeclaims \"{claim}\" not found")
            if ((pvc["metadata"].get("annotations") or {}).get(vms.ANN_GOLDEN_IMAGE)) != "true":
                keep.append(claim)
        updated = json.loads(json.dumps(vm))
        updated["metadata"].setdefault("annotations", {})[vms.ANN_REMOVED_PVCS] = ",".join(keep)
        try:
            self.store.update(t.kind, t.kind.storage_version, updated, namespace=ns, name=name, actor=vms.HARVESTER)
        except errors.ApiError as e:
            raise SteveError(SERVER_ERROR, f"Failed to set removedPersistentVolumeClaims to virtualMachine {ns}/{name}, "
                                           f"{e.message}") from None
        try:
            answer = self._delete(request, root, t, ns, name)
        except errors.ApiError as e:
            inner = replies.from_store(e)
            raise SteveError(SERVER_ERROR, f"Failed to remove vm {ns}/{name}, {inner.text()}") from None
        if answer.status == 204:  # the proxy store's ErrorCode{Status: 204} is an error to vmStore
            raise SteveError(SERVER_ERROR, f"Failed to remove vm {ns}/{name},  204")
        return answer

    # ------------------------------------------------------------------ actions
    async def act(self, request: web.Request, t: SteveType, ns: str, name: str, action: str) -> web.StreamResponse:
        actions, handler = self.custom.get(t.id, ((), None))
        if not name or action not in actions:  # CollectionActions: none of these schemas has any
            raise SteveError(INVALID_ACTION, f"Invalid action: {action}")
        obj = self.by_id(t, ns, name)
        try:
            answer = await handler.act(request, action, obj)
        except ActionError as e:
            return replies.text_answer(e)
        return answer if answer is not None else web.Response(status=204)

