"""Webhooks of the longhorn area: Longhorn's setting mutator and validator.

Modelled on longhorn-manager v1.12 (`types/setting.go`, `webhook/resources/setting/`,
`datastore/longhorn.go: ValidateSetting`), see ../shared/reference/longhorn-capi.md §1:

* `mutator.longhorn.io` refuses unknown names (`setting <name> does not exist`, field
  `metadata.name`) and expands a data-engine-specific (DES) value to the per-engine JSON of the
  engines in that setting's default, normalised (`"2"` -> `{"v1":"2","v2":"2"}`); a value it
  cannot parse is refused (`failed to get valid value for setting <name>: ...`, field `value`).
  Other settings are stored verbatim.
* `validator.longhorn.io` refuses updates of read-only settings (`setting <name> is read-only`)
  unless the Longhorn annotation is set, deletes of known settings (`setting <name> can be
  modified but not deleted`), and values failing the type/range/choice/syntax checks with
  Longhorn's layered message `failed to set the setting <name> with invalid value <v>: value <v>
  of settings <name> is invalid: <detail>`, plus the datastore's cross-setting rules.

Every refusal is a 422 Invalid with one cause. Status writes (`/status`) are not admitted, as
the webhooks are registered for `settings`, not `settings/status`.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from . import Chain, Request, denied

GROUP = "longhorn.io"
NAMESPACE = "longhorn-system"
MUTATOR = "mutator.longhorn.io"
VALIDATOR = "validator.longhorn.io"
UPDATE_FROM_LONGHORN = "longhorn.io/update-setting-from-longhorn"
VERSION = "v1.12.1"


class SettingError(Exception):
    """A Longhorn error chain: str() is the message as Go's errors.Wrapf would print it."""


@dataclass(frozen=True)
class Definition:
    display: str
    type: str  # bool | int | float | string | deprecated | "" (priority-class declares none)
    default: str
    required: bool = True
    read_only: bool = False
    des: bool = False  # data-engine specific: default is {"v1":..,"v2":..} (or one engine)
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    danger: bool = False
    engines: tuple[str, ...] = field(default=(), compare=False)


def _d(display, type_, default, *, required=True, ro=False, des=None, lo=None, hi=None, choices=(),
       danger=False) -> Definition:
    engines: tuple[str, ...] = ()
    if des is not None:  # des: the engines of the default; default is then their shared value
        engines = tuple(des)
        default = json.dumps({e: default for e in engines}, separators=(",", ":"))
    return Definition(display, type_, default, required, ro, des is not None, lo, hi, tuple(choices), danger, engines)


V12 = ("v1", "v2")
V1 = ("v1",)
V2 = ("v2",)
IMAGE = "longhornio/{}:" + VERSION

