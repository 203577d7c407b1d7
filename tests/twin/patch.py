"""The twin's patch engine: applies a PATCH body to a live object the way kube-apiserver v1.32 does.

Four patch types: JSON merge patch (RFC 7386, as gopkg.in/evanphx/json-patch.v4 implements it), JSON
patch (RFC 6902, through the `jsonpatch` library), strategic merge patch (built-in kinds only, with the
directives kubectl sends) and a simplified server-side apply (no field ownership).

Errors carry the apiserver's status code, reason and message. The request-decoding messages are the
ones of the default fieldValidation=Warn path (what both kubectl and the Python client get); Go's
encoding/json and fmt formatting is reproduced where a message embeds it.
"""
from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
import jsonpointer
import yaml

from .goformat import go_float, go_quote, go_v

MERGE = "application/merge-patch+json"
JSON = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"

# The order the apiserver lists them in its 415 message (installer.go, customresource_handler.go).
_BUILTIN_PATCH_TYPES = (JSON, MERGE, STRATEGIC, APPLY)
_CUSTOM_PATCH_TYPES = (JSON, MERGE, APPLY)

_MAX_JSON_PATCH_OPS = 10000
_FIELD_MANAGER_MAX_BYTES = 128


class PatchError(Exception):
    """A patch the apiserver would refuse.

    code: 400/413/415/422, or 500 where the apiserver itself answers 500 (strategic merge patch errors
    that apimachinery does not classify, e.g. a missing merge key); reason: 'BadRequest' |
    'RequestEntityTooLarge' | 'UnsupportedMediaType' | 'Invalid' | '' (the apiserver's reason for those
    500s is StatusReasonUnknown, the empty string); message: the apiserver's text; details: the Status
    `details` the apiserver sends, or None when it sends none.
    """

    def __init__(self, code: int, reason: str, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details


def _bad_request(message: str) -> PatchError:
    return PatchError(400, "BadRequest", message)


def _server_error(message: str) -> PatchError:
    # A plain Go error reaching the handler: ErrorToAPIStatus makes it a 500 with an empty reason.
    return PatchError(500, "", message)


def apply_patch(content_type: str, live: dict | None, body: bytes, *, kind: str, strategic_ok: bool,
                field_manager: str | None = None, force: bool = False, api_version: str | None = None) -> dict:
    """Return the patched object (a new dict; `live` untouched).

    `live` is None only for APPLY (server-side apply creates). `strategic_ok` is True for built-in kinds,
    which accept strategic merge patch. `api_version` is the endpoint's group/version, which an apply
    body must match; when None it is taken from `live` (and not checked on create).
    Raise PatchError for bad bodies and unsupported types.
    """
    media = _media_type(content_type)
    accepted = _BUILTIN_PATCH_TYPES if strategic_ok else _CUSTOM_PATCH_TYPES
    if media not in accepted:
        raise PatchError(415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted))
    _validate_patch_options(media, field_manager, force)
    if media == APPLY:
        return _server_side_apply(live, body, kind, api_version)
    if live is None:
        raise ValueError("only server-side apply patches a missing object")
    if media == MERGE:
        return _json_merge_patch(live, body)
    if media == JSON:
        return _json_patch(live, body)
    return _strategic_merge_patch(live, body, kind)


def _media_type(content_type: str | None) -> str:
    # Like the handler: cut at the first ';' (a charset), nothing else (no trimming, no lowercasing).
    content_type = content_type or ""
    cut = content_type.find(";")
    return content_type[:cut] if cut > 0 else content_type


# ------------------------------------------------------------------------------------------------
# PatchOptions validation (ValidatePatchOptions): 422 before the body is even decoded.


