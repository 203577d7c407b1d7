"""Steve's resources and collections as JSON (rancher/apiserver v0.7.3 pkg/writer/encoding.go,
pkg/types/server_types.go `RawResource.MarshalJSON`; rancher/steve v0.7.17
pkg/resources/common/formatter.go, pkg/stores/partition `ToAPI`; harvester v1.8.2
pkg/server/types.go `dynamicURLBuilderParse`).

A resource is `{"id", "type", "links", "actions"?, <the Kubernetes object>}`: id `<ns>/<name>` or
`<name>`, type the schema id, links self/update/remove/patch (the admin may do everything) at
`https://<host>/v1/harvester/<plural>/<id>` and view at the object's Kubernetes path on the same
host, actions only when there are some (omitempty). The object carries `metadata.fields` (the
table cells of its printer columns), `metadata.state` {name, error, transitioning, message},
`metadata.relationships` (null when none) and conditions with `error`, `transitioning` and
`lastUpdateTime`. Map keys are written sorted, as Go writes maps.

A collection is `{"type": "collection", "links": {"self"}, "createTypes": {<id>: <url>},
"actions": {}, "resourceType", "revision", "count" (omitted when 0), "data": [...]}`.
"""
from __future__ import annotations

from .. import table
from ..store import clone
from . import summary
from .schemas import SteveType, Types

RESERVED = ("id", "type", "links", "actions")


def object_id(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta.get("name", "")


def kube_path(t: SteveType, namespace: str, name: str) -> str:
    """The object's path on the Kubernetes API (the formatter's selfLink)."""
    base = f"/api/{t.version}" if not t.kind.group else f"/apis/{t.kind.group}/{t.version}"
    ns = f"/namespaces/{namespace}" if namespace else ""
    return f"{base}{ns}/{t.kind.plural}/{name}"


class Formatter:
    def __init__(self, types: Types, prefix: str):
        self.types = types
        self.prefix = prefix

    def collection_url(self, root: str, t: SteveType) -> str:
        return f"{root}{self.prefix}/{t.plural}"

    def resource(self, root: str, t: SteveType, obj: dict, actions: list[str] | None = None) -> dict:
        """root: scheme://host of the request; actions: the action names the schema's formatter
        offers (None: none)."""
        obj = clone(obj)
        for key in RESERVED:  # ToAPI's moveToUnderscore: the object's own fields of these names
            if key in obj:
                obj["_" + key] = obj.pop(key)
        meta = obj.setdefault("metadata", {})
        rid = object_id(obj)
        self_link = f"{self.collection_url(root, t)}/{rid}"
        links = {"patch": self_link, "remove": self_link, "self": self_link, "update": self_link,
                 "view": root + kube_path(t, meta.get("namespace", ""), meta.get("name", ""))}
        meta["fields"] = table.row(t.kind, t.version, obj)["cells"]
        meta["state"] = summary.state(obj)
        meta["relationships"] = self.relationships(obj) or None
        summary.normalize_conditions(obj)
        out = {"id": rid, "type": t.id, "links": links}
        if actions:
            out["actions"] = {a: f"{self_link}?action={a}" for a in sorted(actions)}
        out.update(obj)
        return out

    def relationships(self, obj: dict) -> list[dict]:
        """Inbound owner relationships (summary checkOwner, summarycache toRel)."""
        ns = (obj.get("metadata") or {}).get("namespace", "")
        out = []
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
            owner_type = self.types.lookup(self.types.for_api_version(ref.get("apiVersion", ""), ref.get("kind", "")))
            owner_ns = ns if owner_type is None or owner_type.namespaced else ""
            rel = {"fromId": f"{owner_ns}/{ref.get('name')}" if owner_ns else ref.get("name", ""),
                   "fromType": self.types.for_api_version(ref.get("apiVersion", ""), ref.get("kind", "")),
                   "rel": "owner"}
            out.append(rel)
        return out

    def collection(self, root: str, current: str, t: SteveType, data: list[dict], revision: str) -> dict:
        out = {"type": "collection", "links": {"self": current},
               "createTypes": {t.id: self.collection_url(root, t)}, "actions": {}, "resourceType": t.id}
        if revision:
            out["revision"] = revision
        if data:
            out["count"] = len(data)
        out["data"] = data
        return out


def unformat(obj: dict) -> dict:
    """What Steve strips from an update's body before it reaches Kubernetes (unformatterStore,
    moveFromUnderscore): the formatter's metadata fields and condition keys, the resource keys."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in ("fields", "relationships", "state"):
            meta.pop(key, None)
    status = obj.get("status")
    if isinstance(status, dict) and isinstance(status.get("conditions"), list):
        for c in status["conditions"]:
            if isinstance(c, dict):
                for key in ("error", "transitioning", "lastUpdateTime"):
                    c.pop(key, None)
    for key in RESERVED:
        underscored = obj.pop("_" + key, None)
        obj.pop(key, None)
        if underscored is not None:
            obj[key] = underscored
    return obj
