# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What this collection knows about Harvester v1.8 settings (``settings.harvesterhci.io``), as data and
pure functions: no HTTP, no AnsibleModule. ``harvester_setting`` wires it.

    from ansible_collections.homelab.harvester.plugins.module_utils import harvester_settings as hs
    errors = hs.validate("log-levl", "debug")       # unknown name, shape, LOCAL_RULES; the webhook judges the rest
    wire = hs.serialise({"memory": 150, "cpu": 1000, "storage": 100})   # '{"cpu":1000,"memory":150,"storage":100}'
    hs.same("backup-target", stored_value, desired)                     # ignores the S3 keys Harvester blanks
    hs.mask("backup-target", value)                                      # for diff / output

Sources:

- ``H:pkg/settings/settings.go`` -- harvester/harvester, the stored v1.6-era revision (names and
  defaults); ``REF:`` shared/reference/harvester-api.md sections 1.1, 3 and 11 (read at v1.8.2) for
  the v1.8 names and defaults (rwx-network, instance-manager-resources, cluster-pod-security-standard,
  overcommit-config ``{"cpu":1000,"memory":150,"storage":100}``, cluster-registration-url as JSON).
- ``H:pkg/webhook/resources/setting/validator.go`` (v1.8): the webhook that judges the values; this
  file repeats none of its rules but the storage-network checks ``harvester_storage_network`` needs
  before it stops VMs (``network_problems``), and lists the rules the webhook does not have.
- ``H:pkg/controller/master/backup/backup_target.go`` / setting controller (REF section 3, 11.2):
  what Harvester rewrites (S3 keys blanked in backup-target, credentials stripped from
  containerd-registry), which ``same`` ignores.

