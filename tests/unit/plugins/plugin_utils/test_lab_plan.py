# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the lab plan checks (plugins/plugin_utils/lab_plan.py).

Every check gets a sound input (no messages) and broken ones; a broken input must give a
message that names the field at fault, so the assertions look for that field in the text.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.homelab.harvester.plugins.plugin_utils import lab_plan
from ansible_collections.homelab.harvester.plugins.plugin_utils.lab_plan import (
    check_bond,
    check_macs,
    check_mgmt_vlan,
    check_nfs,
    check_node_disks,
    check_node_mgmt_ips,
    check_node_nics,
    check_node_roles,
    check_nodes_shape,
    check_servers,
    check_storage_vlan,
    check_subnet_overlap,
    check_vip,
    check_vlan_gateways,
    check_vlan_ids,
    check_vlan_names,
    check_vlan_subnets,
    check_vlans_shape,
    is_hostname,
    normalize_mac,
    validate_lab_plan,
)

VLANS = [
    {"name": "mgmt", "id": 10, "cidr": "10.10.10.0/24", "gateway": "10.10.10.1", "purpose": "hosts",
     "vm_network": False},
    {"name": "platform", "id": 30, "cidr": "10.10.30.0/24", "gateway": "10.10.30.1", "purpose": "platform VMs",
     "vm_network": True},
    {"name": "cluster", "id": 40, "cidr": "10.10.40.0/24", "gateway": "10.10.40.1", "purpose": "cluster VMs",
     "vm_network": True},
    {"name": "storage", "id": 60, "cidr": "10.10.60.0/24", "gateway": None, "purpose": "Longhorn replication",
     "vm_network": False},
]


def _node(index, role):
    return {
        "mgmt_ip": f"10.10.10.1{index}",
        "role": role,
        "bond_nics": [
            {"name": "enp2s0f0np0", "mac": f"58:47:ca:7b:0{index}:a0"},
            {"name": "enp2s0f1np1", "mac": f"58:47:ca:7b:0{index}:a1"},
        ],
        "oob_nic": {"name": "enp5s0", "mac": f"58:47:ca:7b:0{index}:b0"},
        "install_disk": f"/dev/disk/by-id/nvme-OS_{index}",
        "data_disk": f"/dev/disk/by-id/nvme-DATA_{index}",
    }


NODES = {"ms02-1": _node(1, "create"), "ms02-2": _node(2, "join"), "ms02-3": _node(3, "join")}
VIP = "10.10.10.5"
NFS = {"server": "10.10.10.20", "images_export": "/volume1/harvester-images",
       "backups_export": "/volume1/harvester-backups"}
BOND = {"mode": "802.3ad", "miimon": 100, "xmit_hash_policy": "layer3+4", "lacp_rate": "fast", "mtu": 1500}


@pytest.fixture
def vlans():
    return copy.deepcopy(VLANS)


@pytest.fixture
def nodes():
    return copy.deepcopy(NODES)


def _only(errors, *fragments):
    """Exactly one message, containing every fragment."""
    assert len(errors) == 1, errors
    for fragment in fragments:
        assert fragment in errors[0], errors
    return errors[0]


# ------------------------------------------------------------------------------------- the whole


def test_sound_plan_has_no_errors(vlans, nodes):
    assert validate_lab_plan(vlans, nodes, vip=VIP, nfs=NFS, bond=BOND, dns_servers=["10.10.10.1"],
                             ntp_servers=["10.10.10.1", "pool.ntp.org"]) == []


def test_optional_parts_are_optional(vlans, nodes):
    assert validate_lab_plan(vlans, nodes) == []


def test_nodes_as_a_list_with_names(vlans, nodes):
    as_list = [dict(node, name=name) for name, node in nodes.items()]
    assert validate_lab_plan(vlans, as_list, vip=VIP) == []
    as_list[2]["mgmt_ip"] = as_list[1]["mgmt_ip"]
    _only(validate_lab_plan(vlans, as_list), "lab_node (ms02-3): mgmt_ip 10.10.10.12 is already used by ms02-2")


def test_example_message_from_the_brief(vlans, nodes):
    vlans[2]["gateway"] = "10.10.50.1"
    assert validate_lab_plan(vlans, nodes) == ["lab_vlans[2] (cluster): gateway 10.10.50.1 is not inside 10.10.40.0/24"]


