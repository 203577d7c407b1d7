# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What this collection knows about Harvester v1.8 settings (``settings.harvesterhci.io``), as data and
pure functions: no HTTP, no AnsibleModule. ``harvester_setting`` wires it.

    from ansible_collections.homelab.harvester.plugins.module_utils import harvester_settings as hs
    errors = hs.validate("overcommit-config", {"cpu": 1000, "memory": 150, "storage": 100})
    wire = hs.serialise({"memory": 150, "cpu": 1000, "storage": 100})   # '{"cpu":1000,"memory":150,"storage":100}'
    hs.same("backup-target", stored_value, desired)                     # ignores the S3 keys Harvester blanks
    hs.mask("backup-target", value)                                      # for diff / output

Sources:

- ``H:pkg/settings/settings.go`` -- harvester/harvester, the stored v1.6-era revision (names and
  defaults); ``REF:`` shared/reference/harvester-api.md sections 1.1, 3 and 11 (read at v1.8.2) for
  the v1.8 names and defaults (rwx-network, instance-manager-resources, cluster-pod-security-standard,
  overcommit-config ``{"cpu":1000,"memory":150,"storage":100}``, cluster-registration-url as JSON).
- ``H:pkg/webhook/resources/setting/validator.go`` (stored revision with vm-migration-network and
  rancher-cluster, without rwx-network): the checks ``validate`` repeats without the cluster, and
  their messages; the v1.8 additions (vmMigrationTimeout, nodeUpgradeOption, logReadyTimeout,
  rwx-network) from REF section 3.
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
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit, urlunsplit

MASK = "********"


class HSetting:
    """One Harvester setting. ``json``: the value is a JSON document in a string. ``struct``: Harvester
    decodes it into a Go struct, so a missing member and its zero value (``""``, ``0``, ``false``,
    ``{}``, ``[]``, null) mean the same. ``protected``: the webhook refuses DELETE (reset the value to
    ``""`` instead). ``read_only``: written by Harvester itself, never by users."""

    __slots__ = ("name", "json", "default", "struct", "protected", "read_only", "note")

    def __init__(self, name, json_=False, default="", struct=False, protected=False, read_only=False, note=""):
        self.name = name
        self.json = json_
        self.default = default
        self.struct = struct
        self.protected = protected
        self.read_only = read_only
        self.note = note

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
SSL_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_FQDN_NAME = re.compile(r"^([-a-zA-Z0-9_]+[.]?)+$")      # H validator.go FQDNMatchNameRegexString
_MIN_PREFIX = 16                                        # H validator.go minSNPrefixLength
_MAX_TTL_MINUTES = 52560000
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


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _strict_atoi(text):
    """Harvester's webhookUtil.StrictAtoi: an optional sign and digits, nothing else."""
    if isinstance(text, bool):
        raise ValueError("not an integer")
    if isinstance(text, int):
        return text
    if isinstance(text, str) and re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise ValueError(f"{text!r} is not an integer")


def _network(config, where):
    """storage-network / vm-migration-network / rwx-network.network checks that need no cluster
    (validateNetworkHelper: checkNetworkVlanValid, checkNetworkRangeValid, validateIncludeExcludeRanges)."""
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
    """The checks of a storage-network-like value (vlan, clusterNetwork, range, exclude) that need no
    cluster; messages start with ``<where>.<field>``."""
    return _network(config, where)


def _check_storage_network(name, value):
    return _network(value, _prefix(name))


