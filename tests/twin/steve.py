"""Harvester's Steve API for nodes: `/v1/harvester/nodes[/<name>]` (GET) and the node actions
`POST /v1/harvester/nodes/<name>?action=<action>`, as harvester v1.8 serves them
(pkg/api/node/formatter.go, schema.go; rancher/apiserver pkg/server/server.go, validate.go,
pkg/handlers/error.go). Same bearer token and request log as the Kubernetes API (server.py).

How answers look:

* Framework errors (rancher/apiserver) are JSON `{"type": "error", "status", "code", "message"}`:
  an action the node schema does not declare -> 422 InvalidAction "Invalid action: <action>"
  (checked first), an unknown node -> 404 NotFound `nodes "<name>" not found`. An unknown
  `/v1/harvester/<type>` is a 404 with an empty body; other methods than GET/POST are answered
  405 (the twin serves no Steve writes besides actions).
* The node ActionHandler (`ServeHTTP`) answers 204 with no body on success, and on failure writes
  `err.Error()` as plain text, with the status of an apiserver `APIError` (`"<Code> <status>:
  <message>"`, e.g. 422 `InvalidBodyContent 422: Failed to decode request body: EOF `), of a
  Kubernetes StatusError (e.g. the node webhook's 400), and 500 for anything else -- also for
  norman's `httperror` ("InvalidAction 422: Node ms02-1 already cordoned" comes back as a 500,
  as upstream does) and for DrainPossible's refusals.
* listUnhealthyVM answers 200 with a JSON list `[{"message", "vms"}]` (Go writes it as text/plain).
* enableMaintenanceMode runs DrainPossible, then decodes the body (an empty body is refused as
  Go's decoder does: EOF), then sets `drain-requested` (and `drain-forced` for `"force": "true"`);
  the node-drain controller does the rest (controllers/node.py). disableMaintenanceMode uncordons,
  removes the `kubevirt.io/drain` taint and the maintenance annotations, then starts the
  ShutdownAndRestartAfterDisable VMs maintenance shut down. cordon/uncordon set
  `spec.unschedulable` ("Node <name> already cordoned" when there is nothing to do).
  powerActionPossible answers 424 (the lab has no harvester-seeder add-on); powerAction and the
  CPU-manager actions are answered as on a cluster without the seeder add-on / without the
  CPU-manager controller: powerAction 404 for the missing Inventory, the CPU-manager actions
  write the `harvesterhci.io/cpu-manager-update-status` request annotation that nothing reads.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from . import errors
from .controllers import node as maintenance
from .resources import dumps

if TYPE_CHECKING:
    from .server import Twin

PREFIX = "/v1/harvester"
# the node schema's ResourceActions (pkg/api/node/schema.go)
ACTIONS = ("enableMaintenanceMode", "disableMaintenanceMode", "cordon", "uncordon", "listUnhealthyVM",
           "maintenancePossible", "powerAction", "powerActionPossible", "enableCPUManager", "disableCPUManager")
CPU_MANAGER_ANNOTATION = "harvesterhci.io/cpu-manager-update-status"
POWER_OPERATIONS = ("shutdown", "poweron", "reboot")


class ActionError(Exception):
    """What the ActionHandler writes: a status and err.Error() as text."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status
        self.text = text


def api_error(code: str, status: int, message: str) -> ActionError:
    """An apiserver APIError: its own status, Error() = "<Code> <status>: <message>"."""
    return ActionError(status, f"{code} {status}: {message}")


def steve_error(status: int, code: str, message: str) -> web.Response:
    return web.Response(body=dumps({"type": "error", "links": {}, "code": code, "message": message, "status": status}),
                        status=status, content_type="application/json")


def decode_body(raw: bytes, type_name: str, fields: dict[str, str]) -> dict:
    """json.NewDecoder(body).Decode(&input) into a struct of string fields, with Go's errors."""
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        raise api_error("InvalidBodyContent", 422, "Failed to decode request body: EOF ")
    try:
        value = json.JSONDecoder().raw_decode(text)[0]
    except json.JSONDecodeError as e:
        detail = f"invalid character {text[e.pos]!r} looking for beginning of value" if e.pos < len(text) \
            else "unexpected EOF"
        raise api_error("InvalidBodyContent", 422, f"Failed to decode request body: {detail} ") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        go_type = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
        raise api_error("InvalidBodyContent", 422, f"Failed to decode request body: json: cannot unmarshal {go_type} "
                                                   f"into Go value of type node.{type_name} ")
    out = {}
    for key, go_name in fields.items():
        if key in value and value[key] is not None and not isinstance(value[key], str):
            go_type = {list: "array", dict: "object", bool: "bool"}.get(type(value[key]), "number")
            raise api_error("InvalidBodyContent", 422, f"Failed to decode request body: json: cannot unmarshal {go_type} "
                                                       f"into Go struct field {type_name}.{go_name} of type string ")
        out[key] = value.get(key) or ""
    return out