def test_several_problems_are_all_reported(vlans, nodes):
    vlans[3]["cidr"] = "10.10.40.0/23"
    nodes["ms02-2"]["bond_nics"][0]["mac"] = nodes["ms02-1"]["bond_nics"][0]["mac"]
    errors = validate_lab_plan(vlans, nodes, vip="10.10.30.5")
    assert any(e.startswith("lab_vlans[3] (storage): cidr 10.10.40.0/23 overlaps lab_vlans[2] (cluster)") for e in errors)
    assert any(e.startswith("lab_node (ms02-2): bond_nics[0].mac 58:47:ca:7b:01:a0 is already used by ms02-1")
               for e in errors)
    assert any(e.startswith("lab_vip: 10.10.30.5 is not inside the mgmt subnet") for e in errors)
    assert len(errors) == 3, errors


def test_garbage_input_gives_messages_not_exceptions():
    errors = validate_lab_plan("nope", 42, vip=7, nfs="x", bond=[], dns_servers="1.1.1.1", ntp_servers=[])
    assert "lab_vlans: must be a list of VLAN entries, got str" in errors
    assert "lab_node: nodes must be a mapping of host name to lab_node, got int" in errors
    assert "lab_vip: 7 is not a valid IP address" in errors
    assert any(e.startswith("lab_nfs: must be a mapping") for e in errors)
    assert "lab_bond: must be a mapping, got list" in errors
    assert any(e.startswith("lab_dns_servers: must be a non-empty list") for e in errors)
    assert any(e.startswith("lab_ntp_servers: must be a non-empty list") for e in errors)


def test_without_netaddr_the_checks_say_so(monkeypatch, vlans, nodes):
    monkeypatch.setattr(lab_plan, "HAS_NETADDR", False)
    with pytest.raises(ImportError, match="netaddr"):
        validate_lab_plan(vlans, nodes)


# ------------------------------------------------------------------------------------- VLANs


class TestVlansShape:
    def test_good(self, vlans):
        assert check_vlans_shape(vlans) == []

    def test_empty(self):
        _only(check_vlans_shape([]), "lab_vlans: is empty")

    def test_entry_not_a_mapping(self, vlans):
        vlans[1] = "platform"
        _only(check_vlans_shape(vlans), "lab_vlans[1]: must be a mapping", "got str")

    @pytest.mark.parametrize("value", ["yes", 1, None])
    def test_vm_network_not_boolean(self, vlans, value):
        vlans[1]["vm_network"] = value
        _only(check_vlans_shape(vlans), "lab_vlans[1] (platform): vm_network must be true or false")

    @pytest.mark.parametrize("value", ["", "  ", None])
    def test_purpose_missing(self, vlans, value):
        vlans[0]["purpose"] = value
        _only(check_vlans_shape(vlans), "lab_vlans[0] (mgmt): purpose must be a non-empty string")


class TestVlanNames:
    def test_good(self, vlans):
        assert check_vlan_names(vlans) == []

    def test_duplicate(self, vlans):
        vlans[3]["name"] = "cluster"
        _only(check_vlan_names(vlans), "lab_vlans[3] (cluster): name is already used by lab_vlans[2]")

    @pytest.mark.parametrize("name", ["Cluster", "vm_net", "-a", "a" * 64, "", None, 40])
    def test_not_an_rfc1123_label(self, vlans, name):
        vlans[2]["name"] = name
        _only(check_vlan_names(vlans), f"lab_vlans[2]: name {name!r} must be a lowercase RFC 1123 label")


class TestVlanIds:
    def test_good(self, vlans):
        assert check_vlan_ids(vlans) == []

    @pytest.mark.parametrize("vid", [1, 4094])
    def test_limits_are_allowed(self, vlans, vid):
        vlans[1]["id"] = vid
        assert check_vlan_ids(vlans) == []

    @pytest.mark.parametrize("vid", [0, 4095, -10])
    def test_out_of_range(self, vlans, vid):
        vlans[1]["id"] = vid
        _only(check_vlan_ids(vlans), f"lab_vlans[1] (platform): id {vid} is outside 1-4094")

    @pytest.mark.parametrize("vid", ["30", 30.0, True, None])
    def test_not_an_integer(self, vlans, vid):
        vlans[1]["id"] = vid
        _only(check_vlan_ids(vlans), f"lab_vlans[1] (platform): id {vid!r} must be an integer from 1 to 4094")

    def test_duplicate(self, vlans):
        vlans[2]["id"] = 30
        _only(check_vlan_ids(vlans), "lab_vlans[2] (cluster): id 30 is already used by lab_vlans[1] (platform)")


