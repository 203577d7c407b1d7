"""Reading the Kubernetes protobuf encoding for the few core kinds clients send that way.

kubectl's typed commands (`kubectl create namespace|secret|configmap|serviceaccount`) post
`application/vnd.kubernetes.protobuf`: the magic `k8s\\0`, then a runtime.Unknown envelope whose
`raw` field holds the object. Field numbers below are those of k8s.io/api's generated.proto.
Anything else is refused with the 415 the apiserver gives for an unknown media type.
"""
from __future__ import annotations

import base64
import datetime as dt

from . import errors

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# message name -> {field number: (json name, kind)}; kind is a scalar type, "map:<value type>",
# "repeated:<type>" or another message name.
MESSAGES = {
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "bytes"), 3: ("contentEncoding", "string"),
                4: ("contentType", "string")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "ObjectMeta": {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
                   5: ("uid", "string"), 6: ("resourceVersion", "string"), 7: ("generation", "int"),
                   8: ("creationTimestamp", "Time"), 11: ("labels", "map:string"),
                   12: ("annotations", "map:string"), 13: ("ownerReferences", "repeated:OwnerReference"),
                   14: ("finalizers", "repeated:string")},
    "OwnerReference": {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                       5: ("apiVersion", "string"), 6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "Time": {1: ("seconds", "int"), 2: ("nanos", "int")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "repeated:string")},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:bytes"), 3: ("type", "string"),
               4: ("stringData", "map:string"), 5: ("immutable", "bool")},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:string"), 3: ("binaryData", "map:bytes"),
                  4: ("immutable", "bool")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 4: ("automountServiceAccountToken", "bool")},
    # rbac.authorization.k8s.io/v1 (kubectl create role|clusterrole|rolebinding|clusterrolebinding)
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", "repeated:PolicyRule")},
    "ClusterRole": {1: ("metadata", "ObjectMeta"), 2: ("rules", "repeated:PolicyRule")},
    "PolicyRule": {1: ("verbs", "repeated:string"), 2: ("apiGroups", "repeated:string"), 3: ("resources", "repeated:string"),
                   4: ("resourceNames", "repeated:string"), 5: ("nonResourceURLs", "repeated:string")},
    "RoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", "repeated:Subject"), 3: ("roleRef", "RoleRef")},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", "repeated:Subject"), 3: ("roleRef", "RoleRef")},
    "Subject": {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"), 4: ("namespace", "string")},
    "RoleRef": {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")},
}
KINDS = {"Namespace", "Secret", "ConfigMap", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) of one message; value is an int or bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def _scalar(type_: str, value):
    if type_ == "string":
        return value.decode()
    if type_ == "bytes":
        return base64.b64encode(value).decode()
    if type_ == "bool":
        return bool(value)
    return value  # int


def decode(message: str, buf: bytes) -> dict:
    spec = MESSAGES[message]
    out: dict = {}
    for number, _, value in _fields(buf):
        if number not in spec:
            continue  # fields we do not serve are pruned, as unknown JSON fields are
        name, type_ = spec[number]
        if type_.startswith("map:"):
            entry = dict((n, v) for n, _, v in _fields(value))
            out.setdefault(name, {})[entry.get(1, b"").decode()] = _scalar(type_[4:], entry.get(2, b""))
        elif type_.startswith("repeated:"):
            item_type = type_[9:]
            item = decode(item_type, value) if item_type in MESSAGES else _scalar(item_type, value)
            out.setdefault(name, []).append(item)
        elif type_ == "Time":
            seconds = decode("Time", value).get("seconds", 0)
            out[name] = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif type_ in MESSAGES:
            out[name] = decode(type_, value)
        else:
            scalar = _scalar(type_, value)
            if scalar not in ("", 0, False):  # Go's zero values, which its JSON form omits
                out[name] = scalar
    return out


def to_object(body: bytes) -> dict:
    """The JSON form of a protobuf-encoded object, or a 415/400 Status error."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("provided data does not appear to be a protobuf message, expected prefix "
                                 "[107 56 115 0]")
    try:
        envelope = decode("Unknown", body[len(MAGIC):])
        type_meta = envelope.get("typeMeta", {})
        kind = type_meta.get("kind", "")
        if kind not in KINDS:
            raise errors.ApiError(415, "UnsupportedMediaType",
                                  f"the body of the request was in an unknown format - accepted media types include: "
                                  f"application/json, application/yaml (protobuf is read for {sorted(KINDS)} only)")
        obj = decode(kind, base64.b64decode(envelope.get("raw", "")))
    except (ValueError, IndexError, UnicodeDecodeError) as e:
        raise errors.bad_request(f"unable to decode protobuf body: {e}") from None
    return {"apiVersion": type_meta.get("apiVersion", ""), "kind": kind, **obj}