def _validate_patch_options(media: str, field_manager: str | None, force: bool) -> None:
    errs: list[tuple[str, str, str]] = []  # (cause type, field, body)
    if media != APPLY:
        # The real check is "force was sent at all"; a bool only lets us see force=true.
        if force:
            errs.append(("FieldValueForbidden", "force", "Forbidden: may not be specified for non-apply patch"))
    elif not field_manager:
        errs.append(("FieldValueRequired", "fieldManager", "Required value: is required for apply patch"))
    manager = field_manager or ""
    if len(manager.encode()) > _FIELD_MANAGER_MAX_BYTES:
        errs.append(("FieldValueTooLong", "fieldManager", f"Too long: may not be more than {_FIELD_MANAGER_MAX_BYTES} bytes"))
    offset = 0
    for char in manager:
        if not char.isprintable():
            errs.append(("FieldValueInvalid", "fieldManager",
                         f"Invalid value: {go_quote(manager)}: invalid character U+{ord(char):04X} (at position {offset})"))
        offset += len(char.encode())
    if not errs:
        return
    texts: list[str] = []
    for _, field, text in errs:
        line = f"{field}: {text}"
        if line not in texts:  # ToAggregate drops duplicates
            texts.append(line)
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = {"group": "meta.k8s.io", "kind": "PatchOptions",
               "causes": [{"reason": cause, "message": text, "field": field} for cause, field, text in errs]}
    raise PatchError(422, "Invalid", f'PatchOptions.meta.k8s.io "" is invalid: {joined}', details=details)


# ------------------------------------------------------------------------------------------------
# JSON merge patch


def _json_merge_patch(live: dict, body: bytes) -> dict:
    patch = _decode_json(body, "error decoding patch: ")
    if patch is None:
        raise _bad_request("Invalid JSON Patch")  # evanphx's ErrBadJSONPatch for a null document
    if not isinstance(patch, dict):
        raise _bad_request(f"error decoding patch: json: cannot unmarshal {_json_kind(patch)} "
                           "into Go value of type map[string]interface {}")
    return _merge_docs(copy.deepcopy(live), patch)


def _merge_docs(doc: dict, patch: dict) -> dict:
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
            continue
        current = doc.get(key)
        if current is None:
            doc[key] = _prune_nulls(copy.deepcopy(value))
        elif isinstance(current, dict):
            # evanphx returns a non-object patch value over an object verbatim, nulls and all.
            doc[key] = _merge_docs(current, value) if isinstance(value, dict) else copy.deepcopy(value)
        else:
            doc[key] = _prune_nulls(copy.deepcopy(value))
    return doc