class TestVlanSubnets:
    def test_good(self, vlans):
        assert check_vlan_subnets(vlans) == []

    @pytest.mark.parametrize("cidr", ["10.10.40.0", "10.10.40.0/33", "10.10.400.0/24", "cluster", "", None, 24])
    def test_invalid(self, vlans, cidr):
        vlans[2]["cidr"] = cidr
        _only(check_vlan_subnets(vlans), f"lab_vlans[2] (cluster): cidr {cidr!r} is not a valid subnet")

    def test_host_bits_set(self, vlans):
        vlans[2]["cidr"] = "10.10.40.7/24"
        _only(check_vlan_subnets(vlans), "lab_vlans[2] (cluster): cidr 10.10.40.7/24 has host bits set",
              "did you mean 10.10.40.0/24?")


class TestSubnetOverlap:
    def test_good(self, vlans):
        assert check_subnet_overlap(vlans) == []

    def test_same_subnet(self, vlans):
        vlans[3]["cidr"] = "10.10.40.0/24"
        _only(check_subnet_overlap(vlans),
              "lab_vlans[3] (storage): cidr 10.10.40.0/24 overlaps lab_vlans[2] (cluster) 10.10.40.0/24")

    def test_supernet(self, vlans):
        vlans[0]["cidr"] = "10.10.0.0/16"
        vlans[0]["gateway"] = "10.10.0.1"
        errors = check_subnet_overlap(vlans)
        assert len(errors) == 3, errors
        assert all("overlaps lab_vlans[0] (mgmt) 10.10.0.0/16" in e for e in errors)

    def test_invalid_subnets_are_left_to_the_subnet_check(self, vlans):
        vlans[3]["cidr"] = "nonsense"
        assert check_subnet_overlap(vlans) == []


class TestVlanGateways:
    def test_good(self, vlans):
        assert check_vlan_gateways(vlans) == []

    def test_l2_only_vlan_needs_no_gateway(self, vlans):
        del vlans[3]["gateway"]
        assert check_vlan_gateways(vlans) == []

    def test_outside(self, vlans):
        vlans[2]["gateway"] = "10.10.50.1"
        _only(check_vlan_gateways(vlans), "lab_vlans[2] (cluster): gateway 10.10.50.1 is not inside 10.10.40.0/24")

    @pytest.mark.parametrize(("gateway", "which"), [("10.10.40.0", "network"), ("10.10.40.255", "broadcast")])
    def test_network_or_broadcast(self, vlans, gateway, which):
        vlans[2]["gateway"] = gateway
        _only(check_vlan_gateways(vlans), f"lab_vlans[2] (cluster): gateway {gateway} is the {which} address")

    @pytest.mark.parametrize("gateway", ["10.10.40", "gw", "", 1])
    def test_not_an_address(self, vlans, gateway):
        vlans[2]["gateway"] = gateway
        _only(check_vlan_gateways(vlans), f"lab_vlans[2] (cluster): gateway {gateway!r} is not a valid IP address")

    def test_point_to_point_has_no_network_or_broadcast(self, vlans):
        vlans[2]["cidr"] = "10.10.40.0/31"
        vlans[2]["gateway"] = "10.10.40.0"
        assert check_vlan_gateways(vlans) == []


class TestMgmtVlan:
    def test_good(self, vlans):
        assert check_mgmt_vlan(vlans) == []

    def test_missing(self, vlans):
        _only(check_mgmt_vlan(vlans[1:]), "lab_vlans: no entry named 'mgmt'")

    def test_other_name(self, vlans):
        vlans[0]["name"] = "hosts"
        assert check_mgmt_vlan(vlans, "hosts") == []

    def test_needs_a_gateway(self, vlans):
        vlans[0]["gateway"] = None
        _only(check_mgmt_vlan(vlans), "lab_vlans[0] (mgmt): gateway is required on the management VLAN")


class TestStorageVlan:
    def test_good(self, vlans):
        assert check_storage_vlan(vlans) == []
        assert check_storage_vlan([v for v in vlans if v["name"] != "storage"]) == []  # no storage network: fine

    def test_a_gateway_is_refused(self, vlans):
        storage = next(i for i, v in enumerate(vlans) if v["name"] == "storage")
        vlans[storage]["gateway"] = "10.10.60.1"
        _only(check_storage_vlan(vlans), f"lab_vlans[{storage}] (storage): gateway must be null")

    def test_no_vm_network(self, vlans):
        storage = next(i for i, v in enumerate(vlans) if v["name"] == "storage")
        vlans[storage]["vm_network"] = True
        _only(check_storage_vlan(vlans), f"lab_vlans[{storage}] (storage): vm_network must be false")


