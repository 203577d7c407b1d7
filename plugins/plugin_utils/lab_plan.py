# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks for the lab plan (``inventory/lab``) before anything is written anywhere.

Pure functions over plain data: every ``check_*`` function takes one part of the plan and returns
a list of human-readable messages (empty when that part is fine). Each message starts with the
field it is about, e.g. ``lab_vlans[2] (cluster): gateway 10.10.50.1 is not inside
10.10.40.0/24``, so the user knows which line of the inventory to fix.

``validate_lab_plan`` runs them all; the filters ``homelab.harvester.lab_plan_errors`` and
``lab_diagram`` use it (only non-module plugins do, so it lives in ``plugin_utils``, never shipped
inside a module's payload). ``netaddr`` is optional at import time (ansible-test imports plugin
code with only ansible-core installed); the checks raise ``ImportError`` without it.

The shape of the plan (inventory/lab/group_vars/all/lab.yml and host_vars/ms02-N.yml)::

    vlans: [{name, id, cidr, gateway (None when L2 only), purpose, vm_network}, ...]
    nodes: {inventory_hostname: {mgmt_ip, role, bond_nics: [{name, mac}, {name, mac}],
                                 oob_nic: {name, mac}, install_disk, data_disk,
                                 amt: {host, port, tls, user, validate_certs, password_var} (optional)}, ...}
    nfs:   {server, images_export, backups_export}
    bond:  {mode, miimon, xmit_hash_policy, lacp_rate, mtu}
"""

from __future__ import annotations

import functools
import re
import traceback
from collections.abc import Mapping, Sequence

try:
    import netaddr
except ImportError:
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None

MGMT_VLAN_NAME = "mgmt"
# The lab_vlans entry that becomes Harvester's storage network (the storage role): L2 only.
STORAGE_VLAN_NAME = "storage"
BOND_NIC_COUNT = 2
NODE_ROLES = ("create", "join")
NODE_DISKS = ("install_disk", "data_disk")
NFS_EXPORTS = ("images_export", "backups_export")
VLAN_ID_MIN = 1
VLAN_ID_MAX = 4094
# Values of the Linux bonding driver (Documentation/networking/bonding.rst).
BOND_MODES = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb")
BOND_XMIT_HASH_POLICIES = ("layer2", "layer2+3", "layer3+4", "encap2+3", "encap3+4", "vlan+srcmac")
BOND_LACP_RATES = ("slow", "fast")
# Harvester accepts MTUs from 576 to 9000 on cluster networks and VM networks.
MTU_MIN = 576
MTU_MAX = 9000

# A VLAN name becomes a VM network (NetworkAttachmentDefinition) name: an RFC 1123 label.
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOSTNAME_LABEL = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$")
# Only the colon form: the one `ip link`, Harvester and its install config use.
_MAC_COLON = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
# A Linux interface name: at most 15 characters, no '/', ':' or whitespace.
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


# --------------------------------------------------------------------------------------- helpers


def require_netaddr():
    """Raise ImportError with a useful message when netaddr is not installed."""
    if not HAS_NETADDR:
        raise ImportError("the lab plan checks need the Python library 'netaddr' (pip install netaddr)")


def _is_mapping(value):
    return isinstance(value, Mapping)


def is_list(value):
    """A list-like value, not a string."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _type_name(value):
    return type(value).__name__


def optional_section(field, expected, is_shape=_is_mapping):
    """For the check of an optional variable of the plan (lab_nfs, lab_bond, lab_clusters): nothing to
    say when it is unset, one message when it is not ``expected`` (is_shape false); the check itself
    runs only on a value of the right shape."""

    def wrap(check):
        @functools.wraps(check)
        def checked(value, *args, **kwargs):
            if value is None:
                return []
            if not is_shape(value):
                return [f"{field}: must be {expected}, got {_type_name(value)}"]
            return check(value, *args, **kwargs)

        return checked

    return wrap


def vlan_label(index, vlan):
    """``lab_vlans[2] (cluster)``: how messages name one VLAN entry."""
    name = vlan.get("name") if _is_mapping(vlan) else None
    if isinstance(name, str) and name:
        return f"lab_vlans[{index}] ({name})"
    return f"lab_vlans[{index}]"


def node_label(name):
    """``lab_node (ms02-1)``: how messages name one node."""
    return f"lab_node ({name})"


