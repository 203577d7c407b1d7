"""Cluster API's conversion webhook for the twin: cluster.x-k8s.io Cluster, MachineDeployment and
Machine, and addons.cluster.x-k8s.io ClusterResourceSet, between v1beta1 and the hub v1beta2
(the storage version since CAPI 1.11).

Each converter takes an object and a context (`ctx.namespace`, `ctx.ref_version(group, kind)`)
and returns a new object. Facts: reference longhorn-capi.md §3 and CAPI's api/core/v1beta1
conversion functions (read, not copied).

v1beta1 fields v1beta2 has no place for are kept in the annotation `cluster.x-k8s.io/conversion-data`
on the stored object (JSON, keyed by the v1beta1 field path) and put back when read in v1beta1:
the extra parts of object references (uid, resourceVersion, fieldPath, a namespace or apiVersion
other than the derived one) and MachineDeployment progressDeadlineSeconds / revisionHistoryLimit.
What is lost (documented, as CAPI loses it too or it is a zero value):
* durations are re-rendered the Go way ("10m" comes back as "10m0s"; sub-second parts dropped);
* `controlPlaneEndpoint: {host: "", port: 0}` and empty availabilityGates/readinessGates lists;
* `paused: false` reads back in v1beta1 as absent (v1beta1 `paused` is a bool with omitempty);
* status fields written through v1beta1 that v1beta2 cannot hold (Machine nodeRef's apiVersion,
  kind, uid...): status writes do not touch the annotation;
* v1beta2-only fields (Machine spec.minReadySeconds) are dropped when a v1beta1 client writes
  the whole object back.
"""
from __future__ import annotations

import functools
import json
import re

from .goformat import go_duration
from .store import clone

ANNOTATION = "cluster.x-k8s.io/conversion-data"
CORE = "cluster.x-k8s.io"
ADDONS = "addons.cluster.x-k8s.io"
REF_EXTRAS = ("uid", "resourceVersion", "fieldPath")
TIMEOUTS = ("nodeDrainTimeout", "nodeVolumeDetachTimeout", "nodeDeletionTimeout")


# ------------------------------------------------------------------ small helpers
def _group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _dict_at(obj: dict, *path: str) -> dict | None:
    for p in path:
        obj = obj.get(p) if isinstance(obj, dict) else None
    return obj if isinstance(obj, dict) else None


def _drop_empty_list(obj: dict | None, key: str) -> None:
    """v1beta2 lists have minItems 1 and CAPI omits empty ones."""
    if isinstance(obj, dict) and obj.get(key) == []:
        del obj[key]


def _take_lossy(obj: dict) -> dict:
    """Pop the conversion-data annotation (a v1beta1 reader does not see it)."""
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict) or ANNOTATION not in annotations:
        return {}
    raw = annotations.pop(ANNOTATION)
    if not annotations:
        del meta["annotations"]
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _put_lossy(obj: dict, lossy: dict) -> None:
    """Set (or clear, when nothing is lost) the conversion-data annotation of a converted-up object."""
    meta = obj.setdefault("metadata", {})
    annotations = meta.get("annotations")
    if lossy:
        meta.setdefault("annotations", {})[ANNOTATION] = json.dumps(lossy, sort_keys=True, separators=(",", ":"))
    elif isinstance(annotations, dict) and ANNOTATION in annotations:
        del annotations[ANNOTATION]
        if not annotations:
            del meta["annotations"]


# ------------------------------------------------------------------ durations (Go time.Duration)
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def duration_to_seconds(text: str) -> int | None:
    """metav1.Duration string -> whole seconds, truncated as CAPI's ConvertToSeconds does; None if unparsable."""
    if not isinstance(text, str):
        return None
    sign, body = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    if body == "0":
        return 0
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(body):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(body) or pos == 0:
        return None
    return int(sign * total)


# ------------------------------------------------------------------ object references
def ref_up(ref: dict, key: str, ctx, lossy: dict) -> dict:
    """v1beta1 ObjectReference -> v1beta2 {apiGroup, kind, name}; what does not fit goes to `lossy`."""
    api_version = ref.get("apiVersion") or ""
    group = _group_of(api_version)
    out = {"apiGroup": group}
    for f in ("kind", "name"):
        if f in ref:
            out[f] = ref[f]
    derived = ctx.ref_version(group, ref.get("kind") or "")
    lost = any(ref.get(f) for f in REF_EXTRAS)
    lost |= bool(ref.get("namespace")) and ref["namespace"] != ctx.namespace
    lost |= bool(api_version) and api_version != _api_version(group, derived)
    if lost:
        lossy[key] = dict(ref)
    return out