# ------------------------------------------------------------------------------ mgmt addresses


class TestVip:
    def test_good(self, vlans):
        assert check_vip(VIP, vlans) == []

    def test_not_given(self, vlans):
        assert check_vip(None, vlans) == []

    def test_outside_mgmt(self, vlans):
        _only(check_vip("10.10.40.5", vlans), "lab_vip: 10.10.40.5 is not inside the mgmt subnet 10.10.10.0/24")

    @pytest.mark.parametrize(("vip", "what"), [("10.10.10.0", "the network address"),
                                               ("10.10.10.255", "the broadcast address"),
                                               ("10.10.10.1", "the mgmt gateway")])
    def test_special_addresses(self, vlans, vip, what):
        _only(check_vip(vip, vlans), f"lab_vip: {vip} is {what}")

    def test_not_an_address(self, vlans):
        _only(check_vip("harvester", vlans), "lab_vip: 'harvester' is not a valid IP address")


class TestNodeMgmtIps:
    def test_good(self, vlans, nodes):
        assert check_node_mgmt_ips(nodes, vlans, vip=VIP) == []

    def test_duplicate(self, vlans, nodes):
        nodes["ms02-3"]["mgmt_ip"] = "10.10.10.11"
        _only(check_node_mgmt_ips(nodes, vlans), "lab_node (ms02-3): mgmt_ip 10.10.10.11 is already used by ms02-1")

    def test_outside_mgmt(self, vlans, nodes):
        nodes["ms02-2"]["mgmt_ip"] = "10.10.30.12"
        _only(check_node_mgmt_ips(nodes, vlans),
              "lab_node (ms02-2): mgmt_ip 10.10.30.12 is not inside the mgmt subnet 10.10.10.0/24")

    @pytest.mark.parametrize(("address", "what"), [("10.10.10.0", "the network address"),
                                                   ("10.10.10.255", "the broadcast address"),
                                                   ("10.10.10.1", "the mgmt gateway"),
                                                   (VIP, "the VIP (lab_vip)")])
    def test_special_addresses(self, vlans, nodes, address, what):
        nodes["ms02-2"]["mgmt_ip"] = address
        _only(check_node_mgmt_ips(nodes, vlans, vip=VIP), f"lab_node (ms02-2): mgmt_ip {address} is {what}")

    @pytest.mark.parametrize("address", ["10.10.10.300", "ms02-2", None])
    def test_not_an_address(self, vlans, nodes, address):
        nodes["ms02-2"]["mgmt_ip"] = address
        _only(check_node_mgmt_ips(nodes, vlans), f"lab_node (ms02-2): mgmt_ip {address!r} is not a valid IP address")

    def test_custom_mgmt_vlan_name(self, vlans, nodes):
        vlans[0]["name"] = "hosts"
        nodes["ms02-1"]["mgmt_ip"] = "10.10.30.11"
        _only(check_node_mgmt_ips(nodes, vlans, mgmt_vlan_name="hosts"),
              "lab_node (ms02-1): mgmt_ip 10.10.30.11 is not inside the hosts subnet 10.10.10.0/24")


# ---------------------------------------------------------------------------------------- nodes


class TestNodesShape:
    def test_good(self, nodes):
        assert check_nodes_shape(nodes) == []

    def test_empty(self):
        _only(check_nodes_shape({}), "lab_node: no nodes given")

    def test_node_not_a_mapping(self, nodes):
        nodes["ms02-2"] = None
        _only(check_nodes_shape(nodes), "lab_node (ms02-2): must be a mapping, got NoneType")


class TestNodeRoles:
    def test_good(self, nodes):
        assert check_node_roles(nodes) == []

    def test_unknown_role(self, nodes):
        nodes["ms02-2"]["role"] = "worker"
        _only(check_node_roles(nodes), "lab_node (ms02-2): role 'worker' must be one of create, join")

    def test_two_creators(self, nodes):
        nodes["ms02-3"]["role"] = "create"
        _only(check_node_roles(nodes), "exactly one node must have role 'create', found 2 (ms02-1, ms02-3)")

    def test_no_creator(self, nodes):
        nodes["ms02-1"]["role"] = "join"
        _only(check_node_roles(nodes), "exactly one node must have role 'create', found none")


