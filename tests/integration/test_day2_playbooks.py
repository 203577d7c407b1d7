"""The day-2 playbooks against the twin, run as users run them: maintenance.yml rolls through the
nodes one at a time (VMs live-migrated away, never two nodes in maintenance, refused while a
volume is degraded, stopped at the first failure with that node left in maintenance);
upgrade.yml runs an upgrade to the end and reports an injected failure; backup.yml backs up the
labelled VMs and prunes the old backups."""
from __future__ import annotations

import json
import threading
import time

import pytest

from tests.integration import image_files
from tests.integration.roles import ROOT, VMIS, api_writes, get, run_site

pytestmark = [pytest.mark.twin, pytest.mark.integration]

TWIN_ARGS = ["--speed", "20"]
PLAYBOOKS = ROOT / "playbooks"
NODES = "/api/v1/nodes"
MAINTAIN = "harvesterhci.io/maintain-status"
VOLUMES = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes"
ROUTER_VOLUME = "pvc-0b6f1d2c-7a43-4e55-9b1e-3c8d2a7f4e10"
SETTINGS = "/apis/harvesterhci.io/v1beta1/settings"
BACKUPS = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinebackups"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
MERGE = {"Content-Type": "application/merge-patch+json"}
# The nodes are reached over SSH in the lab; here their tasks run on the controller.
LOCAL_NODES = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def merge_patch(twin, path, body):
    twin.session().patch(twin.url(path), data=json.dumps(body), headers=MERGE).raise_for_status()


class ClusterWatch:
    """Samples the nodes' maintenance status and where the VMIs run, every 50 ms, in a thread."""

    def __init__(self, twin):
        self.twin, self.samples, self.stop = twin, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        session = self.twin.session()  # its own: a Session is not shared across threads
        while not self.stop.is_set():
            nodes = session.get(self.twin.url(NODES)).json()["items"]
            vmis = session.get(self.twin.url(VMIS)).json()["items"]
            self.samples.append((
                {n["metadata"]["name"]: (n["metadata"].get("annotations") or {}).get(MAINTAIN) for n in nodes},
                {v["metadata"]["name"]: (v.get("status") or {}).get("nodeName") for v in vmis
                 if (v.get("status") or {}).get("phase") == "Running"}))
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)

    def in_maintenance(self):
        """Per sample, the nodes carrying a maintain-status."""
        return [sorted(n for n, status in nodes.items() if status) for nodes, dummy in self.samples]

    def order(self):
        """The nodes in the order they entered maintenance."""
        seen = []
        for names in self.in_maintenance():
            seen += [n for n in names if n not in seen]
        return seen

    def vmis_on_completed_nodes(self):
        """(node, vmi) pairs where a Running VMI sat on a node whose maintenance was completed."""
        return sorted({(node, vmi) for nodes, vmis in self.samples for vmi, node in vmis.items()
                       if nodes.get(node) == "completed"})


def hook(tmp_path, fail_on=None):
    """A maintenance_tasks file: leaves a marker per node (and fails on `fail_on`)."""
    tasks = [{"name": "Do the node's maintenance", "ansible.builtin.copy": {
        "content": "done\n", "dest": str(tmp_path / "done-{{ inventory_hostname }}"), "mode": "0644"}}]
    if fail_on:
        tasks.append({"name": "The firmware update fails", "ansible.builtin.fail": {"msg": "firmware update failed"},
                      "when": f"inventory_hostname == '{fail_on}'"})
    path = tmp_path / "maintenance-tasks.yml"
    path.write_text(json.dumps(tasks))
    return str(path)


def test_maintenance_rolls_through_every_node_one_at_a_time(twin, tmp_path):
    running_before = {v["metadata"]["name"] for v in get(twin, VMIS)["items"]}
    with ClusterWatch(twin) as watch:
        rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "maintenance.yml",
                                  extra_vars={**LOCAL_NODES, "maintenance_tasks": hook(tmp_path)})
    assert rc == 0, out
    assert watch.order() == ["ms02-1", "ms02-2", "ms02-3"]
    assert max(len(names) for names in watch.in_maintenance()) == 1, "never two nodes in maintenance"
    assert watch.vmis_on_completed_nodes() == [], "no VM runs on a node in maintenance"
    assert sorted(p.name for p in tmp_path.glob("done-*")) == ["done-ms02-1", "done-ms02-2", "done-ms02-3"]
    assert "lab-router -> ms02-" in out  # the VMs went away, and were told where
    # every node back, every VM running, every attached volume healthy
    nodes = get(twin, NODES)["items"]
    assert all(not n["spec"].get("unschedulable") and MAINTAIN not in (n["metadata"].get("annotations") or {}) for n in nodes)
    assert {v["metadata"]["name"] for v in get(twin, VMIS)["items"]} == running_before
    attached = [v for v in get(twin, VOLUMES)["items"] if v["status"]["state"] == "attached"]
    assert attached and all(v["status"]["robustness"] == "healthy" for v in attached)