def parse_ip(value):
    """An IP address string -> ``netaddr.IPAddress``, or None when it is not one."""
    require_netaddr()
    if not isinstance(value, str) or not value:
        return None
    try:
        return netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def parse_cidr(value):
    """``'10.10.40.0/24'`` -> ``netaddr.IPNetwork``, or None unless it is ``address/prefix``."""
    require_netaddr()
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def is_hostname(value):
    """An RFC 1123 host name; a malformed IPv4 address (all-numeric last label) is not one."""
    if not isinstance(value, str) or not value or len(value) > 253:
        return False
    labels = value[:-1].split(".") if value.endswith(".") else value.split(".")
    if not all(_HOSTNAME_LABEL.match(label) for label in labels):
        return False
    return not labels[-1].isdigit()


def normalize_mac(value):
    """``'58:47:CA:7B:01:A0'`` -> ``'58:47:ca:7b:01:a0'``, or None unless a colon-form MAC."""
    require_netaddr()
    if not isinstance(value, str) or not _MAC_COLON.match(value):
        return None
    try:
        return str(netaddr.EUI(value, dialect=netaddr.mac_unix_expanded))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def _vlan_entries(vlans):
    """(index, vlan) for every entry of lab_vlans that is a mapping."""
    if not is_list(vlans):
        return []
    return [(index, vlan) for index, vlan in enumerate(vlans) if _is_mapping(vlan)]


def _node_items(nodes):
    """(name, node) for every node, mappings or not; None when nodes is neither a dict nor a list."""
    if _is_mapping(nodes):
        return [(str(name), node) for name, node in nodes.items()]
    if is_list(nodes):
        return [(str(node.get("name", f"nodes[{index}]")) if _is_mapping(node) else f"nodes[{index}]", node)
                for index, node in enumerate(nodes)]
    return None


def _node_entries(nodes):
    """(name, lab_node) for every node that is a mapping."""
    return [(name, node) for name, node in _node_items(nodes) or [] if _is_mapping(node)]


def _vlan_network(vlan):
    """The VLAN's subnet when its cidr is a proper network address, else None."""
    network = parse_cidr(vlan.get("cidr"))
    if network is None or network.ip != network.network:
        return None
    return network.cidr


def _boundary(address, network):
    """'network' or 'broadcast' when address is that special address of network, else None."""
    if network.size <= 2:  # /31 and /32 (RFC 3021): every address is usable
        return None
    if address == network.network:
        return "network"
    if address == network.broadcast:
        return "broadcast"
    return None


def find_vlan(vlans, name):
    """(index, vlan) of the lab_vlans entry called name, or (None, None)."""
    for index, vlan in _vlan_entries(vlans):
        if vlan.get("name") == name:
            return index, vlan
    return None, None


def _mgmt_context(vlans, mgmt_vlan_name):
    """(network, gateway) of the management VLAN; each None when missing or invalid."""
    _index, vlan = find_vlan(vlans, mgmt_vlan_name)
    if vlan is None:
        return None, None
    return _vlan_network(vlan), parse_ip(vlan.get("gateway"))


def _node_nics(node):
    """(field, nic) for every NIC mapping of a node: bond_nics[i] and oob_nic."""
    nics = []
    bond_nics = node.get("bond_nics")
    if is_list(bond_nics):
        nics.extend((f"bond_nics[{i}]", nic) for i, nic in enumerate(bond_nics) if _is_mapping(nic))
    if _is_mapping(node.get("oob_nic")):
        nics.append(("oob_nic", node["oob_nic"]))
    return nics


# ----------------------------------------------------------------------------------- VLAN checks


def check_vlans_shape(vlans):
    """lab_vlans is a non-empty list of mappings; purpose is text and vm_network a boolean."""
    if not is_list(vlans):
        return [f"lab_vlans: must be a list of VLAN entries, got {_type_name(vlans)}"]
    if not vlans:
        return ["lab_vlans: is empty"]
    errors = []
    for index, vlan in enumerate(vlans):
        if not _is_mapping(vlan):
            errors.append(f"lab_vlans[{index}]: must be a mapping with name, id, cidr, gateway, purpose and "
                          f"vm_network, got {_type_name(vlan)}")
            continue
        label = vlan_label(index, vlan)
        purpose = vlan.get("purpose")
        if not isinstance(purpose, str) or not purpose.strip():
            errors.append(f"{label}: purpose must be a non-empty string")
        vm_network = vlan.get("vm_network")
        if not isinstance(vm_network, bool):
            errors.append(f"{label}: vm_network must be true or false, got {vm_network!r}")
    return errors