# Every setting Longhorn v1.12 creates, with its definition. Display names appear in messages.
DEFINITIONS: dict[str, Definition] = {
    "allow-recurring-job-while-volume-detached": _d("Allow Recurring Job While Volume Is Detached", "bool", "false"),
    "create-default-disk-labeled-nodes": _d("Create Default Disk on Labeled Nodes", "bool", "false"),
    "default-data-path": _d("Default Data Path", "string", "/var/lib/longhorn/"),
    "default-engine-image": _d("Default Engine Image", "string", IMAGE.format("longhorn-engine"), ro=True),
    "default-instance-manager-image": _d("Default Instance Manager Image", "deprecated",
                                         IMAGE.format("longhorn-instance-manager"), ro=True),
    "default-backing-image-manager-image": _d("Default Backing Image Manager Image", "deprecated",
                                              IMAGE.format("backing-image-manager"), ro=True),
    "support-bundle-manager-image": _d("Support Bundle Manager Image", "string",
                                       "longhornio/support-bundle-kit:v0.0.79"),
    "replica-soft-anti-affinity": _d("Replica Node Level Soft Anti-Affinity", "bool", "false"),
    "replica-auto-balance": _d("Replica Auto Balance", "string", "disabled",
                               choices=("disabled", "least-effort", "best-effort")),
    "replica-auto-balance-disk-pressure-percentage": _d("Replica Auto Balance Disk Pressure Threshold (%)", "int",
                                                        "90"),
    "storage-over-provisioning-percentage": _d("Storage Over Provisioning Percentage", "int", "100", lo=0),
    "storage-minimal-available-percentage": _d("Storage Minimal Available Percentage", "int", "25", lo=0, hi=100),
    "storage-reserved-percentage-for-default-disk": _d("Storage Reserved Percentage For Default Disk", "int", "30",
                                                       lo=0, hi=100),
    "upgrade-checker": _d("Enable Upgrade Checker", "bool", "true"),
    "upgrade-responder-url": _d("Upgrade Responder URL", "string",
                                "https://longhorn-upgrade-responder.rancher.io/v1/checkupgrade"),
    "allow-collecting-longhorn-usage-metrics": _d("Allow Collecting Longhorn Usage Metrics", "bool", "true"),
    "current-longhorn-version": _d("Current Longhorn Version", "string", VERSION, required=False, ro=True),
    "latest-longhorn-version": _d("Latest Longhorn Version", "string", "", required=False, ro=True),
    "stable-longhorn-versions": _d("Stable Longhorn Versions", "string", "", required=False, ro=True),
    "default-replica-count": _d("Default Replica Count", "int", "3", des=V12, lo=1, hi=20),
    "default-data-locality": _d("Default Data Locality", "string", "disabled",
                                choices=("disabled", "best-effort", "strict-local")),
    "default-longhorn-static-storage-class": _d("Default Longhorn Static StorageClass Name", "string",
                                                "longhorn-static"),
    "taint-toleration": _d("Kubernetes Taint Toleration", "string", "", required=False, danger=True),
    "system-managed-components-node-selector": _d("System Managed Components Node Selector", "string", "",
                                                  required=False, danger=True),
    "crd-api-version": _d("Custom Resource API Version", "string", "longhorn.io/v1beta2", ro=True),
    "auto-salvage": _d("Automatic salvage", "bool", "true"),
    "auto-delete-pod-when-volume-detached-unexpectedly": _d(
        "Automatically Delete Workload Pod when The Volume Is Detached Unexpectedly", "bool", "true"),
    "blacklist-for-auto-delete-pod-when-volume-detached-unexpectedly": _d(
        "Blacklist for Automatically Delete Workload Pod when The Volume Is Detached Unexpectedly", "string", "",
        required=False),
    "registry-secret": _d("Registry secret", "string", "", required=False),
    "disable-scheduling-on-cordoned-node": _d("Disable Scheduling On Cordoned Node", "bool", "true"),
    "replica-zone-soft-anti-affinity": _d("Replica Zone Level Soft Anti-Affinity", "bool", "true"),
    "node-down-pod-deletion-policy": _d("Pod Deletion Policy When Node is Down", "string", "do-nothing", choices=(
        "do-nothing", "delete-statefulset-pod", "delete-deployment-pod", "delete-both-statefulset-and-deployment-pod")),
    "node-drain-policy": _d("Node Drain Policy", "string", "block-if-contains-last-replica", choices=(
        "block-for-eviction", "block-for-eviction-if-contains-last-replica", "block-if-contains-last-replica",
        "allow-if-replica-is-stopped", "always-allow")),
    "detach-manually-attached-volumes-when-cordoned": _d("Detach Manually Attached Volumes When Cordoned", "bool",
                                                         "false"),
    "priority-class": _d("Priority Class", "", "", required=False, danger=True),
    "disable-revision-counter": _d("Disable Revision Counter", "bool", "true", des=V1),
    "replica-replenishment-wait-interval": _d("Replica Replenishment Wait Interval", "int", "600", lo=0),
    "concurrent-replica-rebuild-per-node-limit": _d("Concurrent Replica Rebuild Per Node Limit", "int", "5", lo=0,
                                                    danger=True),
    "concurrent-backing-image-replenish-per-node-limit": _d("Concurrent Backing Image Replenish Per Node Limit",
                                                            "int", "5", lo=0, danger=True),
    "concurrent-volume-backup-restore-per-node-limit": _d("Concurrent Volume Backup Restore Per Node Limit", "int",
                                                          "5", lo=0),
    "system-managed-pods-image-pull-policy": _d("System Managed Pod Image Pull Policy", "string", "if-not-present",
                                                choices=("if-not-present", "never", "always")),
    "allow-volume-creation-with-degraded-availability": _d("Allow Volume Creation with Degraded Availability",
                                                           "bool", "true"),
    "auto-cleanup-system-generated-snapshot": _d("Automatically Cleanup System Generated Snapshot", "bool", "true"),
    "auto-cleanup-recurring-job-backup-snapshot": _d("Automatically Cleanup Recurring Job Backup Snapshot", "bool",
                                                     "true"),
    "concurrent-automatic-engine-upgrade-per-node-limit": _d("Concurrent Automatic Engine Upgrade Per Node Limit",
                                                             "int", "0", lo=0),
    "backing-image-cleanup-wait-interval": _d("Backing Image Cleanup Wait Interval", "int", "60", lo=0),
    "backing-image-recovery-wait-interval": _d("Backing Image Recovery Wait Interval", "int", "300", lo=0),
    "guaranteed-instance-manager-cpu": _d("Guaranteed Instance Manager CPU", "float", "12", des=V12, lo=0, hi=40,
                                          danger=True),
    "kubernetes-cluster-autoscaler-enabled": _d("Kubernetes Cluster Autoscaler Enabled (Experimental)", "bool",
                                                "false"),
    "orphan-resource-auto-deletion": _d("Orphan Resource Auto-Deletion", "string", "", required=False),
    "orphan-resource-auto-deletion-grace-period": _d("Orphan Resource Auto-Deletion Grace Period", "int", "300",
                                                     lo=0),
    "storage-network": _d("Storage Network", "string", "", required=False, danger=True),
    "storage-network-for-rwx-volume-enabled": _d("Storage Network for RWX Volume Enabled", "bool", "false",
                                                 required=False, danger=True),
    "endpoint-network-for-rwx-volume": _d("Endpoint Network For RWX Volume", "string", "", required=False,
                                          danger=True),
    "failed-backup-ttl": _d("Failed Backup Time to Live", "int", "1440", lo=0),
    "recurring-successful-jobs-history-limit": _d("Cronjob Successful Jobs History Limit", "int", "1",
                                                  required=False, lo=0),
    "recurring-failed-jobs-history-limit": _d("Cronjob Failed Jobs History Limit", "int", "1", required=False, lo=0),
    "recurring-job-max-retention": _d("Maximum Retention Number for Recurring Job", "int", "100", lo=1, hi=250),
    "support-bundle-failed-history-limit": _d("SupportBundle Failed History Limit", "int", "1", required=False,
                                              lo=0),
    "support-bundle-node-collection-timeout": _d("Timeout for Support Bundle Node Collection", "int", "30", lo=0),
    "deleting-confirmation-flag": _d("Deleting Confirmation Flag", "bool", "false"),
    "engine-replica-timeout": _d("Engine Replica Timeout", "int", "8", des=V12, lo=8, hi=30),
    "snapshot-data-integrity": _d("Snapshot Data Integrity", "string", "fast-check", des=V12,
                                  choices=("disabled", "enabled", "fast-check")),
    "snapshot-data-integrity-immediate-check-after-snapshot-creation": _d(
        "Immediate Snapshot Data Integrity Check After Creating a Snapshot", "bool", "false", des=V12),
    "snapshot-data-integrity-cronjob": _d("Snapshot Data Integrity Check CronJob", "string", "0 0 */7 * *", des=V12),
    "snapshot-max-count": _d("Snapshot Maximum Count", "int", "250"),
    "restore-volume-recurring-jobs": _d("Restore Volume Recurring Jobs", "bool", "false"),
    "remove-snapshots-during-filesystem-trim": _d("Remove Snapshots During Filesystem Trim", "bool", "false"),
    "fast-replica-rebuild-enabled": _d("Fast Replica Rebuild Enabled", "bool", "true", des=V12),
    "replica-file-sync-http-client-timeout": _d("Timeout of HTTP Client to Replica File Sync Server", "int", "30",
                                                lo=5, hi=120),
    "long-grpc-timeout": _d("Long gRPC Timeout", "int", "86400", lo=1, hi=604800),
    "backup-compression-method": _d("Backup Compression Method", "string", "lz4", choices=("none", "lz4", "gzip")),
    "backup-concurrent-limit": _d("Backup Concurrent Limit Per Backup", "int", "2", lo=1),
    "restore-concurrent-limit": _d("Restore Concurrent Limit Per Backup", "int", "2", lo=1),
    "default-backup-block-size": _d("Default Backup Block Size", "int", "2", choices=(2, 16)),
    "log-level": _d("Log Level", "string", "Info", choices=("Panic", "Fatal", "Error", "Warn", "Info", "Debug",
                                                            "Trace")),
    "v1-data-engine": _d("V1 Data Engine", "bool", "true", danger=True),
    "v2-data-engine": _d("V2 Data Engine", "bool", "false", danger=True),
    "data-engine-hugepage-enabled": _d("Data Engine Hugepage Enabled", "bool", "true", des=V2, danger=True),
    "data-engine-memory-size": _d("Data Engine Memory Size", "int", "2048", des=V2, lo=0, danger=True),
    "data-engine-cpu-mask": _d("Data Engine CPU Mask", "string", "0x1", des=V2, danger=True),
    "data-engine-log-level": _d("Data Engine Log Level", "string", "Notice", des=V2,
                                choices=("Error", "Warning", "Notice", "Info", "Debug")),
    "data-engine-log-flags": _d("Data Engine Log Flags", "string", "", des=V2, required=False),
    "data-engine-interrupt-mode-enabled": _d("Enable Interrupt Mode for Data Engine", "bool", "false", des=V2,
                                             danger=True),
    "replica-disk-soft-anti-affinity": _d("Replica Disk Level Soft Anti-Affinity", "bool", "true"),
    "allow-empty-node-selector-volume": _d("Allow Scheduling Empty Node Selector Volumes To Any Node", "bool", "true"),
    "allow-empty-disk-selector-volume": _d("Allow Scheduling Empty Disk Selector Volumes To Any Disk", "bool", "true"),
    "disable-snapshot-purge": _d("Disable Snapshot Purge", "bool", "false", danger=True),
    "freeze-filesystem-for-snapshot": _d("Freeze Filesystem For Snapshot", "bool", "false", des=V1),
    "auto-cleanup-when-delete-backup": _d("Automatically Cleanup Snapshot When Deleting Backup", "bool", "false"),
    "auto-cleanup-snapshot-after-on-demand-backup-completed": _d(
        "Automatically Cleanup Snapshot After On-Demand Backup Completed", "bool", "false"),
    "default-min-number-of-backing-image-copies": _d("Default Minimum Number of BackingImage Copies", "int", "3",
                                                     lo=1),
    "backup-execution-timeout": _d("Backup Execution Timeout", "int", "1", lo=1),
    "rwx-volume-fast-failover": _d("RWX Volume Fast Failover", "bool", "false"),
    "offline-replica-rebuilding": _d("Offline Replica Rebuilding", "bool", "false"),
    "replica-rebuild-concurrent-sync-limit": _d("Replica Rebuild Concurrent Sync Limit", "int", "1", des=V1, lo=1,
                                                hi=5),
    "replica-rebuilding-bandwidth-limit": _d("Replica Rebuilding Bandwidth Limit", "int", "0", des=V2,
                                             required=False),
    "default-ublk-queue-depth": _d("Default Ublk Queue Depth", "int", "128", des=V2),
    "default-ublk-number-of-queue": _d("Default Ublk Number Of Queue", "int", "1", des=V2),
    "instance-manager-pod-liveness-probe-timeout": _d("Instance Manager Pod Liveness Probe Timeout", "int", "10",
                                                      lo=1, hi=60, danger=True),
    "log-path": _d("Log Path", "string", "/var/lib/longhorn/logs/", danger=True),
}