def ref_down(ref: dict, key: str, ctx, lossy: dict) -> dict:
    """v1beta2 {apiGroup, kind, name} -> v1beta1 ObjectReference. The version is re-derived (see
    conversion.py: the twin's storage version of that kind) and the namespace is the object's,
    unless the annotation remembers what a v1beta1 client wrote for this same group/kind/name."""
    group, kind = ref.get("apiGroup") or "", ref.get("kind") or ""
    out: dict = {}
    derived = ctx.ref_version(group, kind)
    if derived:
        out["apiVersion"] = _api_version(group, derived)
    for f in ("kind", "name"):
        if f in ref:
            out[f] = ref[f]
    if ctx.namespace:
        out["namespace"] = ctx.namespace
    kept = lossy.get(key)
    if isinstance(kept, dict) and (_group_of(kept.get("apiVersion") or ""), kept.get("kind"), kept.get("name")) == \
            (group, ref.get("kind"), ref.get("name")):
        out.update(kept)
    return out


def _api_version(group: str, version: str | None) -> str:
    if not version:
        return ""
    return f"{group}/{version}" if group else version


# ------------------------------------------------------------------ shared status parts
def _conditions_up(status: dict, deprecated_fields: tuple[str, ...] = ()) -> dict:
    """v1beta1 status in place: old conditions (and the given fields) -> deprecated.v1beta1, the
    v1beta2 block's conditions -> status.conditions. Returns the rest of the v1beta2 block."""
    v1beta2 = status.pop("v1beta2", None) or {}
    old = {f: status.pop(f) for f in ("conditions", *deprecated_fields) if f in status}
    if "conditions" in v1beta2:
        status["conditions"] = v1beta2.pop("conditions")
    if old:
        status["deprecated"] = {"v1beta1": old}
    return v1beta2


def _conditions_down(status: dict, deprecated_fields: tuple[str, ...] = ()) -> dict:
    """v1beta2 status in place: conditions -> returned v1beta2 block, deprecated.v1beta1 -> top level."""
    v1beta2 = {}
    if "conditions" in status:
        v1beta2["conditions"] = status.pop("conditions")
    deprecated = (status.pop("deprecated", None) or {}).get("v1beta1") or {}
    for f in ("conditions", *deprecated_fields):
        if f in deprecated:
            status[f] = deprecated[f]
    return v1beta2


def _new_version(obj: dict, group: str, version: str) -> dict:
    obj = clone(obj)
    obj["apiVersion"] = f"{group}/{version}"
    return obj


def _up(convert):
    """A Cluster API core converter up to v1beta2, on a copy: `convert(obj, ctx, lossy)` changes
    obj and records in lossy what v1beta2 has no place for (the conversion-data annotation)."""
    @functools.wraps(convert)
    def up(obj: dict, ctx) -> dict:
        obj, lossy = _new_version(obj, CORE, "v1beta2"), {}
        convert(obj, ctx, lossy)
        _put_lossy(obj, lossy)
        return obj
    return up


def _down(convert):
    """A Cluster API core converter down to v1beta1, on a copy: `convert(obj, ctx, lossy)` gets
    what the conversion-data annotation kept (the annotation itself removed)."""
    @functools.wraps(convert)
    def down(obj: dict, ctx) -> dict:
        obj = _new_version(obj, CORE, "v1beta1")
        convert(obj, ctx, _take_lossy(obj))
        return obj
    return down


# ------------------------------------------------------------------ Machine spec (also MD template)
def _machine_refs(spec: dict, prefix: str, ctx, lossy: dict, convert_ref) -> None:
    """The bootstrap configRef and infrastructureRef of a Machine spec, through convert_ref."""
    bootstrap = spec.get("bootstrap")
    if isinstance(bootstrap, dict) and isinstance(bootstrap.get("configRef"), dict):
        bootstrap["configRef"] = convert_ref(bootstrap["configRef"], f"{prefix}.bootstrap.configRef", ctx, lossy)
    if isinstance(spec.get("infrastructureRef"), dict):
        spec["infrastructureRef"] = convert_ref(spec["infrastructureRef"], f"{prefix}.infrastructureRef", ctx, lossy)


def _machine_spec_up(spec: dict | None, prefix: str, ctx, lossy: dict) -> None:
    if not isinstance(spec, dict):
        return
    _machine_refs(spec, prefix, ctx, lossy, ref_up)
    deletion = {}
    for f in TIMEOUTS:
        if f in spec:
            seconds = duration_to_seconds(spec.pop(f))
            if seconds is not None:
                deletion[f + "Seconds"] = seconds
    if deletion:
        spec["deletion"] = deletion
    _drop_empty_list(spec, "readinessGates")


def _machine_spec_down(spec: dict | None, prefix: str, ctx, lossy: dict) -> None:
    if not isinstance(spec, dict):
        return
    _machine_refs(spec, prefix, ctx, lossy, ref_down)
    deletion = spec.pop("deletion", None) or {}
    for f in TIMEOUTS:
        if isinstance(deletion.get(f + "Seconds"), int):
            spec[f] = go_duration(deletion[f + "Seconds"])


