"""ObjectMeta validation, the part of the apiserver that CRD schemas do not express.

Messages follow apimachinery's validation helpers (IsDNS1123Subdomain, IsQualifiedName,
IsValidLabelValue) so a client sees the same text a real cluster would give it.
"""
from __future__ import annotations

import re

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                 "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
                 "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
QUALIFIED_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                 "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                 "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")

# name rules per kind (the apiserver's ValidateNameFunc); everything else is a DNS-1123 subdomain
NAME_RULES = {("", "Namespace"): "label", ("", "Service"): "dns1035",
              **{("rbac.authorization.k8s.io", k): "path" for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")}}
MAX_ANNOTATIONS_BYTES = 256 * 1024

Cause = tuple[str, str, str]  # (reason, field, message)


def _quote(value) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def name_errors(value: str, rule: str, field: str = "metadata.name") -> list[Cause]:
    out: list[Cause] = []
    if rule == "label":
        if len(value) > 63:
            out.append(("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: must be no more than 63 characters"))
        if not DNS1123_LABEL.match(value):
            out.append(("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: {LABEL_MSG}"))
    elif rule == "path":  # ValidatePathSegmentName (RBAC names such as "harvesterhci.io:csi-driver")
        if value in (".", ".."):
            out.append(("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: may not be '{value}'"))
        out += [("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: may not contain '{ch}'")
                for ch in "/%" if ch in value]
    elif rule == "dns1035":
        if len(value) > 63:
            out.append(("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: must be no more than 63 characters"))
        if not DNS1035_LABEL.match(value):
            out.append(("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: {DNS1035_MSG}"))
    else:
        if len(value) > 253:
            out.append(("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: must be no more than 253 characters"))
        if not DNS1123_SUBDOMAIN.match(value):
            out.append(("FieldValueInvalid", field, f"Invalid value: {_quote(value)}: {SUBDOMAIN_MSG}"))
    return out


def qualified_name_errors(key: str, field: str) -> list[Cause]:
    """Label and annotation keys: optional DNS-subdomain prefix and a name part (IsQualifiedName)."""
    bad = f"Invalid value: {_quote(key)}: "
    prefix, _, name = key.rpartition("/")
    out: list[Cause] = []
    if key.count("/") > 1:
        return [("FieldValueInvalid", field, bad + "a qualified name must consist of alphanumeric characters, '-', '_' "
                 "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                 "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
                 "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]
    if "/" in key:
        if not prefix:
            out.append(("FieldValueInvalid", field, bad + "prefix part must be non-empty"))
        elif len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix):
            out.append(("FieldValueInvalid", field, bad + "prefix part " + SUBDOMAIN_MSG))
    if not name:
        out.append(("FieldValueInvalid", field, bad + "name part must be non-empty"))
    elif len(name) > 63:
        out.append(("FieldValueInvalid", field, bad + "name part must be no more than 63 characters"))
    elif not QUALIFIED_NAME.match(name):
        out.append(("FieldValueInvalid", field, bad + QUALIFIED_MSG))
    return out


def validate_object_meta(meta: dict, *, group: str, kind: str, namespaced: bool) -> list[Cause]:
    out: list[Cause] = []
    name = meta.get("name")
    if not name and not meta.get("generateName"):
        out.append(("FieldValueRequired", "metadata.name", "Required value: name or generateName is required"))
    elif name:
        out += name_errors(name, NAME_RULES.get((group, kind), "subdomain"))
    if namespaced and not meta.get("namespace"):
        out.append(("FieldValueRequired", "metadata.namespace", "Required value"))
    if not namespaced and meta.get("namespace"):
        out.append(("FieldValueForbidden", "metadata.namespace", "Forbidden: not allowed on this type"))
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        return out + [("FieldValueTypeInvalid", "metadata.labels", "Invalid value: must be a map of strings")]
    for k, v in labels.items():
        out += qualified_name_errors(k, "metadata.labels")
        if not isinstance(v, str):
            out.append(("FieldValueTypeInvalid", f"metadata.labels[{k}]", f"Invalid value: {v!r}: must be a string"))
        elif len(v) > 63:
            out.append(("FieldValueInvalid", "metadata.labels",
                        f"Invalid value: {_quote(v)}: must be no more than 63 characters"))
        elif not LABEL_VALUE.match(v):
            out.append(("FieldValueInvalid", "metadata.labels", f"Invalid value: {_quote(v)}: {LABEL_VALUE_MSG}"))
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, dict):
        return out + [("FieldValueTypeInvalid", "metadata.annotations", "Invalid value: must be a map of strings")]
    total = 0
    for k, v in annotations.items():
        out += [(r, "metadata.annotations", m) for r, _, m in qualified_name_errors(k, "metadata.annotations")]
        if not isinstance(v, str):
            out.append(("FieldValueTypeInvalid", f"metadata.annotations[{k}]", f"Invalid value: {v!r}: must be a string"))
            continue
        total += len(k) + len(v)
    if total > MAX_ANNOTATIONS_BYTES:
        out.append(("FieldValueTooLong", "metadata.annotations",
                    f"Too long: may not be more than {MAX_ANNOTATIONS_BYTES} bytes"))
    for i, f in enumerate(meta.get("finalizers") or []):
        if not isinstance(f, str):
            out.append(("FieldValueTypeInvalid", f"metadata.finalizers[{i}]", "Invalid value: must be a string"))
        else:
            out += [(r, f"metadata.finalizers[{i}]", m) for r, _, m in qualified_name_errors(f, "")]
    return out
