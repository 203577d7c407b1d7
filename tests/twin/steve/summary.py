"""`metadata.state` and the conditions' `error`/`transitioning` of Steve's resources: wrangler's
summary (rancher/wrangler v3.2.4 pkg/summary: `Summarize`, summarizers.go, condition.go
`NormalizeConditions`) with the kstatus part it calls (sigs.k8s.io/cli-utils pkg/kstatus/status
`Compute`).

Summarizers in wrangler's order, each seeing the state the previous left:
status.display / status.summary; errors (a condition whose reason is `Error`, or whose status
the per-kind error map marks: Node pressure conditions True, `Failed`/`Stalled` True otherwise);
transitioning (the TransitioningUnknown / TransitioningTrue / TransitioningFalse condition tables,
a `Ready` False); `spec.active`; `status.phase` (`Succeeded` and `Bound` override); kstatus
(deletionTimestamp -> removing, generation not observed -> in-progress, Reconciling/Stalled,
PVC not Bound, a Ready condition, else active "Resource is current"). The state is lower-cased,
`active` when nothing decided, and messages are de-duplicated and joined with ":".

Not modelled: cattle.io typed objects, pod and workload rules, load balancers, relationships
other than owner references.
"""
from __future__ import annotations

REASON = "%REASON%"

TRANSITIONING_UNKNOWN = {
    "Active": "activating", "AddonDeploy": "provisioning", "AgentDeployed": "provisioning",
    "BackingNamespaceCreated": "configuring", "Built": "building", "CertsGenerated": "provisioning",
    "ConfigOK": "configuring", "Created": "creating", "CreatorMadeOwner": "configuring",
    "DefaultNamespaceAssigned": "configuring", "DefaultNetworkPolicyCreated": "configuring",
    "DefaultProjectCreated": "configuring", "DockerProvisioned": "provisioning", "Deployed": "deploying",
    "Drained": "draining", "Downloaded": "downloading", "etcd": "provisioning", "Inactive": "deactivating",
    "Initialized": "initializing", "Installed": "installing", "NodesCreated": "provisioning", "Pending": "pending",
    "PodScheduled": "scheduling", "Provisioned": "provisioning", "Reconciled": "reconciling", "Refreshed": "refreshed",
    "Registered": "registering", "Removed": "removing", "Saved": "saving", "Updated": "updating",
    "Updating": "updating", "Upgraded": "upgrading", "Waiting": "waiting", "InitialRolesPopulated": "activating",
    "ScalingActive": "pending", "AbleToScale": "pending", "RunCompleted": "running", "Processed": "processed",
}
TRANSITIONING_FALSE = {"Completed": "activating", "Ready": "unavailable", "Available": "updating",
                       "BootstrapReady": REASON, "InfrastructureReady": REASON, "NodeHealthy": REASON}
TRANSITIONING_TRUE = {"Reconciling": "reconciling"}
# GVKConditionErrorMapping: (group, kind) -> condition type -> statuses that mean an error
ERROR_MAP = {
    ("helm.cattle.io", "HelmChart"): {"JobCreated": set(), "Failed": {"True"}},
    ("", "Node"): {"OutOfDisk": {"True"}, "MemoryPressure": {"True"}, "DiskPressure": {"True"},
                   "NetworkUnavailable": {"True"}},
    ("apps", "Deployment"): {"ReplicaFailure": {"True"}, "Progressing": {"False"}},
    ("apps", "ReplicaSet"): {"ReplicaFailure": {"True"}},
}
FALLBACK_ERRORS = {"Stalled": {"True"}, "Failed": {"True"}}


class Summary:
    def __init__(self):
        self.state = ""
        self.error = False
        self.transitioning = False
        self.message: list[str] = []


def _s(value) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value).lower() if isinstance(value, bool) \
        else str(value)


def _conditions(obj: dict) -> list[dict]:
    return [c for c in ((obj.get("status") or {}).get("conditions") or []) if isinstance(c, dict)]


def _group_kind(obj: dict) -> tuple[str, str]:
    api_version = _s(obj.get("apiVersion"))
    return (api_version.rpartition("/")[0] if "/" in api_version else ""), _s(obj.get("kind"))


def _status_summary(obj: dict, s: Summary) -> None:
    status = obj.get("status") or {}
    found = status.get("display") or status.get("summary") if isinstance(status, dict) else None
    if not isinstance(found, dict) or not found:
        return
    if "state" in found:
        s.state = _s(found["state"])
    if "transitioning" in found:
        s.transitioning = bool(found["transitioning"])
    if "error" in found:
        s.error = bool(found["error"])
    if "message" in found:
        s.message.append(_s(found["message"]))


def _errors(obj: dict, conds: list[dict], s: Summary) -> None:
    mapping = ERROR_MAP.get(_group_kind(obj), FALLBACK_ERRORS)
    for c in conds:
        statuses = mapping.get(_s(c.get("type")))
        reason_is_error = _s(c.get("reason")) == "Error"
        if statuses is None and not reason_is_error:
            continue
        if reason_is_error or _s(c.get("status")) in (statuses or set()):
            s.error = True
            s.message.append(_s(c.get("message")))
            if s.state in ("active", ""):
                s.state = "error"


