"""harvester-installer's automatic (PXE) install: the configuration it reads and the checks it
runs before it writes a disk. Facts from harvester/harvester-installer v1.8.1 (the v1.8 line;
FIDELITY.md §6 names each):

- pkg/config/config.go `HarvesterConfig` (top level: schemeVersion, serverUrl, token, sans, os,
  install, ...), `Install` (mode, automatic, skipchecks, managementInterface, vip, vipMode,
  vipHwAddr, device, dataDisk, isoUrl, configUrl, ...), `Network` (interfaces [{name, hwAddr}],
  method, ip, subnetMask, gateway, bondOptions, mtu, vlanId), `OS` (hostname, password,
  sshAuthorizedKeys, dnsNameservers, ntpServers, ...);
- pkg/config/schemas.go `LoadHarvesterConfig` with rename.go `FuzzyNames`: a key matches its
  field in camelCase, snake_case or lower case (`scheme_version`, `management_interface`,
  `hwAddr`...);
- pkg/config/read.go: `harvester.*` kernel parameters are a config too, merged over the remote
  one (`c.config.Merge(remote)`: mergo, the kernel's values win, lists appended);
- pkg/console/install_panels.go (the automatic install): fetch `install.config_url` (30 tries,
  10 s apart: "fail to fetch config: ..."), merge, lower-case the network method and VIP mode,
  look each management interface up by hwAddr or name (`FindNetworkInterfaceNameAndHwAddr`),
  default the hostname, format `server_url` (`getFormattedServerURL`), drop `data_disk` when it is
  the install device, then `validateConfig` ("Invalid configuration: ...");
- pkg/console/validator.go `commonCheck` then `ConfigValidator.Validate`, with their messages.

Not modelled: the pre-flight hardware checks (the MS-02 passes them), DHCP for the management
interface or the VIP, webhooks, the console's interactive pages.
"""
from __future__ import annotations

import ipaddress
import re
import secrets

import yaml

SCHEME_VERSION = 1
TOKEN_CHARS = "[a-zA-Z0-9 !\"#$%&'()*+,-./:;<=>?@^_`{|}~[\\]\\\\]"
_TOKEN = re.compile("^" + TOKEN_CHARS + "+$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SYSTEM_SETTINGS = {
    "additional-ca", "api-ui-version", "cluster-registration-url", "server-version", "ui-index", "ui-path",
    "ui-source", "ui-plugin-index", "volume-snapshot-class", "backup-target", "upgradable-versions",
    "upgrade-checker-enabled", "upgrade-checker-url", "release-download-url", "log-level", "ssl-certificates",
    "ssl-parameters", "support-bundle-image", "support-bundle-namespaces", "support-bundle-timeout",
    "support-bundle-expiration", "support-bundle-node-collection-timeout", "default-storage-class",
    "http-proxy", "vm-force-reset-policy", "overcommit-config", "vip-pools", "auto-disk-provision-paths",
    "csi-driver-config", "containerd-registry", "storage-network", "default-vm-termination-grace-period-seconds",
    "auto-rotate-rke2-certs", "kubeconfig-default-token-ttl-minutes", "harvester-csi-ccm-versions",
    "ntp-servers", "additional-guest-memory-overhead-ratio", "csi-online-expand-validation",
    "ui-plugin-bundled-version", "upgrade-config", "longhorn-v2-data-engine-enabled", "max-hotplug-ratio",
    "vm-migration-network", "rancher-cluster", "kubevirt-migration", "cluster-pod-security-standard"}

# The json field names of each struct the installer reads (config.go), by where they sit.
FIELDS = {
    "": ["schemeVersion", "serverUrl", "token", "sans", "os", "install", "runtimeVersion", "rancherVersion",
         "harvesterChartVersion", "monitoringChartVersion", "systemSettings", "loggingChartVersion"],
    "os": ["afterInstallChrootCommands", "sshAuthorizedKeys", "writeFiles", "hostname", "modules", "sysctls",
           "ntpServers", "dnsNameservers", "password", "environment", "labels", "sshd", "persistentStatePaths",
           "externalStorageConfig", "additionalKernelArguments"],
    "install": ["automatic", "skipchecks", "mode", "managementInterface", "vip", "vipHwAddr", "vipMode",
                "clusterDns", "clusterPodCidr", "clusterServiceCidr", "forceEfi", "device", "configUrl", "silent",
                "isoUrl", "powerOff", "noFormat", "debug", "tty", "forceGpt", "role", "withNetImages",
                "wipeAllDisks", "wipeDisksList", "forceMbr", "dataDisk", "webhooks", "addons", "harvester",
                "rawDiskImagePath", "persistentPartitionSize"],
    "install.managementInterface": ["interfaces", "method", "ip", "subnetMask", "gateway", "bondOptions", "mtu",
                                    "vlanId"],
    "install.managementInterface.interfaces": ["name", "hwAddr"],
}
BOOLS = {"install.automatic", "install.skipchecks", "install.forceEfi", "install.silent", "install.powerOff",
         "install.noFormat", "install.debug", "install.forceGpt", "install.forceMbr", "install.wipeAllDisks"}