# ------------------------------------------------------------------ Cluster
def _cluster_refs(spec: dict, ctx, lossy: dict, convert_ref) -> None:
    for f in ("controlPlaneRef", "infrastructureRef"):
        if isinstance(spec.get(f), dict):
            spec[f] = convert_ref(spec[f], f"spec.{f}", ctx, lossy)


@_up
def cluster_up(obj: dict, ctx, lossy: dict) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        _cluster_refs(spec, ctx, lossy, ref_up)
        endpoint = spec.get("controlPlaneEndpoint")
        if isinstance(endpoint, dict):  # v1beta2 omits the zero host and port
            if endpoint.get("host") == "":
                del endpoint["host"]
            if endpoint.get("port") == 0:
                del endpoint["port"]
            if not endpoint:
                del spec["controlPlaneEndpoint"]
        _drop_empty_list(spec, "availabilityGates")
    status = obj.get("status")
    if isinstance(status, dict):
        infra, cp = status.pop("infrastructureReady", False), status.pop("controlPlaneReady", False)
        if infra or cp:
            status["initialization"] = {"infrastructureProvisioned": bool(infra), "controlPlaneInitialized": bool(cp)}
        v1beta2 = _conditions_up(status, ("failureReason", "failureMessage"))
        for f in ("controlPlane", "workers"):
            if f in v1beta2:
                status[f] = v1beta2[f]
        domains = status.pop("failureDomains", None)
        if isinstance(domains, dict) and domains:
            status["failureDomains"] = [{"name": name, **(fd or {})} for name, fd in sorted(domains.items())]


@_down
def cluster_down(obj: dict, ctx, lossy: dict) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        _cluster_refs(spec, ctx, lossy, ref_down)
        if spec.get("paused") is False:
            del spec["paused"]  # v1beta1 paused is a plain bool with omitempty
    status = obj.setdefault("status", {})
    initialization = status.pop("initialization", None) or {}
    v1beta2 = _conditions_down(status, ("failureReason", "failureMessage"))
    for f in ("controlPlane", "workers"):
        if f in status:
            v1beta2[f] = status.pop(f)
    # plain bools without omitempty in v1beta1: always there
    status["infrastructureReady"] = bool(initialization.get("infrastructureProvisioned"))
    status["controlPlaneReady"] = bool(initialization.get("controlPlaneInitialized"))
    domains = status.pop("failureDomains", None)
    if isinstance(domains, list) and domains:
        status["failureDomains"] = {fd["name"]: {k: v for k, v in fd.items() if k != "name"}
                                    for fd in domains if isinstance(fd, dict) and "name" in fd}
    if v1beta2:
        status["v1beta2"] = v1beta2


# ------------------------------------------------------------------ MachineDeployment
MD_GONE = ("progressDeadlineSeconds", "revisionHistoryLimit")  # not in v1beta2: kept in the annotation
MD_OLD_COUNTERS = ("readyReplicas", "availableReplicas", "updatedReplicas", "unavailableReplicas")
MD_NEW_COUNTERS = ("readyReplicas", "availableReplicas", "upToDateReplicas")


@_up
def machinedeployment_up(obj: dict, ctx, lossy: dict) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        strategy = spec.pop("strategy", None) or {}
        rolling = strategy.get("rollingUpdate") or {}
        new_strategy = {k: strategy[k] for k in ("type",) if k in strategy}
        surge = {k: rolling[k] for k in ("maxSurge", "maxUnavailable") if k in rolling}
        if surge:
            new_strategy["rollingUpdate"] = surge
        rollout = {"strategy": new_strategy} if new_strategy else {}
        if "rolloutAfter" in spec:
            rollout["after"] = spec.pop("rolloutAfter")
        if rollout:
            spec["rollout"] = rollout
        if "deletePolicy" in rolling:
            spec["deletion"] = {"order": rolling["deletePolicy"]}
        if "remediation" in strategy:
            spec["remediation"] = strategy["remediation"]
        if "machineNamingStrategy" in spec:
            spec["machineNaming"] = spec.pop("machineNamingStrategy")
        template_spec = _dict_at(spec, "template", "spec")
        if "minReadySeconds" in spec:
            minimum = spec.pop("minReadySeconds")
            if template_spec is not None:
                template_spec["minReadySeconds"] = minimum
        for f in MD_GONE:
            if f in spec:
                lossy[f"spec.{f}"] = spec.pop(f)
        _machine_spec_up(template_spec, "spec.template.spec", ctx, lossy)
    status = obj.get("status")
    if isinstance(status, dict):
        old = {f: status.pop(f) for f in MD_OLD_COUNTERS if f in status}
        v1beta2 = _conditions_up(status)
        if old:
            status.setdefault("deprecated", {}).setdefault("v1beta1", {}).update(old)
        for f in MD_NEW_COUNTERS:
            if f in v1beta2:
                status[f] = v1beta2[f]