def _transitioning(conds: list[dict], s: Summary) -> None:
    for c in conds:
        new = TRANSITIONING_UNKNOWN.get(_s(c.get("type")))
        if new is None:
            continue
        if _s(c.get("status")) == "False":
            s.error, s.state = True, new
            s.message.append(_s(c.get("message")))
        elif _s(c.get("status")) == "Unknown" and not s.state:
            s.transitioning, s.state = True, new
            s.message.append(_s(c.get("message")))
    for c in conds:
        if s.state:
            break
        new = TRANSITIONING_TRUE.get(_s(c.get("type")))
        if new is not None and _s(c.get("status")) == "True":
            s.transitioning, s.state = True, new
            s.message.append(_s(c.get("message")))
    ready, ready_message = True, ""
    for c in conds:
        if s.state:
            break
        if _s(c.get("type")) == "Ready" and _s(c.get("status")) == "False":
            ready, ready_message = False, _s(c.get("message"))
            continue
        new = TRANSITIONING_FALSE.get(_s(c.get("type")))
        if new is None:
            continue
        if new == REASON:
            new = _s(c.get("reason"))
        if _s(c.get("status")) == "False":
            s.transitioning, s.state = True, new
            s.message.append(_s(c.get("message")))
        elif _s(c.get("status")) == "Unknown":
            s.error, s.state = True, new
            s.message.append(_s(c.get("message")))
    if not s.state and not ready:
        s.transitioning, s.state = True, "unavailable"
        s.message.append(ready_message)


def _active(obj: dict, s: Summary) -> None:
    if s.state:
        return
    active = _s((obj.get("spec") or {}).get("active")) if isinstance(obj.get("spec"), dict) else ""
    if active == "true":
        s.state = "active"
    elif active == "false":
        s.state = "inactive"


def _phase(obj: dict, s: Summary) -> None:
    phase = _s((obj.get("status") or {}).get("phase")) if isinstance(obj.get("status"), dict) else ""
    if phase == "Succeeded":
        s.state, s.transitioning = "succeeded", False
    elif phase == "Bound":
        s.state, s.transitioning = "bound", False
    elif phase and not s.state:
        s.state = phase


def _kstatus(obj: dict, conds: list[dict]) -> tuple[str, str]:
    """kstatus Compute: (status, message) with status current|in-progress|failed|terminating."""
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return "terminating", "Resource scheduled for deletion"
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    if "generation" in meta and "observedGeneration" in status and status["observedGeneration"] != meta["generation"]:
        return "in-progress", (f"{_s(obj.get('kind'))} generation is {meta['generation']}, but latest observed "
                               f"generation is {status['observedGeneration']}")
    for c in conds:
        if c.get("type") == "Reconciling" and c.get("status") == "True":
            return "in-progress", _s(c.get("message"))
        if c.get("type") == "Stalled" and c.get("status") == "True":
            return "failed", _s(c.get("message"))
    if _group_kind(obj) == ("", "PersistentVolumeClaim"):
        phase = _s(status.get("phase")) or "unknown"
        if phase != "Bound":
            return "in-progress", f"PVC is not Bound. phase: {phase}"
        return "current", "PVC is Bound"
    for c in conds:
        if c.get("type") != "Ready":
            continue
        if c.get("status") == "True":
            return "current", "Resource is Ready"
        if c.get("status") in ("False", "Unknown"):
            return "in-progress", _s(c.get("message"))
    return "current", "Resource is current"


def _standard(obj: dict, conds: list[dict], s: Summary) -> None:
    if s.state:
        return
    result, message = _kstatus(obj, conds)
    s.state = {"in-progress": "in-progress", "failed": "failed", "current": "active",
               "terminating": "removing"}[result]
    s.message.append(message)
    if result in ("in-progress", "terminating"):
        s.transitioning = True
    if result == "failed":
        s.error = True


def summarize(obj: dict) -> Summary:
    conds = _conditions(obj)
    s = Summary()
    _status_summary(obj, s)
    _errors(obj, conds, s)
    _transitioning(conds, s)
    _active(obj, s)
    _phase(obj, s)
    _standard(obj, conds, s)
    if not s.state:
        s.state = "active"
    s.state = s.state.lower()
    seen, messages = set(), []
    for m in s.message:
        m = m.strip()
        if m and m not in seen:
            seen.add(m)
            messages.append(m)
    s.message = messages
    return s


def state(obj: dict) -> dict:
    s = summarize(obj)
    return {"name": s.state, "error": s.error, "transitioning": s.transitioning, "message": ":".join(s.message)}


def normalize_conditions(obj: dict) -> None:
    """NormalizeConditions: every condition gets `error` and `transitioning` (checkErrors,
    checkTransitioning and checkRemoving on that condition alone) and a lastUpdateTime."""
    status = obj.get("status")
    if not isinstance(status, dict) or not isinstance(status.get("conditions"), list):
        return
    for c in status["conditions"]:
        if not isinstance(c, dict):
            continue
        s = Summary()
        _errors(obj, [c], s)
        _transitioning([c], s)
        c["error"] = s.error
        c["transitioning"] = s.transitioning
        if not _s(c.get("lastUpdateTime")):
            c["lastUpdateTime"] = _s(c.get("lastTransitionTime"))