INTS = {"schemeVersion", "install.managementInterface.mtu", "install.managementInterface.vlanId"}
MGMT_NOT_FOUND = ("networks is deprecated, please use management_interface for new config and refer "
                  "https://docs.harvesterhci.io/v1.1/install/harvester-configuration/#installmanagement_interface")


class InstallerError(Exception):
    """What the installer prints when it stops (the node stays in the installer)."""


def _yaml_key(name: str) -> str:
    """rancher/mapper convert.ToYAMLKey: camelCase to snake_case."""
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _fuzzy(fields: list[str]) -> dict[str, str]:
    """rename.go FuzzyNames: every spelling a field answers to (lower case, snake_case, singular)."""
    names: dict[str, str] = {}
    for f in fields:
        spellings = {f, f.lower(), _yaml_key(f), _yaml_key(f).lower()}
        if f.endswith("s") and len(f) > 1:
            spellings |= {f[:-1].lower(), _yaml_key(f[:-1])}
        for s in spellings:
            names.setdefault(s, f)
    return names


def normalize(data, where: str = "") -> dict:
    """A parsed config with every key renamed to its field (unknown keys dropped, as
    convert.ToObj drops them) and scalars converted (mapper's ToBool/ToInt)."""
    if not isinstance(data, dict):
        return {}
    names = _fuzzy(FIELDS.get(where, []))
    out: dict = {}
    for key, value in data.items():
        field_name = names.get(str(key))
        if field_name is None:
            if where in FIELDS:
                continue
            field_name = str(key)  # maps (bondOptions, sysctls...) keep their keys
        path = f"{where}.{field_name}" if where else field_name
        if isinstance(value, dict) and path in FIELDS:
            value = normalize(value, path)
        elif isinstance(value, list) and path in FIELDS:
            value = [normalize(v, path) for v in value]
        elif path in BOOLS:
            value = value if isinstance(value, bool) else str(value).lower() == "true"
        elif path in INTS:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise InstallerError(f"fail to load config: failed to convert to HarvesterConfig: "
                                     f"json: cannot unmarshal string into Go struct field of type int "
                                     f"({path})") from None
        out[field_name] = value
    return out


def load(data: bytes) -> dict:
    """LoadHarvesterConfig on the fetched bytes (retryRemoteConfig's "fail to load config")."""
    try:
        parsed = yaml.safe_load(data.decode("utf-8", "replace")) or {}
    except yaml.YAMLError as e:
        raise InstallerError(f"fail to load config: failed to unmarshal yaml: {e}") from None
    if not isinstance(parsed, dict):
        raise InstallerError(f"fail to load config: failed to unmarshal yaml: yaml: unmarshal errors:\n  "
                             f"cannot unmarshal !!{type(parsed).__name__} into map[string]interface {{}}")
    return normalize(parsed)


def from_kernel(args: list[str]) -> dict:
    """The `harvester.*` kernel parameters as a config (read.go ReadConfig: util.ReadCmdline)."""
    data: dict = {}
    for arg in args:
        if not arg.startswith("harvester.") or "=" not in arg:
            continue
        key, value = arg[len("harvester."):].split("=", 1)
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return normalize(data)


def merge(dst: dict, src: dict) -> dict:
    """mergo.Merge(dst, src, WithAppendSlice): src fills dst's empty fields, lists appended."""
    out = dict(dst)
    for k, v in src.items():
        if k not in out or out[k] in (None, "", 0, False, {}, []):
            out[k] = v
        elif isinstance(out[k], dict) and isinstance(v, dict):
            out[k] = merge(out[k], v)
        elif isinstance(out[k], list) and isinstance(v, list):
            out[k] = out[k] + v
    return out


