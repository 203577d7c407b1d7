"""Harvester's `node` schema on Steve: the actions its formatter offers and its node action
handler (harvester v1.8.2 pkg/api/node/formatter.go, schema.go, handler.go).

* The handler answers 204 with no body on success, and on failure writes `err.Error()` as plain
  text, with the status of an apiserver APIError (`"<Code> <status>: <message>"`, e.g. 422
  `InvalidBodyContent 422: Failed to decode request body: EOF `), of a Kubernetes StatusError
  (e.g. the node webhook's 400), and 500 for anything else -- also for norman's `httperror`
  ("InvalidAction 422: Node ms02-1 already cordoned" comes back as a 500, as upstream does) and
  for DrainPossible's refusals.
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
* The formatter offers listUnhealthyVM, maintenancePossible, powerActionPossible and the CPU-manager
  actions always, disableMaintenanceMode and powerAction on a node in maintenance (else
  enableMaintenanceMode), uncordon on a cordoned node (else cordon).
"""
from __future__ import annotations

import json

from aiohttp import web

from .. import errors
from ..controllers import node as maintenance
from . import replies
from .replies import ActionError

# the node schema's ResourceActions (pkg/api/node/schema.go)
ACTIONS = ("enableMaintenanceMode", "disableMaintenanceMode", "cordon", "uncordon", "listUnhealthyVM",
           "maintenancePossible", "powerAction", "powerActionPossible", "enableCPUManager", "disableCPUManager")
CPU_MANAGER_ANNOTATION = "harvesterhci.io/cpu-manager-update-status"
POWER_OPERATIONS = ("shutdown", "poweron", "reboot")
DECODE = "Failed to decode request body: {} "


class NodeActions:
    def __init__(self, twin):
        self.store = twin.store
        self.writer = maintenance.NodeWriter(twin)
        self.writer.name = "harvester"  # writes as Harvester's API server (actor system:harvester)

    def nodes_kind(self):
        return self.store.registry.by_plural("", "nodes")

    def offered(self, node: dict) -> list[str]:
        actions = ["listUnhealthyVM", "maintenancePossible", "powerActionPossible", "enableCPUManager", "disableCPUManager"]
        if maintenance.MAINTAIN_STATUS in (node["metadata"].get("annotations") or {}):
            actions += ["disableMaintenanceMode", "powerAction"]
        else:
            actions.append("enableMaintenanceMode")
        actions.append("uncordon" if (node.get("spec") or {}).get("unschedulable") else "cordon")
        return actions

    async def act(self, request, action: str, node: dict) -> web.Response | None:
        """The handler's answer: None (204), a response (200) or an ActionError."""
        try:
            body = await getattr(self, f"do_{action}")(request, node)
        except errors.ApiError as e:  # a StatusError from the node update (e.g. the node webhook)
            raise ActionError(e.code, e.message) from None
        if body is None:
            return None
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
        force = replies.decode_input(await request.read(), "MaintenanceModeInput", ("force",), package="node",
                                     template=DECODE)["force"] == "true"

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
        operation = replies.decode_input(await request.read(), "PowerActionInput", ("operation",),
                                         package="node", template=DECODE)["operation"]
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