def check_vlan_names(vlans):
    """Names are RFC 1123 labels (they become VM network names) and unique."""
    errors = []
    seen = {}
    for index, vlan in _vlan_entries(vlans):
        name = vlan.get("name")
        if not isinstance(name, str) or not _DNS1123_LABEL.match(name):
            errors.append(f"lab_vlans[{index}]: name {name!r} must be a lowercase RFC 1123 label "
                          "(a-z, 0-9 and '-', at most 63 characters)")
        elif name in seen:
            errors.append(f"lab_vlans[{index}] ({name}): name is already used by lab_vlans[{seen[name]}]")
        else:
            seen[name] = index
    return errors


def check_vlan_ids(vlans):
    """VLAN IDs are integers from 1 to 4094 and unique."""
    errors = []
    seen = {}
    for index, vlan in _vlan_entries(vlans):
        label = vlan_label(index, vlan)
        vid = vlan.get("id")
        if not _is_int(vid):
            errors.append(f"{label}: id {vid!r} must be an integer from {VLAN_ID_MIN} to {VLAN_ID_MAX}")
        elif not VLAN_ID_MIN <= vid <= VLAN_ID_MAX:
            errors.append(f"{label}: id {vid} is outside {VLAN_ID_MIN}-{VLAN_ID_MAX}")
        elif vid in seen:
            errors.append(f"{label}: id {vid} is already used by {seen[vid]}")
        else:
            seen[vid] = label
    return errors


def check_vlan_subnets(vlans):
    """Every cidr is a valid ``network/prefix`` without host bits."""
    errors = []
    for index, vlan in _vlan_entries(vlans):
        label = vlan_label(index, vlan)
        cidr = vlan.get("cidr")
        network = parse_cidr(cidr)
        if network is None:
            errors.append(f"{label}: cidr {cidr!r} is not a valid subnet in address/prefix form")
        elif network.ip != network.network:
            errors.append(f"{label}: cidr {cidr} has host bits set (did you mean {network.cidr}?)")
    return errors


def check_subnet_overlap(vlans):
    """No two VLAN subnets overlap."""
    errors = []
    networks = []
    for index, vlan in _vlan_entries(vlans):
        network = _vlan_network(vlan)
        if network is None:
            continue  # reported by check_vlan_subnets
        label = vlan_label(index, vlan)
        for other_label, other in networks:
            if network.version == other.version and (network in other or other in network):
                errors.append(f"{label}: cidr {network} overlaps {other_label} {other}")
        networks.append((label, network))
    return errors


def check_vlan_gateways(vlans):
    """A gateway, when set, is inside its subnet and not the network or broadcast address."""
    errors = []
    for index, vlan in _vlan_entries(vlans):
        gateway = vlan.get("gateway")
        if gateway is None:
            continue  # L2 only
        label = vlan_label(index, vlan)
        address = parse_ip(gateway)
        if address is None:
            errors.append(f"{label}: gateway {gateway!r} is not a valid IP address")
            continue
        network = _vlan_network(vlan)
        if network is None:
            continue  # reported by check_vlan_subnets
        if address not in network:
            errors.append(f"{label}: gateway {address} is not inside {network}")
            continue
        boundary = _boundary(address, network)
        if boundary:
            errors.append(f"{label}: gateway {address} is the {boundary} address of {network}")
    return errors


def check_storage_vlan(vlans):
    """The VLAN named ``storage`` becomes Harvester's storage network (Longhorn replication), which
    is L2 only: a gateway would be silently ignored, so it is refused; nor is it a VM network."""
    index, vlan = find_vlan(vlans, STORAGE_VLAN_NAME)
    if vlan is None:
        return []
    errors = []
    if vlan.get("gateway") is not None:
        errors.append(f"{vlan_label(index, vlan)}: gateway must be null: the {STORAGE_VLAN_NAME} VLAN becomes Harvester's "
                      "storage network (Longhorn replication), which is L2 only and never routed")
    if vlan.get("vm_network"):
        errors.append(f"{vlan_label(index, vlan)}: vm_network must be false: the {STORAGE_VLAN_NAME} VLAN is "
                      "Harvester's storage network, not a VM network")
    return errors


