# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What this collection knows about Longhorn 1.12 settings (``settings.longhorn.io``), as data and
pure functions: no HTTP, no AnsibleModule. ``longhorn_setting`` wires it.

    from ansible_collections.homelab.harvester.plugins.module_utils import longhorn_settings as lhs
    errors = lhs.validate("default-replica-count", 2)          # [] -> fine
    wire = lhs.normalise("default-replica-count", 2)           # '{"v1":"2","v2":"2"}'
    lhs.same("default-replica-count", '{"v1":"2","v2":"2"}', "2")   # True: no phantom diff

Sources (each fact below names one):

- ``LH:types/setting.go`` -- longhorn/longhorn-manager, the stored 1.10 revision of the file (it
  still has ``offline-replica-rebuilding`` as data-engine specific, which 1.11 made scalar again):
  names, types, defaults, read-only flags, data-engine-specific defaults (ranges, choices and
  syntax are left to Longhorn's webhooks, which judge every change sent with dryRun=All).
- ``DOC:`` -- longhorn/website ``content/docs/1.12.0/references/settings.md``: the 1.11/1.12
  additions (``replica-rebuild-concurrent-sync-limit``, ``default-ublk-*``, ``manager-url``,
  ``node-disk-health-monitoring``, ``endpoint-network-for-rwx-volume``,
  ``snapshot-heavy-task-concurrent-limit``, ``system-managed-csi-components-resource-limits``,
  ``csi-allowed-topology-keys``, ``blacklist-for-auto-delete-pod-...``) and their defaults.
- ``REF:`` -- shared/reference/longhorn-capi.md section 1 (read at v1.12.1): the mutator's
  normalisation, the data-engine-specific set of 1.12.1, the applied semantics and the
  Harvester-owned / ConfigMap-overridden lists.

Where the three disagree the code wins, and the entry says so (``note``).

The wire format: ``value`` is always a string. A *data-engine-specific* (DES) setting stores a
JSON object with exactly the engine keys of its default (``{"v1":"3","v2":"3"}``); the mutating
webhook expands a scalar to every such engine, re-formats each value (ints base 10, bools
``true``/``false``, floats shortest) and marshals the map with sorted keys and no spaces
(Go's ``json.Marshal`` of a map). Everything else is stored verbatim. ``normalise`` produces
exactly that form, so what we send is what we read back, and ``same`` compares both sides
after the same normalisation.
"""

from __future__ import annotations

import difflib
import json
import re
from decimal import Decimal, InvalidOperation

ENGINES = ("v1", "v2")
V1 = ("v1",)
V2 = ("v2",)
BOTH = ("v1", "v2")

# Go strconv.ParseBool accepts exactly these.
_GO_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
_GO_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))

TYPES = ("bool", "int", "float", "string", "untyped", "deprecated")


class Setting:
    """One Longhorn setting definition: what the module needs to normalise and compare a value the
    way Longhorn's mutator stores it. Ranges, choices and syntax are Longhorn's webhook's to judge.

    ``type``: bool | int | float | string | untyped (no declared type: priority-class; any string) |
    deprecated (read-only image settings).
    ``engines``: None for a plain (non-DES) setting, else the engine keys its JSON value carries.
    """

    __slots__ = ("name", "type", "default", "read_only", "required", "engines", "danger_zone", "note")

    def __init__(self, name, type_, default="", read_only=False, required=True, engines=None, danger_zone=False, note=""):
        if type_ not in TYPES:
            raise ValueError(f"unknown setting type {type_!r}")
        self.name = name
        self.type = type_
        self.default = default
        self.read_only = read_only
        self.required = required
        self.engines = tuple(engines) if engines else None
        self.danger_zone = danger_zone
        self.note = note

    @property
    def data_engine_specific(self):
        return self.engines is not None

    def __repr__(self):
        return f"Setting({self.name}, {self.type}{', DES ' + '/'.join(self.engines) if self.engines else ''})"


def _des(engines, value):
    """The JSON default of a DES setting, as longhorn-manager writes it."""
    return json.dumps({e: value for e in engines}, separators=(",", ":"), sort_keys=True)


_CATALOGUE = [
    # --- system info (read-only unless noted) ------------------------------------------- LH:types/setting.go
    Setting("default-engine-image", "string", read_only=True),
    Setting("default-instance-manager-image", "deprecated", read_only=True),
    Setting("default-backing-image-manager-image", "deprecated", read_only=True),
    Setting("support-bundle-manager-image", "string", note="not read-only: the image can be changed"),
    Setting("current-longhorn-version", "string", read_only=True, required=False),
    Setting("latest-longhorn-version", "string", read_only=True, required=False),
    Setting("stable-longhorn-versions", "string", read_only=True, required=False),
    Setting("crd-api-version", "string", read_only=True),
    # --- general ----------------------------------------------------------------------------------------
    Setting("node-drain-policy", "string", "block-if-contains-last-replica"),
    Setting("detach-manually-attached-volumes-when-cordoned", "bool", "false"),
    Setting("auto-cleanup-system-generated-snapshot", "bool", "true"),
    Setting("auto-cleanup-recurring-job-backup-snapshot", "bool", "true"),
    Setting("auto-delete-pod-when-volume-detached-unexpectedly", "bool", "true"),
    Setting("blacklist-for-auto-delete-pod-when-volume-detached-unexpectedly", "string", required=False,
            note="DOC 1.12 (default empty; Harvester's chart sets kubevirt.io/VirtualMachineInstance); not in the 1.10 code read"),
    Setting("auto-salvage", "bool", "true"),
    Setting("concurrent-automatic-engine-upgrade-per-node-limit", "int", "0"),
    Setting("concurrent-volume-backup-restore-per-node-limit", "int", "5"),
    Setting("create-default-disk-labeled-nodes", "bool", "false"),
    Setting("default-data-locality", "string", "disabled"),
    Setting("default-data-path", "string", "/var/lib/longhorn/"),
    Setting("default-longhorn-static-storage-class", "string", "longhorn-static"),
    Setting("default-replica-count", "int", _des(BOTH, "3"), engines=BOTH),
    Setting("deleting-confirmation-flag", "bool", "false"),
    Setting("disable-revision-counter", "bool", _des(V1, "true"), engines=V1),
    Setting("upgrade-checker", "bool", "true"),
    Setting("upgrade-responder-url", "string", "https://longhorn-upgrade-responder.rancher.io/v1/checkupgrade"),
    Setting("allow-collecting-longhorn-usage-metrics", "bool", "true"),
    Setting("node-down-pod-deletion-policy", "string", "do-nothing"),
    Setting("registry-secret", "string", required=False),
    Setting("replica-replenishment-wait-interval", "int", "600"),
    Setting("system-managed-pods-image-pull-policy", "string", "if-not-present"),
    Setting("backing-image-cleanup-wait-interval", "int", "60"),
    Setting("backing-image-recovery-wait-interval", "int", "300"),
    Setting("default-min-number-of-backing-image-copies", "int", "3",
            note="default 3 from the code (DefaultMinNumberOfCopies); the 1.12 docs say 1"),
    Setting("engine-replica-timeout", "int", _des(BOTH, "8"), engines=BOTH),
    Setting("support-bundle-failed-history-limit", "int", "1", required=False),
    Setting("support-bundle-node-collection-timeout", "int", "30"),
    Setting("fast-replica-rebuild-enabled", "bool", _des(BOTH, "true"), engines=BOTH),
    Setting("replica-file-sync-http-client-timeout", "int", "30"),
    Setting("long-grpc-timeout", "int", "86400"),
    Setting("offline-replica-rebuilding", "bool", "false",
            note="REF+DOC: scalar again since 1.11 (1.10 had it data-engine specific)"),
    Setting("rwx-volume-fast-failover", "bool", "false"),
    Setting("log-level", "string", "Info"),
    Setting("data-engine-log-level", "string", _des(V2, "Notice"), engines=V2),
    Setting("data-engine-log-flags", "string", _des(V2, ""), engines=V2, required=False),
    Setting("replica-rebuilding-bandwidth-limit", "int", _des(V2, "0"), engines=V2, required=False,
            note="0 = unlimited"),
    Setting("manager-url", "string", required=False, note="DOC 1.12: scheme://host[:port], http or https, no path"),
    Setting("default-ublk-queue-depth", "int", _des(V2, "128"), engines=V2,
            note="DOC 1.12 default"),
    Setting("default-ublk-number-of-queue", "int", _des(V2, "1"), engines=V2,
            note="DOC 1.12 default"),
    Setting("node-disk-health-monitoring", "bool", "true", note="DOC 1.12"),
    Setting("kubernetes-cluster-autoscaler-enabled", "bool", "false"),
    # --- snapshot ---------------------------------------------------------------------------------------
    Setting("snapshot-data-integrity", "string", _des(BOTH, "fast-check"),
            engines=BOTH),
    Setting("snapshot-data-integrity-immediate-check-after-snapshot-creation", "bool", _des(BOTH, "false"), engines=BOTH),
    Setting("snapshot-data-integrity-cronjob", "string", _des(BOTH, "0 0 */7 * *"), engines=BOTH),
    Setting("snapshot-max-count", "int", "250",
            note="the webhook bounds it 2..250 (REF section 1.2)"),
    Setting("freeze-filesystem-for-snapshot", "bool", _des(V1, "false"), engines=V1),
    Setting("remove-snapshots-during-filesystem-trim", "bool", "false"),
    Setting("disable-snapshot-purge", "bool", "false", danger_zone=True),
    Setting("auto-cleanup-when-delete-backup", "bool", "false"),
    Setting("auto-cleanup-snapshot-after-on-demand-backup-completed", "bool", "false"),
    # --- orphan -----------------------------------------------------------------------------------------
    Setting("orphan-resource-auto-deletion", "string", required=False),
    Setting("orphan-resource-auto-deletion-grace-period", "int", "300"),
    # --- backup -----------------------------------------------------------------------------------------
    Setting("allow-recurring-job-while-volume-detached", "bool", "false"),
    Setting("backup-execution-timeout", "int", "1"),
    Setting("failed-backup-ttl", "int", "1440"),
    Setting("recurring-failed-jobs-history-limit", "int", "1", required=False),
    Setting("recurring-successful-jobs-history-limit", "int", "1", required=False),
    Setting("recurring-job-max-retention", "int", "100",
            note="in the 1.10 code; not in the 1.12 docs' list -- may have been removed"),
    Setting("restore-volume-recurring-jobs", "bool", "false"),
    Setting("backup-compression-method", "string", "lz4"),
    Setting("backup-concurrent-limit", "int", "2"),
    Setting("restore-concurrent-limit", "int", "2"),
    Setting("default-backup-block-size", "int", "2"),
    # --- scheduling -------------------------------------------------------------------------------------
    Setting("allow-volume-creation-with-degraded-availability", "bool", "true"),
    Setting("disable-scheduling-on-cordoned-node", "bool", "true"),
    Setting("replica-soft-anti-affinity", "bool", "false"),
    Setting("replica-zone-soft-anti-affinity", "bool", "true"),
    Setting("replica-disk-soft-anti-affinity", "bool", "true"),
    Setting("replica-auto-balance", "string", "disabled"),
    Setting("replica-auto-balance-disk-pressure-percentage", "int", "90", note="0 disables"),
    Setting("storage-minimal-available-percentage", "int", "25"),
    Setting("storage-over-provisioning-percentage", "int", "100"),
    Setting("storage-reserved-percentage-for-default-disk", "int", "30"),
    Setting("allow-empty-node-selector-volume", "bool", "true"),
    Setting("allow-empty-disk-selector-volume", "bool", "true"),
    # --- danger zone ------------------------------------------------------------------------------------
    Setting("v1-data-engine", "bool", "true", danger_zone=True),
    Setting("v2-data-engine", "bool", "false", danger_zone=True),
    Setting("concurrent-replica-rebuild-per-node-limit", "int", "5", danger_zone=True),
    Setting("replica-rebuild-concurrent-sync-limit", "int", _des(V1, "1"), engines=V1, danger_zone=True,
            note="DOC 1.12: v1 only; the definition itself was not read"),
    Setting("concurrent-backing-image-replenish-per-node-limit", "int", "5", danger_zone=True),
    Setting("taint-toleration", "string", required=False, danger_zone=True),
    Setting("priority-class", "untyped", required=False, danger_zone=True,
            note="no declared type; the webhook checks the PriorityClass exists (needs the cluster)"),
    Setting("system-managed-components-node-selector", "string", required=False, danger_zone=True),
    Setting("storage-network", "string", required=False, danger_zone=True),
    Setting("endpoint-network-for-rwx-volume", "string", required=False, danger_zone=True,
            note="REF+DOC 1.12; replaces storage-network-for-rwx-volume-enabled"),
    Setting("guaranteed-instance-manager-cpu", "float", _des(BOTH, "12"), engines=BOTH, danger_zone=True),
    Setting("instance-manager-pod-liveness-probe-timeout", "int", "10", danger_zone=True),
    Setting("data-engine-cpu-mask", "string", _des(V2, "0x1"), engines=V2, danger_zone=True),
    Setting("data-engine-hugepage-enabled", "bool", _des(V2, "true"), engines=V2, danger_zone=True),
    Setting("data-engine-memory-size", "int", _des(V2, "2048"), engines=V2, danger_zone=True),
    Setting("data-engine-interrupt-mode-enabled", "bool", _des(V2, "false"), engines=V2, danger_zone=True),
    Setting("log-path", "string", "/var/lib/longhorn/logs/", danger_zone=True),
    Setting("snapshot-heavy-task-concurrent-limit", "int", "5", danger_zone=True,
            note="DOC 1.12 (< 1 = unlimited); definition not read"),
    Setting("system-managed-csi-components-resource-limits", "string", required=False, danger_zone=True,
            note="DOC 1.12: a JSON object component -> ResourceRequirements, stored as a plain string"),
    Setting("csi-allowed-topology-keys", "string", required=False, danger_zone=True, note="DOC 1.12: comma-separated label keys"),
]

SETTINGS = {s.name: s for s in _CATALOGUE}
NAMES = tuple(sorted(SETTINGS))

# Names that are not Longhorn 1.12 settings any more, with where the knob went. Longhorn answers
# "setting <name> does not exist"; we say where to look instead.
REPLACED = {
    "orphan-auto-deletion": "orphan-resource-auto-deletion",
    "v2-data-engine-hugepage-limit": "data-engine-memory-size",
    "v2-data-engine-guaranteed-instance-manager-cpu": "guaranteed-instance-manager-cpu (its v2 key)",
    "v2-data-engine-cpu-mask": "data-engine-cpu-mask",
    "v2-data-engine-log-level": "data-engine-log-level",
    "v2-data-engine-log-flags": "data-engine-log-flags",
    "v2-data-engine-fast-replica-rebuilding": "fast-replica-rebuild-enabled (its v2 key)",
    "v2-data-engine-snapshot-data-integrity": "snapshot-data-integrity (its v2 key)",
    "storage-network-for-rwx-volume-enabled": "endpoint-network-for-rwx-volume",
}

# Longhorn settings Harvester writes from one of its own settings: a value set here is overwritten
# on Harvester's next sync, so the module refuses them and points at the Harvester setting.
# (REF section 1.2 "Harvester" column and section 7 item 3/4.)
OWNED_BY_HARVESTER = {
    "storage-network": "storage-network",
    "endpoint-network-for-rwx-volume": "rwx-network",
    "storage-over-provisioning-percentage": "overcommit-config (field storage)",
    # Overwritten from instance-manager-resources once that Harvester setting has been configured
    # (REF section 1.2); before that a Longhorn-side value survives, but it is a trap either way.
    "guaranteed-instance-manager-cpu": "instance-manager-resources (field cpu.v1 / cpu.v2)",
    "v2-data-engine": "longhorn-v2-data-engine-enabled",
    # Not Settings at all since Longhorn 1.8: fields of the BackupTarget CR `default`, which
    # Harvester writes from its backup-target setting (REF section 1.2 and 7 item 4).
    "backup-target": "backup-target",
    "backup-target-credential-secret": "backup-target (the S3 keys; Harvester keeps them in a secret)",
    "backupstore-poll-interval": "backup-target (field refreshIntervalInSeconds)",
}
# Checked and NOT owned: storage-minimal-available-percentage (REF table: Harvester "--"; Harvester's
# overcommit-config only carries the over-provisioning percentage).

# Settings listed in the longhorn-default-setting ConfigMap Harvester's chart renders: Longhorn
# rewrites them back to the ConfigMap value at every manager start and whenever the ConfigMap
# changes (datastore.UpdateCustomizedSettings, REF section 1.3). Allowed, with a warning.
REVERTED_BY_CONFIGMAP = {
    "priority-class": "system-cluster-critical",
    "auto-cleanup-when-delete-backup": "true",
    "orphan-resource-auto-deletion": "instance",
    "auto-delete-pod-when-volume-detached-unexpectedly": "true",
    "blacklist-for-auto-delete-pod-when-volume-detached-unexpectedly": "kubevirt.io/VirtualMachineInstance",
    "concurrent-automatic-engine-upgrade-per-node-limit": "3",
}
# Settings a newer Harvester writes when one of its settings syncs (harvester/harvester
# pkg/controller/master/setting syncNodeConfig, revision with longhorn-v2-data-engine-hugepage-enabled
# and longhorn-v2-data-engine-memory-size). NOT verified to exist in v1.8.2 -- so a warning, not a refusal.
REVERTED_BY_HARVESTER = {
    "data-engine-hugepage-enabled": "longhorn-v2-data-engine-hugepage-enabled",
    "data-engine-memory-size": "longhorn-v2-data-engine-memory-size",
}

# Applied only when volumes are detached (controller/setting_controller.go, REF section 1.3): the
# webhook accepts the change, status.applied stays false until then. Same list 1.9.1 .. 1.12.1.
DANGER_ZONE = frozenset(("taint-toleration", "system-managed-components-node-selector", "priority-class", "storage-network"))
# ... and until every RWX volume is detached:
DANGER_ZONE_RWX = frozenset(("endpoint-network-for-rwx-volume",))
# Applied per data engine to instance managers once those run no instances.
APPLIED_WHEN_INSTANCE_MANAGERS_IDLE = frozenset(("v1-data-engine", "v2-data-engine", "guaranteed-instance-manager-cpu"))

# Mutually exclusive when both are true (REF section 1.2: the webhook rejects the second one).
MUTUALLY_EXCLUSIVE = (("auto-cleanup-system-generated-snapshot", "disable-snapshot-purge"),)


def _prefix(name):
    return f"settings.{name}"


def closest(name, n=3):
    """The known names closest to ``name`` (difflib), best first."""
    return difflib.get_close_matches(name, NAMES, n=n, cutoff=0.6)


def go_format_float(number):
    """Go's ``strconv.FormatFloat(f, 'f', -1, 64)``: the shortest decimal that round-trips, no exponent,
    no trailing ``.0`` (``12.0`` -> ``12``, ``0.5`` -> ``0.5``, ``1e-05`` -> ``0.00001``)."""
    text = format(Decimal(repr(float(number))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cpu_list_to_mask(text):
    """``1-3,5`` -> ``0x2e``. REF section 1.1 says the mutator turns a CPU list into a hex mask; the
    exact spelling Longhorn writes (prefix, case) was not read -- this is ``0x`` + lower-case hex."""
    mask = 0
    for part in text.split(","):
        low, _sep, high = part.partition("-")
        first, last = int(low), int(high or low)
        if last < first:
            raise ValueError(f"CPU range {part} runs backwards")
        for cpu in range(first, last + 1):
            mask |= 1 << cpu
    return f"0x{mask:x}"


_CPU_LIST = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def _scalar(setting, value):
    """One value (of one engine, or of a plain setting) in its stored form; ValueError if the type is wrong."""
    kind = setting.type
    if kind == "bool":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            text = value.strip()
            if text in _GO_TRUE:
                return "true"
            if text in _GO_FALSE:
                return "false"
        raise ValueError(f"{value!r} is not a boolean")
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not an integer")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            return str(int(value.strip()))
        raise ValueError(f"{value!r} is not an integer")
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        if isinstance(value, (int, float)):
            return go_format_float(value)
        if isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a number") from None
            if not number.is_finite():
                raise ValueError(f"{value!r} is not a number")
            return go_format_float(float(number))
        raise ValueError(f"{value!r} is not a number")
    # string, enum, untyped, deprecated
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not a string")
    text = value if isinstance(value, str) else str(value)
    if setting.name == "data-engine-cpu-mask" and _CPU_LIST.match(text.strip()):
        return _cpu_list_to_mask(text.strip())
    return text


def _parse_json_object(value):
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _engine_map(setting, value):
    """The per-engine dict a DES value means (a dict, a JSON string, or a scalar to expand).
    Returns ``(values, was_scalar)``; ValueError for a partial or foreign engine set."""
    given = value if isinstance(value, dict) else _parse_json_object(value)
    if given is None:
        text = _scalar(setting, value)
        return {engine: text for engine in setting.engines}, True
    keys = set(given)
    unknown = sorted(keys - set(setting.engines))
    missing = [e for e in setting.engines if e not in keys]
    if unknown:
        raise ValueError(f"data engine {', '.join(map(str, unknown))} is not supported "
                         f"(this setting takes {', '.join(setting.engines)})")
    if missing:
        raise ValueError(f"needs a value for every data engine it supports ({', '.join(setting.engines)}); "
                         f"{', '.join(missing)} missing -- give all of them, or one plain value for all")
    out = {}
    for engine in setting.engines:
        try:
            out[engine] = _scalar(setting, given[engine])
        except ValueError as e:
            raise ValueError(f"{engine}: {e}") from None
    return out, False


def lookup(name):
    """The ``Setting`` for ``name``, or None."""
    return SETTINGS.get(name)


def normalise(name, value):
    """The stored wire form of ``value`` for setting ``name`` (what Longhorn's mutator would keep).

    bool -> ``"true"``/``"false"``; int -> ``"3"``; float -> Go's shortest form; a DES setting ->
    ``{"v1":"3","v2":"3"}`` with exactly its engines, sorted, compact (a scalar is expanded, a dict
    or JSON string must name every engine). ``None`` means empty. Raises ValueError (message
    without the ``settings.<name>`` prefix) for unknown names and values of the wrong type.
    """
    setting = SETTINGS.get(name)
    if setting is None:
        raise ValueError(f"unknown Longhorn setting {name!r}")
    if value is None:
        value = ""
    if setting.data_engine_specific:
        if isinstance(value, str) and value.strip() == "" and not setting.required:
            value = ""
        values = _engine_map(setting, value)[0]
        return json.dumps(values, separators=(",", ":"), sort_keys=True)
    if isinstance(value, dict):
        raise ValueError("takes one value for all data engines, not a per-engine mapping")
    if isinstance(value, str) and value.strip() == "" and setting.type in ("bool", "int", "float"):
        return value  # nothing to re-format; Longhorn judges an empty value
    return _scalar(setting, value)


def tolerations_key(text):
    """A comparable form of a ``taint-toleration`` value: its ``;`` items without spaces (Longhorn
    strips them), sorted; Longhorn's webhook judges the syntax."""
    text = text.replace(" ", "")
    return tuple(sorted(item for item in text.split(";") if item)) if text else ()


def node_selector_key(text):
    """A comparable form of a ``system-managed-components-node-selector`` value: its ``;`` items
    stripped, sorted."""
    return tuple(sorted(item.strip() for item in text.strip().split(";") if item.strip()))


# ---------------------------------------------------------------------------------------- validation
# Longhorn's webhooks (mutator.longhorn.io, validator.longhorn.io: types.ValidateSetting and
# datastore.ValidateSetting) judge every value: the module sends each change with dryRun=All
# before writing any (setting_objects.apply_all) and reports the refusal. What is checked here is
# not theirs: the names (closest matches; where a name went; what Harvester owns), the type of a
# natural value as ``normalise`` reads it, and the rules below no webhook has.


def _kubernetes_toleration_keys(text):
    # Longhorn's docs: a toleration key must not contain kubernetes.io (Kubernetes' own default
    # tolerations); longhorn-manager 1.12 does not check it (util.IsKubernetesDefaultToleration
    # has no caller), so the value would be stored.
    return [f"toleration key {item.split(':')[0].split('=')[0]!r} must not use the kubernetes.io prefix"
            for item in tolerations_key(text) if "kubernetes.io" in item.split(":")[0].split("=")[0]]


LOCAL_RULES = {"taint-toleration": _kubernetes_toleration_keys}


def validate(name, value):
    """What is wrong with setting ``name`` = ``value`` before anything is sent; [] when fine
    (Longhorn's webhooks judge ranges, choices and syntax).

    Messages name the field: ``settings.default-replica-count.v2: 'x' is not an integer`` for one
    engine of a per-engine mapping.
    """
    prefix = _prefix(name)
    setting = SETTINGS.get(name)
    if setting is None:
        # Needed locally, a materially better message: Longhorn's mutator says only "setting <name>
        # does not exist"; this names the closest names, where a removed one went, or Harvester's.
        if name in OWNED_BY_HARVESTER:
            return [f"{prefix}: is not a Longhorn 1.12 setting (since Longhorn 1.8 it is part of the BackupTarget CR "
                    f"`default`); Harvester manages it: set the Harvester setting {OWNED_BY_HARVESTER[name]} instead"]
        if name in REPLACED:
            return [f"{prefix}: no longer exists in Longhorn 1.12; it was replaced by {REPLACED[name]}"]
        near = closest(name)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        return [f"{prefix}: unknown Longhorn setting{hint}"]
    if name in OWNED_BY_HARVESTER:
        # Longhorn accepts it; Harvester writes it back from its own setting.
        return [f"{prefix}: is managed by Harvester and would be overwritten; set the Harvester setting "
                f"{OWNED_BY_HARVESTER[name]} instead"]
    try:
        # The type of a natural value and the per-engine form: shape checks, which stay local --
        # ``normalise`` must read a value to compare it with the stored one at all.
        stored = normalise(name, value)
    except ValueError as e:
        return [f"{prefix}: {e}"]
    check = LOCAL_RULES.get(name)
    return [f"{prefix}: {m}" for m in check(stored)] if check else []


def validate_all(settings):
    """``validate`` for every item of a name -> value mapping, plus the checks between settings.

    Needed locally: ``auto-cleanup-system-generated-snapshot`` and ``disable-snapshot-purge`` both
    true. Longhorn judges each against the *stored* other, so both pass their dry runs and the
    second real write is refused after the first was stored; a batch is checked before it starts."""
    problems = []
    for name, value in settings.items():
        problems.extend(validate(name, value))
    for first, second in MUTUALLY_EXCLUSIVE:
        if first in settings and second in settings:
            try:
                both = normalise(first, settings[first]) == "true" and normalise(second, settings[second]) == "true"
            except ValueError:
                both = False
            if both:
                problems.append(f"{_prefix(second)}: cannot be true while {first} is true (Longhorn refuses the pair)")
    return problems


def warnings(name):
    """Non-fatal notes for setting ``name``: who may revert it, when it applies."""
    out = []
    if name in REVERTED_BY_CONFIGMAP:
        out.append(f"{_prefix(name)}: Harvester lists this setting in the longhorn-default-setting ConfigMap "
                   f"(value {REVERTED_BY_CONFIGMAP[name]!r}); Longhorn rewrites it back on the next manager restart "
                   f"or Harvester upgrade")
    if name in REVERTED_BY_HARVESTER:
        out.append(f"{_prefix(name)}: newer Harvester releases write this from the Harvester setting "
                   f"{REVERTED_BY_HARVESTER[name]}; a value set here may be overwritten")
    if name in DANGER_ZONE:
        out.append(f"{_prefix(name)}: Longhorn applies this only when all volumes are detached")
    if name in DANGER_ZONE_RWX:
        out.append(f"{_prefix(name)}: Longhorn applies this only when all RWX volumes are detached")
    return out


def _canonical(name, value):
    """A comparable form of ``value`` (stored string or desired value); raises ValueError."""
    setting = SETTINGS[name]
    text = normalise(name, value)
    if setting.data_engine_specific:
        return tuple(sorted(json.loads(text).items()))
    if setting.type in ("bool", "int", "float"):
        return text.strip()
    if name == "taint-toleration":
        return tolerations_key(text)
    if name == "system-managed-components-node-selector":
        return node_selector_key(text)
    return text


def same(name, stored, desired):
    """Whether the stored value already is ``desired`` once both are normalised the way Longhorn's
    mutator does (``"3"``, ``3`` and ``{"v1":"3","v2":"3"}`` are one value of default-replica-count).
    Values that cannot be normalised (unknown setting, wrong type) compare as raw strings."""
    if stored is None:
        stored = ""
    if name not in SETTINGS:
        return str(stored) == ("" if desired is None else str(desired))
    try:
        return _canonical(name, stored) == _canonical(name, desired)
    except ValueError:
        try:
            return str(stored) == normalise(name, desired)
        except ValueError:
            return False


def pending_reason(name, applied):
    """Why ``status.applied`` is false, when that is expected rather than a failure; None otherwise.

    For the danger-zone settings the module reports "changed, pending until volumes detach" instead
    of failing; for the data-engine switches and guaranteed-instance-manager-cpu Longhorn applies
    per engine once instance managers run no instances. Any other setting with ``applied=false``
    after the wait is a real failure (None).
    """
    if applied:
        return None
    if name in DANGER_ZONE:
        return "pending until all Longhorn volumes are detached (in Harvester: until the VMs using them are stopped)"
    if name in DANGER_ZONE_RWX:
        return "pending until all RWX Longhorn volumes are detached"
    if name in APPLIED_WHEN_INSTANCE_MANAGERS_IDLE:
        return "pending until the instance managers of the affected data engine run no volumes"
    return None


def is_pending_not_failed(name, applied):
    """True when ``applied=false`` for ``name`` means "pending", to report rather than fail."""
    return pending_reason(name, applied) is not None