# Danger-zone settings the setting controller only rolls out once every volume is detached
# (endpoint-network-for-rwx-volume: every RWX volume), controller/setting_controller.go.
APPLY_WHEN_ALL_DETACHED = ("taint-toleration", "system-managed-components-node-selector", "priority-class",
                           "storage-network")
APPLY_WHEN_RWX_DETACHED = ("endpoint-network-for-rwx-volume",)


# ---------------------------------------------------------------------------------------- Go-isms
def go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def go_value(v) -> str:
    """fmt's %v for the values these messages print."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "+Inf" if v > 0 else "-Inf"
        if v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_value(x) for x in v) + "]"
    return str(v)


_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity)|nan", re.I)
_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
          "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def parse_bool(s: str) -> bool:
    if s not in _BOOLS:
        raise SettingError(f"strconv.ParseBool: parsing {go_quote(s)}: invalid syntax")
    return _BOOLS[s]


def parse_int(s: str) -> int:
    if not _INT.fullmatch(s):
        raise SettingError(f"strconv.ParseInt: parsing {go_quote(s)}: invalid syntax")
    v = int(s)
    if not -(2 ** 63) <= v < 2 ** 63:
        raise SettingError(f"strconv.ParseInt: parsing {go_quote(s)}: value out of range")
    return v


def parse_float(s: str) -> float:
    if not _FLOAT.fullmatch(s):
        raise SettingError(f"strconv.ParseFloat: parsing {go_quote(s)}: invalid syntax")
    v = float(s)
    if math.isinf(v) and "inf" not in s.lower():
        raise SettingError(f"strconv.ParseFloat: parsing {go_quote(s)}: value out of range")
    return v


def format_float(v: float) -> str:
    """strconv.FormatFloat(v, 'f', -1, 64): shortest, never an exponent."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = format(Decimal(repr(v)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _is_json(value: str) -> bool:
    """types.IsJSONFormat: the value unmarshals into a map (JSON `null` does too)."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    return parsed is None or isinstance(parsed, dict)


def _json_strings(value: str) -> dict[str, str]:
    """json.Unmarshal into map[DataEngineType]string, with Go's error text."""
    try:
        parsed = json.loads(value)
    except ValueError as e:
        raise SettingError(f"failed to parse JSON-formatted value {value}: {e}") from None
    out: dict[str, str] = {}
    for k, v in (parsed or {}).items():
        if v is None:
            out[k] = ""
        elif isinstance(v, str):
            out[k] = v
        else:
            kind = {bool: "bool", int: "number", float: "number", list: "array", dict: "object"}[type(v)]
            raise SettingError(f"failed to parse JSON-formatted value {value}: json: cannot unmarshal {kind} "
                               f"into Go value of type string")
    return out


