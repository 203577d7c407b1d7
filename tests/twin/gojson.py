"""Go's encoding/json as the apiserver applies it to the built-in kinds.

A built-in object is decoded into its Go type and encoded back, so what a client reads is what
the json tags of k8s.io/api allow: a field tagged `omitempty` whose value is the zero value of
its type is left out (after maintenance mode is disabled a Node has no `spec.unschedulable`),
a field without `omitempty` is always written (its zero value when it was never set), a struct
value is always written whatever its tag, and a metav1.Time reads `null` when unset.

The tags are data: each property of a core kind's schema (core/core.yaml) may carry
`x-twin-go-json`, one of

- (absent)  `omitempty` on a string, number, bool, slice or map: its zero value ("", 0, false,
            null, [] or {}) is left out
- `pointer` `omitempty` on a pointer: only null (a nil pointer) is left out; false, 0 and "" stay
- `always`  no `omitempty`: always written; unset it reads "", 0 or false by its type, null for a
            slice, map or pointer
- `struct`  a struct value: always written (omitempty never drops a struct), its own fields by
            these rules
- `time`    a metav1.Time value: always written, null when unset

Custom resources are unstructured in the apiserver and keep what they were given.
"""
from __future__ import annotations

KEY = "x-twin-go-json"
TAGS = ("omitempty", "pointer", "always", "struct", "time")


class Encoder:
    """The encoding rules of one schema node, compiled once (objects are encoded on every write)."""

    __slots__ = ("fields", "items", "values", "zero")

    def __init__(self, raw: dict):
        self.fields: dict[str, tuple[str, Encoder]] = {}
        for name, sub in (raw.get("properties") or {}).items():
            if name == "metadata" and raw.get("properties", {}).get("apiVersion") is not None:
                continue  # ObjectMeta: the twin's own metadata rules (meta.py)
            tag = sub.get(KEY, "omitempty")
            if tag not in TAGS:
                raise ValueError(f"{KEY} of {name}: {tag!r} is not one of {', '.join(TAGS)}")
            self.fields[name] = (tag, Encoder(sub))
        items = raw.get("items")
        self.items = Encoder(items) if isinstance(items, dict) else None
        additional = raw.get("additionalProperties")
        self.values = Encoder(additional) if isinstance(additional, dict) and additional.get("properties") else None
        self.zero = _zero(raw)

    def encode(self, value):
        """The value as Go writes it back (objects and lists are changed in place)."""
        if isinstance(value, dict):
            if self.fields:
                for name, (tag, sub) in self.fields.items():
                    if name in value:
                        value[name] = sub.encode(value[name])
                        if _left_out(tag, value[name]):
                            del value[name]
                    elif tag == "always":
                        value[name] = sub.zero
                    elif tag == "struct":
                        value[name] = sub.encode({})
                    elif tag == "time":
                        value[name] = None
            elif self.values is not None:
                for k in value:
                    value[k] = self.values.encode(value[k])
        elif isinstance(value, list) and self.items is not None:
            for i, item in enumerate(value):
                value[i] = self.items.encode(item)
        elif value is None and self.fields:
            return self.encode({})  # a struct decoded from null is its zero value
        return value


def _left_out(tag: str, value) -> bool:
    if tag == "omitempty":
        return value is None or value is False or value == 0 and not isinstance(value, bool) \
            or value in ("", [], {})
    if tag == "pointer":
        return value is None
    return False


def _zero(raw: dict):
    """The zero value of a field without omitempty: by its schema type (a nullable one is a
    pointer: nil)."""
    if raw.get("nullable") is True:
        return None
    if raw.get("x-kubernetes-int-or-string") is True:
        return 0  # intstr.IntOrString{}: Type Int, IntVal 0
    return {"string": "", "integer": 0, "number": 0, "boolean": False}.get(raw.get("type"))


def compile_schema(raw: dict | None) -> Encoder | None:
    """The encoder of a core kind's openAPIV3Schema, or None for a kind without rules."""
    return Encoder(raw) if isinstance(raw, dict) else None