@_down
def machinedeployment_down(obj: dict, ctx, lossy: dict) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        rollout = spec.pop("rollout", None) or {}
        deletion = spec.pop("deletion", None) or {}
        new = rollout.get("strategy") or {}
        strategy = {k: new[k] for k in ("type",) if k in new}
        rolling = dict(new.get("rollingUpdate") or {})
        if "order" in deletion:
            rolling["deletePolicy"] = deletion["order"]
        if rolling:
            strategy["rollingUpdate"] = rolling
        if "remediation" in spec:
            strategy["remediation"] = spec.pop("remediation")
        if strategy:
            spec["strategy"] = strategy
        if "after" in rollout:
            spec["rolloutAfter"] = rollout["after"]
        if "machineNaming" in spec:
            spec["machineNamingStrategy"] = spec.pop("machineNaming")
        template_spec = _dict_at(spec, "template", "spec")
        if template_spec is not None and "minReadySeconds" in template_spec:
            spec["minReadySeconds"] = template_spec.pop("minReadySeconds")
        for f in MD_GONE:
            if f"spec.{f}" in lossy:
                spec[f] = lossy[f"spec.{f}"]
        _machine_spec_down(template_spec, "spec.template.spec", ctx, lossy)
    status = obj.get("status")
    if isinstance(status, dict):
        new_counters = {f: status.pop(f) for f in MD_NEW_COUNTERS if f in status}
        old = ((status.get("deprecated") or {}).get("v1beta1") or {})
        v1beta2 = _conditions_down(status)
        for f in MD_OLD_COUNTERS:
            if f in old:
                status[f] = old[f]
        v1beta2.update(new_counters)
        if v1beta2:
            status["v1beta2"] = v1beta2


# ------------------------------------------------------------------ Machine
@_up
def machine_up(obj: dict, ctx, lossy: dict) -> None:
    _machine_spec_up(obj.get("spec"), "spec", ctx, lossy)
    status = obj.get("status")
    if isinstance(status, dict):
        boot, infra = status.pop("bootstrapReady", False), status.pop("infrastructureReady", False)
        if boot or infra:
            status["initialization"] = {"bootstrapDataSecretCreated": bool(boot), "infrastructureProvisioned": bool(infra)}
        _conditions_up(status, ("failureReason", "failureMessage"))
        node_ref = status.get("nodeRef")
        if isinstance(node_ref, dict):
            status["nodeRef"] = {k: node_ref[k] for k in ("name",) if k in node_ref}


@_down
def machine_down(obj: dict, ctx, lossy: dict) -> None:
    _machine_spec_down(obj.get("spec"), "spec", ctx, lossy)
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.pop("minReadySeconds", None)  # no place in v1beta1
    status = obj.setdefault("status", {})
    initialization = status.pop("initialization", None) or {}
    v1beta2 = _conditions_down(status, ("failureReason", "failureMessage"))
    status["bootstrapReady"] = bool(initialization.get("bootstrapDataSecretCreated"))
    status["infrastructureReady"] = bool(initialization.get("infrastructureProvisioned"))
    node_ref = status.get("nodeRef")
    if isinstance(node_ref, dict):
        status["nodeRef"] = {"apiVersion": "v1", "kind": "Node", **node_ref}
    if v1beta2:
        status["v1beta2"] = v1beta2


# ------------------------------------------------------------------ ClusterResourceSet
def clusterresourceset_up(obj: dict, ctx) -> dict:
    obj = _new_version(obj, ADDONS, "v1beta2")
    status = obj.get("status")
    if isinstance(status, dict):
        _conditions_up(status)
    return obj


def clusterresourceset_down(obj: dict, ctx) -> dict:
    obj = _new_version(obj, ADDONS, "v1beta1")
    status = obj.get("status")
    if isinstance(status, dict):
        v1beta2 = _conditions_down(status)
        if v1beta2:
            status["v1beta2"] = v1beta2
    return obj


# (group, kind, spoke version) -> (hub version, up, down)
CONVERTERS = {
    (CORE, "Cluster", "v1beta1"): ("v1beta2", cluster_up, cluster_down),
    (CORE, "MachineDeployment", "v1beta1"): ("v1beta2", machinedeployment_up, machinedeployment_down),
    (CORE, "Machine", "v1beta1"): ("v1beta2", machine_up, machine_down),
    (ADDONS, "ClusterResourceSet", "v1beta1"): ("v1beta2", clusterresourceset_up, clusterresourceset_down),
}