def _prune_nulls(value: Any) -> Any:
    # Null members go from objects at any depth; null array elements stay (evanphx pruneAryNulls).
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_nulls(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------
# JSON patch


_OP_FIELDS = ("op", "path", "from")  # the string fields of the handler's jsonPatchOp struct


def _json_patch(live: dict, body: bytes) -> dict:
    ops = _decode_json(body, "error decoding patch: ")
    _check_json_patch_ops(ops)
    if not ops:
        return copy.deepcopy(live)
    if len(ops) > _MAX_JSON_PATCH_OPS:
        raise PatchError(413, "RequestEntityTooLarge",
                         f"Request entity too large: The allowed maximum operations in a JSON patch is {_MAX_JSON_PATCH_OPS}, "
                         f"got {len(ops)}")
    try:
        result = jsonpatch.JsonPatch(ops).apply(live, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, KeyError, IndexError, TypeError,
            ValueError, AttributeError):
        # The apiserver wraps the apply error in NewGenericServerResponse(422, ...), which keeps
        # only its canned text: the json-patch library's own message never reaches the client.
        raise PatchError(422, "Invalid", "the server rejected our request due to an error in our request",
                         details={}) from None
    if not isinstance(result, dict):
        # Decoding the result into an object fails first on the apiVersion/kind probe.
        raise _invalid_patch_result(_go_json(result),
                                    f"couldn't get version/kind; json parse error: json: cannot unmarshal {_json_kind(result)} "
                                    'into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
                                    'Kind string "json:\\"kind,omitempty\\"" }')
    return result


def _check_json_patch_ops(ops: Any) -> None:
    # What the handler's strict decode into []jsonPatchOp rejects, with encoding/json's messages.
    prefix = "error decoding patch: json: cannot unmarshal "
    if ops is None:
        return
    if not isinstance(ops, list):
        raise _bad_request(f"{prefix}{_json_kind(ops)} into Go value of type []handlers.jsonPatchOp")
    for op in ops:
        if op is None:
            continue
        if not isinstance(op, dict):
            raise _bad_request(f"{prefix}{_json_kind(op)} into Go value of type handlers.jsonPatchOp")
        for key, value in op.items():
            field = key.lower()  # encoding/json matches struct fields case-insensitively
            if field in _OP_FIELDS and value is not None and not isinstance(value, str):
                raise _bad_request(f"{prefix}{_json_kind(value)} into Go struct field jsonPatchOp.{field} of type string")


def _invalid_patch_result(value_text: str, detail: str) -> PatchError:
    body = f"Invalid value: {go_quote(value_text)}: {detail}"
    return PatchError(422, "Invalid", f' "" is invalid: patch: {body}',
                      details={"causes": [{"reason": "FieldValueInvalid", "message": body, "field": "patch"}]})


# ------------------------------------------------------------------------------------------------
# Strategic merge patch
#
# The struct tags (patchStrategy:"merge", patchMergeKey) of k8s.io/api v0.32 for the fields of the
# built-in kinds the twin serves. A listed path merges its list: by the given key for lists of
# objects, as a set (None) for lists of scalars. Every other list is replaced and every other object
# merged. "[]" in a path steps into list items.
_MERGE_LISTS_ANY_KIND: dict[tuple[str, ...], str | None] = {
    ("metadata", "finalizers"): None,
    ("metadata", "ownerReferences"): "uid",
}
_MERGE_LISTS: dict[str, dict[tuple[str, ...], str | None]] = {
    "Namespace": {("status", "conditions"): "type"},
    "Node": {
        ("spec", "podCIDRs"): None,
        ("status", "conditions"): "type",
        ("status", "addresses"): "type",
        # spec.taints, status.images, status.volumesAttached: no strategy, replaced.
    },
    "Service": {("spec", "ports"): "port", ("status", "conditions"): "type"},
    "PersistentVolumeClaim": {("status", "conditions"): "type"},
    "ConfigMap": {},
    "Secret": {},
}

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
_SET_ELEMENT_ORDER = "$setElementOrder"
_NOT_MERGED = object()


def _strategic_merge_patch(live: dict, body: bytes, kind: str) -> dict:
    patch = _decode_json(body, "")
    if patch is None:
        return copy.deepcopy(live)  # null decodes to a nil map: nothing to merge
    if not isinstance(patch, dict):
        raise _bad_request(f"json: cannot unmarshal {_json_kind(patch)} into Go value of type map[string]interface {{}}")
    table = dict(_MERGE_LISTS_ANY_KIND)
    table.update(_MERGE_LISTS.get(kind, {}))
    return _Strategic(table).merge_map(copy.deepcopy(live), patch, ())


class _Strategic:
    """apimachinery's strategicpatch.mergeMap / mergeSlice semantics, with the server-side options
    (MergeParallelList, IgnoreUnmatchedNulls). Works in place on copies of the live object and patch."""

    def __init__(self, table: dict[tuple[str, ...], str | None]):
        self.table = table

    def merge_key(self, path: tuple[str, ...]) -> Any:
        return self.table.get(path, _NOT_MERGED)

    # -- maps --------------------------------------------------------------------------------

    def merge_map(self, original: dict | None, patch: dict, path: tuple[str, ...]) -> dict:
        if _DIRECTIVE in patch:
            directive = patch[_DIRECTIVE]
            if directive == "replace":
                rest = {k: v for k, v in patch.items() if k != _DIRECTIVE}
                return self.merge_map({}, rest, path)  # what replaces must not carry directives
            if directive == "delete":
                return {}
            # "$patch: merge" included: apimachinery only knows replace and delete on maps.
            raise _server_error(f"unknown patch type: {_go_s(directive)} in map: {go_v(patch)}")
        if original is None:
            original = {}
        self._retain_keys(original, patch)
        self._set_element_order(original, patch, path)
        for key, value in list(patch.items()):
            is_delete_list = key.startswith(_DELETE_FROM_PRIMITIVE_LIST)
            if is_delete_list:
                key = _directive_field(key, _DELETE_FROM_PRIMITIVE_LIST)
            if value is None:
                original.pop(key, None)
                continue
            if key not in original or _go_type(original[key]) != _go_type(value):
                if not is_delete_list:  # deleting from a list that is not there is a no-op
                    original[key] = self.clean(value, path + (key,))
                continue
            current = original[key]
            if isinstance(current, dict):
                original[key] = self.merge_map(current, value, path + (key,))
            elif isinstance(current, list):
                merge_key = self.merge_key(path + (key,))
                if merge_key is not _NOT_MERGED or is_delete_list:
                    original[key] = self.merge_list(current, value, path + (key,),
                                                    None if merge_key is _NOT_MERGED else merge_key, is_delete_list)
                else:
                    original[key] = self.clean(value, path + (key,))
            else:
                original[key] = value
        return original

    def _retain_keys(self, original: dict, patch: dict) -> None:
        if _RETAIN_KEYS not in patch:
            return
        keep = patch.pop(_RETAIN_KEYS)
        if not isinstance(keep, list):
            raise _bad_request("invalid patch format of retainKeys")
        for key, value in patch.items():
            if value is None or key.startswith((_DELETE_FROM_PRIMITIVE_LIST, _SET_ELEMENT_ORDER)):
                continue
            if key not in keep:
                raise _bad_request("invalid patch format of retainKeys")
        for key in [k for k in original if k not in keep]:
            del original[key]

    def _set_element_order(self, original: dict, patch: dict, path: tuple[str, ...]) -> None:
        for directive_key in [k for k in patch if k.startswith(_SET_ELEMENT_ORDER)]:
            order = patch.pop(directive_key)
            if not isinstance(order, list):
                raise _server_error(f"expected a []interface {{}}, but received a {_go_type_name(order)}")
            key = _directive_field(directive_key, _SET_ELEMENT_ORDER)
            # An empty list is what a typed object omits: treat it as absent.
            found_original = original.get(key) not in (None, [])
            found_patch = key in patch
            original_list = original.get(key) if found_original else []
            patch_list = patch.get(key) if found_patch else []
            if found_original and not isinstance(original_list, list):
                raise _server_error(f"expected a []interface {{}}, but received a {_go_type_name(original_list)}")
            if found_patch and not isinstance(patch_list, list):
                raise _server_error(f"expected a []interface {{}}, but received a {_go_type_name(patch_list)}")
            merge_key = self.merge_key(path + (key,))
            if merge_key is _NOT_MERGED:
                # Only lists with a merge strategy carry an order (kubectl never sends one for others).
                if found_patch:
                    original[key] = self.clean(patch.pop(key), path + (key,))
                continue
            _validate_order(patch_list, order, merge_key)
            if found_original and not found_patch:
                merged = original_list
            elif found_patch and not found_original:
                merged = self.clean(patch_list, path + (key,))
            elif found_original and found_patch:
                merged = self.merge_list(original_list, patch_list, path + (key,), merge_key, False)
            else:
                continue
            maps = _slice_element_type(original_list, patch_list) is dict
            patch_items, server_only = _partition(merged, order, merge_key if maps else None)
            original[key] = _normalize_order(patch_items, server_only, order, original_list, merge_key if maps else None)
            patch.pop(key, None)

    # -- lists -------------------------------------------------------------------------------

    def merge_list(self, original: list, patch: list, path: tuple[str, ...], merge_key: str | None,
                   is_delete_list: bool) -> list:
        if not original and not patch:
            return original
        if _slice_element_type(original, patch) is not dict:
            if is_delete_list:
                return [item for item in original if not any(_go_equal(item, gone) for gone in patch)]
            merged = _dedup(original + patch)
            patch_items, server_only = _partition(merged, patch, None)
            return _normalize_order(patch_items, server_only, patch, original, None)
        if merge_key is None:
            raise _server_error(f"cannot merge lists without merge key for {path[-1] if path else 'list'}")
        original, patch = _special_elements(original, patch, merge_key)
        merged = list(original)
        for item in patch:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            index = _find_by_key(merged, merge_key, item[merge_key])
            if index is None:
                merged.append(self.clean(item, path + ("[]",)))
            else:
                merged[index] = self.merge_map(merged[index], item, path + ("[]",))
        patch_items, server_only = _partition(merged, patch, merge_key)
        return _normalize_order(patch_items, server_only, patch, original, merge_key)

    # -- values new to the object ------------------------------------------------------------

    def clean(self, value: Any, path: tuple[str, ...]) -> Any:
        """A patch value taken as is (no live counterpart): nulls dropped, directives applied to nothing."""
        if isinstance(value, dict):
            return self.merge_map({}, value, path)
        if isinstance(value, list):
            merged = self.merge_key(path) is not _NOT_MERGED
            out = []
            for item in value:
                if isinstance(item, dict):
                    if merged and _DIRECTIVE in item:
                        continue  # a delete or replace marker has nothing to act on
                    item = self.merge_map({}, item, path + ("[]",))
                out.append(item)
            return out
        return value


def _special_elements(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    """Apply the `$patch` items of a merging list; return (original, patch without them)."""
    rest = []
    replace = False
    for item in patch:
        if _DIRECTIVE not in item:
            rest.append(item)
            continue
        directive = item[_DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            original = [o for o in original if not (merge_key in o and _go_equal(o[merge_key], item[merge_key]))]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _server_error("merging lists cannot yet be specified in the patch")
        else:
            raise _server_error(f"unknown patch type: {_go_s(directive)} in map: {go_v(item)}")
    if replace:
        return rest, []
    return original, rest


def _directive_field(key: str, prefix: str) -> str:
    head, sep, field = key.partition("/")
    if not sep or head != prefix:
        if prefix == _SET_ELEMENT_ORDER:
            raise _bad_request("invalid patch format of setElementOrder list")
        raise _bad_request("invalid patch format of primitive list")
    return field


def _validate_order(patch_list: list, order: list, merge_key: str | None) -> None:
    """The patch list must be a subsequence of the $setElementOrder list (deletions aside)."""
    if not order or not patch_list:
        return
    items = patch_list
    if merge_key is not None:
        for item in patch_list:
            if not isinstance(item, dict):
                raise _server_error(f"expected a map[string]interface {{}}, but received a {_go_type_name(item)}")
        items = [item for item in patch_list if item.get(_DIRECTIVE) != "delete"]
    at_patch = at_order = 0
    while at_patch < len(items) and at_order < len(order):
        item = items[at_patch]
        if isinstance(item, dict) and _DIRECTIVE in item:
            at_patch += 1
            continue
        if _merge_key_equal(item, order[at_order], merge_key):
            at_patch += 1
        at_order += 1
    if at_patch < len(items) and at_order >= len(order):
        raise _server_error(f"The order in patch list:\n{go_v(patch_list)}\n doesn't match {_SET_ELEMENT_ORDER} list:\n"
                            f"{go_v(order)}\n")


def _merge_key_equal(left: Any, right: Any, merge_key: str | None) -> bool:
    if merge_key is None:
        return _go_equal(left, right)
    for side in (left, right):
        if not isinstance(side, dict):
            raise _server_error(f"expected a map[string]interface {{}}, but received a {_go_type_name(side)}")
        if merge_key not in side:
            raise _no_merge_key(side, merge_key)
    return _go_equal(left[merge_key], right[merge_key])


def _slice_element_type(*lists: list) -> type | None:
    first: Any = _NOT_MERGED
    for items in lists:
        for item in items:
            kind = _go_type(item)
            if first is _NOT_MERGED:
                if kind is list:
                    raise PatchError(422, "Invalid", "the server rejected our request due to an error in our request",
                                     details={})  # ErrNoListOfLists goes through NewGenericServerResponse(422)
                first = kind
            elif kind is not first:
                raise _server_error("list element types are not identical: " + go_v([list(x) for x in lists]))
    if first is _NOT_MERGED:
        raise _server_error("no elements in any of the given slices")
    return first


def _find_by_key(items: list, merge_key: str, value: Any) -> int | None:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _server_error(f"value for key {index} is not a map.")
        if merge_key in item and _go_equal(item[merge_key], value):
            return index
    return None


def _partition(merged: list, by: list, merge_key: str | None) -> tuple[list, list]:
    """Split `merged` into the items present in `by` and the server-only ones."""
    in_patch, server_only = [], []
    for item in merged:
        if merge_key is None:
            found = any(_go_equal(item, other) for other in by)
        else:
            if not isinstance(item, dict):
                raise _server_error(f"expected a map[string]interface {{}}, but received a {_go_type_name(item)}")
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            found = _find_by_key(by, merge_key, item[merge_key]) is not None
        (in_patch if found else server_only).append(item)
    return in_patch, server_only


def _normalize_order(patch_items: list, server_only: list, patch_order: list, server_order: list,
                     merge_key: str | None) -> list:
    """Sort patch items by the patch's order and server-only items by the live order, then interleave
    them by the live order. An item new to the list has no live position, so it goes before the
    server-only item it is compared with (upstream behaviour: a lone new item lands first)."""
    if merge_key is not None:
        for items in (patch_items, patch_order, server_only, server_order):
            for item in items:
                if not isinstance(item, dict):
                    raise _server_error(f"expected a map[string]interface {{}}, but received a {_go_type_name(item)}")
                if merge_key not in item:
                    raise _no_merge_key(item, merge_key)

    def position(order: list, item: Any) -> int:
        probe = item.get(merge_key) if merge_key is not None else item
        for index, candidate in enumerate(order):
            if _go_equal(candidate.get(merge_key) if merge_key is not None else candidate, probe):
                return index
        return -1

    def by_order(items: list, order: list) -> list:
        return sorted(items, key=lambda item: position(order, item) if position(order, item) >= 0 else len(order))

    left, right = by_order(server_only, server_order), by_order(patch_items, patch_order)
    out, i, j = [], 0, 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
        elif i >= len(left):
            out.append(right[j])
            j += 1
        else:
            li, ri = position(server_order, left[i]), position(server_order, right[j])
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _dedup(items: list) -> list:
    out: list = []
    for item in items:
        if not any(_go_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _no_merge_key(item: dict, merge_key: str) -> PatchError:
    return _server_error(f"map: {go_v(item)} does not contain declared merge key: {merge_key}")


# ------------------------------------------------------------------------------------------------
# Server-side apply, simplified: no managedFields, no conflicts, lists replaced.


class _YAMLLoader(yaml.SafeLoader):
    """YAML 1.1 like go-yaml, except that timestamps stay strings (sigs.k8s.io/yaml keeps them as text)."""


_YAMLLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# PyYAML's wording where go-yaml says the same thing differently.
_YAML_PROBLEMS = {
    "mapping values are not allowed here": "mapping values are not allowed in this context",
}


def _server_side_apply(live: dict | None, body: bytes, kind: str, api_version: str | None) -> dict:
    applied = _decode_yaml(body)
    expected_version = api_version if api_version is not None else (live or {}).get("apiVersion")
    got_version = applied.get("apiVersion") if isinstance(applied.get("apiVersion"), str) else ""
    got_kind = applied.get("kind") if isinstance(applied.get("kind"), str) else ""
    version_ok = expected_version is None or _group_version(got_version) == _group_version(expected_version)
    if not version_ok or got_kind != kind:
        group, version = _group_version(got_version)
        raise _bad_request(f"invalid object type: {group}/{version}, Kind={got_kind}")
    metadata = applied.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("managedFields"), list):
        raise _bad_request("metadata.managedFields must be nil")
    if live is None:
        return _apply_into({}, applied)
    return _apply_into(copy.deepcopy(live), applied)


def _apply_into(target: dict, applied: dict) -> dict:
    # Objects merge field by field; lists and scalars replace; null removes (as if no longer applied).
    for key, value in applied.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _apply_into(target[key], value)
        else:
            target[key] = _prune_nulls(copy.deepcopy(value))
    return target


def _decode_yaml(body: bytes) -> dict:
    try:
        value = yaml.load(body.decode("utf-8", errors="replace"), Loader=_YAMLLoader)
    except yaml.MarkedYAMLError as e:
        problem = _YAML_PROBLEMS.get(e.problem or "", e.problem or str(e))
        line = (e.problem_mark.line + 1) if e.problem_mark is not None else 1
        raise _bad_request(f"error decoding YAML: error converting YAML to JSON: yaml: line {line}: {problem}") from None
    except yaml.YAMLError as e:
        raise _bad_request(f"error decoding YAML: error converting YAML to JSON: yaml: {e}") from None
    if value is None:
        return {}
    value = _yaml_to_json(value)
    if not isinstance(value, dict):
        raise _bad_request("error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
                           f"{_json_kind(value)} into Go value of type map[string]interface {{}}")
    return value


def _yaml_to_json(value: Any) -> Any:
    # sigs.k8s.io/yaml turns YAML into JSON first: every mapping key becomes a string.
    if isinstance(value, dict):
        return {_yaml_key(k): _yaml_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_to_json(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _yaml_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return go_float(key)
    return str(key)


def _group_version(api_version: str) -> tuple[str, str]:
    if "/" not in api_version:
        return "", api_version
    group, _, version = api_version.partition("/")
    return group, version


# ------------------------------------------------------------------------------------------------
# JSON decoding with encoding/json's syntax error messages.


def _decode_json(body: bytes, prefix: str) -> Any:
    try:
        _GoJSONScanner(body).check()
    except _GoJSONSyntaxError as e:
        raise _bad_request(f"{prefix}{e}") from None
    return json.loads(body.decode("utf-8", errors="replace"))


class _GoJSONSyntaxError(Exception):
    pass


class _GoJSONScanner:
    """Validates JSON the way encoding/json's checkValid does, failing with the same messages."""

    _WHITESPACE = b" \t\r\n"

    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    def check(self) -> None:
        self.value()
        self.skip_ws()
        if self.at < len(self.data):
            self.fail("after top-level value")

    def fail(self, context: str) -> None:
        if self.at >= len(self.data):
            raise _GoJSONSyntaxError("unexpected end of JSON input")
        raise _GoJSONSyntaxError(f"invalid character {_go_quote_char(self.data[self.at])} {context}")

    def peek(self) -> int | None:
        return self.data[self.at] if self.at < len(self.data) else None

    def skip_ws(self) -> None:
        while self.at < len(self.data) and self.data[self.at] in self._WHITESPACE:
            self.at += 1

    def value(self) -> None:
        self.skip_ws()
        c = self.peek()
        if c == ord("{"):
            self.object()
        elif c == ord("["):
            self.array()
        elif c == ord('"'):
            self.string()
        elif c == ord("-") or (c is not None and ord("0") <= c <= ord("9")):
            self.number()
        elif c == ord("t"):
            self.literal(b"true")
        elif c == ord("f"):
            self.literal(b"false")
        elif c == ord("n"):
            self.literal(b"null")
        else:
            self.fail("looking for beginning of value")

    def object(self) -> None:
        if self.opens_empty("}"):
            return
        while True:
            if self.peek() != ord('"'):
                self.fail("looking for beginning of object key string")
            self.string()
            self.skip_ws()
            if self.peek() != ord(":"):
                self.fail("after object key")
            self.at += 1
            self.value()
            if not self.more("}", "after object key:value pair"):
                return

    def array(self) -> None:
        if self.opens_empty("]"):
            return
        while True:
            self.value()  # skips the white space after a comma itself
            if not self.more("]", "after array element"):
                return

    def opens_empty(self, close: str) -> bool:
        """Step over an opening bracket: True when the container closes at once."""
        self.at += 1
        self.skip_ws()
        if self.peek() == ord(close):
            self.at += 1
            return True
        return False

    def more(self, close: str, context: str) -> bool:
        """After an element: True past a comma (another element follows), False past `close`."""
        self.skip_ws()
        c = self.peek()
        if c == ord(","):
            self.at += 1
            self.skip_ws()
            return True
        if c == ord(close):
            self.at += 1
            return False
        self.fail(context)

    def string(self) -> None:
        self.at += 1
        while True:
            c = self.peek()
            if c is None:
                self.fail("in string literal")
            elif c == ord('"'):
                self.at += 1
                return
            elif c == ord("\\"):
                self.at += 1
                c = self.peek()
                if c is not None and c in b'"\\/bfnrt':
                    self.at += 1
                elif c == ord("u"):
                    self.at += 1
                    for _ in range(4):
                        c = self.peek()
                        if c is None or c not in b"0123456789abcdefABCDEF":
                            self.fail("in \\u hexadecimal character escape")
                        self.at += 1
                else:
                    self.fail("in string escape code")
            elif c < 0x20:
                self.fail("in string literal")
            else:
                self.at += 1

    def digits(self) -> None:
        while (c := self.peek()) is not None and ord("0") <= c <= ord("9"):
            self.at += 1

    def number(self) -> None:
        if self.peek() == ord("-"):
            self.at += 1
            c = self.peek()
            if c is None or not ord("0") <= c <= ord("9"):
                self.fail("in numeric literal")
        if self.peek() == ord("0"):
            self.at += 1
        else:
            self.digits()
        if self.peek() == ord("."):
            self.at += 1
            c = self.peek()
            if c is None or not ord("0") <= c <= ord("9"):
                self.fail("after decimal point in numeric literal")
            self.digits()
        if self.peek() in (ord("e"), ord("E")):
            self.at += 1
            if self.peek() in (ord("+"), ord("-")):
                self.at += 1
            c = self.peek()
            if c is None or not ord("0") <= c <= ord("9"):
                self.fail("in exponent of numeric literal")
            self.digits()

    def literal(self, word: bytes) -> None:
        for expected in word:
            if self.peek() != expected:
                self.fail(f"in literal {word.decode()} (expecting {_go_quote_char(expected)})")
            self.at += 1


# ------------------------------------------------------------------------------------------------
# Go formatting, for messages that embed Go values.


_JSON_KINDS = {dict: "object", list: "array", str: "string", bool: "bool"}


def _json_kind(value: Any) -> str:
    """The JSON kind encoding/json names in an UnmarshalTypeError (decoded values: plain types)."""
    return _JSON_KINDS.get(type(value), "number")


def _go_type(value: Any) -> type | None:
    return None if value is None else type(value)


def _go_type_name(value: Any) -> str:
    """reflect.TypeOf(value) printed with %s."""
    names = {dict: "map[string]interface {}", list: "[]interface {}", str: "string", bool: "bool", int: "int64",
             float: "float64"}
    return names.get(type(value), "%!s(<nil>)")


def _go_equal(left: Any, right: Any) -> bool:
    # Go compares interface values by dynamic type, then value: int64(1) != float64(1).
    return type(left) is type(right) and left == right


def _go_s(value: Any) -> str:
    """fmt's %s: strings as they are, anything else flagged the way fmt flags a wrong verb."""
    if isinstance(value, str):
        return value
    if value is None:
        return "%!s(<nil>)"
    return f"%!s({_go_type_name(value)}={go_v(value)})"


def _go_quote_char(byte: int) -> str:
    """encoding/json's quoteChar: a byte of the input shown in a syntax error."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    return "'" + go_quote(chr(byte))[1:-1] + "'"


def _go_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
