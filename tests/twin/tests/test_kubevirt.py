"""The VM lifecycle the guards depend on: run strategy → VMI → where it runs."""
from __future__ import annotations

import json

from .conftest import wait_for

VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
MERGE = {"Content-Type": "application/merge-patch+json"}


def test_halting_a_vm_deletes_its_vmi_and_reports_stopped(twin):
    s = twin.session()
    s.patch(twin.url(VMS + "/lab-router"), data='{"spec":{"runStrategy":"Halted"}}', headers=MERGE).raise_for_status()
    wait_for(lambda: s.get(twin.url(VMIS + "/lab-router")).status_code == 404)
    vm = wait_for(lambda: (lambda v: v if v["status"].get("printableStatus") == "Stopped" else None)(
        s.get(twin.url(VMS + "/lab-router")).json()))
    assert vm["status"]["created"] is False


def test_starting_a_vm_schedules_a_vmi_through_its_phases(twin):
    s = twin.session()
    rv = s.get(twin.url(VMIS)).json()["metadata"]["resourceVersion"]
    s.patch(twin.url(VMS + "/lab-builder"), data='{"spec":{"runStrategy":"Always"}}', headers=MERGE).raise_for_status()
    phases = []
    with s.get(twin.url(VMIS), params={"watch": "1", "resourceVersion": rv, "fieldSelector": "metadata.name=lab-builder",
                                       "timeoutSeconds": "10"}, stream=True, timeout=20) as r:
        for line in r.iter_lines():
            if not line:
                continue
            phase = json.loads(line)["object"].get("status", {}).get("phase")
            if not phases or phases[-1] != phase:
                phases.append(phase)
            if phase == "Running":
                break
    assert phases == ["Pending", "Scheduling", "Scheduled", "Running"]
    vmi = s.get(twin.url(VMIS + "/lab-builder")).json()
    assert vmi["status"]["nodeName"] == "ms02-3"  # the node with no VM yet
    assert vmi["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachine"
    wait_for(lambda: s.get(twin.url(VMS + "/lab-builder")).json()["status"].get("printableStatus") == "Running")


def test_kubectl_sees_vms_stop(twin):
    twin.kubectl("patch", "vm", "lab-dns", "-n", "default", "--type", "merge", "-p", '{"spec":{"runStrategy":"Halted"}}')
    wait_for(lambda: twin.kubectl("get", "vmi", "lab-dns", "-n", "default", check=False).returncode != 0)
    out = twin.kubectl("get", "vm", "lab-dns", "-n", "default", "-o", "jsonpath={.status.printableStatus}").stdout
    assert out in ("Stopped", "Stopping")