Serialisation choice (``serialise``): JSON with **sorted keys and compact separators**. Harvester
stores whatever string it is given; the ``harvesterhci.io/hash`` annotation and the controllers'
"changed?" logic work on that raw string (REF section 11.1: insignificant characters make "a
different configuration"). Go's ``json.Marshal`` of a struct writes no spaces, and of a map sorted
keys; the UI writes ``JSON.stringify`` (no spaces, insertion order). Sorted + compact is the one
spelling that is stable whatever order the inventory's YAML mapping had, so the module never
rewrites a value just because a dict was built in another order -- and ``same`` compares parsed
JSON anyway, so a value the UI wrote in another key order is not a change either.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import json
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

MASK = "********"


class HSetting(NamedTuple):
    """One Harvester setting. ``json``: the value is a JSON document in a string. ``struct``: Harvester
    decodes it into a Go struct, so a missing member and its zero value (``""``, ``0``, ``false``,
    ``{}``, ``[]``, null) mean the same. ``protected``: the webhook refuses DELETE (reset the value to
    ``""`` instead). ``read_only``: written by Harvester itself, never by users."""

    name: str
    json: bool = False
    default: str = ""
    struct: bool = False
    protected: bool = False
    read_only: bool = False
    note: str = ""

    def __repr__(self):
        return f"HSetting({self.name}{', json' if self.json else ''})"


_CATALOGUE = [
    HSetting("additional-ca"),
    HSetting("additional-guest-memory-overhead-ratio", default="1.5"),
    HSetting("api-ui-version", default="1.1.9", read_only=True),
    HSetting("auto-disk-provision-paths"),
    HSetting("auto-rotate-rke2-certs", True, '{"enable":false,"expiringInHours":240}', struct=True),
    HSetting("backup-target", True, struct=True),
    HSetting("cluster-pod-security-standard", True,
             '{"enabled":false,"whitelistedNamespacesList":"","privilegedNamespacesList":"","restrictedNamespacesList":""}',
             struct=True, protected=True, note="default not read in source (REF: 'JSON, see settings.go')"),
    HSetting("cluster-registration-url", True, '{"url":"","insecureSkipTLSVerify":false}', struct=True,
             note="v1.8 JSON; a plain URL string is still accepted"),
    HSetting("containerd-registry", True, struct=True),
    HSetting("csi-driver-config", True,
             '{"driver.longhorn.io":{"volumeSnapshotClassName":"longhorn-snapshot","backupVolumeSnapshotClassName":"longhorn"}}'),
    HSetting("csi-online-expand-validation", True, '{"driver.longhorn.io":true}'),
    HSetting("default-storage-class", default="longhorn"),
    HSetting("default-vm-termination-grace-period-seconds", default="120"),
    HSetting("harvester-csi-ccm-versions", True,
             '{"harvester-cloud-provider":">=0.0.1 <0.3.0","harvester-csi-provider":">=0.0.1 <0.3.0"}', read_only=True),
    HSetting("http-proxy", True, "{}", struct=True),
    HSetting("instance-manager-resources", True, '{"cpu":{}}', struct=True, protected=True),
    HSetting("kubeconfig-default-token-ttl-minutes", default="0"),
    HSetting("kubevirt-migration", True, struct=True, note="default not read in source"),
    HSetting("log-level", default="info"),
    HSetting("longhorn-v2-data-engine-enabled", default="false"),
    HSetting("max-hotplug-ratio", default="4"),
    HSetting("ntp-servers", True, struct=True),
    HSetting("overcommit-config", True, '{"cpu":1000,"memory":150,"storage":100}', struct=True),
    HSetting("rancher-cluster", True, "{}", struct=True),
    HSetting("release-download-url", default="https://releases.rancher.com/harvester"),
    HSetting("rwx-network", True, '{"share-storage-network":false}', struct=True, protected=True, note="new in v1.8"),
    HSetting("server-version", default="dev", read_only=True),
    HSetting("ssl-certificates", True, "{}", struct=True),
    HSetting("ssl-parameters", True, "{}", struct=True),
    HSetting("storage-network", True, struct=True, protected=True),
    HSetting("support-bundle-expiration"),
    HSetting("support-bundle-image", True, "{}", struct=True),
    HSetting("support-bundle-namespaces"),
    HSetting("support-bundle-node-collection-timeout"),
    HSetting("support-bundle-timeout"),
    HSetting("ui-index"),
    HSetting("ui-path", default="/usr/share/harvester/harvester"),
    HSetting("ui-plugin-index"),
    HSetting("ui-plugin-bundled-version", read_only=True),
    HSetting("ui-source", default="auto"),
    HSetting("upgradable-versions", read_only=True),
    HSetting("upgrade-checker-enabled", default="true"),
    HSetting("upgrade-checker-url", default="https://harvester-upgrade-responder.rancher.io/v1/checkupgrade"),
    HSetting("upgrade-config", True,
             '{"imagePreloadOption":{"strategy":{"type":"sequential"}},"nodeUpgradeOption":{"strategy":{"mode":"auto"}},'
             '"restoreVM":false,"logReadyTimeout":"5"}', struct=True),
    HSetting("vip-pools", True),
    HSetting("vm-force-reset-policy", True, '{"enable":true,"period":15,"vmMigrationTimeout":180}', struct=True),
    HSetting("vm-migration-network", True, struct=True, protected=True),
    HSetting("volume-snapshot-class", default="longhorn"),
]

SETTINGS = {s.name: s for s in _CATALOGUE}
NAMES = tuple(sorted(SETTINGS))
PROTECTED_FROM_DELETE = frozenset(s.name for s in _CATALOGUE if s.protected)

# Per setting, the JSON paths of secrets ("*" = every key of a mapping), masked in diff/output.
SECRET_FIELDS = {
    "backup-target": (("accessKeyId",), ("secretAccessKey",)),
    "containerd-registry": (("Configs", "*", "Auth", "Password"), ("Configs", "*", "Auth", "Auth"),
                            ("Configs", "*", "Auth", "IdentityToken")),
    "ssl-certificates": (("privateKey",),),
}
# Per setting, JSON paths holding URLs whose userinfo password is a secret (http://user:pass@proxy:3128).
SECRET_URL_FIELDS = {
    "http-proxy": (("httpProxy",), ("httpsProxy",)),
}
# What the Harvester controllers strip from the stored value after copying it into a Secret:
# never a difference (REF section 3 and 11.2).
STRIPPED_BY_HARVESTER = {
    "backup-target": (("accessKeyId",), ("secretAccessKey",)),
    "containerd-registry": (("Configs", "*", "Auth"),),
}

LOG_LEVELS = ("panic", "fatal", "error", "warn", "info", "debug", "trace")
_MIN_PREFIX = 16                                        # H validator.go minSNPrefixLength
_NETWORK_SETTINGS = ("storage-network", "vm-migration-network")


def closest(name, n=3):
    return difflib.get_close_matches(name, NAMES, n=n, cutoff=0.6)


def _prefix(name):
    return f"settings.{name}"


def serialise(value):
    """The string to store: a str stays as it is; dict/list -> JSON with sorted keys, no spaces;
    bool -> ``true``/``false``; numbers -> their decimal text; None -> ``""`` (reset to default)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _parse(setting, value):
    """The parsed JSON of a value (str or already a dict/list); None for empty. ValueError if not JSON."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return copy.deepcopy(value)
    text = serialise(value)
    if text.strip() == "":
        return None
    if setting is not None and setting.name == "cluster-registration-url" and not text.lstrip().startswith("{"):
        return {"url": text}
    return json.loads(text)


def _walk_drop(node, path):
    """Remove the member at ``path`` (with "*" wildcards) from nested dicts, in place."""
    if not isinstance(node, dict) or not path:
        return
    head, rest = path[0], path[1:]
    keys = list(node) if head == "*" else [head]
    for key in keys:
        if key not in node:
            continue
        if rest:
            _walk_drop(node[key], rest)
        else:
            del node[key]


def _walk_map(node, path, fn):
    """Replace the member at ``path`` by ``fn(member)``, in place."""
    if not isinstance(node, dict) or not path:
        return
    head, rest = path[0], path[1:]
    for key in (list(node) if head == "*" else [head]):
        if key not in node:
            continue
        if rest:
            _walk_map(node[key], rest, fn)
        else:
            node[key] = fn(node[key])


def _prune_zero(node):
    """Drop members whose value is a Go zero value (recursively): what Go's struct decoding cannot tell
    from absent. List items are kept (only emptied containers inside them are normalised)."""
    if isinstance(node, dict):
        out = {}
        for key, member in node.items():
            member = _prune_zero(member)
            if member is None or member == "" or member is False or member == {} or member == []:
                continue
            if isinstance(member, (int, float)) and not isinstance(member, bool) and member == 0:
                continue
            out[key] = member
        return out
    if isinstance(node, list):
        return [_prune_zero(item) for item in node]
    return node


def _comparable(name, value):
    setting = SETTINGS.get(name)
    parsed = _parse(setting, value)
    for path in STRIPPED_BY_HARVESTER.get(name, ()):
        _walk_drop(parsed, path)
    if name in _NETWORK_SETTINGS and isinstance(parsed, dict) and isinstance(parsed.get("exclude"), list):
        # Order of exclude ranges carries no meaning (the Terraform provider suppresses exactly this diff).
        parsed["exclude"] = sorted(parsed["exclude"], key=str)
    if name == "rwx-network" and isinstance(parsed, dict) and isinstance(parsed.get("network"), dict):
        net = parsed["network"]
        if isinstance(net.get("exclude"), list):
            net["exclude"] = sorted(net["exclude"], key=str)
    if setting is not None and setting.struct:
        parsed = _prune_zero(parsed if parsed is not None else {})
    return parsed


def same(name, stored, desired):
    """Whether the stored value already is ``desired``.

    JSON-valued settings are compared parsed; members Harvester strips (S3 keys of backup-target,
    ``Configs.*.Auth`` of containerd-registry) never count; for settings Harvester decodes into Go
    structs a missing member equals its zero value, and ``""`` equals ``{}``; the order of
    storage-network ``exclude`` ranges does not matter. Plain settings compare as strings, with
    ``None`` and ``""`` equal. A value that is not valid JSON compares as a raw string.
    """
    setting = SETTINGS.get(name)
    if setting is None or not setting.json:
        return serialise(stored) == serialise(desired)
    try:
        return _comparable(name, stored) == _comparable(name, desired)
    except ValueError:
        return serialise(stored) == serialise(desired)


# ----------------------------------------------------------------------------------------------- masking


def _mask_url(text):
    if not isinstance(text, str) or "@" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if parts.password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:{MASK}@{host}", parts.path, parts.query, parts.fragment))


def mask(name, value):
    """``value`` with its secrets replaced by ``********`` (same type back: a JSON string stays a JSON
    string, a dict a dict). Empty secrets stay empty, so a diff still shows "no key" vs "a key"."""
    paths = SECRET_FIELDS.get(name, ())
    url_paths = SECRET_URL_FIELDS.get(name, ())
    if not paths and not url_paths:
        return value
    was_string = isinstance(value, str)
    try:
        parsed = _parse(SETTINGS.get(name), value)
    except ValueError:
        return MASK if was_string and value else value
    if not isinstance(parsed, dict):
        return value
    for path in paths:
        _walk_map(parsed, path, lambda v: MASK if v not in (None, "") else v)
    for path in url_paths:
        _walk_map(parsed, path, _mask_url)
    return serialise(parsed) if was_string else parsed


# ------------------------------------------------------------------------------------------- validation
# Harvester's setting webhook (H:pkg/webhook/resources/setting/validator.go) judges every value: the
# module sends each change with dryRun=All before writing any (setting_objects.apply_all) and
# reports the webhook's refusal. What is checked here is not the webhook's: the names (closest
# matches, better than a 404), the shape of a value (JSON object or plain text), and the few rules
# no webhook has, where Harvester would store the value and fail only later (LOCAL_RULES).


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _network(config, where):
    """storage-network / vm-migration-network checks that need no cluster (validateNetworkHelper:
    checkNetworkVlanValid, checkNetworkRangeValid, validateIncludeExcludeRanges)."""
    problems = []
    if not isinstance(config, dict):
        return [f"{where}: must be a mapping with vlan, clusterNetwork, range and exclude"]
    unknown = sorted(set(config) - {"vlan", "clusterNetwork", "range", "exclude"})
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    vlan = config.get("vlan", 0)
    cluster_network = config.get("clusterNetwork", "")
    if not _is_int(vlan):
        problems.append(f"{where}.vlan: {vlan!r} is not an integer")
    elif not 0 <= vlan <= 4094:
        problems.append(f"{where}.vlan: {vlan} is outside the valid VLAN range 0..4094")
    elif vlan <= 1 and cluster_network == "mgmt":
        problems.append(f"{where}.vlan: VLAN {vlan} is not allowed on the mgmt cluster network (use 2..4094)")
    if not isinstance(cluster_network, str) or not cluster_network:
        problems.append(f"{where}.clusterNetwork: is required (a ClusterNetwork name, e.g. mgmt)")
    text = config.get("range")
    network = None
    if not isinstance(text, str) or not text:
        problems.append(f"{where}.range: is required (a network CIDR such as 10.0.20.0/24)")
    else:
        try:
            if "/" not in text:
                raise ValueError(text)
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            problems.append(f"{where}.range: {text!r} is not a CIDR")
        else:
            if network.network_address != ipaddress.ip_address(text.split("/", 1)[0]):
                problems.append(f"{where}.range: {text} is not a network address; the subnet is {network}")
            if network.prefixlen < _MIN_PREFIX:
                problems.append(f"{where}.range: prefix /{network.prefixlen} is too wide; the minimum prefix length is {_MIN_PREFIX}")
                network = None
    exclude = config.get("exclude") or []
    if not isinstance(exclude, list):
        return problems + [f"{where}.exclude: must be a list of CIDRs"]
    seen = []
    for index, item in enumerate(exclude):
        field = f"{where}.exclude[{index}]"
        try:
            sub = ipaddress.ip_network(item, strict=False)
        except (ValueError, TypeError):
            problems.append(f"{field}: {item!r} is not a CIDR")
            continue
        if sub.prefixlen < _MIN_PREFIX:
            problems.append(f"{field}: prefix /{sub.prefixlen} is too wide; the minimum prefix length is {_MIN_PREFIX}")
            continue
        if network is not None:
            if sub.version != network.version or not sub.subnet_of(network):
                problems.append(f"{field}: {item} is not inside range {network}")
                continue
            if sub.prefixlen <= network.prefixlen:
                problems.append(f"{field}: {item} covers the whole range {network}, leaving no allocatable address")
                continue
        for other_index, other in seen:
            if sub.overlaps(other):
                problems.append(f"{field}: {item} overlaps exclude[{other_index}] {other}")
                break
        seen.append((index, sub))
    return problems


def network_problems(config, where):
    """The webhook's checks of a storage-network value that need no cluster (vlan, clusterNetwork,
    range, exclude); messages start with ``<where>.<field>``.

    Needed locally, the one exception to "Harvester judges": ``harvester_storage_network`` must
    refuse a bad network before its sequence starts (it stops the VMs, then writes the setting, and
    the webhook can only judge that write once the VMs are stopped). ``harvester_setting`` does not
    use it: there the webhook judges the dry run."""
    return _network(config, where)


def _check_log_level(name, text):
    # Harvester's webhook accepts any text; its controller (H:pkg/controller/master/setting/log_level.go,
    # logrus.ParseLevel) fails only after the value is stored.
    if text and text not in LOG_LEVELS:
        return [f"{_prefix(name)}: {text!r} is not one of {', '.join(LOG_LEVELS)}"]
    return []


def _check_bool_text(name, text):
    # No webhook checks these; Harvester reads anything but "true" as false.
    if text not in ("true", "false"):
        return [f"{_prefix(name)}: must be \"true\" or \"false\", got {text!r}"]
    return []


def _check_nfs_scheme(name, value):
    # The collection's own rule, not Harvester's (which prepends nfs://, H:pkg/util/backup ConstructEndpoint):
    # one spelling of the endpoint, so a value written without the scheme never differs from the
    # lab plan's (which has it) and flips back and forth between runs.
    endpoint = value.get("endpoint") if isinstance(value, dict) and value.get("type") == "nfs" else None
    if isinstance(endpoint, str) and endpoint and not endpoint.startswith("nfs://"):
        return [f"{_prefix(name)}.endpoint: {endpoint!r} has no nfs:// scheme; write it as "
                "nfs://<server>:<export path>, e.g. nfs://10.10.10.20:/volume1/harvester-backups"]
    return []


def _check_instance_manager_cpu_shape(name, value):
    # The shape of the value (types stay local): cpu maps the data engines v1/v2 to strings.
    cpu = value.get("cpu", {})
    if not isinstance(cpu, dict):
        return [f"{_prefix(name)}.cpu: must be a mapping v1/v2 -> value"]
    problems = []
    for engine, amount in cpu.items():
        if engine not in ("v1", "v2"):
            problems.append(f"{_prefix(name)}.cpu.{engine}: unknown data engine; use v1 or v2")
        elif not isinstance(amount, str):
            problems.append(f"{_prefix(name)}.cpu.{engine}: must be a string, got {amount!r}")
    return problems


# Rules Harvester's webhook does not have (each says why it is here); the webhook's own are not repeated.
LOCAL_RULES = {
    "log-level": _check_log_level,
    "longhorn-v2-data-engine-enabled": _check_bool_text,
    "upgrade-checker-enabled": _check_bool_text,
    "backup-target": _check_nfs_scheme,
    "instance-manager-resources": _check_instance_manager_cpu_shape,
}


def validate(name, value):
    """What is wrong with ``value`` before anything is sent: an unknown or read-only setting, a value
    of the wrong shape, a rule of LOCAL_RULES; [] when fine (Harvester's webhook judges the rest).
    ``None`` / ``""`` (reset to the default) is always fine for a known setting. Messages name the
    setting and field: ``settings.log-level: ...``."""
    prefix = _prefix(name)
    setting = SETTINGS.get(name)
    if setting is None:
        # Needed locally, a materially better message: Harvester answers a 404 for the name; this
        # names the closest ones, before a batch sends anything.
        near = closest(name)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        return [f"{prefix}: unknown Harvester setting{hint}"]
    if setting.read_only:
        # The webhook lets it through; Harvester overwrites it with its own value.
        return [f"{prefix}: is written by Harvester itself and cannot be set"]
    if value is None or (isinstance(value, str) and value == ""):
        return []
    check = LOCAL_RULES.get(name)
    if setting.json:
        if not isinstance(value, (str, dict, list)):
            return [f"{prefix}: takes a mapping (or its JSON text), got {type(value).__name__}"]
        try:
            parsed = _parse(setting, value)
        except ValueError as e:
            return [f"{prefix}: is not valid JSON ({e})"]
        if not isinstance(parsed, dict):
            return [f"{prefix}: takes a mapping (or its JSON text), got a JSON {type(parsed).__name__}"]
        return check(name, parsed) if check else []
    if isinstance(value, (dict, list)):
        return [f"{prefix}: takes a plain string, not a {type(value).__name__}"]
    return check(name, serialise(value)) if check else []


def validate_all(settings):
    """``validate`` for every item of a name -> value mapping, plus what must be checked between them.

    Needed locally: storage-network and vm-migration-network must not overlap. Harvester's webhook
    judges each against the *stored* other, so two new values that overlap each other pass both dry
    runs and the second real write is refused after the first was stored; a batch is checked before
    it starts."""
    problems = []
    for name, value in settings.items():
        problems.extend(validate(name, value))
    if "storage-network" in settings and "vm-migration-network" in settings:
        try:
            first = _parse(SETTINGS["storage-network"], settings["storage-network"]) or {}
            second = _parse(SETTINGS["vm-migration-network"], settings["vm-migration-network"]) or {}
            a = ipaddress.ip_network(first.get("range", ""), strict=False)
            b = ipaddress.ip_network(second.get("range", ""), strict=False)
        except (ValueError, TypeError, AttributeError):
            return problems
        if a.version == b.version and a.overlaps(b):
            problems.append(f"{_prefix('vm-migration-network')}.range: {b} overlaps storage-network range {a}")
    return problems
