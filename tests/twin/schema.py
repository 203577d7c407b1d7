"""The CRD openAPIV3Schema engine of the twin: what kube-apiserver does to a custom resource.

For every create/update/patch the apiserver runs, in this order (apiextensions-apiserver):

1. decoding: prune unknown fields (reported as `unknown field "spec.x"` warnings, or refused with
   fieldValidation=Strict), then drop nulls of non-nullable fields that have no default;
2. defaulting (`default:`), deep-copied, never creating a missing parent unless the parent has a default;
3. validation: the kube-openapi schema validator (types, formats, enum, bounds, required, ...),
   embedded-resource checks (x-kubernetes-embedded-resource) and list-type uniqueness
   (x-kubernetes-list-type set/map), each error rendered like apimachinery's field.Error.

What is deliberately not done here:
- x-kubernetes-validations (CEL) are not evaluated: no CEL interpreter in the twin;
- root metadata is validated elsewhere (tests/twin/meta.py); embedded resources' metadata is
  neither pruned nor validated beyond the apiVersion/kind checks;
- validation ratcheting on update (errors on unchanged fields are tolerated by a real server)
  is the caller's business: validate() always validates like a create.

The messages are built the way the Go code builds them (kube-openapi error texts, Go's %v/%q/JSON
renderings), because tests compare them verbatim with what a real apiserver says.
Go's map iteration is random, so the apiserver's error order is too; ours follows schema and data order.
"""
from __future__ import annotations

import calendar
import copy
import ipaddress
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass
from functools import lru_cache

from .goformat import bad_value, go_float, go_json, go_quote, go_v

__all__ = ["FieldError", "Schema", "StrictDecodingError"]


# ---------------------------------------------------------------------------------------------
# public API