# ---------------------------------------------------------------------------------------- parsing
def _parse_one(d: Definition, s: str, engine: str | None):
    """One value of the setting's type; engine None for a single (non-JSON) value."""
    try:
        if d.type == "bool":
            return parse_bool(s)
        if d.type == "int":
            return parse_int(s)
        if d.type == "float":
            return parse_float(s)
        return s
    except SettingError as e:
        kind = {"bool": "bool", "int": "int", "float": "float"}[d.type]
        if engine is None:
            raise SettingError(f"failed to parse single {kind} value {s}: {e}") from None
        raise SettingError(f"failed to parse {kind} value {s} for data engine {engine}: {e}") from None


def parse_values(d: Definition, value: str) -> dict[str, object]:
    """The per-engine values of a setting value (types.ParseDataEngineSpecificSetting /
    ParseSettingSingleValue): {"all": v} for a non-DES setting."""
    if _is_json(value.strip()):
        if not d.des:
            raise SettingError("JSON-formatted value is not supported for non-data-engine-specific setting")
        if d.type not in ("bool", "int", "float", "string"):
            raise SettingError(f"unsupported setting type {d.type} for data-engine-specific settings")
        raw = _json_strings(value)
        out, errs = {}, []
        for engine in sorted(raw):
            try:
                out[engine] = _parse_one(d, raw[engine], engine)
            except SettingError as e:
                errs.append(str(e))
        if errs:
            raise SettingError("\n".join(errs))
        return out
    one = _parse_one(d, value.strip(), None)
    return {e: one for e in d.engines} if d.des else {"all": one}