def _check_rwx_network(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping with share-storage-network and network"]
    problems = []
    share = value.get("share-storage-network", False)
    if not isinstance(share, bool):
        problems.append(f"{where}.share-storage-network: {share!r} is not a boolean")
    network = value.get("network")
    # REF section 3: the default {"share-storage-network":false} (no dedicated network) is valid.
    if network:
        problems.extend(_network(network, f"{where}.network"))
    return problems


def _check_backup_target(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping (type nfs or s3, ...)"]
    problems = []
    known = {"type", "endpoint", "accessKeyId", "secretAccessKey", "bucketName", "bucketRegion", "cert",
             "virtualHostedStyle", "refreshIntervalInSeconds"}
    unknown = sorted(set(value) - known)
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for key in ("type", "endpoint", "accessKeyId", "secretAccessKey", "bucketName", "bucketRegion", "cert"):
        if key in value and value[key] is not None and not isinstance(value[key], str):
            problems.append(f"{where}.{key}: must be a string")
    if "virtualHostedStyle" in value and not isinstance(value["virtualHostedStyle"], bool):
        problems.append(f"{where}.virtualHostedStyle: must be a boolean")
    interval = value.get("refreshIntervalInSeconds", 0)
    if not _is_int(interval):
        problems.append(f"{where}.refreshIntervalInSeconds: {interval!r} is not an integer")
    elif interval < 0:
        problems.append(f"{where}.refreshIntervalInSeconds: {interval} must be greater than or equal to 0")
    if problems:
        return problems
    kind = value.get("type") or ""
    if not any(value.get(k) for k in known):
        return []  # the empty / default target: always allowed (this is how it is unset)

    def has(key):
        return bool(value.get(key))

    if kind == "nfs":
        if not has("endpoint"):
            problems.append(f"{where}.endpoint: an NFS backup target needs an endpoint (nfs://host:/export/path)")
        elif not value["endpoint"].startswith("nfs://"):
            # Longhorn's backupstore picks its driver by the URL scheme: without nfs:// Harvester
            # refuses the target (and an older one stored it, to fail every backup later).
            problems.append(f"{where}.endpoint: {value['endpoint']!r} has no nfs:// scheme; write it as "
                            "nfs://<server>:<export path>, e.g. nfs://10.10.10.20:/volume1/harvester-backups")
        for key in ("accessKeyId", "secretAccessKey", "bucketName", "bucketRegion"):
            if has(key):
                problems.append(f"{where}.{key}: an NFS backup target takes no {key}")
    elif kind == "s3":
        for key in ("accessKeyId", "secretAccessKey", "bucketName", "bucketRegion"):
            if not has(key):
                problems.append(f"{where}.{key}: an S3 backup target needs {key}")
    else:
        problems.append(f"{where}.type: {kind!r} is not a backup target type; use nfs or s3")
    return problems


def _check_overcommit(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping with cpu, memory and storage percentages"]
    problems = []
    for key in ("cpu", "memory", "storage"):
        if key not in value:
            problems.append(f"{where}.{key}: is missing (it would read as 0); must be greater than or equal to 100")
            continue
        number = value[key]
        if not _is_int(number):
            problems.append(f"{where}.{key}: {number!r} is not an integer")
        elif number < 100:
            problems.append(f"{where}.{key}: cannot undercommit; must be greater than or equal to 100, got {number}")
    unknown = sorted(set(value) - {"cpu", "memory", "storage"})
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    return problems


def _check_vm_force_reset(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping with enable, period and vmMigrationTimeout"]
    problems = []
    if "enable" in value and not isinstance(value["enable"], bool):
        problems.append(f"{where}.enable: must be a boolean")
    period = value.get("period", 0)
    if not _is_int(period):
        problems.append(f"{where}.period: {period!r} is not an integer")
    elif period <= 0:
        problems.append(f"{where}.period: must be greater than 0 (seconds to wait for a node), got {period}")
    timeout = value.get("vmMigrationTimeout", 0)
    if not _is_int(timeout):
        problems.append(f"{where}.vmMigrationTimeout: {timeout!r} is not an integer")
    elif timeout < 0:
        problems.append(f"{where}.vmMigrationTimeout: must be greater than or equal to 0 (0 means 180), got {timeout}")
    return problems


def _ntp_server_problem(server):
    if re.match(r"^https?://", server):
        return f"{server!r} should not start with http:// or https://"
    if server == "":
        return None  # the webhook skips empty entries
    try:
        ipaddress.ip_address(server)
        return None
    except ValueError:
        pass
    if not _FQDN_NAME.match(server):
        return f"{server!r} is neither an IP address nor a host name"
    return None


def _check_ntp(name, value):
    where = _prefix(name)
    if not isinstance(value, dict) or "ntpServers" not in value:
        return [f"{where}.ntpServers: is required (a list of IP addresses or host names)"]
    servers = value["ntpServers"]
    if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
        return [f"{where}.ntpServers: must be a list of strings"]
    problems = []
    for index, server in enumerate(servers):
        problem = _ntp_server_problem(server)
        if problem:
            problems.append(f"{where}.ntpServers[{index}]: {problem}")
    duplicates = sorted({s for s in servers if servers.count(s) > 1})
    if duplicates:
        problems.append(f"{where}.ntpServers: duplicate server(s) {', '.join(duplicates)}")
    return problems


def _check_rke2_certs(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping with enable and expiringInHours"]
    problems = []
    if "enable" in value and not isinstance(value["enable"], bool):
        problems.append(f"{where}.enable: must be a boolean")
    hours = value.get("expiringInHours", 0)
    if not _is_int(hours):
        problems.append(f"{where}.expiringInHours: {hours!r} is not an integer")
    elif not 1 <= hours <= 24 * 365 - 1:
        problems.append(f"{where}.expiringInHours: {hours} is outside 1..{24 * 365 - 1}")
    return problems


def _check_upgrade_config(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping (imagePreloadOption, nodeUpgradeOption, restoreVM, logReadyTimeout)"]
    problems = []
    strategy = ((value.get("imagePreloadOption") or {}).get("strategy") or {})
    kind = strategy.get("type", "")
    if kind not in ("skip", "sequential", "parallel"):
        problems.append(f"{where}.imagePreloadOption.strategy.type: {kind!r} is not one of skip, sequential, parallel")
    concurrency = strategy.get("concurrency", 0)
    if not _is_int(concurrency) or concurrency < 0:
        problems.append(f"{where}.imagePreloadOption.strategy.concurrency: must be an integer >= 0, got {concurrency!r}")
    elif concurrency and kind != "parallel":
        problems.append(f"{where}.imagePreloadOption.strategy.concurrency: only applies to the parallel strategy")
    node_option = value.get("nodeUpgradeOption")
    if node_option is not None:
        node_strategy = (node_option or {}).get("strategy") or {}
        mode = node_strategy.get("mode", "auto")
        if mode not in ("auto", "manual"):
            problems.append(f"{where}.nodeUpgradeOption.strategy.mode: {mode!r} is not one of auto, manual")
        pause = node_strategy.get("pauseNodes", [])
        if not isinstance(pause, list) or not all(isinstance(n, str) and n for n in pause):
            problems.append(f"{where}.nodeUpgradeOption.strategy.pauseNodes: must be a list of node names")
        elif len(set(pause)) != len(pause):
            problems.append(f"{where}.nodeUpgradeOption.strategy.pauseNodes: node names must be unique")
    if "restoreVM" in value and not isinstance(value["restoreVM"], bool):
        problems.append(f"{where}.restoreVM: must be a boolean")
    if "logReadyTimeout" in value:
        timeout = value["logReadyTimeout"]
        if not isinstance(timeout, str):
            problems.append(f"{where}.logReadyTimeout: must be a string of minutes such as \"5\", got {timeout!r}")
        elif not re.fullmatch(r"\d+", timeout) or not 1 <= int(timeout) <= 20:
            problems.append(f"{where}.logReadyTimeout: {timeout!r} must be a whole number of minutes 1..20")
    return problems


def _check_http_proxy(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping with httpProxy, httpsProxy and noProxy"]
    problems = []
    unknown = sorted(set(value) - {"httpProxy", "httpsProxy", "noProxy"})
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in ("httpProxy", "httpsProxy"):
        url = value.get(key) or ""
        if not url:
            continue
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
            problems.append(f"{where}.{key}: {mask_url_text(url)!r} is not a proxy URL (http://host:port)")
    no_proxy = value.get("noProxy", "")
    if not isinstance(no_proxy, str):
        problems.append(f"{where}.noProxy: must be a comma-separated string")
    elif (value.get("httpProxy") or value.get("httpsProxy")) and not no_proxy.strip():
        problems.append(f"{where}.noProxy: must list every node's InternalIP (or a CIDR covering them) when a proxy is set")
    return problems


def mask_url_text(url):
    return _mask_url(url)


def noproxy_missing(no_proxy, node_ips):
    """The node IPs a ``noProxy`` string does not cover (by IP or CIDR), sorted -- the webhook's check,
    for the caller that has the node list."""
    nets, ips = [], set()
    for part in (p.strip() for p in (no_proxy or "").split(",")):
        if not part:
            continue
        try:
            if "/" in part:
                nets.append(ipaddress.ip_network(part, strict=False))
            else:
                ips.add(ipaddress.ip_address(part))
        except ValueError:
            continue  # a domain suffix
    missing = []
    for text in node_ips:
        ip = ipaddress.ip_address(text)
        if ip not in ips and not any(ip.version == n.version and ip in n for n in nets):
            missing.append(str(ip))
    return sorted(missing)


def _check_ssl_certificates(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping with ca, publicCertificate and privateKey"]
    if not any(value.get(k) for k in ("ca", "publicCertificate", "privateKey")):
        return []
    problems = []
    for key, marker in (("publicCertificate", "CERTIFICATE"), ("privateKey", "PRIVATE KEY")):
        text = value.get(key) or ""
        if not isinstance(text, str) or "-----BEGIN" not in text or marker not in text:
            problems.append(f"{where}.{key}: must be a PEM block ({marker})")
    ca = value.get("ca") or ""
    if ca and (not isinstance(ca, str) or "-----BEGIN CERTIFICATE-----" not in ca):
        problems.append(f"{where}.ca: must be a PEM certificate bundle")
    return problems


def _check_ssl_parameters(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping with protocols and ciphers"]
    protocols = value.get("protocols") or ""
    if not isinstance(protocols, str):
        return [f"{where}.protocols: must be a space-separated string"]
    bad = [p for p in protocols.split() if p not in SSL_PROTOCOLS]
    return [f"{where}.protocols: unsupported SSL protocol(s) {', '.join(bad)}; supported: {', '.join(SSL_PROTOCOLS)}"] if bad else []


def _check_vip_pools(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping namespace -> 'cidr[,cidr]'"]
    problems = []
    for namespace, cidrs in value.items():
        if not isinstance(cidrs, str):
            problems.append(f"{where}.{namespace}: must be a comma-separated string of CIDRs")
            continue
        for cidr in (c.strip() for c in cidrs.split(",")):
            try:
                ipaddress.ip_network(cidr, strict=False)
                if "/" not in cidr:
                    raise ValueError
            except ValueError:
                problems.append(f"{where}.{namespace}: {cidr!r} is not a CIDR")
    return problems


def _check_containerd_registry(name, value):
    where = _prefix(name)
    if not isinstance(value, dict):
        return [f"{where}: must be a mapping with Mirrors and/or Configs (capitalised keys, as registries.yaml in JSON)"]
    problems = []
    unknown = sorted(set(value) - {"Mirrors", "Configs"})
    if unknown:
        hint = " (keys are capitalised: Mirrors, Configs)" if {k.lower() for k in unknown} & {"mirrors", "configs"} else ""
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}{hint}")
    for registry, mirror in (value.get("Mirrors") or {}).items():
        endpoints = (mirror or {}).get("Endpoints", []) if isinstance(mirror, dict) else None
        if not isinstance(endpoints, list) or not all(isinstance(e, str) for e in endpoints):
            problems.append(f"{where}.Mirrors.{registry}.Endpoints: must be a list of URLs")
    for registry, config in (value.get("Configs") or {}).items():
        if not isinstance(config, dict):
            problems.append(f"{where}.Configs.{registry}: must be a mapping with Auth and/or TLS")
            continue
        for key in ("Auth", "TLS"):
            if key in config and config[key] is not None and not isinstance(config[key], dict):
                problems.append(f"{where}.Configs.{registry}.{key}: must be a mapping")
        tls = config.get("TLS") or {}
        if isinstance(tls, dict) and "InsecureSkipVerify" in tls and not isinstance(tls["InsecureSkipVerify"], bool):
            problems.append(f"{where}.Configs.{registry}.TLS.InsecureSkipVerify: must be a boolean")
    return problems


def _check_instance_manager_resources(name, value):
    where = _prefix(name)
    if not isinstance(value, dict) or not isinstance(value.get("cpu", {}), dict):
        return [f"{where}.cpu: must be a mapping v1/v2 -> value"]
    problems = []
    cpu = value.get("cpu", {})
    for engine, amount in cpu.items():
        if engine not in ("v1", "v2"):
            problems.append(f"{where}.cpu.{engine}: unknown data engine; use v1 or v2")
        elif not isinstance(amount, str):
            problems.append(f"{where}.cpu.{engine}: must be a string, got {amount!r}")
    return problems


def _check_cluster_registration_url(name, value):
    where = _prefix(name)
    url = value.get("url", "") if isinstance(value, dict) else None
    if url is None or not isinstance(url, str):
        return [f"{where}: must be a URL or a mapping with url and insecureSkipTLSVerify"]
    if url and urlsplit(url).scheme not in ("http", "https"):
        return [f"{where}.url: {url!r} is not an http(s) URL"]
    if isinstance(value, dict) and not isinstance(value.get("insecureSkipTLSVerify", False), bool):
        return [f"{where}.insecureSkipTLSVerify: must be a boolean"]
    return []


def _plain_int(minimum=None, maximum=None):
    def check(name, text):
        try:
            number = _strict_atoi(text)
        except ValueError:
            return [f"{_prefix(name)}: {text!r} is not an integer"]
        if minimum is not None and number < minimum:
            return [f"{_prefix(name)}: {number} is below the minimum {minimum}"]
        if maximum is not None and number > maximum:
            return [f"{_prefix(name)}: {number} is above the maximum {maximum}"]
        return []
    return check


def _check_overhead_ratio(name, text):
    if text in ("", "0"):
        return []
    try:
        ratio = Decimal(text)
    except InvalidOperation:
        return [f"{_prefix(name)}: {text!r} is not a number"]
    if not ratio.is_finite() or not Decimal("1.0") <= ratio <= Decimal("10.0"):
        return [f"{_prefix(name)}: {text} must be \"0\" (disabled) or between 1.0 and 10.0"]
    return []


def _check_log_level(name, text):
    if text and text not in LOG_LEVELS:
        return [f"{_prefix(name)}: {text!r} is not one of {', '.join(LOG_LEVELS)}"]
    return []


def _check_bool_text(name, text):
    if text not in ("true", "false"):
        return [f"{_prefix(name)}: must be \"true\" or \"false\", got {text!r}"]
    return []


_JSON_CHECKS = {
    "storage-network": _check_storage_network,
    "vm-migration-network": _check_storage_network,
    "rwx-network": _check_rwx_network,
    "backup-target": _check_backup_target,
    "overcommit-config": _check_overcommit,
    "vm-force-reset-policy": _check_vm_force_reset,
    "ntp-servers": _check_ntp,
    "auto-rotate-rke2-certs": _check_rke2_certs,
    "upgrade-config": _check_upgrade_config,
    "http-proxy": _check_http_proxy,
    "ssl-certificates": _check_ssl_certificates,
    "ssl-parameters": _check_ssl_parameters,
    "vip-pools": _check_vip_pools,
    "containerd-registry": _check_containerd_registry,
    "instance-manager-resources": _check_instance_manager_resources,
    "cluster-registration-url": _check_cluster_registration_url,
}

_PLAIN_CHECKS = {
    "default-vm-termination-grace-period-seconds": _plain_int(0),
    "kubeconfig-default-token-ttl-minutes": _plain_int(0, _MAX_TTL_MINUTES),
    "max-hotplug-ratio": _plain_int(1, 20),
    "support-bundle-timeout": _plain_int(0),
    "support-bundle-expiration": _plain_int(0),
    "support-bundle-node-collection-timeout": _plain_int(0),
    "additional-guest-memory-overhead-ratio": _check_overhead_ratio,
    "log-level": _check_log_level,
    "longhorn-v2-data-engine-enabled": _check_bool_text,
    "upgrade-checker-enabled": _check_bool_text,
}


def validate(name, value):
    """What the Harvester webhook would refuse in ``value`` that can be seen without the cluster;
    [] when fine. ``None`` / ``""`` (reset to the default) is always fine for a known setting.
    Messages name the setting and field: ``settings.storage-network.range: ...``."""
    prefix = _prefix(name)
    setting = SETTINGS.get(name)
    if setting is None:
        near = closest(name)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        return [f"{prefix}: unknown Harvester setting{hint}"]
    if setting.read_only:
        return [f"{prefix}: is written by Harvester itself and cannot be set"]
    if value is None or (isinstance(value, str) and value == ""):
        return []
    if setting.json:
        if not isinstance(value, (str, dict, list)):
            return [f"{prefix}: takes a mapping (or its JSON text), got {type(value).__name__}"]
        try:
            parsed = _parse(setting, value)
        except ValueError as e:
            return [f"{prefix}: is not valid JSON ({e})"]
        check = _JSON_CHECKS.get(name)
        return check(name, parsed) if check else []
    if isinstance(value, (dict, list)):
        return [f"{prefix}: takes a plain string, not a {type(value).__name__}"]
    check = _PLAIN_CHECKS.get(name)
    return check(name, serialise(value)) if check else []


def validate_all(settings):
    """``validate`` for every item of a name -> value mapping, plus what can be checked between them:
    storage-network and vm-migration-network must not overlap."""
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
