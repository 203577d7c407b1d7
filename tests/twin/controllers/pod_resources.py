"""Harvester's copy of Rancher's pod-resources controller (harvester v1.8.2
pkg/controller/master/rancher/pod_resources.go, PodResourcesOnChanged): every node carries the
sums of the requests and of the limits of the pods bound to it that have not finished, as the
annotations `management.cattle.io/pod-requests` and `management.cattle.io/pod-limits`.

Format (getPodResourceAnnotations): Go's json.Marshal of map[ResourceName]Quantity, so keys in
name order and each quantity in its canonical string; requests also count the pods
(`"pods":"<n>"`). A sum keeps the unit style of its first addend (Quantity.Add), and the node's
pods are summed system pods first (lab/node-pods.yml), then the virt-launcher pods by VMI name.

The pods come from node_pods.py: a VMI's virt-launcher pod is rendered once, when KubeVirt would
create it (a VMI placed on a node; a migration's target pod when the migration starts), with the
memory overhead ratio of that moment, and kept until the VMI or that migration ends, as a pod's
resources do not change after it was created. The annotations therefore move as VMs start, stop
and migrate.
"""
from __future__ import annotations

import asyncio
import json

from ..node_pods import Pod, pods_on, virt_launcher
from ..quantity import Quantity, canonical, of
from ..registry import Kind
from . import Controller

REQUESTS = "management.cattle.io/pod-requests"
LIMITS = "management.cattle.io/pod-limits"
OVERHEAD_SETTING = "additional-guest-memory-overhead-ratio"


def _add(into: dict[str, Quantity], items: dict[str, Quantity]) -> None:
    for name, q in items.items():  # addMap: the first quantity of a name is copied, later ones added
        into[name] = into[name] + q if name in into else q


def annotations(pods: list[Pod]) -> tuple[str, str]:
    """getPodResourceAnnotations: (requests, limits) as the node's annotation values."""
    requests: dict[str, Quantity] = {}
    limits: dict[str, Quantity] = {}
    for pod in pods:
        _add(requests, pod.requests)  # the lab's system pods come summed already
        _add(limits, pod.limits)
    requests["pods"] = of(sum(p.count for p in pods))

    def dump(m: dict[str, Quantity]) -> str:
        return json.dumps({k: canonical(m[k]) for k in sorted(m)}, separators=(",", ":"))
    return dump(requests), dump(limits)


class PodResourcesController(Controller):
    name = "harvester-rancher-controller"
    watches = (("", "nodes"), ("kubevirt.io", "virtualmachineinstances"), ("harvesterhci.io", "settings"))

    def __init__(self, twin):
        super().__init__(twin)
        self._rendered: dict[tuple[str, str], Pod] = {}  # (VMI uid or migration uid, role) -> its pod
        self._pending = False

    def start(self) -> None:
        self._pending = False  # a sync cancelled by stop() (a reset) must not block the next ones
        self._rendered.clear()
        super().start()

    async def on_change(self, kind: Kind, obj: dict) -> None:
        self._enqueue(kind, obj)

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        self._enqueue(kind, obj)

    def _enqueue(self, kind: Kind, obj: dict) -> None:
        """One sync for a burst of events (a reset seeds dozens), as a workqueue folds keys."""
        if kind.plural == "settings" and obj["metadata"]["name"] != OVERHEAD_SETTING:
            return
        if not self._pending:
            self._pending = True
            self.spawn(self._sync_soon())

    async def _sync_soon(self) -> None:
        await asyncio.sleep(0)  # after the events already queued
        self._pending = False
        self._sync()

    def _ratio(self) -> str | None:
        """The additionalGuestMemoryOverheadRatio KubeVirt uses now: the Harvester setting's
        value or default ("" and "0" leave it unset)."""
        setting = self.get(self.kind("harvesterhci.io", "settings"), "", OVERHEAD_SETTING) or {}
        value = setting.get("value") or setting.get("default") or ""
        return None if value in ("", "0") else value

    def _sync(self) -> None:
        vmis = self.store.list(self.kind("kubevirt.io", "virtualmachineinstances"))
        live = set()
        for vmi in vmis:
            migration = ((vmi.get("status") or {}).get("migrationState") or {}).get("migrationUid", "")
            live |= {(vmi["metadata"]["uid"], "source"), (migration, "target")}
        self._rendered = {k: v for k, v in self._rendered.items() if k in live}

        def render(vmi: dict, role: str) -> Pod:
            key = (vmi["metadata"]["uid"] if role == "source"
                   else vmi["status"]["migrationState"].get("migrationUid", ""), role)
            if key not in self._rendered:
                self._rendered[key] = virt_launcher(vmi, self._ratio())
            return self._rendered[key]

        node_kind = self.kind("", "nodes")
        for node in self.store.list(node_kind):
            requests, limits = annotations(pods_on(node, vmis, render))

            def change(o, requests=requests, limits=limits):
                notes = o["metadata"].setdefault("annotations", {})
                notes[REQUESTS] = requests
                notes[LIMITS] = limits
            self.mutate(node_kind, "", node["metadata"]["name"], change)


CONTROLLERS = [PodResourcesController]