class TestNodeNics:
    def test_good(self, nodes):
        assert check_node_nics(nodes) == []

    def test_one_bond_nic(self, nodes):
        del nodes["ms02-2"]["bond_nics"][1]
        _only(check_node_nics(nodes), "lab_node (ms02-2): bond_nics must have exactly 2 NICs, found 1")

    def test_three_bond_nics(self, nodes):
        nodes["ms02-2"]["bond_nics"].append({"name": "enp3s0", "mac": "58:47:ca:7b:02:c0"})
        _only(check_node_nics(nodes), "lab_node (ms02-2): bond_nics must have exactly 2 NICs, found 3")

    def test_bond_nics_missing(self, nodes):
        del nodes["ms02-3"]["bond_nics"]
        _only(check_node_nics(nodes), "lab_node (ms02-3): bond_nics must be a list of 2 NICs, got NoneType")

    def test_bond_nic_not_a_mapping(self, nodes):
        nodes["ms02-3"]["bond_nics"][1] = "enp2s0f1np1"
        _only(check_node_nics(nodes), "lab_node (ms02-3): bond_nics[1] must be a mapping with name and mac")

    def test_oob_nic_missing(self, nodes):
        del nodes["ms02-1"]["oob_nic"]
        _only(check_node_nics(nodes), "lab_node (ms02-1): oob_nic must be a mapping with name and mac")

    def test_same_name_twice(self, nodes):
        nodes["ms02-1"]["oob_nic"]["name"] = "enp2s0f0np0"
        _only(check_node_nics(nodes), "lab_node (ms02-1): oob_nic.name enp2s0f0np0 is already used by bond_nics[0]")

    @pytest.mark.parametrize("name", ["enp2s0f0np0-too-long", "eth 0", "", None])
    def test_bad_interface_name(self, nodes, name):
        nodes["ms02-1"]["bond_nics"][0]["name"] = name
        _only(check_node_nics(nodes), f"lab_node (ms02-1): bond_nics[0].name {name!r} is not a valid interface name")


class TestMacs:
    def test_good(self, nodes):
        assert check_macs(nodes) == []

    def test_duplicate_across_nodes(self, nodes):
        nodes["ms02-3"]["oob_nic"]["mac"] = "58:47:CA:7B:01:A1"
        _only(check_macs(nodes), "lab_node (ms02-3): oob_nic.mac 58:47:ca:7b:01:a1 is already used by ms02-1 bond_nics[1]")

    def test_duplicate_on_one_node(self, nodes):
        nodes["ms02-2"]["bond_nics"][1]["mac"] = nodes["ms02-2"]["bond_nics"][0]["mac"]
        _only(check_macs(nodes), "lab_node (ms02-2): bond_nics[1].mac 58:47:ca:7b:02:a0 is already used by ms02-2 bond_nics[0]")

    @pytest.mark.parametrize("mac", ["58-47-ca-7b-02-a0", "5847.ca7b.02a0", "58:47:ca:7b:02", "58:47:ca:7b:02:zz",
                                     "58:47:ca:7b:02:a0:ff", "", None])
    def test_not_colon_form(self, nodes, mac):
        nodes["ms02-2"]["bond_nics"][0]["mac"] = mac
        _only(check_macs(nodes), f"lab_node (ms02-2): bond_nics[0].mac {mac!r} is not a MAC address in colon form")

    def test_multicast(self, nodes):
        nodes["ms02-2"]["oob_nic"]["mac"] = "01:00:5e:00:00:01"
        _only(check_macs(nodes), "lab_node (ms02-2): oob_nic.mac 01:00:5e:00:00:01 is a multicast address")

    def test_normalize(self):
        assert normalize_mac("58:47:CA:7B:01:A0") == "58:47:ca:7b:01:a0"
        assert normalize_mac("58-47-CA-7B-01-A0") is None


class TestNodeDisks:
    def test_good(self, nodes):
        assert check_node_disks(nodes) == []

    def test_same_disk_twice_on_a_node(self, nodes):
        nodes["ms02-1"]["data_disk"] = nodes["ms02-1"]["install_disk"]
        _only(check_node_disks(nodes), "lab_node (ms02-1): data_disk /dev/disk/by-id/nvme-OS_1 is already used by "
                                       "ms02-1 install_disk")

    def test_same_disk_id_on_two_nodes(self, nodes):
        nodes["ms02-3"]["data_disk"] = nodes["ms02-2"]["data_disk"]
        _only(check_node_disks(nodes), "lab_node (ms02-3): data_disk /dev/disk/by-id/nvme-DATA_2 is already used by "
                                       "ms02-2 data_disk")

    @pytest.mark.parametrize("disk", ["nvme0n1", "", None])
    def test_not_a_device_path(self, nodes, disk):
        nodes["ms02-2"]["install_disk"] = disk
        _only(check_node_disks(nodes), f"lab_node (ms02-2): install_disk {disk!r} must be a device path under /dev/")