def check_mgmt_vlan(vlans, mgmt_vlan_name=MGMT_VLAN_NAME):
    """The management VLAN exists and has a gateway (the nodes' default route)."""
    index, vlan = find_vlan(vlans, mgmt_vlan_name)
    if vlan is None:
        return [f"lab_vlans: no entry named {mgmt_vlan_name!r} (the management VLAN)"]
    if vlan.get("gateway") is None:
        return [f"{vlan_label(index, vlan)}: gateway is required on the management VLAN"]
    return []


# ---------------------------------------------------------------------- addresses on the mgmt VLAN


def check_vip(vip, vlans, mgmt_vlan_name=MGMT_VLAN_NAME):
    """The VIP is inside the management subnet, not its network/broadcast address nor the gateway."""
    if vip is None:
        return []
    address = parse_ip(vip)
    if address is None:
        return [f"lab_vip: {vip!r} is not a valid IP address"]
    network, gateway = _mgmt_context(vlans, mgmt_vlan_name)
    if network is None:
        return []  # reported by check_mgmt_vlan / check_vlan_subnets
    if address not in network:
        return [f"lab_vip: {address} is not inside the {mgmt_vlan_name} subnet {network}"]
    boundary = _boundary(address, network)
    if boundary:
        return [f"lab_vip: {address} is the {boundary} address of {network}"]
    if address == gateway:
        return [f"lab_vip: {address} is the {mgmt_vlan_name} gateway"]
    return []


def check_node_mgmt_ips(nodes, vlans, mgmt_vlan_name=MGMT_VLAN_NAME, vip=None):
    """mgmt_ip: valid, unique, inside mgmt, not its network/broadcast address, the gateway or the VIP."""
    errors = []
    network, gateway = _mgmt_context(vlans, mgmt_vlan_name)
    vip_address = parse_ip(vip)
    seen = {}
    for name, node in _node_entries(nodes):
        label = node_label(name)
        value = node.get("mgmt_ip")
        address = parse_ip(value)
        if address is None:
            errors.append(f"{label}: mgmt_ip {value!r} is not a valid IP address")
            continue
        if address in seen:
            errors.append(f"{label}: mgmt_ip {address} is already used by {seen[address]}")
        else:
            seen[address] = name
        if address == vip_address:
            errors.append(f"{label}: mgmt_ip {address} is the VIP (lab_vip)")
        if network is None:
            continue  # reported by check_mgmt_vlan / check_vlan_subnets
        if address not in network:
            errors.append(f"{label}: mgmt_ip {address} is not inside the {mgmt_vlan_name} subnet {network}")
            continue
        boundary = _boundary(address, network)
        if boundary:
            errors.append(f"{label}: mgmt_ip {address} is the {boundary} address of {network}")
        if address == gateway:
            errors.append(f"{label}: mgmt_ip {address} is the {mgmt_vlan_name} gateway")
    return errors


# ------------------------------------------------------------------------------------------ nodes


def check_nodes_shape(nodes):
    """There is at least one node and each lab_node is a mapping."""
    items = _node_items(nodes)
    if items is None:
        return [f"lab_node: nodes must be a mapping of host name to lab_node, got {_type_name(nodes)}"]
    if not items:
        return ["lab_node: no nodes given (is the harvester_nodes group empty?)"]
    return [f"{node_label(name)}: must be a mapping, got {_type_name(node)}"
            for name, node in items if not _is_mapping(node)]


def check_node_roles(nodes):
    """Each role is 'create' or 'join', and exactly one node creates the cluster."""
    errors = []
    creators = []
    entries = _node_entries(nodes)
    for name, node in entries:
        role = node.get("role")
        if role not in NODE_ROLES:
            errors.append(f"{node_label(name)}: role {role!r} must be one of {', '.join(NODE_ROLES)}")
        elif role == "create":
            creators.append(name)
    if entries and not errors and len(creators) != 1:
        found = f"{len(creators)} ({', '.join(creators)})" if creators else "none"
        errors.append(f"lab_node: exactly one node must have role 'create', found {found}")
    return errors


