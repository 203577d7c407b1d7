"""Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with `as=Table`.

Columns come from the CRD's additionalPrinterColumns, evaluated with the small JSONPath subset
printer columns use (`.a.b`, `.a[0]`, `.a[?(@.type=="Ready")].status`, `\\.` in keys).
"""
from __future__ import annotations

import datetime as dt
import json
import re

from .registry import Kind

NAME_COLUMN = {"name": "Name", "type": "string", "format": "name", "priority": 0,
               "description": "Name must be unique within a namespace."}
AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}

_TOKEN = re.compile(r'\.((?:\\.|[^.\[\\])+)|\[(\d+|\*)\]|\[\?\(@\.([\w.]+)\s*==\s*["\']([^"\']*)["\']\)\]')


def wants_table(accept: str) -> bool:
    return "as=Table" in (accept or "")


def jsonpath(obj, path: str) -> list:
    """Values the path selects (a list: filters may select several)."""
    current = [obj]
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            return []
        pos = m.end()
        key, index, fkey, fval = m.groups()
        nxt = []
        for value in current:
            if key is not None and isinstance(value, dict):
                k = key.replace("\\.", ".")
                if k in value:
                    nxt.append(value[k])
            elif index is not None and isinstance(value, list):
                if index == "*":
                    nxt.extend(value)
                elif int(index) < len(value):
                    nxt.append(value[int(index)])
            elif fkey is not None and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and str(_dig(item, fkey.split("."))) == fval:
                        nxt.append(item)
        current = nxt
    return current


def _dig(value, keys):
    for k in keys:
        value = value.get(k) if isinstance(value, dict) else None
    return value


def human_duration(seconds: float) -> str:
    """How the apiserver prints a `date` column: 45s, 3m20s, 5h, 12d (apimachinery HumanDuration)."""
    if seconds < -1:
        return "<invalid>"
    s = int(max(seconds, 0))
    m, h, d = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 365 * 2:
        return f"{d}d"
    years = d // 365
    return f"{years}y{d % 365}d" if years < 8 and d % 365 else f"{years}y"


def _age(value) -> str:
    try:
        when = dt.datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return str(value)
    return human_duration((dt.datetime.now(dt.UTC) - when).total_seconds())


def _cell(values: list, type_: str):
    if not values:
        return None
    if type_ == "date" and len(values) == 1:
        return _age(values[0])
    if len(values) > 1:
        return ",".join(v if isinstance(v, str) else json.dumps(v) for v in values)
    v = values[0]
    if type_ in ("integer", "number", "boolean") and isinstance(v, (int, float, bool)):
        return v
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


def columns(kind: Kind, version: str) -> list[dict]:
    printer = kind.versions[version].printer_columns or [AGE_COLUMN]
    return [NAME_COLUMN] + [{"name": c["name"], "type": c.get("type", "string"), "format": c.get("format", ""),
                             "description": c.get("description", ""), "priority": c.get("priority", 0)}
                            for c in printer]


def _node_status(obj: dict) -> str:
    conds = {c.get("type"): c.get("status") for c in (obj.get("status") or {}).get("conditions") or []}
    text = {"True": "Ready", "False": "NotReady"}.get(conds.get("Ready"), "Unknown")
    return text + (",SchedulingDisabled" if (obj.get("spec") or {}).get("unschedulable") else "")


def _node_roles(obj: dict) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix):] for k in (obj["metadata"].get("labels") or {}) if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _storage_class_name(obj: dict) -> str:
    """printStorageClass: the default class is printed `NAME (default)` (storageutil.IsDefaultAnnotation)."""
    annotations = obj["metadata"].get("annotations") or {}
    default = any(annotations.get(f"storageclass.{beta}kubernetes.io/is-default-class") == "true" for beta in ("", "beta."))
    return obj["metadata"]["name"] + (" (default)" if default else "")


# Columns the built-in printers compute rather than read by JSONPath: (group, kind) -> {column: fn}
COMPUTED = {("", "Node"): {"Status": _node_status, "Roles": _node_roles},
            ("storage.k8s.io", "StorageClass"): {"Name": _storage_class_name}}


def row(kind: Kind, version: str, obj: dict) -> dict:
    printer = kind.versions[version].printer_columns or [AGE_COLUMN]
    computed = COMPUTED.get((kind.group, kind.kind), {})
    cells = [computed["Name"](obj) if "Name" in computed else obj["metadata"]["name"]] + [
        computed[c["name"]](obj) if c["name"] in computed else _cell(jsonpath(obj, c["jsonPath"]), c.get("type", "string"))
        for c in printer]
    meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return {"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                       "metadata": meta}}


def table(kind: Kind, version: str, objs: list[dict], resource_version: str, *, with_columns: bool = True) -> dict:
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": columns(kind, version) if with_columns else [],
            "rows": [row(kind, version, o) for o in objs]}
