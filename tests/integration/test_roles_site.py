"""playbooks/site.yml with the roles vlans, storage and capi, run the way users run it
(`ansible-playbook -i inventory/lab playbooks/site.yml`) against a twin process."""
from __future__ import annotations

import json

import pytest

from tests.integration.playbooks import writes
from tests.integration.roles import copy_inventory, get, nads, run_site, stop_all_vms

TWIN_ARGS = ["--speed", "20"]
SETTINGS = "/apis/harvesterhci.io/v1beta1/settings"
LONGHORN_SETTINGS = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings"


def test_site_converges_then_second_run_changes_nothing(twin, tmp_path):
    rc, out, recap = run_site(twin, tmp_path)
    assert rc == 0, out
    assert recap["failed"] == 0 and recap["changed"] > 0, out

    networks = nads(twin)
    for name, vlan, cidr, gateway in (("platform", 30, "10.10.30.0/24", "10.10.30.1"),
                                      ("cluster", 40, "10.10.40.0/24", "10.10.40.1")):
        config = json.loads(networks[name]["spec"]["config"])
        assert (config["type"], config["bridge"], config["vlan"]) == ("bridge", "mgmt-br", vlan)
        route = json.loads(networks[name]["metadata"]["annotations"]["network.harvesterhci.io/route"])
        assert (route["mode"], route["cidr"], route["gateway"]) == ("manual", cidr, gateway)
    assert "storage" not in networks and "mgmt" not in networks

    backup = json.loads(get(twin, f"{SETTINGS}/backup-target")["value"])
    assert backup == {"type": "nfs", "endpoint": "nfs://10.10.10.20:/volume1/harvester-backups"}
    replicas = get(twin, f"{LONGHORN_SETTINGS}/default-replica-count")["value"]
    assert "3" in replicas
    assert get(twin, f"{LONGHORN_SETTINGS}/replica-auto-balance")["value"] == "best-effort"

    # The seeded lab runs VMs: the storage network is refused, said clearly, and left alone.
    assert "storage-network (VLAN 60, 10.10.60.0/24) NOT applied" in out
    assert recap["ignored"] == 1, out
    assert not get(twin, f"{SETTINGS}/storage-network").get("value")

    rc, out, recap = run_site(twin, tmp_path)
    assert rc == 0, out
    assert recap["failed"] == 0 and recap["changed"] == 0, out


def test_storage_network_is_set_once_the_vms_are_stopped(twin, tmp_path):
    stop_all_vms(twin)
    rc, out, recap = run_site(twin, tmp_path, tags=["storage"])
    assert rc == 0, out
    assert recap["failed"] == 0 and recap.get("ignored", 0) == 0, out
    value = json.loads(get(twin, f"{SETTINGS}/storage-network")["value"])
    assert value == {"vlan": 60, "clusterNetwork": "mgmt", "range": "10.10.60.0/24", "exclude": []}


def duplicate_vlan(lab, hosts):
    lab["lab_vlans"][2]["id"] = 30


def gateway_outside(lab, hosts):
    lab["lab_vlans"][1]["gateway"] = "10.10.99.1"


def overlapping_subnets(lab, hosts):
    lab["lab_vlans"][3]["cidr"] = "10.10.40.0/23"


def bond_with_one_nic(lab, hosts):
    hosts["ms02-2"]["lab_node"]["bond_nics"] = hosts["ms02-2"]["lab_node"]["bond_nics"][:1]


@pytest.mark.parametrize("change, message", [
    (duplicate_vlan, "lab_vlans[2] (cluster): id 30 is already used by lab_vlans[1] (platform)"),
    (gateway_outside, "lab_vlans[1] (platform): gateway 10.10.99.1 is not inside 10.10.30.0/24"),
    (overlapping_subnets, "lab_vlans[3] (storage): cidr 10.10.40.0/23 overlaps lab_vlans[2] (cluster) 10.10.40.0/24"),
    (bond_with_one_nic, "lab_node (ms02-2): bond_nics must have exactly 2 NICs, found 1"),
], ids=["duplicate-vlan", "gateway-outside", "overlap", "one-bond-nic"])
def test_invalid_plan_fails_before_any_write(twin, tmp_path, change, message):
    inventory = copy_inventory(tmp_path, change)
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc != 0 and recap["failed"] == 1, out
    assert message in out
    assert "nothing was changed" in out
    assert writes([r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]) == []
    assert "platform" not in nads(twin)
    assert not (tmp_path / "pxe").exists()  # no install config rendered either
