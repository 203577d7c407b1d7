"""The Tinkerbell path against the twin: Rufio's controllers (bmc.tinkerbell.org Machine, Job,
Task; the upstream CRDs from ../shared/reference/crds when present, else ours) run Jobs on the
simulated AMT as bmclib's intelamt provider does, with Rufio's conditions and messages; a Tinkerbell
Hardware decides what the node's network boot runs (Smee). The Tinkerbell cluster's API is the
twin's second listener (tinkerbell-kubeconfig), up before any node is installed."""
from __future__ import annotations

import base64
import subprocess
import time

import pytest
import yaml

from tests.twin.launch import RunningTwin
from tests.twin.tests.conftest import TEST_CRDS, UPSTREAM_CRDS
from tests.twin.tests.metal_support import INVENTORY, PASSWORD, Amt, api_answers, endpoints, metal, render_nas, wait_step

TWIN_CRDS = TEST_CRDS.parent.parent / "crds"
NS = "tink-system"
BMC = "/apis/bmc.tinkerbell.org/v1alpha1/namespaces/tink-system"
OOB = {"ms02-1": "10.10.20.11", "ms02-2": "10.10.20.12", "ms02-3": "10.10.20.13"}


def crd_dirs():
    if (UPSTREAM_CRDS / "rufio").is_dir() and (UPSTREAM_CRDS / "tinkerbell").is_dir():
        return [UPSTREAM_CRDS / "rufio", UPSTREAM_CRDS / "tinkerbell"]  # the unmodified upstream CRDs
    return [TWIN_CRDS / "rufio", TWIN_CRDS / "tinkerbell"]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    """inventory/lab with each node's AMT address (lab_node.amt.host), as the collection's lab has it."""
    inv = tmp_path_factory.mktemp("inv") / "lab"
    subprocess.run(["cp", "-r", str(INVENTORY), str(inv)], check=True)
    for node, ip in OOB.items():
        path = inv / "host_vars" / f"{node}.yml"
        doc = yaml.safe_load(path.read_text())
        doc["lab_node"]["amt"] = {"host": ip, "port": 16992, "tls": False, "user": "admin", "validate_certs": False}
        path.write_text(yaml.safe_dump(doc))
    return inv


@pytest.fixture(scope="module")
def bare(twins, inventory, tmp_path_factory):
    nas = render_nas(tmp_path_factory.mktemp("nas"))
    return twins.get(crd_dirs(), ["--lab", str(inventory), "--bare", "--amt-password", PASSWORD, "--nas", str(nas),
                                  "--speed", "200"])


@pytest.fixture
def twin(bare):
    bare.reset()
    return bare


@pytest.fixture
def tink(twin):
    """The Tinkerbell cluster's API (tinkerbell-kubeconfig): a session on it."""
    kc = twin.workdir / "tinkerbell-kubeconfig"
    doc = yaml.safe_load(kc.read_text())
    return RunningTwin(None, kc, doc["clusters"][0]["cluster"]["server"], doc["users"][0]["user"]["token"],
                       twin.ca_file, twin.workdir)


def secret(tink, name="amt-admin", password=PASSWORD):
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS},
            "data": {"username": base64.b64encode(b"admin").decode(), "password": base64.b64encode(password.encode()).decode()}}
    r = tink.session().post(tink.url(f"/api/v1/namespaces/{NS}/secrets"), json=body)
    assert r.status_code == 201, r.text


def machine(tink, twin, node="ms02-1", name=None, host=None, port=None, secret_name="amt-admin"):
    port = port or endpoints(twin)[node]["port"]
    body = {"apiVersion": "bmc.tinkerbell.org/v1alpha1", "kind": "Machine", "metadata": {"name": name or node, "namespace": NS},
            "spec": {"connection": {"host": host or "127.0.0.1", "port": port, "insecureTLS": True,
                                    "authSecretRef": {"name": secret_name, "namespace": NS},
                                    "providerOptions": {"intelAMT": {"port": port, "hostScheme": "http"}}}}}
    r = tink.session().post(tink.url(f"{BMC}/machines"), json=body)
    assert r.status_code == 201, r.text


def job(tink, name, machine_name, tasks):
    body = {"apiVersion": "bmc.tinkerbell.org/v1alpha1", "kind": "Job", "metadata": {"name": name, "namespace": NS},
            "spec": {"machineRef": {"name": machine_name, "namespace": NS}, "tasks": tasks}}
    r = tink.session().post(tink.url(f"{BMC}/jobs"), json=body)
    assert r.status_code == 201, r.text