class Steve:
    def __init__(self, twin: Twin):
        self.store = twin.store
        self.writer = maintenance.NodeWriter(twin)
        self.writer.name = "harvester"  # writes as Harvester's API server (actor system:harvester)

    def nodes_kind(self):
        return self.store.registry.by_plural("", "nodes")

    # ------------------------------------------------------------------ routing
    async def handle(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path[len(PREFIX):].split("/") if p]
        if not parts or parts[0] != "nodes" or len(parts) > 2:
            return web.Response(status=404)
        name = parts[1] if len(parts) == 2 else ""
        action = request.query.get("action", "")
        if request.method == "POST" and action:
            if not name or action not in ACTIONS:
                return steve_error(422, "InvalidAction", f"Invalid action: {action}")
            node = self.store.peek(self.nodes_kind(), "", name)
            if node is None:
                return steve_error(404, "NotFound", f'nodes "{name}" not found')
            return await self.act(request, action, node)
        if request.method != "GET":
            return steve_error(405, "MethodNotAllow", f"the twin serves no Steve {request.method} on nodes")
        base = str(request.url.with_query(None)).rstrip("/")
        if not name:
            items = sorted(self.store.list(self.nodes_kind()), key=lambda n: n["metadata"]["name"])
            return web.Response(body=dumps({
                "type": "collection", "links": {"self": base}, "createTypes": {"node": base}, "actions": {},
                "resourceType": "node", "revision": self.store.resource_version, "count": len(items),
                "data": [self.resource(n, f"{base}/{n['metadata']['name']}") for n in items]}),
                content_type="application/json")
        node = self.store.peek(self.nodes_kind(), "", name)
        if node is None:
            return steve_error(404, "NotFound", f'nodes "{name}" not found')
        return web.Response(body=dumps(self.resource(node, base)), content_type="application/json")

    def resource(self, node: dict, url: str) -> dict:
        """Steve's node resource, with the actions the Formatter offers."""
        actions = ["listUnhealthyVM", "maintenancePossible", "powerActionPossible", "enableCPUManager", "disableCPUManager"]
        if maintenance.MAINTAIN_STATUS in (node["metadata"].get("annotations") or {}):
            actions += ["disableMaintenanceMode", "powerAction"]
        else:
            actions.append("enableMaintenanceMode")
        actions.append("uncordon" if (node.get("spec") or {}).get("unschedulable") else "cordon")
        return {"id": node["metadata"]["name"], "type": "node",
                "links": {"self": url, "update": url, "view": f"/api/v1/nodes/{node['metadata']['name']}"},
                "actions": {a: f"{url}?action={a}" for a in actions}, **node}

    # ------------------------------------------------------------------ actions
    async def act(self, request: web.Request, action: str, node: dict) -> web.Response:
        try:
            body = await getattr(self, f"do_{action}")(request, node)
        except ActionError as e:
            return web.Response(text=e.text, status=e.status, content_type="text/plain")
        except errors.ApiError as e:  # a StatusError from the node update (e.g. the node webhook)
            return web.Response(text=e.message, status=e.code, content_type="text/plain")
        if body is None:
            return web.Response(status=204)
        return web.Response(text=json.dumps(body) + "\n", status=200, content_type="text/plain")

    def update(self, name: str, change) -> dict:
        """nodeClient.Update of the re-read node; a refusal propagates as the StatusError it is."""
        kind = self.nodes_kind()
        for _ in range(5):
            live = self.store.get(kind, "", name)
            new = json.loads(json.dumps(live))
            change(new)
            try:
                return self.store.update(kind, kind.storage_version, new, name=name, actor=self.writer.actor).obj
            except errors.ApiError as e:
                if e.code != 409 or "Operation cannot be fulfilled" not in e.message:
                    raise
        raise ActionError(500, f"failed to update node:{name}")

    async def do_maintenancePossible(self, request, node):
        why = maintenance.drain_possible(self.store, node)
        if why:
            raise ActionError(500, why)

    async def do_enableMaintenanceMode(self, request, node):
        await self.do_maintenancePossible(request, node)
        force = decode_body(await request.read(), "MaintenanceModeInput", {"force": "force"})["force"] == "true"

        def request_drain(o):
            ann = o["metadata"].setdefault("annotations", {})
            ann[maintenance.DRAIN_REQUESTED] = "true"
            if force:
                ann[maintenance.DRAIN_FORCED] = "true"
        self.update(node["metadata"]["name"], request_drain)

    async def do_disableMaintenanceMode(self, request, node):
        name = node["metadata"]["name"]
        self.update(name, maintenance.uncordon)
        self.writer.restart_vms(maintenance.RESTART_AFTER_DISABLE, name)

    async def _cordon(self, node, action: str, cordon: bool):
        name = node["metadata"]["name"]
        if bool((node.get("spec") or {}).get("unschedulable")) == cordon:
            # norman's httperror.APIError is not the *apierror.APIError ServeHTTP checks for: 500
            raise ActionError(500, f"InvalidAction 422: Node {name} already {action}ed")
        self.update(name, lambda o: o.setdefault("spec", {}).__setitem__("unschedulable", cordon))

    async def do_cordon(self, request, node):
        await self._cordon(node, "cordon", True)

    async def do_uncordon(self, request, node):
        await self._cordon(node, "uncordon", False)

    async def do_listUnhealthyVM(self, request, node):
        return maintenance.unhealthy_vm_list(self.store, node)

    async def do_powerActionPossible(self, request, node):
        raise ActionError(424, "")  # addon harvester-seeder not found: 424 with no body

    async def do_powerAction(self, request, node):
        operation = decode_body(await request.read(), "PowerActionInput", {"operation": "operation"})["operation"]
        if operation not in POWER_OPERATIONS:
            raise ActionError(500, f"operation {operation} is not a valid power opreation. valid values need to be "
                                   f"in [{' '.join(POWER_OPERATIONS)}]")
        raise ActionError(404, f'inventories.metal.harvesterhci.io "{node["metadata"]["name"]}" not found')

    async def _cpu_manager(self, node, policy: str):
        status = json.dumps({"status": "requested", "policy": policy}, separators=(",", ":"))
        self.update(node["metadata"]["name"],
                    lambda o: o["metadata"].setdefault("annotations", {}).__setitem__(CPU_MANAGER_ANNOTATION, status))

    async def do_enableCPUManager(self, request, node):
        await self._cpu_manager(node, "static")

    async def do_disableCPUManager(self, request, node):
        await self._cpu_manager(node, "none")
