"""Controllers: what Harvester's, Longhorn's and the network controller's reconcilers do after a
write (labels that appear later, statuses that move, finalizers).

Each area has one module here with controller classes. A controller watches kinds through the
store, like a real one watches through the API, and writes only through the store's public
operations (so admission and schema validation apply to its writes too). Time goes through the
twin's clock, so `--speed` scales every delay.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from .. import errors
from ..registry import Kind
from ..store import clone

if TYPE_CHECKING:
    from ..server import Twin

log = logging.getLogger("twin.controllers")

WRANGLER = "wrangler.cattle.io/"


class Controller:
    """Base of a controller. Subclasses set `watches` and override the `on_*` hooks."""

    name = "controller"
    watches: tuple[tuple[str, str], ...] = ()  # (group, plural) of the kinds it reconciles
    finalizer: str | None = None  # added on first sight, removed after on_remove (wrangler OnRemove)

    def __init__(self, twin: Twin):
        self.twin = twin
        self.store = twin.store
        self.clock = twin.clock
        self.registry = twin.registry
        self._tasks: set[asyncio.Task] = set()

    @property
    def actor(self) -> str:
        return f"system:{self.name}"

    # ------------------------------------------------------------------ hooks to override
    async def on_change(self, kind: Kind, obj: dict) -> None:
        """An object was added or modified (and is not being deleted)."""

    async def on_remove(self, kind: Kind, obj: dict) -> None:
        """The object is being deleted and still carries our finalizer: clean up; the finalizer
        is removed afterwards."""

    async def on_deleted(self, kind: Kind, obj: dict) -> None:
        """The object is gone."""

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        queue: asyncio.Queue = asyncio.Queue()
        for group, plural in self.watches:
            kind = self.registry.by_plural(group, plural)
            if kind is None:
                continue  # a kind the loaded CRDs do not define
            watcher, backlog = self.store.watch(kind, None, lambda _o: True, "")
            for type_, obj in backlog:
                queue.put_nowait((kind, type_, obj))
            self.spawn(self._forward(kind, watcher, queue))
        self.spawn(self._loop(queue))

    async def _forward(self, kind: Kind, watcher, queue: asyncio.Queue) -> None:
        try:
            while True:
                type_, obj = await watcher.queue.get()
                queue.put_nowait((kind, type_, obj))
        finally:
            self.store.unwatch(watcher)

    async def _loop(self, queue: asyncio.Queue) -> None:
        while True:
            kind, type_, obj = await queue.get()
            try:
                await self.dispatch(kind, type_, obj)
            except asyncio.CancelledError:
                raise
            except errors.ApiError as e:
                log.info("%s: %s %s/%s: %s", self.name, type_, kind.plural, obj["metadata"]["name"], e.message)
            except Exception:
                log.exception("%s failed on %s %s", self.name, kind.plural, obj["metadata"].get("name"))

    async def dispatch(self, kind: Kind, type_: str, obj: dict) -> None:
        meta = obj["metadata"]
        if type_ == "DELETED":
            await self.on_deleted(kind, obj)
            return
        if meta.get("deletionTimestamp"):
            if self.finalizer and self.finalizer in (meta.get("finalizers") or []):
                await self.on_remove(kind, obj)
                self.remove_finalizer(kind, obj, self.finalizer)
            return
        if self.finalizer and self.finalizer not in (meta.get("finalizers") or []):
            if self.add_finalizer(kind, obj, self.finalizer) is None:
                return
            return  # the MODIFIED event of adding it brings us back here
        await self.on_change(kind, obj)

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    # ------------------------------------------------------------------ writing through the store
    def kind(self, group: str, plural: str) -> Kind:
        return self.store.kind(group, plural)

    def get(self, kind: Kind, namespace: str, name: str) -> dict | None:
        try:
            return self.store.get(kind, namespace, name)
        except errors.ApiError:
            return None

    def create(self, kind: Kind, obj: dict) -> dict | None:
        try:
            return self.store.create(kind, kind.storage_version, obj, actor=self.actor).obj
        except errors.ApiError as e:
            if e.code != 409:
                log.info("%s: create %s/%s refused: %s", self.name, kind.plural, obj["metadata"].get("name"), e.message)
            return None

    def delete(self, kind: Kind, namespace: str, name: str) -> None:
        try:
            self.store.delete(kind, namespace, name, actor=self.actor)
        except errors.ApiError:
            pass

    def mutate(self, kind: Kind, namespace: str, name: str, change, *, status: bool = False) -> dict | None:
        """Re-read, apply change(obj) on a copy, write when it changed. Retries on conflict the
        way controllers requeue. status=True writes through /status where the kind has one."""
        sub = "status" if status and kind.versions[kind.storage_version].status else ""
        for _ in range(5):
            live = self.get(kind, namespace, name)
            if live is None:
                return None
            new = clone(live)
            change(new)
            if new == live:
                return live
            try:
                return self.store.update(kind, kind.storage_version, new, namespace=namespace, name=name,
                                         subresource=sub, actor=self.actor).obj
            except errors.ApiError as e:
                if e.code != 409:
                    log.info("%s: update %s/%s refused: %s", self.name, kind.plural, name, e.message)
                    return None
        return None

    def add_finalizer(self, kind: Kind, obj: dict, finalizer: str) -> dict | None:
        meta = obj["metadata"]

        def add(o):
            fins = o["metadata"].setdefault("finalizers", [])
            if finalizer not in fins:
                fins.append(finalizer)
        return self.mutate(kind, meta.get("namespace", ""), meta["name"], add)

    def remove_finalizer(self, kind: Kind, obj: dict, finalizer: str) -> dict | None:
        meta = obj["metadata"]

        def drop(o):
            fins = [f for f in o["metadata"].get("finalizers") or [] if f != finalizer]
            if fins:
                o["metadata"]["finalizers"] = fins
            else:
                o["metadata"].pop("finalizers", None)
        return self.mutate(kind, meta.get("namespace", ""), meta["name"], drop)


def set_condition(obj: dict, type_: str, status: str, reason: str = "", message: str = "", *,
                  now: str, style: str = "wrangler") -> None:
    """Set one condition in obj.status.conditions, keeping lastTransitionTime when the status
    does not change. style "wrangler" (Harvester kinds: lastUpdateTime too) or "k8s"
    (metav1.Condition: reason required)."""
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    current = next((c for c in conditions if c.get("type") == type_), None)
    if current is None:
        current = {"type": type_}
        conditions.append(current)
    if current.get("status") != status:
        current["lastTransitionTime"] = now
    current["status"] = status
    if style == "wrangler":
        current["lastUpdateTime"] = now
    if reason or style == "k8s":
        current["reason"] = reason or type_
    if message:
        current["message"] = message
    else:
        current.pop("message", None)


def condition(obj: dict, type_: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_), None)


class Manager:
    """All controllers of one twin: started with the event loop, stopped and restarted on reset."""

    def __init__(self, twin: Twin, classes: list[type[Controller]]):
        self.controllers = [cls(twin) for cls in classes]

    def start(self) -> None:
        for c in self.controllers:
            c.start()

    def stop(self) -> None:
        for c in self.controllers:
            c.stop()
