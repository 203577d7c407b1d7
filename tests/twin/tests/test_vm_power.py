"""Harvester's memory of a VM's run strategy (its VM controller's StoreRunStrategy): every
strategy other than Halted lands in the annotation `harvesterhci.io/vmRunStrategy`, and stopping
keeps it, so a later start can restore it. Black-box, through the API."""
from __future__ import annotations

from .conftest import wait_for

VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
MERGE = {"Content-Type": "application/merge-patch+json"}
MEMORY = "harvesterhci.io/vmRunStrategy"


def vm(s, twin, name):
    return s.get(twin.url(f"{VMS}/{name}")).json()


def memory(s, twin, name):
    return (vm(s, twin, name)["metadata"].get("annotations") or {}).get(MEMORY)


def patch(s, twin, name, body):
    s.patch(twin.url(f"{VMS}/{name}"), json=body, headers=MERGE).raise_for_status()


def test_running_vms_remember_their_strategy_and_halted_ones_do_not(twin):
    s = twin.session()
    wait_for(lambda: memory(s, twin, "lab-router") == "RerunOnFailure", "lab-router's remembered strategy")
    assert memory(s, twin, "lab-dns") == "RerunOnFailure"
    assert memory(s, twin, "lab-builder") is None  # seeded Halted: nothing to remember


def test_a_changed_strategy_is_remembered_and_stopping_keeps_it(twin):
    s = twin.session()
    patch(s, twin, "lab-router", {"spec": {"runStrategy": "Always"}})
    wait_for(lambda: memory(s, twin, "lab-router") == "Always", "Always remembered")
    patch(s, twin, "lab-router", {"spec": {"runStrategy": "Halted"}})
    wait_for(lambda: s.get(twin.url(f"{VMIS}/lab-router")).status_code == 404, "the VMI gone")
    wait_for(lambda: vm(s, twin, "lab-router")["status"].get("printableStatus") == "Stopped", "Stopped")
    assert memory(s, twin, "lab-router") == "Always"


def test_the_legacy_running_field_is_remembered_as_always(twin):
    s = twin.session()
    patch(s, twin, "lab-dns", {"spec": {"runStrategy": None, "running": True}})
    wait_for(lambda: memory(s, twin, "lab-dns") == "Always", "running=true remembered as Always")