def test_maintenance_refuses_to_start_while_a_volume_is_degraded(twin, tmp_path):
    merge_patch(twin, f"{VOLUMES}/{ROUTER_VOLUME}", {"spec": {"numberOfReplicas": 4}})  # no fourth node: degraded
    deadline = time.monotonic() + 30
    while get(twin, f"{VOLUMES}/{ROUTER_VOLUME}")["status"].get("robustness") != "degraded" and time.monotonic() < deadline:
        time.sleep(0.1)
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "maintenance.yml", extra_vars=LOCAL_NODES)
    assert rc != 0, out
    assert f"Not starting maintenance of ms02-1: volume {ROUTER_VOLUME} (PVC default/lab-router-rootdisk) is degraded" in out
    assert api_writes(twin, since) == []
    assert not [r for r in twin.requests_log(since) if r["path"].startswith("/v1/harvester")]


def test_a_failing_maintenance_task_stops_the_roll_with_that_node_left_in_maintenance(twin, tmp_path):
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "maintenance.yml",
                              extra_vars={**LOCAL_NODES, "maintenance_tasks": hook(tmp_path, fail_on="ms02-2")})
    assert rc != 0, out
    assert "The maintenance tasks failed on ms02-2 (The firmware update fails: firmware update failed)" in out
    status = {n["metadata"]["name"]: (n["metadata"].get("annotations") or {}).get(MAINTAIN) for n in get(twin, NODES)["items"]}
    assert status == {"ms02-1": None, "ms02-2": "completed", "ms02-3": None}
    assert not [r for r in twin.requests_log(since) if "/nodes/ms02-3" in r["path"] and r["method"] != "GET"]
    assert not (tmp_path / "done-ms02-3").exists()


def test_a_transient_503_on_a_node_action_does_not_end_the_roll(twin, tmp_path):
    twin.fault(method="POST", path="^/v1/harvester/nodes/ms02-2$", status=503, count=2, retry_after=1)
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "maintenance.yml", extra_vars=LOCAL_NODES)
    assert rc == 0, out
    assert [r["status"] for r in twin.requests_log() if r.get("fault")] == [503, 503]
    status = {n["metadata"]["name"]: (n["metadata"].get("annotations") or {}).get(MAINTAIN) for n in get(twin, NODES)["items"]}
    assert status == {"ms02-1": None, "ms02-2": None, "ms02-3": None}


def arm_fault_hook(tmp_path, twin, fault):
    """maintenance_tasks that make the API refuse what comes next (armed while the node is in maintenance)."""
    tasks = [{"name": "The API starts refusing", "delegate_to": "localhost", "ansible.builtin.uri": {
        "url": twin.url("/_twin/faults"), "method": "POST", "body_format": "json", "body": fault,
        "headers": {"Authorization": f"Bearer {twin.token}"}, "ca_path": str(twin.ca_file), "status_code": 201},
        "when": "inventory_hostname == 'ms02-2'"}]
    path = tmp_path / "fault-tasks.yml"
    path.write_text(json.dumps(tasks))
    return str(path)


def test_an_api_failure_names_the_node_left_in_maintenance_and_the_command_that_resumes(twin, tmp_path):
    fault = {"method": "POST", "path": "^/v1/harvester/nodes/ms02-2$", "status": 403, "count": 100,
             "message": "nodes \"ms02-2\" is forbidden"}
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "maintenance.yml",
                              extra_vars={**LOCAL_NODES, "maintenance_tasks": arm_fault_hook(tmp_path, twin, fault)})
    assert rc != 0, out
    assert "The roll stopped at ms02-2 (Take the node out of maintenance mode" in out
    assert "ms02-2 stays in maintenance mode (completed), its VMs on the other nodes" in out
    assert "-e maintenance_nodes=ms02-2,ms02-3" in out
    status = {n["metadata"]["name"]: (n["metadata"].get("annotations") or {}).get(MAINTAIN) for n in get(twin, NODES)["items"]}
    assert status == {"ms02-1": None, "ms02-2": "completed", "ms02-3": None}

    # the command it gave resumes the roll: ms02-2 (left in maintenance) passes the gate and comes back
    twin.session().delete(twin.url("/_twin/faults")).raise_for_status()
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "maintenance.yml",
                              extra_vars={**LOCAL_NODES, "maintenance_nodes": "ms02-2,ms02-3"})
    assert rc == 0, out
    status = {n["metadata"]["name"]: (n["metadata"].get("annotations") or {}).get(MAINTAIN) for n in get(twin, NODES)["items"]}
    assert status == {"ms02-1": None, "ms02-2": None, "ms02-3": None}