# ------------------------------------------------------------------------------------- services


class TestNfs:
    @pytest.mark.parametrize("server", ["10.10.10.20", "nas.lab.local", "nas", "nas.lab.local.", "fd00::20"])
    def test_good(self, server):
        assert check_nfs(dict(NFS, server=server)) == []

    def test_not_given(self):
        assert check_nfs(None) == []

    @pytest.mark.parametrize("server", ["10.10.10.300", "nas_1.lab", "-nas", "", None, "nas lab"])
    def test_bad_server(self, server):
        _only(check_nfs(dict(NFS, server=server)), f"lab_nfs.server: {server!r} is neither an IP address nor a host name")

    @pytest.mark.parametrize("field", ["images_export", "backups_export"])
    def test_relative_export(self, field):
        _only(check_nfs(dict(NFS, **{field: "volume1/x"})), f"lab_nfs.{field}: 'volume1/x' must be an absolute")


class TestBond:
    def test_good(self):
        assert check_bond(BOND) == []

    def test_not_given(self):
        assert check_bond(None) == []

    def test_minimal(self):
        assert check_bond({"mode": "active-backup"}) == []

    @pytest.mark.parametrize(("field", "value"), [("mode", "lacp"), ("miimon", -1), ("miimon", "100"),
                                                  ("xmit_hash_policy", "layer34"), ("lacp_rate", "quick"),
                                                  ("mtu", 9216), ("mtu", 500), ("mtu", "1500")])
    def test_bad_value(self, field, value):
        _only(check_bond(dict(BOND, **{field: value})), f"lab_bond.{field}: {value!r}")

    def test_lacp_rate_needs_802_3ad(self):
        _only(check_bond(dict(BOND, mode="active-backup")), "lab_bond.lacp_rate: only applies to mode 802.3ad")


class TestServers:
    def test_good(self):
        assert check_servers("lab_ntp_servers", ["10.10.10.1", "0.pool.ntp.org"]) == []
        assert check_servers("lab_dns_servers", ["10.10.10.1", "2606:4700:4700::1111"], allow_hostnames=False) == []

    def test_dns_needs_addresses(self):
        _only(check_servers("lab_dns_servers", ["10.10.10.1", "dns.lab.local"], allow_hostnames=False),
              "lab_dns_servers[1]: 'dns.lab.local' is not an IP address")

    def test_bad_ntp_server(self):
        _only(check_servers("lab_ntp_servers", ["pool ntp org"]),
              "lab_ntp_servers[0]: 'pool ntp org' is not an IP address or host name")

    @pytest.mark.parametrize("servers", [[], "10.10.10.1", {}])
    def test_not_a_list(self, servers):
        _only(check_servers("lab_dns_servers", servers), "lab_dns_servers: must be a non-empty list")


@pytest.mark.parametrize(("value", "expected"), [("nas", True), ("nas.lab.local", True), ("a-b.c", True),
                                                 ("10.10.10.300", False), ("1.2.3", False), ("a..b", False),
                                                 ("a" * 64, False), ("x." * 127 + "x", False), (None, False)])
def test_is_hostname(value, expected):
    assert is_hostname(value) is expected


# ---------------------------------------------------------------------------- the filter wrapper


def test_filter_wraps_the_checks_and_needs_netaddr(monkeypatch, vlans, nodes):
    from ansible.errors import AnsibleFilterError

    from ansible_collections.homelab.harvester.plugins.filter import lab_plan as lab_plan_filter

    lab_plan_errors = lab_plan_filter.FilterModule().filters()["lab_plan_errors"]
    assert lab_plan_errors(vlans, nodes, vip=VIP, nfs=NFS, bond=BOND) == []
    vlans[2]["gateway"] = "10.10.50.1"
    assert lab_plan_errors(vlans, nodes) == ["lab_vlans[2] (cluster): gateway 10.10.50.1 is not inside 10.10.40.0/24"]
    monkeypatch.setattr(lab_plan_filter, "HAS_NETADDR", False)
    with pytest.raises(AnsibleFilterError, match="needs the Python library 'netaddr'"):
        lab_plan_errors(vlans, nodes)