def _format(d: Definition, v) -> str:
    if d.type == "bool":
        return "true" if v else "false"
    if d.type == "float":
        return format_float(v)
    return str(v)


def valid_value(name: str, value: str) -> str:
    """datastore.GetSettingValidValue: what the mutator stores."""
    d = DEFINITIONS[name]
    if not d.des:
        return value
    values = parse_values(d, value)
    kept = {e: _format(d, values[e]) for e in sorted(values) if e in d.engines}
    return json.dumps(kept, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------- validation
def _check_cron(s: str) -> None:
    if s.startswith("@"):
        if s in ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly") or \
                s.startswith("@every "):
            return
        raise SettingError(f"unrecognized descriptor: {s}")
    fields = s.split()
    if len(fields) != 5:
        raise SettingError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]
    for text, (lo, hi) in zip(fields, bounds, strict=True):
        for part in text.split(","):
            rng = part.split("/")[0]
            if rng in ("*", "?"):
                continue
            ends = rng.split("-")
            for end in ends:
                if not end.isdigit():
                    if end.isalpha():
                        continue  # month / weekday names
                    raise SettingError(f"failed to parse int from {end}: strconv.Atoi: parsing {go_quote(end)}: "
                                       "invalid syntax")
            nums = [int(x) for x in ends if x.isdigit()]
            if nums and nums[0] < lo:
                raise SettingError(f"beginning of range ({nums[0]}) below minimum ({lo}): {part}")
            if nums and nums[-1] > hi:
                raise SettingError(f"end of range ({nums[-1]}) above maximum ({hi}): {part}")


