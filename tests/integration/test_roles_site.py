"""playbooks/site.yml with the roles vlans, storage and capi, run the way users run it
(`ansible-playbook -i inventory/lab playbooks/site.yml`) against a twin process: the storage
network guard and invalid plans. The converge, the second run with changed=0 and the check of
every object against the inventory are the molecule scenario's (extensions/molecule/default);
the storage network refused while VMs run is in test_verify.py."""
from __future__ import annotations

import json

import pytest

from tests.catalogue.lab_plan import PLAN_REFUSALS
from tests.integration.playbooks import writes
from tests.integration.roles import VMIS, VMS, copy_inventory, get, nads, run_site, stop_all_vms

TWIN_ARGS = ["--speed", "20"]
SETTINGS = "/apis/harvesterhci.io/v1beta1/settings"
LONGHORN_SETTINGS = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings"
STORAGE_CLASSES = "/apis/storage.k8s.io/v1/storageclasses"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
STORAGE_NETWORK = {"vlan": 60, "clusterNetwork": "mgmt", "range": "10.10.60.0/24", "exclude": []}


def running_vmis(twin):
    return sorted(v["metadata"]["name"] for v in get(twin, VMIS)["items"] if (v.get("status") or {}).get("phase") == "Running")


def vm_writes(requests):
    return [r for r in writes(requests) if "/virtualmachines" in r["path"] and "dryRun=All" not in (r.get("query") or "")]


def test_storage_network_is_set_once_the_vms_are_stopped(twin, tmp_path):
    stop_all_vms(twin)
    rc, out, recap = run_site(twin, tmp_path, tags=["storage"])
    assert rc == 0, out
    assert recap["failed"] == 0 and recap.get("ignored", 0) == 0, out
    assert json.loads(get(twin, f"{SETTINGS}/storage-network")["value"]) == STORAGE_NETWORK


def test_storage_stop_vms_stops_applies_and_starts_the_same_vms(twin, tmp_path):
    before = running_vmis(twin)
    assert before, "the seeded lab runs VMs"
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, tags=["storage"], extra_vars={"lab_storage_network_stop_vms": True})
    assert rc == 0 and recap["failed"] == 0 and recap.get("ignored", 0) == 0, out
    assert json.loads(get(twin, f"{SETTINGS}/storage-network")["value"]) == STORAGE_NETWORK
    assert running_vmis(twin) == before  # every VM it stopped runs again
    stopped = get(twin, f"{VMS}/lab-builder")
    assert stopped["spec"]["runStrategy"] == "Halted", "a VM that was stopped before is left stopped"
    requests = twin.requests_log(since)
    patched = {r["path"].rsplit("/", 1)[1] for r in vm_writes(requests)}
    assert patched == set(before)

    # the setting matches now: the next run stops nothing
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, tags=["storage"], extra_vars={"lab_storage_network_stop_vms": True})
    assert rc == 0 and recap["changed"] == 0, out
    assert vm_writes(twin.requests_log(since)) == []
    assert running_vmis(twin) == before


def test_storage_stop_vms_restarts_the_vms_when_the_setting_fails(twin, tmp_path):
    before = running_vmis(twin)
    # a range too small for the Longhorn nodes: the dry run passes the VM guard only after the stop,
    # then Harvester refuses the value itself
    rc, out, recap = run_site(twin, tmp_path, tags=["storage"],
                              extra_vars={"lab_storage_network_stop_vms": True, "storage_network_range": "10.10.60.0/30"})
    assert rc != 0 and recap["failed"] == 1, out
    assert "storage-network:" in out
    assert running_vmis(twin) == before, "the VMs come back although the setting failed"
    assert not get(twin, f"{SETTINGS}/storage-network").get("value")


@pytest.mark.parametrize("what, change, message", PLAN_REFUSALS, ids=[r[1].__name__ for r in PLAN_REFUSALS])
def test_invalid_plan_fails_before_any_write(twin, tmp_path, what, change, message):
    inventory = copy_inventory(tmp_path, change)
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc != 0 and recap["failed"] == 1, out
    assert message in out
    assert "nothing was changed" in out
    assert writes([r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]) == []
    assert "platform" not in nads(twin)
    assert not (tmp_path / "pxe").exists()  # no install config rendered either
