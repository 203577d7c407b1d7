"""Webhooks of the settings area: Harvester's `validator.harvesterhci.io` on harvesterhci.io
Setting (H:pkg/webhook/resources/setting/validator.go).

Codes follow Harvester's webhook error helpers (H:pkg/webhook/error): value checks answer
`werror.NewInvalidError(msg, field)` = **422 Invalid** with one cause naming the field
("value", "default", or a key such as "cpu"); "VMBackup in progress" style guards answer
400 BadRequest; DELETE of the protected settings answers 405 MethodNotAllowed; a
storage-network change while the previous one is "In Progress" answers 409 Conflict. Both
`default` and `value` are validated, on CREATE and UPDATE, for users and controllers alike.

backup-target: the field checks of validateBackupTargetFields, then the connection check
(GetBackupStoreDriver within 8 s) answered from the lab's stores (backup_stores.py): an NFS
server or export, an S3 endpoint, bucket, region or key the lab does not have is refused with
the driver's error, as a real cluster refuses it.

Twin-only rule (no real counterpart): a user may not CREATE a Setting whose name is not one of
Harvester's (every real one already exists, so creating it gives the apiserver's 409
AlreadyExists after these checks).
"""
from __future__ import annotations

import ipaddress
import json
import re

from .. import backup_stores, lookups
from ..addresses import is_ip
from . import Chain, Request, denied

WEBHOOK = "validator.harvesterhci.io"
GROUP = "harvesterhci.io"

# Every Harvester v1.8.2 setting (pkg/settings/settings.go), as the twin seeds them
# (lab/20-harvester-settings.yaml).
KNOWN = frozenset("""
additional-ca additional-guest-memory-overhead-ratio api-ui-version auto-disk-provision-paths
auto-rotate-rke2-certs backup-target cluster-pod-security-standard cluster-registration-url
containerd-registry csi-driver-config csi-online-expand-validation default-storage-class
default-vm-termination-grace-period-seconds harvester-csi-ccm-versions http-proxy
instance-manager-resources kubeconfig-default-token-ttl-minutes kubevirt-migration log-level
longhorn-v2-data-engine-enabled max-hotplug-ratio ntp-servers overcommit-config rancher-cluster
release-download-url rwx-network server-version ssl-certificates ssl-parameters storage-network
support-bundle-expiration support-bundle-image support-bundle-namespaces
support-bundle-file-name support-bundle-node-collection-timeout support-bundle-timeout ui-index ui-path
ui-plugin-index ui-source upgradable-versions upgrade-checker-enabled upgrade-checker-url upgrade-config
vip-pools vm-force-reset-policy vm-migration-network volume-snapshot-class
""".split())

NO_DELETE = ("storage-network", "rwx-network", "vm-migration-network", "cluster-pod-security-standard",
             "instance-manager-resources")
NETWORK_SETTINGS = ("storage-network", "vm-migration-network", "rwx-network")
MIN_PREFIX = 16
MGMT = "mgmt"
MAX_TTL_MINUTES = 52560000
SSL_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
FQDN_NAME = re.compile(r"^([-a-zA-Z0-9_]+[.]?)+$")
FQDN_PATTERN = re.compile(r"^([-a-zA-Z0-9_*]+[.]?)+$")
IN_PROGRESS = "In Progress"
WITNESS = "node-role.harvesterhci.io/witness"


class Invalid(Exception):
    """A check failed: message, and the field the 422 cause names."""

    def __init__(self, message: str, field: str = "value"):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------- errors
def invalid(message: str, field: str):
    return denied(WEBHOOK, message, code=422, reason="Invalid", field=field)


def bad_request(message: str):
    return denied(WEBHOOK, message)


def not_allowed(message: str):
    return denied(WEBHOOK, message, code=405, reason="MethodNotAllowed")


def conflict(message: str):
    return denied(WEBHOOK, message, code=409, reason="Conflict")


# ---------------------------------------------------------------------------------------- Go-like decoding
_GO_TYPES = {str: "string", bool: "bool", int: "number", float: "number", list: "array", dict: "object",
             type(None): "null"}


