# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_vm_backup in process (tests/modules/runner.py) against a twin process (lab-router,
lab-dns running, lab-builder stopped, the backup-target setting empty) and the twin's request log
says what reached the API: a backup to the NFS target waited until ready, a second run without
writes, a snapshot without any backup target, a backup without one refused with no write, check mode
storing nothing, a name taken by another VM or type failing on the option, labels patched,
Harvester's failure message when the target is down, retention (keep the newest, delete the rest,
their files gone from the target), and bad input with no request at all."""

from __future__ import annotations

import json

import pytest

from tests.catalogue.harvester_vm_backup import BAD_INPUTS, NIGHTLY
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_vm_backup"
INFO = "harvester_vm_backup_info"
BACKUPS = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinebackups"
SETTING = "/apis/harvesterhci.io/v1beta1/settings/backup-target"
NFS = "nfs://10.10.10.20:/volume1/harvester-backups"


def play(twin, tasks, *, module=MODULE, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, module, tasks, **kwargs)


def get(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def set_target(twin):
    setting = get(twin, SETTING)
    setting["value"] = json.dumps({"type": "nfs", "endpoint": NFS})
    twin.session().put(twin.url(SETTING), json=setting).raise_for_status()


def store_files(twin):
    return twin.session().get(twin.url("/_twin/environment")).json().get("backupstore", {}).get(NFS, [])


def test_backup_to_nfs_waits_until_ready_then_changes_nothing(twin):
    set_target(twin)
    task = {"name": "router-1", "vm": "lab-router", "labels": NIGHTLY}
    (first,), reqs = play(twin, [task], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert first["ready_to_use"] is True
    status = first["backup"]["status"]
    assert status["readyToUse"] is True and status["progress"] == 100 and status["backupTarget"] == {"endpoint": NFS}
    messages = {c["type"]: c["message"] for c in status["conditions"]}
    assert messages == {"InProgress": "Operation complete", "Ready": "Operation complete"}
    assert first["diff"] == {"before": {}, "after": {"metadata": {"labels": NIGHTLY},
                                                     "spec": {"source": {"name": "lab-router"}, "type": "backup"}}}
    first_three = [(r["method"], r["path"]) for r in reqs[:3]]
    assert first_three == [("GET", f"{BACKUPS}/router-1"), ("GET", SETTING), ("POST", BACKUPS)]
    assert [r["method"] for r in writes(reqs)] == ["POST"]
    assert "harvester/vmbackups/default/router-1.cfg" in store_files(twin)

    (again,), reqs = play(twin, [task])
    assert again["changed"] is False and again["ready_to_use"] is True, again
    assert [(r["method"], r["path"]) for r in reqs] == [("GET", f"{BACKUPS}/router-1")]  # one read, already ready


def test_snapshot_needs_no_backup_target(twin):
    (snap,), reqs = play(twin, [{"name": "dns-snap", "vm": "lab-dns", "type": "snapshot"}])
    assert snap["changed"] is True and snap["ready_to_use"] is True, snap
    assert "backupTarget" not in snap["backup"]["status"]
    assert SETTING not in [r["path"] for r in reqs]
    assert store_files(twin) == []


def test_backup_without_a_target_is_refused_before_any_write(twin):
    (result,), reqs = play(twin, [{"name": "router-1", "vm": "lab-router"}])
    assert result["failed"] and result["option"] == "type"
    assert result["msg"].startswith("type: backup needs a backup target, and Harvester's backup-target setting is not "
                                    "set; set it (homelab.harvester.harvester_setting")
    assert writes(reqs) == [] and [r["path"] for r in reqs] == [f"{BACKUPS}/router-1", SETTING]
    assert get(twin, f"{BACKUPS}/router-1") is None


def test_check_mode_stores_nothing(twin):
    set_target(twin)
    (created,), reqs = play(twin, [{"name": "router-1", "vm": "lab-router"}], check=True, diff=True)
    assert created["changed"] is True and created["ready_to_use"] is False, created
    assert created["diff"]["after"]["spec"] == {"source": {"name": "lab-router"}, "type": "backup"}
    assert len(writes(reqs)) == 1 and stored_writes(reqs) == []
    assert get(twin, f"{BACKUPS}/router-1") is None

    play(twin, [{"name": "router-1", "vm": "lab-router"}])
    (deleted,), reqs = play(twin, [{"name": "router-1", "state": "absent"}], check=True)
    assert deleted["changed"] is True and stored_writes(reqs) == [] and len(writes(reqs)) == 1, deleted
    assert get(twin, f"{BACKUPS}/router-1")["status"]["readyToUse"] is True


def test_a_name_taken_by_another_vm_or_type_fails_on_that_option(twin):
    set_target(twin)
    (made, other_vm, other_type, absent_other), reqs = play(twin, [
        {"name": "nightly", "vm": "lab-router", "type": "snapshot"},
        {"name": "nightly", "vm": "lab-dns", "type": "snapshot"},
        {"name": "nightly", "vm": "lab-router", "type": "backup"},
        {"name": "nightly", "vm": "lab-dns", "state": "absent"}])
    assert made["changed"] and not made.get("failed"), made
    assert other_vm["failed"] and other_vm["option"] == "vm"
    assert other_vm["msg"] == ("vm: VirtualMachineBackup default/nightly exists and is of VM lab-router, not lab-dns; "
                               "a backup cannot change: choose another name")
    assert other_type["failed"] and other_type["option"] == "type"
    assert "is a snapshot, not a backup (backups and snapshots share their names)" in other_type["msg"]
    assert absent_other["failed"] and absent_other["option"] == "vm"
    assert [r["method"] for r in writes(reqs)] == ["POST"]
    assert get(twin, f"{BACKUPS}/nightly") is not None


def test_labels_are_patched_alone(twin):
    (made, relabelled), reqs = play(twin, [
        {"name": "snap", "vm": "lab-dns", "type": "snapshot", "labels": NIGHTLY},
        {"name": "snap", "vm": "lab-dns", "type": "snapshot", "labels": {"homelab.harvester/backup": None, "keep": "yes"}}],
        diff=True)
    assert made["changed"] and relabelled["changed"], relabelled
    assert relabelled["diff"]["before"]["metadata"] == {"labels": NIGHTLY}
    assert relabelled["diff"]["after"]["metadata"] == {"labels": {"keep": "yes"}}
    assert [r["method"] for r in writes(reqs)] == ["POST", "PATCH"]
    assert get(twin, f"{BACKUPS}/snap")["metadata"]["labels"] == {"keep": "yes"}


def test_a_failed_backup_fails_with_harvesters_message(twin):
    set_target(twin)
    twin.session().patch(twin.url("/_twin/environment"), json={"unreachable": [NFS]}).raise_for_status()
    (result,), reqs = play(twin, [{"name": "builder-1", "vm": "lab-builder"}])
    assert result["failed"], result
    assert result["msg"].startswith("gave up waiting for VirtualMachineBackup default/builder-1 to be ready to use: "
                                    "Harvester reports: VolumeSnapshot builder-1-volume-lab-builder-rootdisk in error "
                                    "state (volume rootdisk: cannot mount nfs 10.10.10.20:/volume1/harvester-backups")
    assert [r["method"] for r in writes(reqs)] == ["POST"]


def test_keep_the_newest_and_delete_the_rest(twin):
    set_target(twin)
    made, dummy = play(twin, [{"name": f"router-{i}", "vm": "lab-router", "labels": NIGHTLY} for i in (1, 2, 3)]
                       + [{"name": "dns-1", "vm": "lab-dns", "labels": NIGHTLY}])
    assert all(r["ready_to_use"] for r in made), made
    (info,), reqs = play(twin, [{"label_selector": "homelab.harvester/backup=nightly", "keep": 2}], module=INFO)
    assert [(e["name"], e["state"]) for e in info["expired"]] == [("router-1", "ready")], info
    assert info["by_vm"] == {"default/lab-router": ["router-3", "router-2", "router-1"], "default/lab-dns": ["dns-1"]}
    assert len(reqs) == 1
    pruned, reqs = play(twin, [{"name": e["name"], "namespace": e["namespace"], "vm": e["vm"], "state": "absent"}
                               for e in info["expired"]])
    assert pruned[0]["changed"] is True and not pruned[0].get("failed"), pruned
    assert [(r["method"], r["path"]) for r in writes(reqs)] == [("DELETE", f"{BACKUPS}/router-1")]
    assert get(twin, f"{BACKUPS}/router-1") is None  # waited: Harvester removed its data
    assert not any("router-1" in f for f in store_files(twin)) and "harvester/vmbackups/default/router-2.cfg" in store_files(twin)
    (again,), reqs = play(twin, [{"name": "router-1", "state": "absent"}])
    assert again["changed"] is False and writes(reqs) == []


def test_keep_deletes_the_oldest_of_the_set_after_the_new_backup_and_check_mode_names_them(twin):
    set_target(twin)
    made, dummy = play(twin, [{"name": f"router-{i}", "vm": "lab-router", "labels": NIGHTLY} for i in (1, 2)]
                       + [{"name": "router-adhoc", "vm": "lab-router"}, {"name": "dns-1", "vm": "lab-dns", "labels": NIGHTLY}])
    assert all(r["ready_to_use"] for r in made), made
    task = {"name": "router-3", "vm": "lab-router", "labels": NIGHTLY, "keep": 2}
    (would,), reqs = play(twin, [task], check=True)
    assert [e["name"] for e in would["expired"]] == ["router-1"] and would["changed"] is True, would
    assert stored_writes(reqs) == [] and get(twin, f"{BACKUPS}/router-1") is not None
    (done,), reqs = play(twin, [task])
    assert [e["name"] for e in done["expired"]] == [e["name"] for e in would["expired"]], done
    assert [(r["method"], r["path"]) for r in writes(reqs)] == [("POST", BACKUPS), ("DELETE", f"{BACKUPS}/router-1")]
    assert get(twin, f"{BACKUPS}/router-1") is None  # waited: Harvester removed its data
    assert not any("router-1" in f for f in store_files(twin))
    assert all(get(twin, f"{BACKUPS}/{n}") for n in ("router-2", "router-3", "router-adhoc", "dns-1"))
    (again,), reqs = play(twin, [task])
    assert again["changed"] is False and again["expired"] == [] and writes(reqs) == []


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