def _check_tolerations(s: str) -> None:
    s = s.replace(" ", "")
    if not s:
        return
    for item in s.split(";"):
        parts = item.split(":")
        if len(parts) != 2:
            err = "missing key/value and effect pair"
        elif parts[1] not in ("", "NoExecute", "NoSchedule", "PreferNoSchedule"):
            err = f"invalid effect: {parts[1]}"
        else:
            continue
        # the real code wraps with the (nil) parsed toleration, whose String() is "nil"
        raise SettingError(f"failed to parse toleration: nil: {err}")


def _check_node_selector(s: str) -> None:
    s = s.strip(" ")
    if not s:
        return
    for label in s.split(";"):
        label = label.strip(" ")
        if len(label.split(":")) != 2:
            raise SettingError(f"Error while unmarshal node selector: invalid label {label}: should contain the "
                               "separator ':'")


def _check_network(s: str) -> None:
    if s and len(s.split("/")) != 2:
        raise SettingError(f"storage network must be in <namespace>/<name> format: {s}")


def _check_orphan_types(s: str) -> None:
    s = s.strip(" ")
    if not s:
        return
    invalid = [item for item in s.split(";") if item.strip(" ") not in ("replica-data", "instance")]
    if invalid:
        raise SettingError(f"invalid orphan resource types: {', '.join(invalid)}")


