"""The owner cascade: what kube-controller-manager's garbage collector does for the twin.

An object whose owners (metadata.ownerReferences) are all gone is deleted in the background; a
foreground deletion (finalizer `foregroundDeletion`) waits until its dependents are gone; an
orphaning one (finalizer `orphan`) strips the owner from its dependents instead. Writes go through
the store's public operations, as the real collector's go through the API.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .jsoncopy import clone
from .registry import Kind

if TYPE_CHECKING:
    from .store import Store


class OwnerCascade:
    def __init__(self, store: Store):
        self.store = store

    def object_removed(self, obj: dict) -> None:
        """An object left the store: collect its dependents, release owners waiting on it."""
        uid = obj["metadata"]["uid"]
        self.store.schedule(lambda: self.collect_dependents(uid))
        for owner_uid in [r.get("uid") for r in obj["metadata"].get("ownerReferences") or []]:
            self.store.schedule(functools.partial(self._release_foreground_owner, owner_uid))

    def collect_dependents(self, owner_uid: str) -> None:
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
            self.store.delete(dkind, dep["metadata"].get("namespace", ""), dep["metadata"]["name"],
                              actor="system:garbage-collector")
        if owner_alive:
            self._release_foreground_owner(owner_uid)

    def orphan_dependents(self, uid: str) -> None:
        for dkind, dep in self._dependents(uid):
            obj = clone(dep)
            obj["metadata"]["ownerReferences"] = [r for r in dep["metadata"]["ownerReferences"] if r.get("uid") != uid]
            if not obj["metadata"]["ownerReferences"]:
                del obj["metadata"]["ownerReferences"]
            self.store.commit(dkind, obj, dep, [])
        found = self._find_uid(uid)
        if found:
            owner = found[1]
            obj = clone(owner)
            obj["metadata"]["finalizers"] = [f for f in owner["metadata"].get("finalizers") or [] if f != "orphan"]
            self.store.commit(found[0], obj, owner, [])

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
        self.store.commit(kind, obj, owner, [])

    def _exists_uid(self, uid: str) -> bool:
        return any(o["metadata"]["uid"] == uid for _, o in self.store.all_objects())

    def _find_uid(self, uid: str) -> tuple[Kind, dict] | None:
        return next(((k, o) for k, o in self.store.all_objects() if o["metadata"]["uid"] == uid), None)

    def _dependents(self, uid: str) -> list[tuple[Kind, dict]]:
        return [(k, o) for k, o in self.store.all_objects()
                if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])]