def check_node_nics(nodes):
    """Exactly two bond NICs and one OOB NIC per node, with valid and distinct interface names."""
    errors = []
    for name, node in _node_entries(nodes):
        label = node_label(name)
        bond_nics = node.get("bond_nics")
        if not is_list(bond_nics):
            errors.append(f"{label}: bond_nics must be a list of {BOND_NIC_COUNT} NICs, got {_type_name(bond_nics)}")
        else:
            if len(bond_nics) != BOND_NIC_COUNT:
                errors.append(f"{label}: bond_nics must have exactly {BOND_NIC_COUNT} NICs, found {len(bond_nics)}")
            errors.extend(f"{label}: bond_nics[{i}] must be a mapping with name and mac, got {_type_name(nic)}"
                          for i, nic in enumerate(bond_nics) if not _is_mapping(nic))
        oob_nic = node.get("oob_nic")
        if not _is_mapping(oob_nic):
            errors.append(f"{label}: oob_nic must be a mapping with name and mac, got {_type_name(oob_nic)}")
        seen = {}
        for field, nic in _node_nics(node):
            nic_name = nic.get("name")
            if not isinstance(nic_name, str) or not _IFNAME.match(nic_name):
                errors.append(f"{label}: {field}.name {nic_name!r} is not a valid interface name")
            elif nic_name in seen:
                errors.append(f"{label}: {field}.name {nic_name} is already used by {seen[nic_name]}")
            else:
                seen[nic_name] = field
    return errors


def check_macs(nodes):
    """Every NIC MAC is a colon-form unicast MAC, unique across all NICs of all nodes."""
    errors = []
    seen = {}
    for name, node in _node_entries(nodes):
        label = node_label(name)
        for field, nic in _node_nics(node):
            value = nic.get("mac")
            mac = normalize_mac(value)
            if mac is None:
                errors.append(f"{label}: {field}.mac {value!r} is not a MAC address in colon form "
                              "(aa:bb:cc:dd:ee:ff)")
                continue
            if int(mac[:2], 16) & 1:
                errors.append(f"{label}: {field}.mac {mac} is a multicast address, not a NIC's")
            if mac in seen:
                errors.append(f"{label}: {field}.mac {mac} is already used by {seen[mac]}")
            else:
                seen[mac] = f"{name} {field}"
    return errors


def check_node_disks(nodes):
    """install_disk and data_disk are /dev paths, different on a node and unique across nodes."""
    errors = []
    seen = {}
    for name, node in _node_entries(nodes):
        label = node_label(name)
        for field in NODE_DISKS:
            disk = node.get(field)
            if not isinstance(disk, str) or not disk.startswith("/dev/"):
                errors.append(f"{label}: {field} {disk!r} must be a device path under /dev/ "
                              "(preferably /dev/disk/by-id/...)")
            elif disk in seen:
                errors.append(f"{label}: {field} {disk} is already used by {seen[disk]}")
            else:
                seen[disk] = f"{name} {field}"
    return errors


# --------------------------------------------------------------------------------------- services


@optional_section("lab_nfs", f"a mapping with server, {', '.join(NFS_EXPORTS)}")
def check_nfs(nfs):
    """NFS: the server is an IP address or a host name; the exports are absolute paths."""
    errors = []
    server = nfs.get("server")
    if parse_ip(server) is None and not is_hostname(server):
        errors.append(f"lab_nfs.server: {server!r} is neither an IP address nor a host name")
    for field in NFS_EXPORTS:
        path = nfs.get(field)
        if not isinstance(path, str) or not path.startswith("/"):
            errors.append(f"lab_nfs.{field}: {path!r} must be an absolute export path")
    return errors


@optional_section("lab_bond", "a mapping")
def check_bond(bond):
    """Bond options the Linux bonding driver accepts; an MTU within Harvester's range."""
    errors = []
    mode = bond.get("mode")
    if mode not in BOND_MODES:
        errors.append(f"lab_bond.mode: {mode!r} must be one of {', '.join(BOND_MODES)}")
    miimon = bond.get("miimon")
    if miimon is not None and (not _is_int(miimon) or miimon < 0):
        errors.append(f"lab_bond.miimon: {miimon!r} must be a non-negative integer (milliseconds)")
    policy = bond.get("xmit_hash_policy")
    if policy is not None and policy not in BOND_XMIT_HASH_POLICIES:
        errors.append(f"lab_bond.xmit_hash_policy: {policy!r} must be one of {', '.join(BOND_XMIT_HASH_POLICIES)}")
    rate = bond.get("lacp_rate")
    if rate is not None and rate not in BOND_LACP_RATES:
        errors.append(f"lab_bond.lacp_rate: {rate!r} must be one of {', '.join(BOND_LACP_RATES)}")
    elif rate is not None and mode in BOND_MODES and mode != "802.3ad":
        errors.append(f"lab_bond.lacp_rate: only applies to mode 802.3ad, not {mode}")
    mtu = bond.get("mtu")
    if mtu is not None and (not _is_int(mtu) or not MTU_MIN <= mtu <= MTU_MAX):
        errors.append(f"lab_bond.mtu: {mtu!r} must be an integer from {MTU_MIN} to {MTU_MAX}")
    return errors