def _mac(value: str) -> str | None:
    m = re.fullmatch(r"([0-9A-Fa-f]{2})([:-])([0-9A-Fa-f]{2})\2([0-9A-Fa-f]{2})\2([0-9A-Fa-f]{2})\2"
                     r"([0-9A-Fa-f]{2})\2([0-9A-Fa-f]{2})", value or "")
    if not m:
        return None
    return ":".join(g.lower() for i, g in enumerate(m.groups()) if i != 1)


def _is_ipv4(value) -> bool:
    try:
        return isinstance(ipaddress.ip_address(str(value)), ipaddress.IPv4Address)
    except ValueError:
        return False


def _check_ip(value) -> None:
    if not _is_ipv4(value or ""):
        raise InstallerError(f"{value or ''} is not a valid IP address")


def format_server_url(addr: str) -> str:
    """getFormattedServerURL: https:// added, no path, port 443 only."""
    if not addr:
        raise InstallerError("management address cannot be empty")
    addr = addr.strip()
    real = addr if addr.startswith("https://") else "https://" + addr
    m = re.fullmatch(r"https://([^/:]+|\[[^\]]+\])(?::(\d*))?(/.*)?", real)
    if not m:
        raise InstallerError(f"{addr} is invalid")
    host, port, path = m.group(1), m.group(2), m.group(3)
    if not _is_ipv4(host) and not _DNS1123_SUBDOMAIN.match(host):
        raise InstallerError(f"{addr} is not a valid ip/domain")
    if path:
        raise InstallerError(f"path is not allowed in management address: {path}")
    if port is None or port == "":
        return f"https://{host}:443"
    if port != "443":
        raise InstallerError("currently non-443 port are not allowed")
    return f"https://{host}:443"


def prepare(cfg: dict, ports: list[tuple[str, str]]) -> dict:
    """The steps of the install panel before validation, on a copy of the merged config."""
    cfg = {**cfg, "os": dict(cfg.get("os") or {}), "install": dict(cfg.get("install") or {})}
    inst = cfg["install"]
    mi = dict(inst.get("managementInterface") or {})
    mi["method"] = str(mi.get("method") or "").lower()
    inst["vipMode"] = str(inst.get("vipMode") or "").lower()
    by_mac = {mac.lower(): name for name, mac in ports}
    by_name = {name: mac for name, mac in ports}
    interfaces = []
    for iface in mi.get("interfaces") or []:
        iface = dict(iface)
        name, hw = iface.get("name") or "", iface.get("hwAddr") or ""
        if not name and hw:  # FindNetworkInterfaceName
            mac = _mac(hw)
            if mac is None:
                raise InstallerError(f"address {hw}: invalid MAC address")
            if mac not in by_mac:
                raise InstallerError(f"no interface matching hardware address {hw} found")
            iface["name"] = by_mac[mac]
        elif name and not hw:  # FindNetworkInterfaceHwAddr
            if name not in by_name:
                raise InstallerError(f"no interface matching name {name} found")
            iface["hwAddr"] = by_name[name]
        interfaces.append(iface)
    if "interfaces" in mi:
        mi["interfaces"] = interfaces
    inst["managementInterface"] = mi
    if not cfg["os"].get("hostname"):  # checkDHCPHostname: the DHCP server's name, else a random one
        cfg["os"]["hostname"] = "harvester-" + secrets.token_hex(3)[:5]
    if cfg.get("serverUrl"):
        try:
            cfg["serverUrl"] = format_server_url(cfg["serverUrl"])
        except InstallerError as e:
            raise InstallerError(f"server url invalid: {e}") from None
    if inst.get("dataDisk") and inst.get("dataDisk") == inst.get("device"):
        inst["dataDisk"] = ""
    return cfg


def validate(cfg: dict, ports: list[tuple[str, str]], disks: set[str]) -> None:
    """validateConfig: commonCheck, then ConfigValidator.Validate. Raises with the message after
    "Invalid configuration: "."""
    try:
        _common_check(cfg)
        _validate(cfg, ports, disks)
    except InstallerError as e:
        raise InstallerError(f"Invalid configuration: {e}") from None


