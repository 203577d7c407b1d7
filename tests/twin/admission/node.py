"""Harvester's Node validating webhook (harvester v1.8 pkg/webhook/resources/node/validator.go,
`validateCordonAndMaintenanceMode`): on an UPDATE that cordons a node (`spec.unschedulable`) or
gives it the `harvesterhci.io/maintain-status` annotation, when the node had neither before, at
least one other node must be available (neither cordoned nor in maintenance). Else 400:
"can't enable maintenance mode or cordon on the last available node".

The webhook is registered for `nodes` only (not `nodes/status`) and applies to every client,
Harvester's own controllers and kubectl drain included. Its CPU-manager checks are not modelled.
"""
from __future__ import annotations

from . import Request, denied

WEBHOOK = "validator.harvesterhci.io"
MAINTAIN_STATUS = "harvesterhci.io/maintain-status"
LAST_AVAILABLE = "can't enable maintenance mode or cordon on the last available node"


def _unavailable(node: dict) -> bool:
    meta = node.get("metadata") or {}
    return MAINTAIN_STATUS in (meta.get("annotations") or {}) or bool((node.get("spec") or {}).get("unschedulable"))


def validate_node(req: Request) -> None:
    if req.operation != "UPDATE" or req.subresource or req.old is None or req.obj is None:
        return
    if _unavailable(req.old) or not _unavailable(req.obj):
        return
    kind = req.store.registry.by_plural("", "nodes")
    for node in req.store.list(kind):
        if node["metadata"]["name"] != req.name and not _unavailable(node):
            return
    raise denied(WEBHOOK, LAST_AVAILABLE)


def register(chain) -> None:
    chain.validate_with("", "Node", validate_node)
