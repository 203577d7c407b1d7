"""Namespace lifecycle: the NamespaceLifecycle admission plugin and the namespace controller.

Creating in a missing namespace is a 404 and in a Terminating one a 403; deleting a namespace
with `spec.finalizers` marks it Terminating, deletes everything inside it, and lets it go once it
holds nothing (the `kubernetes` finalizer emptied).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from .jsoncopy import clone
from .registry import Kind

if TYPE_CHECKING:
    from .store import Store


def is_namespace(kind: Kind) -> bool:
    return kind.group == "" and kind.kind == "Namespace"


def spec_finalizers(kind: Kind, obj: dict) -> list:
    """A Namespace's spec.finalizers (`kubernetes`): the namespace controller empties them once the
    namespace holds nothing, and only then does a Terminating namespace go."""
    if not is_namespace(kind):
        return []
    return (obj.get("spec") or {}).get("finalizers") or []


class NamespaceLifecycle:
    def __init__(self, store: Store):
        self.store = store

    def _namespace(self, name: str) -> tuple[Kind, dict | None]:
        ns_kind = self.store.registry.by_plural("", "namespaces")
        return ns_kind, self.store.peek(ns_kind, "", name)

    def admit_create(self, kind: Kind, namespace: str, name: str) -> None:
        """The NamespaceLifecycle admission plugin: it runs after decoding (pruning, defaults) and
        before every mutating webhook, so a missing namespace is a 404 and a terminating one a 403
        whatever a webhook or the schema would say."""
        if not kind.namespaced:
            return
        _, ns = self._namespace(namespace)
        if ns is None:
            raise errors.not_found("", "namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(
                403, "Forbidden",
                f'{errors.resource_ref(kind.group, kind.plural)} "{name}" is forbidden: unable to create new '
                f"content in namespace {namespace} because it is being terminated",
                details={"name": name, "kind": kind.plural, "group": kind.group})

    def terminate(self, name: str) -> None:
        """The namespace controller: delete everything inside, then let the namespace go."""
        for kind, obj in list(self.store.all_objects()):
            if kind.namespaced and obj["metadata"].get("namespace") == name and not obj["metadata"].get("deletionTimestamp"):
                self.store.delete(kind, name, obj["metadata"]["name"], actor="system:namespace-controller")
        self.finish(name)

    def finish(self, name: str) -> None:
        """Let a Terminating namespace go once nothing is left inside it."""
        ns_kind, ns = self._namespace(name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if any(k.namespaced and o["metadata"].get("namespace") == name for k, o in self.store.all_objects()):
            return
        obj = clone(ns)
        obj.setdefault("spec", {})["finalizers"] = []
        if not obj["metadata"].get("finalizers"):
            self.store.commit(ns_kind, obj, ns, [])
