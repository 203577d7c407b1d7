"""A write in a served version other than the storage one, before it reaches the store.

As kube-apiserver does for a CRD, the body is checked against the schema of the version it was
sent in (pruned, defaulted, validated: 400 for Strict unknown fields, 422 with causes), then
converted to the storage version. The store's pipeline (admission webhooks, ObjectMeta checks,
storage) then runs on the storage version, so webhooks and controllers only ever see that one.
"""
from __future__ import annotations

from . import conversion, errors
from .registry import Kind
from .schema import StrictDecodingError
from .store import Store


def to_storage_request(store: Store, kind: Kind, version: str, obj: dict, *, namespace: str = "", name: str = "",
                       subresource: str = "", strict: bool = False) -> tuple[dict, list[str]]:
    """The body of a create/update/patch in `version` as the storage version, with the warnings
    of its own version's pruning. A body already in the storage version passes unchanged."""
    if version == kind.storage_version:
        return obj, []
    store._check_type(kind, version, obj)  # the same 400s as a write in the storage version
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    if kind.namespaced and not meta.get("namespace") and namespace:
        meta["namespace"] = namespace  # conversion fills references' namespaces from it
    v = kind.versions[version]
    if v.status:
        obj = _without_ignored_parts(store, kind, version, obj, meta, name, subresource)
    warnings: list[str] = []
    if v.schema is not None:
        try:
            admitted, warnings, problems = v.schema.admit(obj, strict=strict)
        except StrictDecodingError as e:
            raise errors.bad_request(str(e)) from None
        if problems:
            raise errors.invalid(kind.kind, kind.group, meta.get("name") or meta.get("generateName", ""),
                                 [(e.reason, e.path, e.message) for e in problems])
        admitted["metadata"] = meta  # as the store does: metadata is checked by ObjectMeta rules, not pruned
        obj = admitted
    return conversion.to_storage(kind, version, obj, store.registry), warnings


def _without_ignored_parts(store: Store, kind: Kind, version: str, obj: dict, meta: dict, name: str,
                           subresource: str) -> dict:
    """With a status subresource, a write ignores the part it cannot change (status on the main
    resource, everything else on /status): leave that part out of the check in this version."""
    if subresource != "status":
        return {k: v for k, v in obj.items() if k != "status"}
    live = store.peek(kind, meta.get("namespace", ""), name or meta.get("name", ""))
    if live is None:
        return obj  # the store answers 404
    current = conversion.from_storage(kind, version, store.get(kind, meta.get("namespace", ""), live["metadata"]["name"]),
                                      store.registry)
    current["metadata"] = meta
    if "status" in obj:
        current["status"] = obj["status"]
    else:
        current.pop("status", None)
    return current
