"""Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with `as=Table`.

Columns come from the CRD's additionalPrinterColumns, evaluated with the small JSONPath subset
printer columns use (`.a.b`, `.a[0]`, `.a[?(@.type=="Ready")].status`, `\\.` in keys).
"""
from __future__ import annotations

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


def _cell(values: list, type_: str):
    if not values:
        return None
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


def row(kind: Kind, version: str, obj: dict) -> dict:
    printer = kind.versions[version].printer_columns or [AGE_COLUMN]
    cells = [obj["metadata"]["name"]] + [_cell(jsonpath(obj, c["jsonPath"]), c.get("type", "string"))
                                         for c in printer]
    meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return {"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                       "metadata": meta}}


def table(kind: Kind, version: str, objs: list[dict], resource_version: str, *, with_columns: bool = True) -> dict:
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": columns(kind, version) if with_columns else [],
            "rows": [row(kind, version, o) for o in objs]}
