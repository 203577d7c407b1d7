"""Label and field selectors as the apiserver parses them (list, watch, deletecollection)."""
from __future__ import annotations

import re

from .errors import bad_request

_SET_EXPR = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ_EXPR = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in (x.strip() for x in parts) if p]


def parse_label_selector(text: str):
    """Return a predicate over a labels dict."""
    tests = []
    for req in _split_top(text or ""):
        m = _EQ_EXPR.match(req)
        if m:
            key, op, value = m.groups()
            if op == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
            continue
        m = _SET_EXPR.match(req)
        if not m:
            raise bad_request(f'unable to parse requirement: found \'{req}\', expected: !, identifier, or "end of string"')
        neg, key, op, values = m.groups()
        if op:
            vals = {v.strip() for v in values.split(",") if v.strip()}
            if op == "in":
                tests.append(lambda labels, k=key, vs=vals: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=vals: labels.get(k) not in vs)
        elif neg:
            tests.append(lambda labels, k=key: k not in labels)
        else:
            tests.append(lambda labels, k=key: k in labels)
    return lambda labels: all(t(labels or {}) for t in tests)


# Fields every kind can be selected by; the apiserver refuses others for CRs.
FIELDS = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace")}


def parse_field_selector(text: str, extra: dict[str, tuple] | None = None):
    """Return a predicate over an object. Only known fields are accepted, as for CRDs."""
    known = dict(FIELDS, **(extra or {}))
    tests = []
    for req in _split_top(text or ""):
        m = _EQ_EXPR.match(req)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{req}'")
        field, op, value = m.groups()
        if field not in known:
            raise bad_request(f'field label not supported: {field}')
        path = known[field]

        def get(obj, path=path):
            for p in path:
                obj = (obj or {}).get(p) if isinstance(obj, dict) else None
            return "" if obj is None else str(obj)

        if op == "!=":
            tests.append(lambda o, g=get, v=value: g(o) != v)
        else:
            tests.append(lambda o, g=get, v=value: g(o) == v)
    return lambda obj: all(t(obj) for t in tests)
