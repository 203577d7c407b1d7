"""playbooks/site.yml with the roles vlans, storage and capi, run the way users run it
(`ansible-playbook -i inventory/lab playbooks/site.yml`) against a twin process."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

import pytest
import yaml

from tests.integration.playbooks import PLAYBOOK, ROOT, writes

TWIN_ARGS = ["--speed", "20"]
SITE = ROOT / "playbooks" / "site.yml"
LAB = ROOT / "inventory" / "lab"
NAD_PATH = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
SETTINGS = "/apis/harvesterhci.io/v1beta1/settings"
LONGHORN_SETTINGS = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"


def run_site(twin, cwd, inventory=LAB, tags=None):
    """ansible-playbook -i inventory playbooks/site.yml; returns (exit status, output, recap counters)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "KUBECONFIG", "ANSIBLE_"))}
    environ.update(ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1",
                   HOMELAB_HARVESTER_DEBUG_LOG="", K8S_AUTH_KUBECONFIG=str(twin.kubeconfig))
    args = [str(PLAYBOOK), "-i", str(inventory), str(SITE)] + (["--tags", ",".join(tags)] if tags else [])
    proc = subprocess.run(args, capture_output=True, text=True, env=environ, cwd=cwd, timeout=600, check=False)
    out = proc.stdout + proc.stderr
    recap = re.search(r"harvester-lab\s*:\s*(.*)", out.rpartition("PLAY RECAP")[2])
    counters = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap.group(1))} if recap else {}
    return proc.returncode, out, counters


def get(twin, path):
    r = twin.session().get(twin.url(path))
    r.raise_for_status()
    return r.json()


def nads(twin):
    return {n["metadata"]["name"]: n for n in get(twin, NAD_PATH)["items"]}


def stop_all_vms(twin):
    s = twin.session()
    for vm in get(twin, VMS)["items"]:
        s.patch(twin.url(f"{VMS}/{vm['metadata']['name']}"), data=json.dumps({"spec": {"runStrategy": "Halted"}}),
                headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    deadline = time.monotonic() + 30
    while get(twin, VMIS)["items"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not get(twin, VMIS)["items"], "the twin did not stop the VMs"


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


def test_storage_stop_vms_true_fails_before_any_write(twin, tmp_path):
    inventory = tmp_path / "lab"
    shutil.copytree(LAB, inventory)
    (inventory / "group_vars" / "all" / "zz-test.yml").write_text("storage_stop_vms: true\n")
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory, tags=["storage"])
    assert rc != 0 and recap["failed"] == 1, out
    assert "storage_stop_vms=true needs a module that stops and starts VMs" in out
    assert writes([r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]) == []


@pytest.mark.parametrize("change, message", [
    ("duplicate", "lab_vlans[2] (cluster): id 30 is already used by lab_vlans[1] (platform)"),
    ("gateway", "lab_vlans[1] (platform): gateway 10.10.99.1 is not inside 10.10.30.0/24"),
])
def test_invalid_plan_fails_before_any_write(twin, tmp_path, change, message):
    inventory = tmp_path / "lab"
    shutil.copytree(LAB, inventory)
    lab_file = inventory / "group_vars" / "all" / "lab.yml"
    lab = yaml.safe_load(lab_file.read_text())
    if change == "duplicate":
        lab["lab_vlans"][2]["id"] = 30
    else:
        lab["lab_vlans"][1]["gateway"] = "10.10.99.1"
    lab_file.write_text(yaml.safe_dump(lab))
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc != 0 and recap["failed"] == 1, out
    assert message in out
    assert "nothing was changed" in out
    assert writes([r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]) == []
    assert "platform" not in nads(twin)