STRING_CHECKS = {
    "snapshot-data-integrity-cronjob": (_check_cron, "invalid cron job format: {v}"),
    "taint-toleration": (_check_tolerations, "the value of taint-toleration is invalid"),
    "system-managed-components-node-selector": (_check_node_selector,
                                                "the value of system-managed-components-node-selector is invalid"),
    "storage-network": (_check_network, "the value of storage-network is invalid"),
    "endpoint-network-for-rwx-volume": (_check_network, "the value of endpoint-network-for-rwx-volume is invalid"),
    "orphan-resource-auto-deletion": (_check_orphan_types, "the value of orphan-resource-auto-deletion is invalid"),
}


def _validate_typed(name: str, d: Definition, value: str) -> None:
    try:
        values = parse_values(d, value)
    except SettingError as e:
        raise SettingError(f"failed to parse value {value} for setting {d.display}: {e}") from None
    if not values:
        raise SettingError(f"failed to parse value {value} for setting {d.display}, value cannot be empty")
    defaults = parse_values(d, d.default)
    if len(values) != len(defaults):
        raise SettingError(f"mismatched data engines for setting {d.display}")
    for engine in values:
        if engine not in defaults:
            raise SettingError(f"data engine {engine} is not supported for setting {d.display}")
    errs = []
    for engine in sorted(values):
        v = values[engine]
        if d.type in ("int", "float"):
            if d.minimum is not None and v < d.minimum:
                errs.append(f"value {go_value(v)} for data engine {engine} should be larger than or equal to "
                            f"{go_value(d.minimum if d.type == 'float' else int(d.minimum))}")
            elif d.maximum is not None and v > d.maximum:
                errs.append(f"value {go_value(v)} for data engine {engine} should be less than or equal to "
                            f"{go_value(d.maximum if d.type == 'float' else int(d.maximum))}")
            elif d.choices and v not in d.choices:
                raise SettingError(f"value {go_value(v)} is not a valid choice, available choices "
                                   f"{go_value(d.choices)}")
        elif d.type == "string":
            if d.choices and v not in d.choices:
                raise SettingError(f"value {v} is not a valid choice, available choices {go_value(d.choices)}")
            if name in STRING_CHECKS:
                check, wrap = STRING_CHECKS[name]
                try:
                    check(v)
                except SettingError as e:
                    raise SettingError(f"{wrap.format(v=v)}: {e}") from None
    if errs:
        raise SettingError("\n".join(errs))


def validate_value(name: str, value: str) -> None:
    """types.ValidateSetting: raises SettingError("value <v> of settings <name> is invalid: ...")."""
    d = DEFINITIONS[name]
    try:
        if d.required and value == "":
            raise SettingError(f"required setting {name} shouldn't be empty")
        if d.type in ("bool", "int", "float", "string"):
            _validate_typed(name, d, value)
    except SettingError as e:
        raise SettingError(f"value {value} of settings {name} is invalid: {e}") from None


def _setting_value(store, name: str) -> str:
    kind = store.registry.by_plural(GROUP, "settings")
    live = store.peek(kind, NAMESPACE, name) if kind is not None else None
    return (live or {}).get("value", DEFINITIONS[name].default)


def _volumes(store) -> list[dict]:
    kind = store.registry.by_plural(GROUP, "volumes")
    return store.list(kind) if kind is not None else []


def _attached(volume: dict) -> bool:
    return (volume.get("status") or {}).get("state", "detached") != "detached"