def go_json(text: str):
    """json.loads with Go's encoding/json messages for the usual mistakes."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()):
            raise ValueError("unexpected end of JSON input") from None
        ch = text[e.pos]
        if e.msg.startswith("Extra data"):
            raise ValueError(f"invalid character '{ch}' after top-level value") from None
        if e.msg.startswith("Expecting property name"):
            raise ValueError(f"invalid character '{ch}' looking for beginning of object key string") from None
        raise ValueError(f"invalid character '{ch}' looking for beginning of value") from None


def go_type(value) -> str:
    return _GO_TYPES.get(type(value), "value")


def decode_object(text: str, fields: dict[str, tuple[type, str]], struct: str) -> dict:
    """Decode into a Go struct: keys match case-insensitively, unknown keys are ignored, a wrong
    JSON type is `json: cannot unmarshal X into Go struct field S.f of type T`."""
    data = go_json(text)
    if not isinstance(data, dict):
        raise ValueError(f"json: cannot unmarshal {go_type(data)} into Go value of type {struct}")
    out: dict = {}
    lower = {k.lower(): k for k in fields}
    for key, value in data.items():
        name = lower.get(key.lower())
        if name is None or value is None:
            continue
        want, gotype = fields[name]
        ok = isinstance(value, want) and not (want in (int, float) and isinstance(value, bool))
        if want is int and isinstance(value, float):
            ok = value.is_integer()
        if not ok:
            raise ValueError(f"json: cannot unmarshal {go_type(value)} into Go struct field "
                             f"{struct.rpartition('.')[2]}.{name} of type {gotype}")
        out[name] = value
    return out


def strict_atoi(value: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", value):
        raise ValueError(f'strconv.Atoi: parsing "{value}": invalid syntax')
    return int(value)


def go_float(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------------------------------- store reads
def _list(store, group: str, plural: str, namespace: str | None = None) -> list[dict]:
    kind = store.registry.by_plural(group, plural)
    return store.list(kind, namespace) if kind is not None else []


def _setting(store, name: str) -> dict | None:
    kind = store.registry.by_plural(GROUP, "settings")
    return store.peek(kind, "", name) if kind is not None else None


def condition(obj: dict | None, type_: str) -> dict:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return c
    return {}


# ---------------------------------------------------------------------------------------- per-name helpers
def check_overcommit(field: str, value: str) -> None:
    if value == "":
        return
    try:
        data = decode_object(value, {"cpu": (int, "int"), "memory": (int, "int"), "storage": (int, "int")},
                             "settings.Overcommit")
    except ValueError:
        raise Invalid(f"Invalid JSON: {value}", field) from None
    for key in ("cpu", "memory", "storage"):
        got = int(data.get(key, 0))
        if got < 100:
            raise Invalid(f"Cannot undercommit. Should be greater than or equal to 100 but got {got}", key)


def check_vm_force_reset_policy(value: str) -> None:
    if value == "":
        return
    try:
        data = decode_object(value, {"enable": (bool, "bool"), "period": (int, "int64"),
                                     "vmMigrationTimeout": (int, "int64")}, "settings.VMForceResetPolicy")
    except ValueError as e:
        raise Invalid(f"unmarshal failed, error: {e}, value: {value}") from None
    period = int(data.get("period", 0))
    if period <= 0:
        raise Invalid(f"period value should be greater than 0, value: {period}")
    timeout = int(data.get("vmMigrationTimeout", 0))
    if timeout < 0:
        raise Invalid(f"vmMigrationTimeout value should be greater than or equal to 0, value: {timeout}")


def check_ntp(value: str) -> None:
    if value == "":
        return
    try:
        data = decode_object(value, {"ntpServers": (list, "[]string")}, "util.NTPSettings")
    except ValueError as e:
        raise Invalid(f"failed to parse NTP settings: {e}") from None
    servers = data.get("ntpServers")
    if servers is None:
        raise Invalid("NTP servers can't be nil")
    for s in servers:
        if not isinstance(s, str):
            raise Invalid(f"failed to parse NTP settings: json: cannot unmarshal {go_type(s)} into Go struct "
                          f"field NTPSettings.ntpServers of type string")
        if re.match(r"^https?://", s):
            raise Invalid(f"ntp server {s} should not start with http:// or https://")
        if s and not is_ip(s) and not (FQDN_NAME.match(s) and FQDN_PATTERN.match(s)):
            raise Invalid(f"invalid NTP server: {s}")
    seen, dups = set(), []
    for s in servers:
        if s in seen and s not in dups:
            dups.append(s)
        seen.add(s)
    if dups:
        raise Invalid(f"duplicate NTP server: [{' '.join(dups)}]")


def check_int_setting(value: str, what: str, *, maximum: int | None = None, too_big: str = "") -> None:
    if value == "":
        return
    try:
        num = strict_atoi(value)
    except ValueError as e:
        raise Invalid(str(e)) from None
    if num < 0:
        raise Invalid(what)
    if maximum is not None and num > maximum:
        raise Invalid(too_big)


def check_auto_rotate(value: str) -> None:
    if value == "":
        return
    try:
        data = decode_object(value, {"enable": (bool, "bool"), "expiringInHours": (int, "int")},
                             "settings.AutoRotateRKE2Certs")
    except ValueError as e:
        raise Invalid(str(e)) from None
    hours = int(data.get("expiringInHours", 0))
    if hours <= 0:
        raise Invalid("expiringInHours can't be negative or zero")
    if hours > 24 * 365 - 1:
        raise Invalid(f"expiringInHours can't be large than {24 * 365 - 1}")


def check_overhead_ratio(value: str) -> None:
    if value == "":
        return
    try:
        ratio = float(value)
    except ValueError:
        raise Invalid(f'value {value} can\'t be converted to float64, error:strconv.ParseFloat: parsing "{value}": '
                      f"invalid syntax") from None
    if ratio < 1.0 and ratio != 0:
        raise Invalid(f"value {value} can't be less than {go_float(1.0)}")
    if ratio > 10.0:
        raise Invalid(f"value {value} can't be greater than {go_float(10.0)}")


def check_hotplug(field: str, value: str) -> None:
    if value == "":
        return
    if not re.fullmatch(r"\+?\d+", value):
        raise Invalid(f'failed to parse {field}: {value} strconv.ParseUint: parsing "{value}": invalid syntax', field)
    num = int(value)
    if num < 1 or num > 20:
        raise Invalid(f"{field}: {value} must be in range [1 .. 20]", field)


def check_ssl_parameters(field: str, value: str) -> None:
    if value == "":
        return
    try:
        data = decode_object(value, {"protocols": (str, "string"), "ciphers": (str, "string")},
                             "settings.SSLParameter")
    except ValueError as e:
        raise Invalid(str(e), field) from None
    for given in (data.get("protocols") or "").split(" "):
        if given and given not in SSL_PROTOCOLS:
            raise Invalid(f"unsupported SSL protocol: {given}", "protocols")


def check_ssl_certificates(field: str, value: str) -> None:
    if value == "":
        return
    try:
        data = decode_object(value, {"ca": (str, "string"), "publicCertificate": (str, "string"),
                                     "privateKey": (str, "string")}, "settings.SSLCertificate")
    except ValueError as e:
        raise Invalid(str(e), field) from None
    ca, cert, key = data.get("ca", ""), data.get("publicCertificate", ""), data.get("privateKey", "")
    if not (ca or cert or key):
        return
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    def certs(pem: str, what: str) -> list:
        try:
            found = x509.load_pem_x509_certificates(pem.encode())
        except ValueError:
            found = []
        if not found:
            raise ValueError(f"failed to parse {what}: no valid PEM-encoded certificate found")
        return found

    if ca:
        try:
            certs(ca, "CA bundle")
        except ValueError as e:
            raise Invalid(str(e), "ca") from None
    try:
        certs(cert, "serving certificate bundle")
    except ValueError as e:
        raise Invalid(str(e), "publicCertificate") from None
    try:
        serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError):
        raise Invalid("failed to parse private key: no valid PEM-encoded private key found", "privateKey") from None


REGISTRY_MIRROR = {"Endpoints": (list, "[]string"), "Rewrites": (dict, "map[string]string")}
REGISTRY_CONFIG = {"Auth": (dict, "containerd.AuthConfig"), "TLS": (dict, "containerd.TLSConfig")}


def decode_registry(value: str) -> dict:
    """containerd.Registry (RKE2 registries.yaml with Go's capitalised keys)."""
    data = decode_object(value, {"Mirrors": (dict, "map[string]containerd.Mirror"),
                                 "Configs": (dict, "map[string]containerd.RegistryConfig")}, "containerd.Registry")
    for name, fields, struct in (("Mirrors", REGISTRY_MIRROR, "containerd.Mirror"),
                                 ("Configs", REGISTRY_CONFIG, "containerd.RegistryConfig")):
        for host, entry in (data.get(name) or {}).items():
            sub = decode_object(json.dumps(entry), fields, struct)
            if name == "Mirrors":
                for ep in sub.get("Endpoints") or []:
                    if not isinstance(ep, str):
                        raise ValueError(f"json: cannot unmarshal {go_type(ep)} into Go struct field "
                                         f"Mirror.Mirrors.Endpoints of type string")
            else:
                decode_object(json.dumps(sub.get("Auth") or {}),
                              {k: (str, "string") for k in ("Username", "Password", "Auth", "IdentityToken")},
                              "containerd.AuthConfig")
                decode_object(json.dumps(sub.get("TLS") or {}),
                              {"CAFile": (str, "string"), "CertFile": (str, "string"), "KeyFile": (str, "string"),
                               "InsecureSkipVerify": (bool, "bool")}, "containerd.TLSConfig")
            del host
    return data


def check_containerd_registry(value: str) -> None:
    if value == "":
        return
    try:
        decode_registry(value)
    except ValueError as e:
        raise Invalid(str(e)) from None


def check_vip_pools(value: str) -> None:
    """validateVipPoolsConfigHelper: map[string]string, then ValidateCIDRs (H
    pkg/controller/master/setting/vip_pools_config.go): per namespace CIDRs (net.ParseCIDR, so a
    bare address is refused) or IPv4 ranges `a-b`, not both."""
    if value == "":
        return
    try:
        pools = go_json(value)
    except ValueError as e:
        raise Invalid(str(e)) from None
    if not isinstance(pools, dict):
        raise Invalid(f"json: cannot unmarshal {go_type(pools)} into Go value of type map[string]string")
    for pool in pools.values():
        if not isinstance(pool, str):
            raise Invalid(f"json: cannot unmarshal {go_type(pool)} into Go value of type string")
    for ns, pool in pools.items():
        if "-" in pool and "/" in pool:
            raise Invalid(f"invalid Pool value {pool} of {ns}, error: IP Range and CIDR cannot be used together")
        for item in pool.split(","):
            if item.startswith("-") or item.endswith("-"):
                raise Invalid(f"invalid IP Range value {pool} of {ns}")
            ends = item.split("-")
            if len(ends) == 1:
                try:
                    _parse_cidr(item)
                except ValueError as e:
                    raise Invalid(f"invalid CIDR value {pool} of {ns}, error: {e}") from None
            elif len(ends) == 2:
                for end in ends:
                    try:
                        ipaddress.IPv4Address(end)
                    except ValueError:
                        raise Invalid(f"invalid IP value {pool} of {ns}") from None
            else:
                raise Invalid(f"invalid IP Range value {pool} of {ns}")


def check_support_bundle(value: str, what: str) -> None:
    check_int_setting(value, f"{what} can't be negative")


# settings.UpgradeConfig (H pkg/settings/settings_helper.go): member -> (Python type, Go type, members)
UPGRADE_CONFIG = {
    "imagePreloadOption": (dict, "settings.ImagePreloadOption", {
        "strategy": (dict, "settings.PreloadStrategy", {
            "type": (str, "settings.StrategyType", None), "concurrency": (int, "int", None)})}),
    "restoreVM": (bool, "bool", None),
    "logReadyTimeout": (str, "string", None),
    "nodeUpgradeOption": (dict, "settings.NodeUpgradeOption", {
        "strategy": (dict, "settings.NodeUpgradeStrategy", {
            "mode": (str, "settings.ModeType", None), "pauseNodes": (list, "[]string", str)})}),
}


def _decode_typed(data: dict, fields: dict, struct: str, path: str = "") -> None:
    """json.Unmarshal into nested Go structs: a member of the wrong JSON type is
    `json: cannot unmarshal X into Go struct field <S>.<a.b.c> of type T`, S the innermost struct
    and a.b.c the path from the top (encoding/json's errorContext); null and unknown members pass
    (keys match case-insensitively, as in Go)."""
    lower = {k.lower(): k for k in fields}
    for key, value in data.items():
        name = lower.get(key.lower())
        if name is None or value is None:
            continue
        want, gotype, inner = fields[name]
        where = f"{path}.{name}" if path else name
        ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
        if want is int and isinstance(value, float):
            ok = value.is_integer()
        if not ok:
            raise ValueError(f"json: cannot unmarshal {go_type(value)} into Go struct field {struct}.{where} of type {gotype}")
        if isinstance(inner, dict):
            _decode_typed(value, inner, gotype.rpartition(".")[2], where)
        elif inner is str:
            for item in value:
                if not isinstance(item, str):
                    raise ValueError(f"json: cannot unmarshal {go_type(item)} into Go struct field {struct}.{where} "
                                     f"of type string")


def check_upgrade_config(field: str, value: str, store) -> None:
    if value == "":
        return
    try:
        data = go_json(value)
        if not isinstance(data, dict):
            raise ValueError(f"json: cannot unmarshal {go_type(data)} into Go value of type settings.UpgradeConfig")
        _decode_typed(data, UPGRADE_CONFIG, "UpgradeConfig")
    except ValueError as e:
        # settings.DecodeConfig wraps json.Unmarshal's error
        raise Invalid(f"unmarshal failed, error: {e}, value: {value}", field) from None
    strategy = ((data.get("imagePreloadOption") or {}).get("strategy") or {})
    if strategy.get("type", "") not in ("skip", "sequential", "parallel"):
        raise Invalid(f"invalid image preload strategy type: {strategy.get('type', '')}", field)
    concurrency = strategy.get("concurrency", 0)
    if isinstance(concurrency, int) and concurrency < 0:
        raise Invalid(f"invalid image preload concurrency: {concurrency}", field)
    node_strategy = ((data.get("nodeUpgradeOption") or {}).get("strategy") or {})
    mode = node_strategy.get("mode", "auto")
    if mode not in ("auto", "manual"):
        raise Invalid(f"invalid node upgrade strategy mode: {mode}", field)
    pause = node_strategy.get("pauseNodes") or []
    names = set(lookups.node_names(store, include_witness=True))
    seen: set = set()
    for n in pause:
        if n in seen:
            raise Invalid(f"duplicate node {n} in pauseNodes", field)
        seen.add(n)
        if n not in names:
            raise Invalid(f"node {n} in pauseNodes does not exist", field)
    timeout = data.get("logReadyTimeout")
    if timeout is not None:
        if not re.fullmatch(r"\d+", timeout) or not 1 <= int(timeout) <= 20:
            raise Invalid(f"invalid logReadyTimeout: {timeout}, it should be an integer between 1 and 20", field)


def check_http_proxy(value: str, store) -> None:
    if value == "":
        return
    try:
        data = decode_object(value, {"httpProxy": (str, "string"), "httpsProxy": (str, "string"),
                                     "noProxy": (str, "string")}, "util.HTTPProxyConfig")
    except ValueError as e:
        raise Invalid(str(e)) from None
    if not (data.get("httpProxy") or data.get("httpsProxy")):
        return
    node_ips = []
    for node in lookups.nodes(store):
        for a in (node.get("status") or {}).get("addresses") or []:
            if a.get("type") == "InternalIP":
                try:
                    node_ips.append(ipaddress.ip_address(a["address"]))
                except ValueError:
                    pass
    covered = set()
    for part in (p.strip() for p in (data.get("noProxy") or "").split(",")):
        if "/" in part:
            try:
                net = ipaddress.ip_network(part, strict=False)
            except ValueError:
                continue
            covered |= {ip for ip in node_ips if ip in net}
        elif is_ip(part):
            covered |= {ip for ip in node_ips if ip == ipaddress.ip_address(part)}
    missed = sorted({str(ip) for ip in node_ips if ip not in covered})
    if missed:
        raise Invalid(f"noProxy should contain the node's IP addresses or CIDR. The node(s) {', '.join(missed)} "
                      f"are not covered.")


# ---------------------------------------------------------------------------------------- backup-target
BACKUP_FIELDS = {"type": (str, "settings.TargetType"), "endpoint": (str, "string"), "accessKeyId": (str, "string"),
                 "secretAccessKey": (str, "string"), "bucketName": (str, "string"), "bucketRegion": (str, "string"),
                 "cert": (str, "string"), "virtualHostedStyle": (bool, "bool"),
                 "refreshIntervalInSeconds": (int, "int64")}


def decode_backup_target(value: str) -> dict:
    target = {k: "" for k in ("type", "endpoint", "accessKeyId", "secretAccessKey", "bucketName", "bucketRegion",
                              "cert")}
    target.update(virtualHostedStyle=False, refreshIntervalInSeconds=0)
    if value:
        try:
            target.update(decode_object(value, BACKUP_FIELDS, "settings.BackupTarget"))
        except ValueError as e:
            raise ValueError(f"unmarshal failed, error: {e}, value: {value}") from None
    return target


def is_default_target(t: dict) -> bool:
    return t == decode_backup_target("")


def backup_endpoint(t: dict) -> str:
    """backuputil.ConstructEndpoint: the Longhorn backup target URL."""
    if t["type"] == "s3":
        return f"s3://{t['bucketName']}@{t['bucketRegion']}/"
    if t["type"] == "nfs":
        return "nfs://" + t["endpoint"].removeprefix("nfs://")
    return ""


def unreachable(store, *urls: str) -> bool:
    listed = {u.rstrip("/") for u in store.environment.get("unreachable") or []}
    return any(u and u.rstrip("/") in listed for u in urls)


def backup_store_error(t: dict) -> str:
    if t["type"] == "nfs":
        server_path = t["endpoint"].removeprefix("nfs://")
        return (f"cannot mount nfs {server_path}: cannot mount using NFSv4: mount failed: exit status 32\n"
                f"Mounting command: mount\nMounting arguments: -t nfs4 -o nfsvers=4.2,actimeo=1,soft,timeo=300,"
                f"retry=2 {server_path} /var/lib/longhorn-backupstore-mounts/"
                f"{server_path.split(':')[0].replace('.', '_')}{server_path.partition(':')[2]}\n"
                f"Output: mount.nfs: Connection timed out")
    host = re.sub(r"^[a-z]+://", "", t["endpoint"]).split("/")[0]
    return (f"failed to list objects with param: {{\n  Bucket: \"{t['bucketName']}\",\n  Delimiter: \"/\",\n"
            f"  Prefix: \"/\"\n}} error: AWS Error:  RequestError send request failed Get "
            f"\"{t['endpoint'].rstrip('/')}/{t['bucketName']}?delimiter=%2F&prefix=%2F\": dial tcp: lookup {host}: "
            f"i/o timeout\n")


def validate_backup_target(req: Request, setting: dict) -> None:
    target = None
    for field in ("default", "value"):
        raw = setting.get(field) or ""
        if raw:
            try:
                target = decode_backup_target(raw)
            except ValueError as e:
                raise invalid(str(e), field) from None
    if target is None:
        return
    if int(target["refreshIntervalInSeconds"]) < 0:
        raise invalid("Refresh interval should be greater than or equal to 0", "value")
    if _is_reupdated_s3(req.store, target):
        return
    for b in _list(req.store, GROUP, "virtualmachinebackups"):
        status = b.get("status")
        if b["metadata"].get("deletionTimestamp") or not status or not status.get("readyToUse"):
            raise bad_request("There is VMBackup in creating or deleting progress")
    for r in _list(req.store, GROUP, "virtualmachinerestores"):
        status = r.get("status")
        if r["metadata"].get("deletionTimestamp") or not status or not status.get("complete"):
            raise bad_request("Can't update the backup target. There is a VM either in the process of creating "
                              "or deleting")
    if is_default_target(target):
        return
    if target["type"] == "s3":
        if not target["secretAccessKey"] or not target["accessKeyId"]:
            raise invalid("S3 backup target should have access key and access key id", "value")
        if not target["bucketName"] or not target["bucketRegion"]:
            raise invalid("S3 backup target should have bucket name and region ", "value")
    elif target["type"] == "nfs":
        if not target["endpoint"]:
            raise invalid("NFS backup target should have endpoint", "value")
        if target["secretAccessKey"] or target["accessKeyId"]:
            raise invalid("NFS backup target should not have access key or access key id", "value")
        if target["bucketName"] or target["bucketRegion"]:
            raise invalid("NFS backup target should not have bucket name or region", "value")
    else:
        raise invalid("Invalid backup target type", "value")
    # GetBackupStoreDriver(ConstructEndpoint(target)) within 8 s: the lab's stores answer
    failure = backup_stores.connect_error(req.store, target)
    if failure is not None:
        raise invalid("failed to connect to backup target, reason: " + failure, "value")


def _is_reupdated_s3(store, target: dict) -> bool:
    """The controller's own rewrite with the credentials blanked passes without a new check."""
    if target["type"] != "s3" or target["secretAccessKey"] or target["accessKeyId"]:
        return False
    saved = _setting(store, "backup-target")
    if saved is None:
        return False
    try:
        old = decode_backup_target(saved.get("value") or "")
    except ValueError:
        return False
    return all(old[k] == target[k] for k in ("type", "bucketName", "bucketRegion", "endpoint", "virtualHostedStyle"))


# ---------------------------------------------------------------------------------------- network settings
NETWORK_FIELDS = {"clusterNetwork": (str, "string"), "vlan": (int, "uint16"), "range": (str, "string"),
                  "exclude": (list, "[]string")}


def decode_network(value: str) -> dict:
    cfg = decode_object(value, NETWORK_FIELDS, "network.Config")
    vlan = cfg.get("vlan", 0)
    if vlan < 0 or vlan > 65535:
        raise ValueError(f"json: cannot unmarshal number {vlan} into Go struct field Config.vlan of type uint16")
    return cfg


def _parse_cidr(text: str):
    """net.ParseCIDR: (ip, network) or the Go error."""
    try:
        iface = ipaddress.ip_interface(text)
        if "/" not in text:
            raise ValueError
    except ValueError:
        raise ValueError(f"invalid CIDR address: {text}") from None
    return iface.ip, iface.network


def usable_intervals(range_: str, exclude: list[str]) -> list[tuple[int, int]]:
    """Addresses whereabouts hands out: the range's hosts minus the excluded CIDRs."""
    _, net = _parse_cidr(range_)
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.num_addresses > 2:
        lo, hi = lo + 1, hi - 1
    spans = [(lo, hi)]
    for ex in exclude or []:
        _, exnet = _parse_cidr(ex)
        a, b = int(exnet.network_address), int(exnet.broadcast_address)
        out = []
        for s, e in spans:
            if b < s or a > e:
                out.append((s, e))
                continue
            if s < a:
                out.append((s, a - 1))
            if e > b:
                out.append((b + 1, e))
        spans = out
    return spans


def usable_count(range_: str, exclude: list[str]) -> int:
    return sum(e - s + 1 for s, e in usable_intervals(range_, exclude))


def check_network_config(store, name: str, cfg: dict) -> None:
    """validateNetworkHelper: vlan, range, VlanStatus ready, VlanConfigs span nodes, IP count."""
    vlan, cn = cfg.get("vlan", 0), cfg.get("clusterNetwork", "")
    if vlan > 4094:
        raise ValueError("the valid value range for VLAN IDs is 0 to 4094")
    if vlan <= 1 and cn == MGMT:
        raise ValueError(f"network with vlan id {vlan} not allowed on {cn} cluster")
    ip, net = _parse_cidr(cfg.get("range", ""))
    if ip != net.network_address:
        raise ValueError(f"range should be subnet CIDR {net}")
    if net.prefixlen < MIN_PREFIX:
        raise ValueError(f"min supported prefix length for network is {MIN_PREFIX}, include Range PrefixLen "
                         f"received {net.prefixlen}")
    previous = None
    for ex in cfg.get("exclude") or []:
        _, exnet = _parse_cidr(ex)
        if exnet.prefixlen < MIN_PREFIX:
            raise ValueError(f"min supported prefix length for network is {MIN_PREFIX}, exclude Range PrefixLen "
                             f"received {exnet.prefixlen}")
        if not exnet.overlaps(net):
            raise ValueError(f"exclude range {ex} do not overlap include range {cfg['range']}")
        if exnet.prefixlen <= net.prefixlen:
            raise ValueError(f"exclude Range {ex} includes include Range {cfg['range']}, no allocatable ip addresses")
        if previous is not None and _parse_cidr(previous)[1].overlaps(exnet):
            raise ValueError(f"exclude ranges have overlapping subnets {ex} {previous}")
        previous = ex
    if cn != MGMT:
        cns = _list(store, "network.harvesterhci.io", "clusternetworks")
        if not any(c["metadata"]["name"] == cn for c in cns):
            raise ValueError(f'cluster network {cn} not found because clusternetworks.network.harvesterhci.io '
                             f'"{cn}" not found')
        label = "network.harvesterhci.io/clusternetwork"
        statuses = [v for v in _list(store, "network.harvesterhci.io", "vlanstatuses")
                    if (v["metadata"].get("labels") or {}).get(label) == cn]
        if not statuses:
            raise ValueError(f"vlan status not present for cluster network {cn}")
        for vs in statuses:
            if condition(vs, "ready").get("status") == "False":
                raise ValueError(f"vs {vs['metadata']['name']} status is not Ready")
        configs = [v for v in _list(store, "network.harvesterhci.io", "vlanconfigs")
                   if (v["metadata"].get("labels") or {}).get(label) == cn]
        if not configs:
            raise ValueError(f"vlan config not present for cluster network {cn}")
        matched: set[str] = set()
        for vc in configs:
            raw = (vc["metadata"].get("annotations") or {}).get("network.harvesterhci.io/matched-nodes", "")
            if not raw:
                raise ValueError("vlan config annotations is absent for matched nodes")
            matched |= set(go_json(raw) or [])
        for node in lookups.node_names(store):
            if node not in matched:
                raise ValueError(f"vlanconfig does not span {node}")
    count = usable_count(cfg["range"], cfg.get("exclude") or [])
    if name == "storage-network":
        need = sum(2 + 2 * len((n.get("spec") or {}).get("disks") or {}) for n in lookups.longhorn_nodes(store))
        if count < need:
            raise ValueError(f"allocatable IP address range is < {need},allocate sufficient range")
    elif name == "vm-migration-network":
        nodes = lookups.nodes(store)
        witness = sum(1 for n in nodes if WITNESS in (n["metadata"].get("labels") or {}))
        if count < len(nodes) - witness:
            raise ValueError(f"allocatable IP address range is < {len(nodes)},allocate sufficient range")
    elif name == "rwx-network":
        need = len(lookups.node_names(store)) + 32
        if count < need:
            raise ValueError(f"allocatable IP address range is < {need},allocate sufficient range")


def network_config_of(name: str, value: str) -> dict | None:
    """The network.Config a stored network setting value describes (rwx: its `network`)."""
    if not value:
        return None
    data = go_json(value)
    if name == "rwx-network":
        if not isinstance(data, dict) or data.get("share-storage-network"):
            return None
        data = data.get("network") or None
    if not isinstance(data, dict) or not data.get("range"):
        return None
    return data


def effective_network(store, name: str) -> dict | None:
    s = _setting(store, name)
    if s is None:
        return None
    try:
        return network_config_of(name, s.get("value") or s.get("default") or "")
    except ValueError:
        return None


def check_overlap(store, name: str, cfg: dict | None) -> None:
    if cfg is None:
        return
    mine = usable_intervals(cfg["range"], cfg.get("exclude") or [])
    for other in NETWORK_SETTINGS:
        if other == name:
            continue
        theirs_cfg = effective_network(store, other)
        if theirs_cfg is None:
            continue
        try:
            theirs = usable_intervals(theirs_cfg["range"], theirs_cfg.get("exclude") or [])
        except ValueError:
            continue
        if any(a <= d and c <= b for a, b in mine for c, d in theirs):
            raise invalid(f"{name}: the network configuration is overlapped with {other}", name)


def vm_is_stopped(vm: dict, running: set[tuple[str, str]]) -> bool:
    spec = vm.get("spec") or {}
    strategy = spec.get("runStrategy") or ("Always" if spec.get("running") else "Halted")
    key = (vm["metadata"].get("namespace", ""), vm["metadata"]["name"])
    return strategy == "Halted" and key not in running


def check_storage_network_usage(store) -> None:
    running = {(v["metadata"].get("namespace", ""), v["metadata"]["name"]) for v in lookups.running_vmis(store)}
    for vm in lookups.virtual_machines(store):
        if not vm_is_stopped(vm, running):
            raise invalid("Please stop all VMs before configuring the storage-network setting", "value")
    for vol in _list(store, "longhorn.io", "volumes", "longhorn-system"):
        state = (vol.get("status") or {}).get("state", "detached")
        if state != "detached":
            raise invalid("please stop all workloads before configuring the storage-network setting", "value")


def validate_network_setting(req: Request, name: str, setting: dict) -> None:
    store = req.store
    old = req.old or {}
    if req.operation == "UPDATE" and old.get("default", "") == setting.get("default", "") \
            and old.get("value", "") == setting.get("value", ""):
        return
    if name == "storage-network" and req.operation == "UPDATE":
        cond = condition(old, "configured")
        if cond.get("status") == "False" and cond.get("reason") == IN_PROGRESS and (setting.get("value") or "") != "":
            raise conflict(f'cannot update the setting "{name}" because it is still being configured')
    if name == "vm-migration-network":
        for m in _list(store, "kubevirt.io", "virtualmachineinstancemigrations"):
            if not m["metadata"].get("deletionTimestamp") and \
                    not ((m.get("status") or {}).get("migrationState") or {}).get("completed"):
                raise bad_request("There is a VM Migration in progress, please wait until it is completed before "
                                  "updating the VMMigrationNetwork setting")
    config = None
    for field in ("default", "value"):
        raw = setting.get(field) or ""
        if not raw:
            continue
        try:
            if name == "rwx-network":
                cfg = _rwx_config(store, raw)
            else:
                try:
                    cfg = decode_network(raw)
                except ValueError as e:
                    raise ValueError(f"failed to unmarshal the setting value {raw}, {e}") from None
                check_network_config(store, name, cfg)
        except ValueError as e:
            raise invalid(str(e), field) from None
        if cfg is not None:
            config = cfg
    check_overlap(store, name, config)
    if name == "storage-network" and (req.operation == "UPDATE" or setting.get("value") or setting.get("default")):
        check_storage_network_usage(store)


def _rwx_config(store, raw: str) -> dict | None:
    data = decode_object(raw, {"share-storage-network": (bool, "bool"), "network": (dict, "network.Config")},
                         "settings.RWXNetworkConfig")
    if data.get("share-storage-network"):
        sn = _setting(store, "storage-network")
        if sn is None or not (sn.get("value") or sn.get("default")):
            raise ValueError("storage-network setting is not configured, can't share it with rwx-network")
        return None
    network = data.get("network")
    if not network:
        return None
    try:
        cfg = decode_network(json.dumps(network))
    except ValueError as e:
        raise ValueError(f"failed to unmarshal the setting value {raw}, {e}") from None
    check_network_config(store, "rwx-network", cfg)
    return cfg


# ---------------------------------------------------------------------------------------- dispatch
def _both(setting: dict, check, *, skip_default: str | None = None) -> None:
    """Run check(field, text) on default, then value; 422 naming the field (or the check's)."""
    for field in ("default", "value"):
        raw = setting.get(field) or ""
        if field == "default" and skip_default is not None and raw == skip_default:
            continue
        try:
            check(field, raw)
        except Invalid as e:
            raise invalid(e.message, e.field if e.field not in ("value", "default") else field) from None


def _simple(check):
    return lambda field, raw: check(raw)


def validate(req: Request) -> None:
    if req.kind != "Setting":
        return
    name = req.name
    if req.operation == "DELETE":
        if name in NO_DELETE:
            raise not_allowed(f"Disallow delete setting name {name}")
        return
    setting = req.obj or {}
    if req.operation == "CREATE" and not req.by_system and name not in KNOWN:
        raise bad_request(f'setting "{name}" is not a Harvester setting; Harvester creates its settings itself, '
                          f"clients only update their value")
    store = req.store
    if name in NETWORK_SETTINGS:
        validate_network_setting(req, name, setting)
    elif name == "backup-target":
        validate_backup_target(req, setting)
    elif name == "http-proxy":
        if (setting.get("default") or "") != "{}":
            _both({"default": setting.get("default")}, _simple(lambda raw: check_http_proxy(raw, store)))
        if (setting.get("value") or "") != (setting.get("default") or ""):
            _both({"value": setting.get("value")}, _simple(lambda raw: check_http_proxy(raw, store)))
    elif name in CHECKS:
        check, skip = CHECKS[name]
        _both(setting, check if name in FIELD_AWARE else _simple(check), skip_default=skip)
    elif name == "upgrade-config":
        _both(setting, lambda field, raw: check_upgrade_config(field, raw, store))


FIELD_AWARE = {"overcommit-config", "max-hotplug-ratio", "ssl-parameters", "ssl-certificates"}
CHECKS = {
    "overcommit-config": (check_overcommit, None),
    "vm-force-reset-policy": (check_vm_force_reset_policy, None),
    "ntp-servers": (check_ntp, None),
    "auto-rotate-rke2-certs": (check_auto_rotate, None),
    "additional-guest-memory-overhead-ratio": (check_overhead_ratio, None),
    "max-hotplug-ratio": (check_hotplug, None),
    "ssl-parameters": (check_ssl_parameters, None),
    "ssl-certificates": (check_ssl_certificates, None),
    "containerd-registry": (check_containerd_registry, None),
    "vip-pools": (check_vip_pools, None),
    "default-vm-termination-grace-period-seconds": (lambda raw: check_int_setting(raw, "can't be negative"), None),
    "kubeconfig-default-token-ttl-minutes": (
        lambda raw: check_int_setting(raw, "kubeconfig-default-token-ttl-minutes can't be negative",
                                      maximum=MAX_TTL_MINUTES,
                                      too_big="kubeconfig-default-token-ttl-minutes exceeds 100 years"), None),
    "support-bundle-timeout": (lambda raw: check_support_bundle(raw, "timeout"), None),
    "support-bundle-expiration": (lambda raw: check_support_bundle(raw, "expiration"), None),
    "support-bundle-node-collection-timeout": (lambda raw: check_support_bundle(raw, "node collection timeout"),
                                               None),
}


def register(chain: Chain) -> None:
    """Add this area's mutating and validating hooks to the chain."""
    chain.validate_with(GROUP, "Setting", validate)