def conditions(obj) -> dict:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def wait_for(tink, path, pred, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        obj = tink.session().get(tink.url(path)).json()
        if obj.get("kind") != "Status" and pred(obj):
            return obj
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {obj}")
        time.sleep(0.05)


def finished(obj) -> bool:
    c = conditions(obj)
    return any(c.get(t, {}).get("status") == "True" for t in ("Completed", "Failed"))


NETBOOT = [{"powerAction": "off"}, {"oneTimeBootDeviceAction": {"device": ["pxe"], "efiBoot": True}},
           {"powerAction": "on"}]


def test_the_machine_reports_its_power_state_and_is_contactable(twin, tink):
    assert not api_answers(twin)  # the Tinkerbell API answers while Harvester's does not
    secret(tink)
    machine(tink, twin)
    m = wait_for(tink, f"{BMC}/machines/ms02-1", lambda o: (o.get("status") or {}).get("powerState"), "powerState")
    assert m["status"]["powerState"] == "off"
    contactable = conditions(m)["Contactable"]
    assert contactable["status"] == "True" and "message" not in contactable and contactable["lastUpdateTime"]


def test_a_netboot_job_completes_and_the_node_installs(twin, tink):
    secret(tink)
    machine(tink, twin)
    job(tink, "netboot-ms02-1", "ms02-1", NETBOOT)
    done = wait_for(tink, f"{BMC}/jobs/netboot-ms02-1", finished, "the Job to finish")
    c = conditions(done)
    assert c["Completed"]["status"] == "True" and c["Running"]["status"] == "True" and "Failed" not in c
    assert done["status"]["startTime"] <= done["status"]["completionTime"]
    tasks = tink.session().get(tink.url(f"{BMC}/tasks")).json()["items"]
    assert [t["metadata"]["name"] for t in tasks] == [f"netboot-ms02-1-task-{i}" for i in range(3)]
    for i, t in enumerate(tasks):
        assert t["metadata"]["labels"] == {"owner-name": "netboot-ms02-1"}
        (ref,) = t["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["name"], ref["controller"], ref["apiVersion"]) == (
            "Job", "netboot-ms02-1", True, "bmc.tinkerbell.org/v1alpha1")
        assert t["spec"]["task"] == NETBOOT[i]
        assert t["spec"]["connection"]["host"] == "127.0.0.1"
        assert conditions(t)["Completed"]["status"] == "True" and t["status"]["completionTime"]
    steps = wait_step(twin, "ms02-1: installed (create), joined", timeout=30)
    assert "AMT ms02-1: power on (one-time PXE)" in steps
    assert api_answers(twin)
    assert Amt(twin, "ms02-1").power_state()[0] == 2


def test_a_power_action_amt_does_not_have_fails_the_task_and_the_job(twin, tink):
    secret(tink)
    machine(tink, twin)
    job(tink, "reset-ms02-1", "ms02-1", [{"powerAction": "reset"}])
    failed = wait_for(tink, f"{BMC}/jobs/reset-ms02-1", finished, "the Job to fail")
    assert conditions(failed)["Failed"] == {"type": "Failed", "status": "True",
                                            "message": "task tink-system/reset-ms02-1-task-0 failed"}
    assert "completionTime" not in failed["status"]
    task = tink.session().get(tink.url(f"{BMC}/tasks/reset-ms02-1-task-0")).json()
    assert conditions(task)["Failed"]["message"] == (
        "failed to perform PowerAction: 2 errors occurred:\n\t* provider: IntelAMT: requested state type unknown"
        "\n\t* failed to set power state\n\n")
    assert "completionTime" not in task["status"] and task["status"]["startTime"]


def test_a_boot_device_amt_cannot_set_fails_the_task(twin, tink):
    secret(tink)
    machine(tink, twin)
    job(tink, "cdrom", "ms02-1", [{"bootDevice": {"device": "cdrom"}}])
    wait_for(tink, f"{BMC}/jobs/cdrom", finished, "the Job to fail")
    task = tink.session().get(tink.url(f"{BMC}/tasks/cdrom-task-0")).json()
    assert conditions(task)["Failed"]["message"] == (
        "failed to set BootDevice, ok: false, err: 2 errors occurred:\n\t* provider: IntelAMT: only pxe boot device "
        "is supported for AMT provider\n\t* failed to set boot device\n\n")


def test_a_wrong_password_is_refused_by_amt(twin, tink):
    secret(tink, password="not-the-password")
    machine(tink, twin)
    m = wait_for(tink, f"{BMC}/machines/ms02-1", lambda o: "Contactable" in conditions(o), "Contactable")
    assert m["status"]["powerState"] == "unknown"
    message = conditions(m)["Contactable"]["message"]
    assert conditions(m)["Contactable"]["status"] == "False"
    assert message.startswith("get power state: 2 errors occurred:\n\t* provider: IntelAMT: wsman.Client: post "
                              "received 401 Unauthorized\n'")
    assert message.endswith("'\n\t* failed to get power state\n\n")
    job(tink, "on", "ms02-1", [{"powerAction": "on"}])
    wait_for(tink, f"{BMC}/jobs/on", finished, "the Job to fail")
    task = tink.session().get(tink.url(f"{BMC}/tasks/on-task-0")).json()
    assert "wsman.Client: post received 401 Unauthorized" in conditions(task)["Failed"]["message"]
    assert Amt(twin, "ms02-1").power_state()[0] == 8


def test_the_nodes_oob_address_reaches_its_amt_and_others_are_not_dialled(twin, tink):
    secret(tink)
    machine(tink, twin, node="ms02-2", name="by-oob", host=OOB["ms02-2"], port=16992)
    m = wait_for(tink, f"{BMC}/machines/by-oob", lambda o: "Contactable" in conditions(o), "Contactable")
    assert conditions(m)["Contactable"]["status"] == "True" and m["status"]["powerState"] == "off", m["status"]
    machine(tink, twin, name="nowhere", host="192.0.2.40", port=16992)
    m = wait_for(tink, f"{BMC}/machines/nowhere", lambda o: "Contactable" in conditions(o), "Contactable")
    assert m["status"]["powerState"] == "unknown"
    assert conditions(m)["Contactable"]["message"] == (
        "failed to open connection to BMC: 2 errors occurred:\n\t* provider: IntelAMT: unable to perform digest auth "
        'with http://192.0.2.40:16992/wsman: Post "http://192.0.2.40:16992/wsman": dial tcp 192.0.2.40:16992: '
        "i/o timeout\n\t* no Opener implementations found\n\n")
    job(tink, "nowhere-on", "nowhere", [{"powerAction": "on"}])
    wait_for(tink, f"{BMC}/jobs/nowhere-on", finished, "the Job to fail")
    task = tink.session().get(tink.url(f"{BMC}/tasks/nowhere-on-task-0")).json()
    assert conditions(task)["Failed"]["message"].startswith("Failed to connect to BMC: failed to open connection to BMC")


def hardware(tink, node, mac, netboot):
    body = {"apiVersion": "tinkerbell.org/v1alpha1", "kind": "Hardware", "metadata": {"name": node, "namespace": NS},
            "spec": {"interfaces": [{"dhcp": {"mac": mac, "hostname": node, "arch": "x86_64", "uefi": True},
                                     "netboot": netboot}]}}
    r = tink.session().post(tink.url(f"/apis/tinkerbell.org/v1alpha1/namespaces/{NS}/hardware"), json=body)
    assert r.status_code == 201, r.text


def test_the_hardware_decides_what_the_node_netboots(twin, tink):
    hardware(tink, "ms02-2", "58:47:ca:7b:02:b0", {"allowPXE": False})
    Amt(twin, "ms02-2").pxe_power_on()
    wait_step(twin, "ms02-2: iPXE: DHCP filename /netboot-not-allowed (Tinkerbell Hardware tink-system/ms02-2: "
                    "netboot.allowPXE is not true)")
    hardware(tink, "ms02-3", "58:47:ca:7b:03:b0",
             {"allowPXE": True, "ipxe": {"url": "http://10.10.10.20/harvester/ms02-3.ipxe"}})
    Amt(twin, "ms02-3").pxe_power_on()
    wait_step(twin, "ms02-3: PXE auto.ipxe -> ms02-3.ipxe -> ms02-3.yaml")
    wait_step(twin, "ms02-3: installed (join), not joining: rancherd: waiting for https://10.10.10.5:443", timeout=30)
    assert metal(twin)["nodes"]["ms02-3"]["installed"]["mode"] == "join"