def _common_check(cfg: dict) -> None:
    inst, os_part = cfg.get("install") or {}, cfg.get("os") or {}
    mode = inst.get("mode") or ""
    if mode in ("upgrade", "install"):
        return
    if mode == "create":
        if cfg.get("serverUrl"):
            raise InstallerError("ServerURL need to be empty in create mode")
    elif mode == "join":
        if not cfg.get("serverUrl"):
            raise InstallerError("ServerURL can't empty in join mode")
    else:
        raise InstallerError(f"unknown mode: {mode}")
    if inst.get("automatic") and not inst.get("isoUrl"):
        raise InstallerError("iso_url is required in automatic installation")
    if not cfg.get("token"):
        raise InstallerError("token not specified")
    if not os_part.get("sshAuthorizedKeys") and not os_part.get("password"):
        raise InstallerError("no SSH authorized keys or passwords are set")
    for path in os_part.get("persistentStatePaths") or []:
        if not str(path).startswith("/"):
            raise InstallerError("Invalid path. PersistentStatePath must be an absolute path")
        if path == "/tmp" or str(path).startswith("/tmp/"):
            raise InstallerError("Invalid path. Parent dir of PersistentStatePath cannot be /tmp")


def _validate(cfg: dict, ports: list[tuple[str, str]], disks: set[str]) -> None:
    inst, os_part = cfg.get("install") or {}, cfg.get("os") or {}
    scheme = cfg.get("schemeVersion") or 0
    if scheme != SCHEME_VERSION:
        raise InstallerError(f"Unsupported Harvester Scheme Version {scheme}, please use new config and refer "
                             "https://docs.harvesterhci.io/v1.1/install/harvester-configuration/")
    hostname = str(os_part.get("hostname") or "")
    if not (len(hostname) <= 253 and _DNS1123_SUBDOMAIN.match(hostname)):
        raise InstallerError("invalid hostname. A lowercase RFC 1123 subdomain must consist of lower case "
                             "alphanumeric characters, '-' or '.'")
    _check_device(inst, disks)
    mode = inst.get("mode")
    if mode != "install":
        mi = inst.get("managementInterface") or {}
        if not mi.get("interfaces"):
            raise InstallerError(MGMT_NOT_FOUND)
        _check_networks(mi, os_part.get("dnsNameservers") or [], ports)
        if not _TOKEN.match(str(cfg.get("token") or "")):
            raise InstallerError("Invalid token. Must be alphanumeric and OWASP special password characters. "
                                 f"Regexp: {_TOKEN.pattern}")
    if mode == "create":
        _check_ip(inst.get("vip"))
        vip_mode = inst.get("vipMode") or ""
        if vip_mode == "dhcp":
            if _mac(inst.get("vipHwAddr") or "") is None:
                hw = inst.get("vipHwAddr") or ""
                raise InstallerError(f"{hw} is an invalid hardware address, error: address {hw}: invalid MAC address")
        elif vip_mode not in ("static", "none"):
            raise InstallerError(f"unknown vip mode: {vip_mode}")
        for setting in (cfg.get("systemSettings") or {}):
            if setting not in SYSTEM_SETTINGS:
                raise InstallerError(f"unknown system settings: {setting}")


def _check_device(inst: dict, disks: set[str]) -> None:
    device, data_disk = inst.get("device") or "", inst.get("dataDisk") or ""
    if not device:
        raise InstallerError("no device specified")
    if device not in disks:
        raise InstallerError(f"lstat {device}: no such file or directory")
    if inst.get("skipchecks"):
        return
    if data_disk and data_disk not in disks:  # validateDataDiskSize cannot read its size
        raise InstallerError(f"device size too small. At least 250G is required: {data_disk}")


def _check_networks(mi: dict, dns: list, ports: list[tuple[str, str]]) -> None:
    method = mi.get("method") or ""
    if method not in ("dhcp", "static"):
        raise InstallerError("management network must configure with either static or DHCP method")
    if method == "static" and not dns:
        raise InstallerError("DNS servers are required for static IP address")
    names = {name for name, _ in ports}
    for iface in mi.get("interfaces") or []:
        name = iface.get("name") or ""
        if not name:
            raise InstallerError("no interface specified")
        if name == "lo":
            raise InstallerError("interface is a loopback interface: lo")
        if name not in names:
            raise InstallerError(f"interface not found: {name}")
    vlan = mi.get("vlanId") or 0
    if vlan < 0 or vlan > 4094:
        raise InstallerError("VLAN ID should be a number 1 ~ 4094.")
    if method == "static":
        for field_name, label in (("ip", "ip"), ("subnetMask", "subnetMask"), ("gateway", "gateway")):
            if not mi.get(field_name):
                raise InstallerError(f"must specify {label} in static method")
            _check_ip(mi.get(field_name))
        mtu = mi.get("mtu") or 0
        if mtu and (mtu < 576 or mtu > 9000):
            raise InstallerError(f"{mtu} is not a valid MTU value")