@dataclass(frozen=True)
class FieldError:
    """One apimachinery field error: `str()` is exactly field.Error.Error()."""

    path: str      # "spec.uplink.bondOptions.mode"; "<nil>" where the apiserver has no path either
    reason: str    # the StatusCause type, e.g. "FieldValueNotSupported"
    message: str   # field.Error.ErrorBody(), i.e. the text after "path: "

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class StrictDecodingError(Exception):
    """fieldValidation=Strict and the object had unknown fields: the apiserver answers 400 BadRequest."""

    def __init__(self, paths: list[str]):
        self.paths = list(paths)
        super().__init__("strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in self.paths))


class Schema:
    """A compiled openAPIV3Schema of one CRD version (compile once at CRD load: objects are validated often)."""

    def __init__(self, openapi_v3_schema: dict):
        self._root = _Node(openapi_v3_schema if isinstance(openapi_v3_schema, dict) else {})

    def prune(self, obj: dict) -> list[str]:
        """Remove unknown fields in place and return their paths, sorted like the apiserver's warnings.

        Like the apiserver's decoder it then also drops nulls of non-nullable fields without a default
        (those with a default are replaced by it in default()).
        """
        unknown: list[str] = []
        _prune(obj, self._root, "", unknown, root=True)
        _prune_nulls(obj, self._root)
        unknown.sort()
        return unknown

    def default(self, obj: dict) -> None:
        """Apply `default:` values in place."""
        _default(obj, self._root)

    def validate(self, obj: dict) -> list[FieldError]:
        """All schema errors of obj (never raises on bad input)."""
        errs, _ = _validate(self._root, obj, "")
        out: list[FieldError] = []
        seen: set[str] = set()
        for e in errs:
            # kube-openapi's Result drops errors whose message was already reported
            if e.message in seen:
                continue
            seen.add(e.message)
            out.append(e.field_error())
        out += _validate_embedded(obj, self._root, "")
        if isinstance(obj, dict):
            out += _listtype_object("", self._root, obj)
        return out

    def admit(self, obj: dict, strict: bool = False) -> tuple[dict, list[str], list[FieldError]]:
        """The apiserver pipeline on a deep copy: prune, default, validate.

        Returns (new_obj, warnings like 'unknown field "spec.foo"', errors). With strict
        (fieldValidation=Strict) unknown fields raise StrictDecodingError instead (400 BadRequest).
        """
        new = copy.deepcopy(obj)
        unknown = self.prune(new)
        if strict and unknown:
            raise StrictDecodingError(unknown)
        self.default(new)
        return new, [f'unknown field "{p}"' for p in unknown], self.validate(new)


# ---------------------------------------------------------------------------------------------
# compiled schema nodes

_META_FIELDS = frozenset(("apiVersion", "kind", "metadata"))

# formats the apiserver keeps in CRD schemas (apiextensions StripUnsupportedFormatsPostProcess,
# names normalized without dashes); any other format is dropped before validation
_SUPPORTED_STRING_FORMATS = frozenset((
    "bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac", "uuid", "uuid3", "uuid4",
    "uuid5", "isbn", "isbn10", "isbn13", "creditcard", "ssn", "hexcolor", "rgbcolor", "byte", "password",
    "date", "duration", "datetime", "quantity", "k8sshortname", "k8slongname",
))


def _effective_format(fmt, types: tuple[str, ...]) -> str:
    if not isinstance(fmt, str) or not fmt:
        return ""
    schema_type = types[0] if len(types) == 1 else ""
    if schema_type in ("", "string"):
        return fmt if fmt.replace("-", "") in _SUPPORTED_STRING_FORMATS else ""
    if schema_type == "integer":
        return fmt if fmt in ("int32", "int64") else ""
    if schema_type == "number":
        return fmt if fmt in ("float", "double") else ""
    return ""


def _int_or_none(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return int(v)


def _num_or_none(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v


class _Node:
    """One schema node, with the keywords the apiserver uses pre-parsed."""

    __slots__ = (
        "types", "nullable", "format", "format_check", "enum", "default", "has_default",
        "properties", "required", "has_additional", "additional", "additional_allows", "items",
        "preserve", "embedded", "list_type", "list_map_keys",
        "max_length", "min_length", "pattern", "pattern_re",
        "minimum", "maximum", "excl_min", "excl_max", "multiple_of",
        "min_items", "max_items", "unique_items", "min_props", "max_props",
        "all_of", "any_of", "one_of", "not_", "has_props_validators",
    )

    def __init__(self, raw: dict):
        t = raw.get("type")
        if raw.get("x-kubernetes-int-or-string") is True:
            # apiextensions converts int-or-string to type [integer, string] for validation
            self.types: tuple[str, ...] = ("integer", "string")
        elif isinstance(t, str) and t:
            self.types = (t,)
        else:
            self.types = ()
        self.nullable = raw.get("nullable") is True
        self.format = _effective_format(raw.get("format"), self.types)
        self.format_check = _FORMAT_CHECKS.get(self.format.replace("-", "")) if self.format else None
        enum = raw.get("enum")
        self.enum = list(enum) if isinstance(enum, list) and enum else None
        # a literal `default: null` is dropped by the apiserver's conversion: no default
        self.default = raw.get("default")
        self.has_default = self.default is not None

        props = raw.get("properties")
        self.properties: dict[str, _Node] = (
            {k: _Node(v if isinstance(v, dict) else {}) for k, v in props.items()} if isinstance(props, dict) else {})
        req = raw.get("required")
        self.required = [r for r in req if isinstance(r, str)] if isinstance(req, list) else []
        ap = raw.get("additionalProperties")
        if isinstance(ap, dict):
            self.has_additional, self.additional, self.additional_allows = True, _Node(ap), True
        elif isinstance(ap, bool):
            self.has_additional, self.additional, self.additional_allows = True, None, ap
        else:
            self.has_additional, self.additional, self.additional_allows = False, None, True
        items = raw.get("items")
        self.items = _Node(items) if isinstance(items, dict) else None

        self.preserve = raw.get("x-kubernetes-preserve-unknown-fields") is True
        self.embedded = raw.get("x-kubernetes-embedded-resource") is True
        lt = raw.get("x-kubernetes-list-type")
        self.list_type = lt if isinstance(lt, str) else None
        keys = raw.get("x-kubernetes-list-map-keys")
        self.list_map_keys = [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []

        self.max_length = _int_or_none(raw.get("maxLength"))
        self.min_length = _int_or_none(raw.get("minLength"))
        pattern = raw.get("pattern")
        self.pattern = pattern if isinstance(pattern, str) and pattern else None
        self.pattern_re = _compile_go_regex(self.pattern) if self.pattern else None
        self.minimum = _num_or_none(raw.get("minimum"))
        self.maximum = _num_or_none(raw.get("maximum"))
        self.excl_min = bool(raw.get("exclusiveMinimum"))
        self.excl_max = bool(raw.get("exclusiveMaximum"))
        self.multiple_of = _num_or_none(raw.get("multipleOf"))
        self.min_items = _int_or_none(raw.get("minItems"))
        self.max_items = _int_or_none(raw.get("maxItems"))
        self.unique_items = raw.get("uniqueItems") is True
        self.min_props = _int_or_none(raw.get("minProperties"))
        self.max_props = _int_or_none(raw.get("maxProperties"))

        def nodes(key):
            v = raw.get(key)
            return [_Node(s) for s in v if isinstance(s, dict)] if isinstance(v, list) else []

        self.all_of = nodes("allOf")
        self.any_of = nodes("anyOf")
        self.one_of = nodes("oneOf")
        n = raw.get("not")
        self.not_ = _Node(n) if isinstance(n, dict) else None
        self.has_props_validators = bool(self.all_of or self.any_of or self.one_of or self.not_)


# ---------------------------------------------------------------------------------------------
# pruning, null dropping, defaulting (apiextensions structural pruning/defaulting)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _prune(x, node: _Node | None, path: str, unknown: list[str], root: bool = False) -> None:
    # the resource root always counts as an embedded resource: apiVersion/kind/metadata stay
    embedded = root or (node is not None and node.embedded)
    if node is not None and node.preserve:
        _skip_prune(x, node, path, unknown, embedded)
        return
    if isinstance(x, dict):
        if node is None:
            for k in list(x):
                unknown.append(_join(path, k))
                del x[k]
            return
        for k in list(x):
            if embedded and k in _META_FIELDS:
                continue
            if not _prune_specified(x, k, node, path, unknown):
                if k not in _META_FIELDS or path:
                    unknown.append(_join(path, k))
                del x[k]
    elif isinstance(x, list):
        items = node.items if node is not None else None
        for i, v in enumerate(x):
            _prune(v, items, f"{path}[{i}]", unknown)


def _skip_prune(x, node: _Node | None, path: str, unknown: list[str], embedded: bool = False) -> None:
    """Under x-kubernetes-preserve-unknown-fields unknown fields stay, but specified ones are still pruned."""
    if node is None:
        return
    if isinstance(x, dict):
        for k in list(x):
            if (embedded or node.embedded) and k in _META_FIELDS:
                continue
            _prune_specified(x, k, node, path, unknown)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            _skip_prune(v, node.items, f"{path}[{i}]", unknown)


def _prune_specified(x: dict, k: str, node: _Node, path: str, unknown: list[str]) -> bool:
    """Prune x[k] by the schema the node gives it (a property, else additionalProperties);
    False when the node specifies no such field."""
    prop = node.properties.get(k)
    if prop is not None:
        _prune(x[k], prop, _join(path, k), unknown)
    elif node.has_additional:
        _prune(x[k], node.additional, _join(path, k), unknown)
    else:
        return False
    return True


def _field_schema(node: _Node | None, k: str) -> _Node | None:
    if node is None:
        return None
    prop = node.properties.get(k)
    if prop is not None:
        return prop
    return node.additional if node.has_additional else None


def _prune_nulls(x, node: _Node | None) -> None:
    """Drop nulls of non-nullable fields without default (those with one get it in _default)."""
    if isinstance(x, dict):
        for k in list(x):
            sub = _field_schema(node, k)
            v = x[k]
            if v is None and sub is not None and not sub.nullable and not sub.has_default:
                del x[k]
            else:
                _prune_nulls(v, sub)
    elif isinstance(x, list):
        items = node.items if node is not None else None
        for v in x:  # list items are kept: a null item is a validation error
            _prune_nulls(v, items)


def _default(x, node: _Node | None) -> None:
    if node is None:
        return
    if isinstance(x, dict):
        for k, prop in node.properties.items():
            if prop.has_default and (k not in x or (x[k] is None and not prop.nullable)):
                x[k] = copy.deepcopy(prop.default)
        for k in list(x):
            prop = node.properties.get(k)
            if prop is not None:
                _default(x[k], prop)
            elif node.has_additional:
                ap = node.additional
                if x[k] is None and ap is not None and not ap.nullable:
                    x[k] = copy.deepcopy(ap.default)
                _default(x[k], ap)
    elif isinstance(x, list):
        items = node.items
        for i in range(len(x)):
            if x[i] is None and items is not None and not items.nullable:
                x[i] = copy.deepcopy(items.default)
            _default(x[i], items)


# ---------------------------------------------------------------------------------------------
# kube-openapi schema validation

# kube-openapi error codes (how apiextensions maps them to field errors)
_REQUIRED, _ENUM, _TOO_LONG, _MAX_ITEMS, _TOO_MANY_PROPS, _INVALID_TYPE, _OTHER = range(7)
_IN = "body"  # kube-openapi validates CRs as the request "body"


class _OErr:
    """A kube-openapi error; name None means a plain (composite) error without a field."""

    __slots__ = ("name", "code", "value", "valid", "values", "message")

    def __init__(self, name, code, message, value=None, valid=None, values=None):
        self.name, self.code, self.message = name, code, message
        self.value, self.valid, self.values = value, valid, values

    def field_error(self) -> FieldError:
        # apiextensions kubeOpenAPIResultToFieldErrors
        if self.name is None:
            return FieldError("<nil>", "FieldValueInvalid", 'Invalid value: "": ' + self.message)
        name = self.name
        path = (name[1:] if name.startswith(".") else name) if name and name != "." else "<nil>"
        value = "" if self.value is None else self.value
        if self.code == _REQUIRED:
            return FieldError(path, "FieldValueRequired", "Required value")
        if self.code == _ENUM:
            supported = [v if isinstance(v, str) else go_json(v) for v in self.values or []]
            msg = "Unsupported value: " + bad_value(self.value)
            if supported:
                msg += ": supported values: " + ", ".join(go_quote(s) for s in supported)
            return FieldError(path, "FieldValueNotSupported", msg)
        if self.code == _TOO_LONG:
            return FieldError(path, "FieldValueTooLong", "Too long: " + _too_long_detail(self.valid))
        if self.code in (_MAX_ITEMS, _TOO_MANY_PROPS):
            return FieldError(path, "FieldValueTooMany", _too_many_body(self.value, self.valid))
        if self.code == _INVALID_TYPE:
            return FieldError(path, "FieldValueTypeInvalid", f"Invalid value: {bad_value(value)}: {self.message}")
        return FieldError(path, "FieldValueInvalid", f"Invalid value: {bad_value(value)}: {self.message}")


def _too_long_detail(max_len) -> str:
    if not isinstance(max_len, int) or max_len < 0:
        return "value is too long"
    return f"may not be more than {max_len} {'byte' if max_len == 1 else 'bytes'}"


def _too_many_body(actual, max_n) -> str:
    if isinstance(max_n, int) and max_n >= 0:
        detail = f"must have at most {max_n} {'item' if max_n == 1 else 'items'}"
    else:
        detail = "too many items"
    if isinstance(actual, int) and actual >= 0:
        return f"Too many: {actual}: {detail}"
    return f"Too many: {detail}"


def _where(path: str) -> str:
    return f"{path} in {_IN}"


def _type_error(path: str, type_name: str, value: str) -> _OErr:
    return _OErr(path, _INVALID_TYPE, f"{_where(path)} must be of type {type_name}: {go_quote(value)}", value=value)


def _kind_of(v) -> str:
    """The JSON kind of a decoded value, as the apiserver's unstructured decoding would have it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        # JSON integers beyond int64 decode to float64 in the apiserver
        return "integer" if -(1 << 63) <= v < (1 << 63) else "number"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, (list, tuple)):
        return "array"
    return "other"


def _is_json_int(f: float) -> bool:
    """go-openapi swag.IsFloat64AJSONInteger."""
    if math.isnan(f) or math.isinf(f) or f < -(1 << 53) or f > (1 << 53):
        return False
    g = float(math.trunc(f))
    if f == g:
        return True
    fa, ga = abs(f), abs(g)
    diff = abs(f - g)
    if g == 0 or diff < 5e-324:
        return diff < 1e-9 * 5e-324
    return diff / min(fa + ga, 1.7976931348623157e308) < 1e-9


def _validate(n: _Node, data, path: str) -> tuple[list[_OErr], int]:
    """kube-openapi SchemaValidator.Validate: the errors and the match count (used by anyOf/oneOf)."""
    errs: list[_OErr] = []
    if data is None:
        count = 0
        if n.types and "null" not in n.types and not n.nullable:
            errs.append(_type_error(path, ",".join(n.types), "null"))
        else:
            count = 1
        if n.enum is not None:
            errs.append(_enum_error(path, None, n.enum))
        return errs, count

    kind = _kind_of(data)
    if kind == "other":  # not from JSON (e.g. a YAML date): judge it by its text
        data, kind = str(data), "string"
    elif kind == "number" and isinstance(data, int):
        data = float(data) if abs(data) < 1e308 else math.copysign(math.inf, data)
    elif kind == "array" and not isinstance(data, list):
        data = list(data)
    count = 0

    if n.types or n.format:
        e = _check_type(n, data, kind, path)
        if e is None:
            count += 1
        else:
            errs.append(e)
        count += 1

    if n.has_props_validators:
        e, c = _check_schema_props(n, data, path)
        errs += e
        count += c + 1
    else:
        count += 2

    if kind == "string":
        e = _check_string(n, data, path)
        if e is not None:
            errs.append(e)
        count += 1
        if n.format_check is not None:
            if not n.format_check(data):
                errs.append(_type_error(path, n.format, data))
            count += 1
    elif kind in ("integer", "number"):
        errs += _check_number(n, data, kind == "integer", path)
        count += 2
    elif kind == "array":
        e, c = _check_slice(n, data, path)
        errs += e
        count += c + 1

    if n.enum is not None and not any(_enum_matches(data, ev) for ev in n.enum):
        errs.append(_enum_error(path, data, n.enum))
    count += 1

    if kind == "object":
        e, c = _check_object(n, data, path)
        errs += e
        count += c + 1
    return errs, count + 1


def _check_type(n: _Node, data, kind: str, path: str) -> _OErr | None:
    # kube-openapi typeValidator, including its format/type interplay
    data_format = {"integer": "int64", "number": "float64"}.get(kind, "")
    is_float_int = kind == "number" and _is_json_int(data) and "integer" in n.types
    is_int_float = kind == "integer" and "number" in n.types
    if kind not in ("string", "array") and n.format and not (
            kind in n.types or data_format == n.format or is_float_int or is_int_float):
        return _type_error(path, n.format, data_format)
    if not ("number" in n.types or "integer" in n.types) and n.format and kind in ("string", "array"):
        return None
    if not (kind in n.types or is_float_int or is_int_float):
        return _type_error(path, ",".join(n.types), kind)
    return None


def _enum_error(path: str, data, values: list) -> _OErr:
    shown = " ".join(go_v(v) for v in values)
    return _OErr(path, _ENUM, f"{_where(path)} should be one of [{shown}]", value=data, values=values)


def _enum_matches(data, ev) -> bool:
    # reflect conversion then DeepEqual: a number matches a number enum of the other kind
    dk, ek = _kind_of(data), _kind_of(ev)
    if dk in ("integer", "number") and ek in ("integer", "number"):
        if ek == "integer":
            try:
                return int(data) == ev
            except (OverflowError, ValueError):
                return False
        return float(data) == ev
    return dk == ek and _deep_equal(data, ev)


def _deep_equal(a, b) -> bool:
    """reflect.DeepEqual on decoded JSON: int64 and float64 never equal each other."""
    ka, kb = _kind_of(a), _kind_of(b)
    if ka != kb:
        return False
    if ka == "object":
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if ka == "array":
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _check_string(n: _Node, data: str, path: str) -> _OErr | None:
    # kube-openapi stringValidator: the first failing check only; lengths in code points
    if n.max_length is not None and len(data) > n.max_length:
        return _OErr(path, _TOO_LONG, f"{_where(path)} should be at most {n.max_length} chars long",
                     value=data, valid=n.max_length)
    if n.min_length is not None and len(data) < n.min_length:
        return _OErr(path, _OTHER, f"{_where(path)} should be at least {n.min_length} chars long", value=data)
    if n.pattern_re is not None and not n.pattern_re.search(data):
        return _OErr(path, _OTHER, f"{_where(path)} should match '{n.pattern}'", value=data)
    return None


def _go_int(f) -> int:
    """Go's float64 -> int64 conversion (truncation)."""
    if isinstance(f, int):
        return f
    if math.isnan(f) or math.isinf(f):
        return -(1 << 63)
    return math.trunc(f)


def _check_number(n: _Node, data, is_int: bool, path: str) -> list[_OErr]:
    # kube-openapi numberValidator: integers are compared with the bounds truncated to int64
    errs: list[_OErr] = []
    if n.multiple_of is not None:
        factor = n.multiple_of
        if is_int:
            fi = _go_int(factor)
            if fi < 0:
                errs.append(_OErr(path, _OTHER, f"factor MultipleOf declared for {path} must be positive: {fi}", value=fi))
            elif fi != 0:
                q = abs(data) // fi * (1 if data >= 0 else -1)
                if q * fi != data:
                    errs.append(_OErr(path, _OTHER, f"{_where(path)} should be a multiple of {fi}", value=data))
        else:
            ff = float(factor)
            if ff < 0:
                errs.append(_OErr(path, _OTHER, f"factor MultipleOf declared for {path} must be positive: {go_float(ff)}",
                                  value=ff))
            else:
                try:
                    mult = (1 / ff * data) if ff < 1 else data / ff
                except ZeroDivisionError:
                    mult = math.inf
                if not _is_json_int(mult):
                    errs.append(_OErr(path, _OTHER, f"{_where(path)} should be a multiple of {go_float(ff)}", value=data))
    if n.minimum is not None:
        bound = _go_int(n.minimum) if is_int else float(n.minimum)
        if data <= bound if n.excl_min else data < bound:
            word = "greater than" if n.excl_min else "greater than or equal to"
            shown = str(bound) if is_int else go_float(bound)
            errs.append(_OErr(path, _OTHER, f"{_where(path)} should be {word} {shown}", value=data))
    if n.maximum is not None:
        bound = _go_int(n.maximum) if is_int else float(n.maximum)
        if data >= bound if n.excl_max else data > bound:
            word = "less than" if n.excl_max else "less than or equal to"
            shown = str(bound) if is_int else go_float(bound)
            errs.append(_OErr(path, _OTHER, f"{_where(path)} should be {word} {shown}", value=data))
    return errs


def _check_slice(n: _Node, data: list, path: str) -> tuple[list[_OErr], int]:
    errs: list[_OErr] = []
    count = 1
    if n.items is not None:
        for i, v in enumerate(data):
            e, c = _validate(n.items, v, f"{path}[{i}]")
            errs += e
            count += c
    size = len(data)
    if n.min_items is not None and size < n.min_items:
        errs.append(_OErr(path, _OTHER, f"{_where(path)} should have at least {n.min_items} items", value=size))
    if n.max_items is not None and size > n.max_items:
        errs.append(_OErr(path, _MAX_ITEMS, f"{_where(path)} should have at most {n.max_items} items",
                          value=size, valid=n.max_items))
    if n.unique_items and any(_deep_equal(data[i], data[j]) for i in range(size) for j in range(i)):
        errs.append(_OErr(path, _OTHER, f"{_where(path)} shouldn't contain duplicates"))
    return errs, count


def _check_object(n: _Node, data: dict, path: str) -> tuple[list[_OErr], int]:
    num = len(data)
    if n.min_props is not None and num < n.min_props:
        return [_OErr(path, _OTHER, f"{_where(path)} should have at least {n.min_props} properties", value=num)], 0
    if n.max_props is not None and num > n.max_props:
        return [_OErr(path, _TOO_MANY_PROPS, f"{_where(path)} should have at most {n.max_props} properties",
                      value=num, valid=n.max_props)], 0
    errs: list[_OErr] = []
    count = 0
    if not n.additional_allows:
        for k in data:
            if k not in n.properties:
                errs.append(_OErr(path, _OTHER, f"{path}.{k} in {_IN} is a forbidden property", value=k))
    elif n.additional is not None:
        for k, v in data.items():
            if k not in n.properties:
                e, c = _validate(n.additional, v, f"{path}.{k}")  # kube-openapi: map keys as ".key"
                errs += e
                count += c
    for name, prop in n.properties.items():
        if name in data:
            e, c = _validate(prop, data[name], _join(path, name))
            errs += e
            count += c
    for k in n.required:
        if k not in data:
            errs.append(_OErr(f"{path}.{k}", _REQUIRED, f"{path}.{k} in {_IN} is required"))
    return errs, count


def _check_schema_props(n: _Node, data, path: str) -> tuple[list[_OErr], int]:
    """allOf/anyOf/oneOf/not (kube-openapi schemaPropsValidator); errors of the best failing branch are kept."""
    errs: list[_OErr] = []
    count = 1
    if n.any_of:
        best = first_ok = None
        ok = False
        for sub in n.any_of:
            r = _validate(sub, data, path)
            if not r[0]:
                best, ok = None, True
                first_ok = first_ok or r
                break
            if best is None or r[1] > best[1]:
                best = r
        if not ok:
            errs.append(_OErr(None, _OTHER, f"{go_quote(path)} must validate at least one schema (anyOf)"))
        chosen = best or first_ok
        if chosen is not None:
            errs += chosen[0]
            count += chosen[1]
    if n.one_of:
        best = first_ok = None
        valid = 0
        for sub in n.one_of:
            r = _validate(sub, data, path)
            if not r[0]:
                valid += 1
                best = None
                first_ok = first_ok or r
                continue
            if valid == 0 and (best is None or r[1] > best[1]):
                best = r
        if valid != 1:
            extra = "Found none valid" if valid == 0 else f"Found {valid} valid alternatives"
            errs.append(_OErr(None, _OTHER, f"{go_quote(path)} must validate one and only one schema (oneOf). {extra}"))
            if best is not None:
                errs += best[0]
                count += best[1]
        elif first_ok is not None:
            count += first_ok[1]
    if n.all_of:
        valid = 0
        for sub in n.all_of:
            e, c = _validate(sub, data, path)
            valid += not e
            errs += e
            count += c
        if valid != len(n.all_of):
            extra = ". None validated" if valid == 0 else ""
            errs.append(_OErr(None, _OTHER, f"{go_quote(path)} must validate all the schemas (allOf){extra}"))
    if n.not_ is not None and not _validate(n.not_, data, path)[0]:
        errs.append(_OErr(None, _OTHER, f"{go_quote(path)} must not validate the schema (not)"))
    return errs, count


# ---------------------------------------------------------------------------------------------
# embedded resources and list types (apiextensions schema/objectmeta and schema/listtype); these
# use apimachinery field paths: map keys as [key]


def _key(path: str, k: str) -> str:
    return f"{path}[{k}]"


_DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
_DNS1035_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")


def _validate_embedded(x, node: _Node | None, path: str) -> list[FieldError]:
    if node is None:
        return []
    out: list[FieldError] = []
    if isinstance(x, dict):
        if node.embedded and path:  # the root's own apiVersion/kind are checked by the server
            out += _embedded_type_meta(x, path)
        for k, v in x.items():
            prop = node.properties.get(k)
            if prop is not None:
                out += _validate_embedded(v, prop, _join(path, k))
            elif node.has_additional:
                out += _validate_embedded(v, node.additional, _key(path, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out += _validate_embedded(v, node.items, f"{path}[{i}]")
    return out


def _embedded_type_meta(x: dict, path: str) -> list[FieldError]:
    out: list[FieldError] = []
    av_path, kind_path = _join(path, "apiVersion"), _join(path, "kind")
    if "apiVersion" not in x:
        out.append(FieldError(av_path, "FieldValueRequired", "Required value"))
    if "kind" not in x:
        out.append(FieldError(kind_path, "FieldValueRequired", "Required value"))
    for k, v in x.items():
        if k == "apiVersion":
            if not isinstance(v, str):
                out.append(FieldError(av_path, "FieldValueInvalid", f"Invalid value: {bad_value(v)}: must be a string"))
            elif not v:
                out.append(FieldError(av_path, "FieldValueRequired", "Required value"))
            elif v.count("/") > 1:
                out.append(FieldError(av_path, "FieldValueInvalid",
                                      f"Invalid value: {go_quote(v)}: unexpected GroupVersion string: {v}"))
        elif k == "kind":
            if not isinstance(v, str):
                out.append(FieldError(kind_path, "FieldValueInvalid", f"Invalid value: {bad_value(v)}: must be a string"))
            elif not v:
                out.append(FieldError(kind_path, "FieldValueRequired", "Required value"))
            else:
                low = v.lower()
                problems = []
                if len(low.encode()) > 63:
                    problems.append("must be no more than 63 characters")
                if not _DNS1035_RE.match(low):
                    problems.append(_DNS1035_MSG)
                if problems:
                    out.append(FieldError(kind_path, "FieldValueInvalid", f"Invalid value: {go_quote(v)}: "
                                          "may have mixed case, but should otherwise match: " + ",".join(problems)))
    return out


def _listtype_object(path: str, node: _Node, obj: dict) -> list[FieldError]:
    out: list[FieldError] = []
    if node.additional is not None:
        for k, v in obj.items():
            out += _listtype_value(_key(path, k), node.additional, v)
    for k, v in obj.items():
        prop = node.properties.get(k)
        if prop is not None:
            out += _listtype_value(_join(path, k), prop, v)
    return out


def _listtype_value(path: str, node: _Node, v) -> list[FieldError]:
    if isinstance(v, list):
        out: list[FieldError] = []
        if node.list_type == "set":
            out += [_duplicate(f"{path}[{i}]", v[i]) for i in _non_unique(v)]
        elif node.list_type == "map":
            out += _listtype_map(path, node, v)
        if node.items is not None:
            for i, item in enumerate(v):
                out += _listtype_value(f"{path}[{i}]", node.items, item)
        return out
    if isinstance(v, dict):
        return _listtype_object(path, node, v)
    return []


def _duplicate(path: str, value) -> FieldError:
    return FieldError(path, "FieldValueDuplicate", f"Duplicate value: {bad_value(value)}")


_UNSPECIFIED = object()  # a list-map item without its key: equal only to other such items


def _uniq_key(x):
    if x is _UNSPECIFIED:
        return ("unspecified",)
    kind = _kind_of(x)
    if kind in ("object", "array"):
        return ("json", go_json(x))
    return (kind, x)  # Go map keys compare type and value: 1, 1.0 and true differ


def _non_unique(values: list) -> list[int]:
    """Indices of the second appearance of each repeated value (the apiserver reports only those)."""
    seen: dict = {}
    out = []
    for i, x in enumerate(values):
        key = _uniq_key(x)
        times = seen.get(key, 0)
        seen[key] = times + 1
        if times == 1:
            out.append(i)
    return out


def _listtype_map(path: str, node: _Node, v: list) -> list[FieldError]:
    for i, x in enumerate(v):
        if x is not None and not isinstance(x, dict):
            return [FieldError(f"{path}[{i}]", "FieldValueInvalid",
                               f"Invalid value: {bad_value(x)}: must be an object for an array of list-type map")]
    if len(v) <= 1:
        return []
    if len(node.list_map_keys) == 1:
        field = node.list_map_keys[0]
        keys = [_UNSPECIFIED if x is None or field not in x else x[field] for x in v]
        return [_duplicate(f"{path}[{i}]", {} if keys[i] is _UNSPECIFIED else {field: keys[i]})
                for i in _non_unique(keys)]
    tuples = [{} if x is None else {f: x[f] for f in node.list_map_keys if f in x} for x in v]
    return [_duplicate(f"{path}[{i}]", tuples[i]) for i in _non_unique(tuples)]


# ---------------------------------------------------------------------------------------------
# Go (RE2) patterns in Python

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}


@lru_cache(maxsize=4096)
def _compile_go_regex(pattern: str):
    """Compile an RE2 pattern for Python's re; None if it cannot be expressed (the check is then skipped).

    Differences handled: `$` and `\\z` mean end of text in Go (Python's `$` also matches before a final
    newline), \\d \\w \\s are ASCII, [[:alpha:]] POSIX classes, \\Q...\\E literals.
    """
    multiline = re.search(r"\(\?[a-zA-Z]*m", pattern) is not None
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                lit = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
                out.append(re.escape(lit))
                i = n if end < 0 else end + 2
                continue
            if nxt == "z" and not in_class:
                out.append("\\Z")
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2:end] if end > 0 else ""
                if name in _POSIX_CLASSES:
                    out.append(_POSIX_CLASSES[name])
                    i = end + 2
                    continue
            if c == "[":
                out.append("\\[")
                i += 1
                continue
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            # a leading ] (or ^]) is a literal in both dialects
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "$" and not multiline:
            out.append("\\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile("".join(out), re.ASCII)
    except re.error:
        return None


# ---------------------------------------------------------------------------------------------
# string formats (kube-openapi strfmt.Default, the ones CRD schemas keep)


def _re(p: str):
    return re.compile(p, re.ASCII)


_UUID = _re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\Z")
_UUID3 = _re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}\Z")
_UUID4 = _re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}\Z")
_UUID5 = _re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}\Z")
# govalidator's base64: standard alphabet, padded, and not empty
_BASE64 = _re(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})\Z")
_DATE = _re(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_TIME = _re(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))\Z")
_HEXCOLOR = _re(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z")
_RGB_PART = r"\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*"
_RGBCOLOR = _re(rf"^rgb\({_RGB_PART},{_RGB_PART},{_RGB_PART}\)\Z")
_SSN = _re(r"^\d{3}[- ]?\d{2}[- ]?\d{4}\Z")
_CREDITCARD = _re(r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}"
                  r"|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})\Z")
_SHORT_NAME = _re(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_LONG_NAME = _re(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
# go-openapi's hostname pattern; \x01 stands for any Unicode symbol, 'a' for any non-ASCII letter
_HOST_CH = "a-zA-Z0-9\x01"
_HOSTNAME = _re(rf"^([{_HOST_CH}]((-?[{_HOST_CH}]{{0,62}})?)|([{_HOST_CH}](([{_HOST_CH}-]{{0,61}}[{_HOST_CH}])?)(\.)){{1,}}"
                r"([a-zA-Z]){2,63})\Z")
_WS_MINUS = re.compile(r"[\s-]+")
_GO_DURATION = re.compile(r"(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+\Z")
_DURATION_PART = _re(r"(((?:-\s?)?\d+)\s*([A-Za-z\u00b5]+))")
_DURATION_UNITS = (("ns", "nano"), ("us", "\u00b5s", "micro"), ("ms", "milli"), ("s", "sec"), ("m", "min"),
                   ("h", "hr", "hour"), ("d", "day"), ("w", "wk", "week"))


def _is_date(s: str) -> bool:
    # Go time.Parse("2006-01-02"): fixed widths, real calendar days
    m = _DATE.match(s)
    if not m:
        return False
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= mo <= 12:
        return False
    return 1 <= d <= calendar.monthrange(y or 2000, mo)[1]


def _is_datetime(s: str) -> bool:
    if len(s) < 4:
        return False
    parts = s.lower().split("t")
    if len(parts) < 2 or not _is_date(parts[0]):
        return False
    m = _TIME.match(parts[1])
    return bool(m) and m.group(1) <= "23" and m.group(2) <= "59" and m.group(3) <= "59"


def _is_duration(s: str) -> bool:
    body = s[1:] if s[:1] in ("+", "-") else s
    if body == "0" or (body and _GO_DURATION.match(body)):
        return True  # time.ParseDuration
    ok = False
    for m in _DURATION_PART.finditer(s):  # the scala-like fallback: "3 days", "1 hour"
        unit = m.group(3).lower()
        for variants in _DURATION_UNITS:
            last = len(variants) - 1
            if any((i == last and unit.startswith(v)) or unit == v for i, v in enumerate(variants)):
                ok = True
    return ok


def _is_hostname(s: str) -> bool:
    mapped = []
    for ch in s:
        if ch.isascii():
            cat = unicodedata.category(ch)
            mapped.append("\x01" if cat[0] == "S" else ch)
        else:
            cat = unicodedata.category(ch)[0]
            mapped.append("a" if cat == "L" else "\x01" if cat == "S" else "\x02")
    if not _HOSTNAME.match("".join(mapped)):
        return False
    raw = s.encode()
    return len(raw) <= 255 and all(len(p) <= 63 for p in raw.split(b"."))


def _parse_ipv4_sloppy(s: str) -> bool:
    # k8s.io/utils/net ParseIPSloppy: Go's pre-1.17 parser, leading zeros allowed
    parts = s.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not p or not p.isascii() or not p.isdigit() or int(p) > 255:
            return False
    return True


def _parse_ipv6(s: str, sloppy: bool) -> bool:
    if "%" in s or not s.isascii():  # Go rejects zones
        return False
    if sloppy and "." in s:
        head, _, tail = s.rpartition(":")
        if not _parse_ipv4_sloppy(tail):
            return False
        s = f"{head}:{'.'.join(str(int(p)) for p in tail.split('.'))}"
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


def _is_ip_sloppy(s: str) -> bool:
    return _parse_ipv6(s, True) if ":" in s else _parse_ipv4_sloppy(s)


def _is_ipv4(s: str) -> bool:
    return _is_ip_sloppy(s) and "." in s


def _is_ipv6(s: str) -> bool:
    return ":" in s and _parse_ipv6(s, False)


def _is_cidr(s: str) -> bool:
    addr, sep, mask = s.partition("/")
    if not sep or not mask.isascii() or not mask.isdigit():
        return False
    if ":" in addr:
        bits = 128 if _parse_ipv6(addr, True) else -1
    else:
        bits = 32 if _parse_ipv4_sloppy(addr) else -1
    return 0 <= int(mask) <= bits


def _xtoi2(s: str, sep: str) -> bool:
    if len(s) > 2 and s[2] != sep:
        return False
    return len(s) >= 2 and all(c in "0123456789abcdefABCDEF" for c in s[:2])


def _is_mac(s: str) -> bool:
    # net.ParseMAC: 6, 8 or 20 octets, xx:xx / xx-xx / xxxx.xxxx
    if len(s) < 14 or not s.isascii():
        return False
    if s[2] in ":-":
        if (len(s) + 1) % 3:
            return False
        count = (len(s) + 1) // 3
        return count in (6, 8, 20) and all(_xtoi2(s[x * 3:], s[2]) for x in range(count))
    if s[4] == ".":
        if (len(s) + 1) % 5:
            return False
        count = 2 * (len(s) + 1) // 5
        return count in (6, 8, 20) and all(
            _xtoi2(s[x * 5:x * 5 + 2], "") and _xtoi2(s[x * 5 + 2:], s[4]) for x in range(count // 2))
    return False


def _is_isbn10(s: str) -> bool:
    s = _WS_MINUS.sub("", s)
    if not re.fullmatch(r"[0-9]{9}X|[0-9]{10}", s, re.ASCII):
        return False
    total = sum((i + 1) * int(s[i]) for i in range(9)) + 10 * (10 if s[9] == "X" else int(s[9]))
    return total % 11 == 0


def _is_isbn13(s: str) -> bool:
    s = _WS_MINUS.sub("", s)
    if not re.fullmatch(r"[0-9]{13}", s, re.ASCII):
        return False
    total = sum((1, 3)[i % 2] * int(s[i]) for i in range(12))
    return int(s[12]) - (10 - total % 10) % 10 == 0


def _is_creditcard(s: str) -> bool:
    digits = re.sub(r"[^0-9]+", "", s)
    if not _CREDITCARD.match(digits):
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            d = d % 10 + 1 if d >= 10 else d
        total += d
    return total % 10 == 0


def _is_uri(s: str) -> bool:
    # net/url.ParseRequestURI, in outline: no control characters, an absolute URI or an absolute path,
    # a well-formed host[:port] and valid %-escapes
    if not s or any(ord(c) < 0x20 or ord(c) == 0x7F for c in s):
        return False
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", s)
    if m:
        rest = s[m.end():]
    elif s[0] == ":" or (s != "*" and not s.startswith("/")):
        return False
    else:
        rest = s
    if m and not rest.startswith("/"):
        return True  # opaque, e.g. mailto:x
    path = rest.split("?", 1)[0]
    if m and path.startswith("//"):
        authority, slash, path = path[2:].partition("/")
        host = authority.rpartition("@")[2]
        if host.startswith("["):
            end = host.find("]")
            if end < 0 or (host[end + 1:] and not re.fullmatch(r":[0-9]*", host[end + 1:])):
                return False
        else:
            hostname, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
            if colon and not re.fullmatch(r"[0-9]*", port, re.ASCII):
                return False
            if re.search(r"[\s\"<>\\^`{|}]", hostname):
                return False
        if re.search(r"%(?![0-9A-Fa-f]{2})", authority):
            return False
    return not re.search(r"%(?![0-9A-Fa-f]{2})", path)


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\U0010ffff-]+"
_ADDR_SPEC = re.compile(rf'(?:{_ATEXT}(?:\.{_ATEXT})*|"(?:[^"\\\r\n]|\\.)*")@(?:{_ATEXT}(?:\.{_ATEXT})*|\[[^\[\]\\]*\])')


def _is_email(s: str) -> bool:
    # net/mail.ParseAddress, in outline: addr-spec, or a display name followed by <addr-spec>
    s = s.strip(" \t")
    if s.endswith(">") and "<" in s:
        name, _, addr = s[:-1].rpartition("<")
        if name and not re.fullmatch(r'(?:[^"<>()\[\]@,;:\\]+|"(?:[^"\\]|\\.)*"|\s)+', name):
            return False
        return bool(_ADDR_SPEC.fullmatch(addr.strip(" \t")))
    return bool(_ADDR_SPEC.fullmatch(s))


def _is_quantity(s: str) -> bool:
    """resource.ParseQuantity's parser: [sign] [digits] [. digits] [suffix]; suffix a SI/binary unit or an exponent."""
    if not s:
        return False
    end, pos = len(s), 1 if s[0] in "+-" else 0
    while pos < end and s[pos] == "0":
        pos += 1
    while pos < end and "0" <= s[pos] <= "9":
        pos += 1
    if pos < end and s[pos] == ".":
        pos += 1
        while pos < end and "0" <= s[pos] <= "9":
            pos += 1
    start = pos
    while pos < end and s[pos] in "eEinumkKMGTP":
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and "0" <= s[pos] <= "9":
        pos += 1
    if pos < end:
        return False
    suffix = s[start:]
    if suffix in _QUANTITY_SUFFIXES:
        return True
    return len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[-+]?[0-9]+", suffix[1:], re.ASCII) is not None


_QUANTITY_SUFFIXES = frozenset(("", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))


_FORMAT_CHECKS = {
    "uri": _is_uri,
    "email": _is_email,
    "hostname": _is_hostname,
    "ipv4": _is_ipv4,
    "ipv6": _is_ipv6,
    "cidr": _is_cidr,
    "mac": _is_mac,
    "uuid": lambda s: bool(_UUID.match(s)),
    "uuid3": lambda s: bool(_UUID3.match(s)),
    "uuid4": lambda s: bool(_UUID4.match(s)),
    "uuid5": lambda s: bool(_UUID5.match(s)),
    "isbn": lambda s: _is_isbn10(s) or _is_isbn13(s),
    "isbn10": _is_isbn10,
    "isbn13": _is_isbn13,
    "creditcard": _is_creditcard,
    "ssn": lambda s: len(s.encode()) == 11 and bool(_SSN.match(s)),
    "hexcolor": lambda s: bool(_HEXCOLOR.match(s)),
    "rgbcolor": lambda s: bool(_RGBCOLOR.match(s)),
    "byte": lambda s: bool(_BASE64.match(s)),
    "password": lambda s: True,
    "date": _is_date,
    "datetime": _is_datetime,
    "duration": _is_duration,
    "bsonobjectid": lambda s: re.fullmatch(r"[0-9a-fA-F]{24}", s) is not None,
    "quantity": _is_quantity,
    "k8sshortname": lambda s: len(s) <= 63 and bool(_SHORT_NAME.match(s)),
    "k8slongname": lambda s: len(s) <= 253 and bool(_LONG_NAME.match(s)),
}
