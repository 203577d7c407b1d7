"""Nothing lost under faults or interruption: site.yml (the storage role allowed to stop and start
the VMs) run from the seeded lab with seeded random API faults -- 409, 429 with Retry-After, 500,
503, connections reset before and after the write is stored -- converges (failed=0), the next
fault-free run changes nothing, and the end state is the fault-free one (no duplicate object, no VM
left stopped). Ctrl-C right after the storage-network write, and right after the first VM network was
created, then a re-run, reach that same end state. One seed per rate here (each seed is one more
sample of the same behaviour, 30-90 s of mostly Retry-After waits); the whole matrix (20 seeds at
20 % and 40 %, a Ctrl-C after every task) is tools/fault_runs.py and tools/interrupt_runs.py."""
from __future__ import annotations

import pytest

from tests.integration import site_runs

pytestmark = [pytest.mark.twin, pytest.mark.integration]

TWIN_ARGS = ["--speed", "20"]
SETTING = "/settings/storage-network"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"


@pytest.fixture(scope="module")
def fault_free(converged_lab):
    """The end state of a fault-free converge (tests/integration/conftest.py)."""
    twin, dummy = converged_lab
    twin.restore("converged")
    return site_runs.end_state(twin)


@pytest.mark.parametrize("rate, seed", [(0.2, 1), (0.4, 1)])
def test_site_converges_under_random_faults_to_the_fault_free_end_state(twin_process, fault_free, tmp_path, rate, seed):
    twin = twin_process
    twin.reset()
    run = site_runs.faulty_run(twin, tmp_path, rate, seed)
    assert sum(run["faults"].values()) >= rate * run["requests"] / 2, run["faults"]  # the faults did happen
    assert run["rc"] == 0 and run["recap"]["failed"] == 0, run["out"][-4000:]
    rc, out, recap = site_runs.site(twin, tmp_path)
    assert rc == 0 and recap["changed"] == 0, out
    assert site_runs.differences(fault_free, site_runs.end_state(twin)) == []


def marked_vms(twin):
    vms = twin.session().get(twin.url(VMS)).json()["items"]
    return sorted(v["metadata"]["name"] for v in vms if "homelab.harvester/stopped-for" in (v["metadata"].get("labels") or {}))


def test_ctrl_c_right_after_the_storage_network_write_then_a_rerun_starts_the_vms_again(twin_process, fault_free, tmp_path):
    twin = twin_process
    twin.reset()
    # a slow API after the write (reads of the setting take a second), so the Ctrl-C surely lands
    # between the storage-network write and the VMs' start
    twin.fault(method="GET", path=f"{SETTING}$", delay=1.0, count=6)
    rc, out, sent = site_runs.interrupted_run(twin, tmp_path, site_runs.after_request("PATCH", SETTING, twin.last_seq()))
    assert sent and rc != 0, out[-3000:]
    assert marked_vms(twin) == ["lab-dns", "lab-router"], "interrupted with the VMs stopped and marked"
    twin.session().delete(twin.url("/_twin/faults")).raise_for_status()

    rc, out, recap = site_runs.site(twin, tmp_path)
    assert rc == 0 and recap["failed"] == 0, out
    assert marked_vms(twin) == []
    assert site_runs.differences(fault_free, site_runs.end_state(twin)) == []


def test_ctrl_c_right_after_the_first_vm_network_then_a_rerun_converges(twin_process, fault_free, tmp_path):
    twin = twin_process
    twin.reset()
    trigger = site_runs.after_request("POST", "/network-attachment-definitions", twin.last_seq())
    rc, out, sent = site_runs.interrupted_run(twin, tmp_path, trigger)
    assert sent and rc != 0, out[-3000:]
    rc, out, recap = site_runs.site(twin, tmp_path)
    assert rc == 0 and recap["failed"] == 0, out
    assert site_runs.differences(fault_free, site_runs.end_state(twin)) == []