def test_a_node_pattern_limits_the_roll(twin, tmp_path):
    with ClusterWatch(twin) as watch:
        rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "maintenance.yml",
                                  extra_vars={**LOCAL_NODES, "maintenance_nodes": "ms02-2"})
    assert rc == 0, out
    assert watch.order() == ["ms02-2"]


def upgrade_vars(files, **extra):
    return {"upgrade_version": "v1.9.0", "upgrade_iso_url": f"{files}/disk.img",
            "upgrade_iso_checksum": image_files.DISK_SHA512, **extra}


def test_upgrade_runs_to_the_end_and_prints_what_it_went_through(twin, tmp_path, files):
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "upgrade.yml", extra_vars=upgrade_vars(files))
    assert rc == 0, out
    assert "to v1.9.0: Succeeded" in out
    for line in ("PreparingNodes", "UpgradingNodes", "node ms02-1: Pre-draining", "node ms02-3: Succeeded"):
        assert line in out, line
    version = get(twin, f"{SETTINGS}/server-version")
    assert (version.get("value") or version["default"]) == "v1.9.0"
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "upgrade.yml", extra_vars=upgrade_vars(files))
    assert rc == 0 and recap["changed"] == 0, out


def test_upgrade_reports_an_injected_failure_with_its_message(twin, tmp_path, files):
    twin.session().patch(twin.url("/_twin/environment"),
                         json={"upgrade_failures": {"ms02-2": "node-upgrade job failed: disk full"}}).raise_for_status()
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "upgrade.yml", extra_vars=upgrade_vars(files))
    assert rc != 0, out
    assert "to v1.9.0 failed: NodesUpgraded: node ms02-2: node-upgrade job failed: disk full" in out
    assert "node ms02-2: Failed" in out


def test_upgrade_check_mode_names_what_would_block_and_writes_nothing(twin, tmp_path, files):
    twin.kubectl("cordon", "ms02-2")
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "upgrade.yml", extra_vars=upgrade_vars(files), check=True)
    assert rc != 0, out
    assert "blocked: " in out and "ms02-2" in out and "cordoned" in out
    assert api_writes(twin, since) == []


def backups_by_vm(twin):
    found = {}
    for b in get(twin, BACKUPS)["items"]:
        if (b["metadata"].get("labels") or {}).get("homelab.harvester/backup-set") == "nightly":
            found.setdefault(b["spec"]["source"]["name"], []).append(b["metadata"]["name"])
    return {vm: sorted(names) for vm, names in found.items()}


def test_backup_backs_up_the_labelled_vms_and_keeps_the_newest(twin, tmp_path):
    merge_patch(twin, f"{SETTINGS}/backup-target",
                {"value": json.dumps({"type": "nfs", "endpoint": "nfs://10.10.10.20:/volume1/harvester-backups"})})
    for vm in ("lab-router", "lab-dns"):
        merge_patch(twin, f"{VMS}/{vm}", {"metadata": {"labels": {"homelab.harvester/backup": "nightly"}}})
    made, would_delete = [], None
    for run in range(3):
        if run == 2:  # check mode names the backup the real run then deletes (its new one counted)
            rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "backup.yml", extra_vars={"backup_keep": 2},
                                      check=True)
            assert rc == 0, out
            would_delete = out.split("would delete (beyond 2 per VM): ", 1)[1].split('"', 1)[0].strip()
        rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "backup.yml", extra_vars={"backup_keep": 2})
        assert rc == 0, (run, out)
        made.append(backups_by_vm(twin))
        time.sleep(1.1)  # the backups are named after the second
    assert [len(m.get("lab-router", [])) for m in made] == [1, 2, 2]
    kept = made[-1]
    assert sorted(kept) == ["lab-dns", "lab-router"], "lab-builder has no label: no backup"
    assert all(b["status"]["readyToUse"] for b in get(twin, BACKUPS)["items"])
    first_router = made[0]["lab-router"][0]
    assert first_router not in kept["lab-router"], "the oldest backup was pruned"
    assert "deleted (beyond 2 per VM): " in out and first_router in out
    deleted = out.split("deleted (beyond 2 per VM): ", 1)[1].split('"', 1)[0].strip()
    assert would_delete == deleted and first_router in would_delete, (would_delete, deleted)


def test_backup_check_mode_lists_and_writes_nothing(twin, tmp_path):
    merge_patch(twin, f"{SETTINGS}/backup-target",
                {"value": json.dumps({"type": "nfs", "endpoint": "nfs://10.10.10.20:/volume1/harvester-backups"})})
    merge_patch(twin, f"{VMS}/lab-router", {"metadata": {"labels": {"homelab.harvester/backup": "nightly"}}})
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOKS / "backup.yml", check=True)
    assert rc == 0, out
    assert "would back up: lab-router" in out
    assert api_writes(twin, since) == [] and get(twin, BACKUPS)["items"] == []