def check_servers(field, servers, allow_hostnames=True):
    """A non-empty list of server addresses (DNS needs IP addresses; NTP takes host names too)."""
    if servers is None:
        return []
    if not is_list(servers) or not servers:
        return [f"{field}: must be a non-empty list, got {servers!r}"]
    kind = "an IP address or host name" if allow_hostnames else "an IP address"
    return [f"{field}[{index}]: {server!r} is not {kind}"
            for index, server in enumerate(servers)
            if parse_ip(server) is None and not (allow_hostnames and is_hostname(server))]


def check_node_amt(nodes, vip=None):
    """lab_node.amt (optional; the bootstrap role powers the node on through it): host an IP address
    or host name used by no other node's AMT, mgmt_ip or the VIP; port 1-65535; tls and
    validate_certs booleans; user a non-empty string; password_var a variable name."""
    errors = []
    taken = {}
    for name, node in _node_entries(nodes):
        address = parse_ip(node.get("mgmt_ip"))
        if address is not None:
            taken[address] = f"{name} mgmt_ip"
    vip_address = parse_ip(vip)
    if vip_address is not None:
        taken.setdefault(vip_address, "the VIP (lab_vip)")
    for name, node in _node_entries(nodes):
        if "amt" not in node:
            continue
        label = node_label(name)
        amt = node["amt"]
        if not _is_mapping(amt):
            errors.append(f"{label}: amt must be a mapping with host, port, tls, user, got {_type_name(amt)}")
            continue
        host = amt.get("host")
        address = parse_ip(host)
        if address is None and not is_hostname(host):
            errors.append(f"{label}: amt.host {host!r} is not an IP address or host name")
        elif address is not None:
            if address in taken:
                errors.append(f"{label}: amt.host {address} is already used by {taken[address]}")
            else:
                taken[address] = f"{name} amt.host"
        port = amt.get("port")
        if port is not None and (not _is_int(port) or not 1 <= port <= 65535):
            errors.append(f"{label}: amt.port {port!r} is not a port number (1-65535; AMT: 16993 TLS, 16992 plain)")
        for key in ("tls", "validate_certs"):
            if key in amt and not isinstance(amt[key], bool):
                errors.append(f"{label}: amt.{key} {amt[key]!r} is not true or false")
        if "user" in amt and (not isinstance(amt["user"], str) or not amt["user"]):
            errors.append(f"{label}: amt.user {amt['user']!r} is not a user name")
        if "password_var" in amt and not (isinstance(amt["password_var"], str)
                                          and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", amt["password_var"])):
            errors.append(f"{label}: amt.password_var {amt['password_var']!r} is not a variable name")
    return errors


# ---------------------------------------------------------------------------------- all together


def validate_lab_plan(vlans, nodes, mgmt_vlan_name=MGMT_VLAN_NAME, vip=None, nfs=None, bond=None,
                      dns_servers=None, ntp_servers=None):
    """Run every check over the lab plan; return the messages, an empty list when the plan is sound.

    vlans is lab_vlans; nodes is ``{inventory_hostname: lab_node}`` (or a list of lab_node with a
    ``name``). vip, nfs, bond, dns_servers and ntp_servers are checked only when given.
    Raises ImportError when netaddr is missing.
    """
    require_netaddr()
    return [
        *check_vlans_shape(vlans),
        *check_vlan_names(vlans),
        *check_vlan_ids(vlans),
        *check_vlan_subnets(vlans),
        *check_subnet_overlap(vlans),
        *check_vlan_gateways(vlans),
        *check_mgmt_vlan(vlans, mgmt_vlan_name),
        *check_storage_vlan(vlans),
        *check_vip(vip, vlans, mgmt_vlan_name),
        *check_nodes_shape(nodes),
        *check_node_mgmt_ips(nodes, vlans, mgmt_vlan_name, vip),
        *check_node_roles(nodes),
        *check_node_nics(nodes),
        *check_macs(nodes),
        *check_node_disks(nodes),
        *check_node_amt(nodes, vip),
        *check_nfs(nfs),
        *check_bond(bond),
        *check_servers("lab_dns_servers", dns_servers, allow_hostnames=False),
        *check_servers("lab_ntp_servers", ntp_servers),
    ]