def _datastore_checks(store, name: str, value: str, old_value: str | None) -> None:
    """datastore.ValidateSetting's rules beyond the types."""
    if name in ("v1-data-engine", "v2-data-engine") and old_value is not None and old_value != value:
        enabled = parse_bool(value)
        engine = name[:2]
        if not enabled and any(_attached(v) and (v.get("spec") or {}).get("dataEngine", "v1") == engine
                               for v in _volumes(store)):
            raise SettingError(f"cannot apply {name} setting to Longhorn workloads when there are attached "
                               f"{engine} volumes")
        if enabled and engine == "v2":
            hugepages = json.loads(_setting_value(store, "data-engine-hugepage-enabled") or "{}").get("v2", "true")
            if hugepages == "true":
                node_kind = store.registry.by_plural("", "nodes")
                for node in store.list(node_kind) if node_kind is not None else []:
                    if "hugepages-2Mi" not in ((node.get("status") or {}).get("capacity") or {}):
                        raise SettingError(f"failed to get hugepages-2Mi capacity for node {node['metadata']['name']}")
    pairs = {"auto-cleanup-system-generated-snapshot": "disable-snapshot-purge",
             "disable-snapshot-purge": "auto-cleanup-system-generated-snapshot"}
    if name in pairs and value == "true" and _setting_value(store, pairs[name]) == "true":
        raise SettingError(f"cannot set {name} setting to true when {pairs[name]} setting is true")
    if name == "snapshot-max-count":
        try:
            count = parse_int(value)
        except SettingError as e:
            raise SettingError(str(e).replace("ParseInt", "Atoi")) from None
        if count < 2 or count > 250:
            raise SettingError(f"{name} should be between 2 and 250")
    if name == "default-longhorn-static-storage-class" and value != DEFINITIONS[name].default:
        sc_kind = store.registry.by_plural("storage.k8s.io", "storageclasses")
        if sc_kind is not None and store.peek(sc_kind, "", value) is None:
            raise SettingError(f"cannot use a storage class {value} that does not exist to set the setting {name}: "
                               f'storageclasses.storage.k8s.io "{value}" not found')
    if name == "priority-class" and value:
        pc_kind = store.registry.by_plural("scheduling.k8s.io", "priorityclasses")
        if pc_kind is not None and store.peek(pc_kind, "", value) is None:
            raise SettingError(f"failed to get priority class {value} before modifying priority class setting: "
                               f'priorityclasses.scheduling.k8s.io "{value}" not found')


# ---------------------------------------------------------------------------------------- hooks
def _refuse(webhook: str, message: str, field_path: str):
    return denied(webhook, message, code=422, reason="Invalid", field=field_path)


def mutate_setting(req: Request) -> None:
    if req.subresource or req.operation not in ("CREATE", "UPDATE"):
        return
    name = req.obj["metadata"].get("name", "")
    if name not in DEFINITIONS:
        raise _refuse(MUTATOR, f"setting {name} does not exist", "metadata.name")
    value = req.obj.get("value")
    if not isinstance(value, str):
        return  # the schema refuses it next
    try:
        req.obj["value"] = valid_value(name, value)
    except SettingError as e:
        raise _refuse(MUTATOR, f"failed to get valid value for setting {name}: {e}", "value") from None


def validate_setting(req: Request) -> None:
    if req.subresource:
        return
    if req.operation == "DELETE":
        if req.name in DEFINITIONS:
            raise _refuse(VALIDATOR, f"setting {req.name} can be modified but not deleted", "metadata.name")
        return
    name = req.obj["metadata"].get("name", "")
    d = DEFINITIONS.get(name)
    if d is None:
        raise _refuse(VALIDATOR, f"setting {name} does not exist", "metadata.name")
    if req.operation == "UPDATE" and d.read_only and not req.by_system:
        flagged = any(UPDATE_FROM_LONGHORN in ((o or {}).get("metadata", {}).get("annotations") or {})
                      for o in (req.old, req.obj))
        if not flagged:
            raise _refuse(VALIDATOR, f"setting {name} is read-only", "metadata.name")
    value = req.obj.get("value", "")
    old_value = (req.old or {}).get("value") if req.operation == "UPDATE" else None
    try:
        validate_value(name, value)
        _datastore_checks(req.store, name, value, old_value)
    except SettingError as e:
        raise _refuse(VALIDATOR, f"failed to set the setting {name} with invalid value {value}: {e}",
                      "value") from None


def register(chain: Chain) -> None:
    """Add this area's mutating and validating hooks to the chain."""
    chain.mutate_with(GROUP, "Setting", mutate_setting)
    chain.validate_with(GROUP, "Setting", validate_setting)
