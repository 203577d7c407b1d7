# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/vm_backup.py and vm_restore.py: input checks, the objects
built, what a backup's and a restore's state is (ready, failed with the volumes' errors, progress
lines), the backup-target check, the retention rule, and both flows against a fake client:
nothing written before a refusal, no write for what exists, labels patched alone, the waits and
their messages, check mode."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import vm_backup, vm_restore
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError
from ansible_collections.homelab.harvester.plugins.module_utils.wait import WaitFailed
from tests.unit.fake_client import FakeClient

BACKUPS = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinebackups"
RESTORES = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinerestores"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
SETTING = "/apis/harvesterhci.io/v1beta1/settings/backup-target"
XY = {"x": "y"}
NFS = '{"type":"nfs","endpoint":"nfs://10.10.10.20:/volume1/harvester-backups"}'


def backup_params(**kw):
    base = {"name": "router-1", "namespace": "default", "vm": "lab-router", "type": None, "labels": None,
            "state": "present", "wait": True, "wait_timeout": 30}
    return dict(base, **kw)


def restore_params(**kw):
    base = {"name": "copy", "namespace": "default", "backup": "router-1", "backup_namespace": None, "vm": "copy",
            "new_vm": True, "deletion_policy": "retain", "keep_mac_address": False, "wait": True, "wait_timeout": 30}
    return dict(base, **kw)


def make_backup(name="router-1", vm="lab-router", type_="backup", ready=True, error=None, labels=None, created="2026-01-01T00:00:00Z",
                ns="default", volume_error=None):
    status = {"readyToUse": ready, "conditions": [{"type": "InProgress", "status": "False" if ready or error else "True",
                                                   "message": "Operation complete" if ready else error or "Operation in progress",
                                                   **({"reason": "Error"} if error else {})}]}
    if type_ == "backup":
        status["progress"] = 100 if ready else 40
    if error:
        status["error"] = {"message": error}
    if volume_error:
        status["volumeBackups"] = [{"name": f"{name}-volume-x", "volumeName": "rootdisk", "error": {"message": volume_error}}]
    return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineBackup",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": "5", "creationTimestamp": created,
                         **({"labels": labels} if labels else {})},
            "spec": {"type": type_, "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}},
            "status": status}


def fake(objects=None, dry_run=False, on_create=None):
    """Objects by path; ``on_create(client, path)`` plays the controller after a stored create."""
    return FakeClient(objects, dry_run=dry_run, after={"create": on_create} if on_create else None)


def record(c):
    """The calls as (op, path), lists with their label selector."""
    return [(x.op, x.path, x.query.get("labelSelector")) if x.op == "list" else (x.op, x.path) for x in c.calls]


def no_sleep(seconds):
    pass


# --- input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, message", [
    ({"vm": None}, "vm: is required when state is present"),
    ({"name": "Router"}, "name: 'Router' is not a valid name"),
    ({"vm": "a b"}, "vm: 'a b' is not a valid name"),
    ({"namespace": "x.y"}, "namespace: 'x.y' is not a valid name"),
    ({"labels": {"ok": "-x"}}, "labels.ok: '-x' is not a valid label value"),
    ({"state": "absent", "labels": {"a": "b"}}, "labels: only with state=present"),
    ({"wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
    ({"state": "absent", "keep": 2}, "keep: only with state=present"),
    ({"keep": 0, "labels": {"set": "nightly"}}, "keep: 0 must be 1 or more (0 would delete the backup just made)"),
    ({"keep": 2}, "keep: needs labels"),
    ({"keep": 2, "labels": {"set": None}}, "keep: needs labels"),
])
def test_backup_input_checks(kw, message):
    with pytest.raises(ValidationError) as e:
        vm_backup.check(backup_params(**kw))
    assert str(e.value).startswith(message)


def test_absent_needs_no_vm():
    vm_backup.check(backup_params(vm=None, state="absent"))


def test_desired_backup_and_its_view():
    body = vm_backup.desired(backup_params(labels={"set": "nightly", "gone": None}))
    assert body["spec"] == {"type": "backup", "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
                                                         "name": "lab-router"}}
    assert body["metadata"] == {"name": "router-1", "namespace": "default", "labels": {"set": "nightly"}}
    view = vm_backup.reconcile.managed_view(body, vm_backup.fields(backup_params(labels={"set": "nightly"})))
    assert view == {"spec": {"source": {"name": "lab-router"}, "type": "backup"}, "metadata": {"labels": {"set": "nightly"}}}


@pytest.mark.parametrize("value, configured", [
    ("", False), (None, False), ('{"type":"","endpoint":"","refreshIntervalInSeconds":0}', False),
    (NFS, True), ("not json", True), ('{"type":"s3","bucketName":"b"}', True),
])
def test_target_configured_is_harvesters_default_check(value, configured):
    assert vm_backup.target_configured(value) is configured


def test_states_messages_and_entries():
    failed = make_backup(ready=False, error="VolumeSnapshot x in error state", volume_error="cannot mount nfs")
    assert vm_backup.state(failed) == "failed" and vm_backup.state(make_backup()) == "ready"
    assert vm_backup.state(make_backup(ready=False)) == "in_progress"
    assert vm_backup.error_message(failed) == "VolumeSnapshot x in error state (volume rootdisk: cannot mount nfs)"
    assert vm_backup.failure(failed) == "Harvester reports: VolumeSnapshot x in error state (volume rootdisk: cannot mount nfs)"
    assert vm_backup.failure(None) == "the backup was deleted" and vm_backup.failure(make_backup()) is None
    assert vm_backup.summary(make_backup(ready=False)) == "progress 40%, InProgress=True (Operation in progress)"
    assert vm_backup.summary({"metadata": {}}) == "not picked up by Harvester yet"
    entry = vm_backup.entry(make_backup(labels={"a": "b"}))
    assert set(entry) == set(vm_backup.ENTRY_KEYS)
    assert entry["vm"] == "lab-router" and entry["state"] == "ready" and entry["labels"] == {"a": "b"}


def test_expired_keeps_the_newest_ready_per_vm_and_never_one_in_progress():
    entries = [vm_backup.entry(b) for b in (
        make_backup("r-5", ready=False),  # in progress: never expired
        make_backup("r-4", ready=False, error="boom"),  # failed but newer than the kept one: stays in view
        make_backup("r-3"), make_backup("r-2"),
        make_backup("r-1", ready=False, error="old failure"),
        make_backup("d-1", vm="lab-dns"),
        make_backup("r-0"))]
    assert [e["name"] for e in vm_backup.expired(entries, 1)] == ["r-2", "r-1", "r-0"]
    assert [e["name"] for e in vm_backup.expired(entries, 2)] == ["r-1", "r-0"]
    assert [e["name"] for e in vm_backup.expired(entries, 0)] == ["r-4", "r-3", "r-2", "r-1", "d-1", "r-0"]


def test_listing_newest_first_with_filters():
    objects = {f"{BACKUPS}/{b['metadata']['name']}": b for b in (
        make_backup("a", created="2026-01-01T00:00:00Z", labels=XY), make_backup("c", created="2026-01-03T00:00:00Z", labels=XY),
        make_backup("b", created="2026-01-03T00:00:00Z", type_="snapshot", labels=XY), make_backup("d", vm="lab-dns", labels=XY),
        make_backup("e", created="2026-01-04T00:00:00Z"))}  # not selected by x=y
    c = fake(objects)
    result = vm_backup.listing(c, {"namespace": "default", "vm": "lab-router", "keep": 1, "label_selector": "x=y"})
    assert [e["name"] for e in result["backups"]] == ["c", "b", "a"]
    assert result["by_vm"] == {"default/lab-router": ["c", "b", "a"]} and [e["name"] for e in result["expired"]] == ["b", "a"]
    assert record(c) == [("list", BACKUPS, "x=y")]
    only = vm_backup.listing(c, {"namespace": "default", "type": "snapshot", "all_namespaces": True})
    assert [e["name"] for e in only["backups"]] == ["b"] and "expired" not in only  # every namespace: no retention
    assert record(c)[-1] == ("list", "/apis/harvesterhci.io/v1beta1/virtualmachinebackups", None)


# --- the backup flow -------------------------------------------------------------------------------
def ready_at_once(client, path):
    client.objects[path]["status"] = make_backup()["status"]


def test_a_backup_without_target_is_refused_before_any_write():
    c = fake({SETTING: {"value": ""}})
    with pytest.raises(ValidationError) as e:
        vm_backup.run(c, backup_params())
    assert e.value.option == "type" and c.writes() == []
    assert record(c) == [("get", f"{BACKUPS}/router-1"), ("get", SETTING)]


def test_a_backup_is_created_and_waited_for():
    c = fake({SETTING: {"value": NFS}}, on_create=ready_at_once)
    result = vm_backup.run(c, backup_params(labels={"set": "nightly"}), sleep=no_sleep)
    assert result["changed"] is True and result["ready_to_use"] is True
    assert [w.op for w in c.writes()] == ["create"] and c.writes()[0].body["metadata"]["labels"] == {"set": "nightly"}
    assert result["diff"]["before"] == {} and result["diff"]["after"]["spec"]["type"] == "backup"


def test_a_snapshot_reads_no_setting_and_check_mode_does_not_wait():
    c = fake(dry_run=True)
    result = vm_backup.run(c, backup_params(type="snapshot"))
    assert result["changed"] is True and result["ready_to_use"] is False
    assert c.ops() == ["get", "create"] and c.writes()[0].dry_run is True and c.objects == {}


def test_an_existing_backup_changes_nothing_or_only_its_labels():
    live = make_backup(labels={"set": "nightly"})
    c = fake({f"{BACKUPS}/router-1": live})
    same = vm_backup.run(c, backup_params(labels={"set": "nightly"}))
    assert same["changed"] is False and c.writes() == [] and record(c) == [("get", f"{BACKUPS}/router-1")]
    relabelled = vm_backup.run(c, backup_params(labels={"set": None, "keep": "yes"}))
    assert relabelled["changed"] is True
    [call] = c.writes()
    patch = call.body
    assert call.op == "merge_patch" and patch["metadata"]["labels"] == {"set": None, "keep": "yes"} and "spec" not in patch
    assert c.objects[f"{BACKUPS}/router-1"]["metadata"]["labels"] == {"keep": "yes"}


@pytest.mark.parametrize("kw, option", [({"vm": "lab-dns"}, "vm"), ({"type": "snapshot"}, "type")])
def test_an_existing_backup_of_another_vm_or_type_fails(kw, option):
    c = fake({f"{BACKUPS}/router-1": make_backup()})
    with pytest.raises(ValidationError) as e:
        vm_backup.run(c, backup_params(**kw))
    assert e.value.option == option and c.writes() == []
    with pytest.raises(ValidationError):
        vm_backup.run(c, backup_params(state="absent", **kw))
    assert c.writes() == []


def test_an_existing_snapshot_is_not_a_backup_when_no_type_is_given():
    c = fake({f"{BACKUPS}/router-1": make_backup(type_="snapshot")})
    with pytest.raises(ValidationError) as e:
        vm_backup.run(c, backup_params())  # present means type backup
    assert e.value.option == "type" and c.writes() == []
    assert vm_backup.run(c, backup_params(vm=None, state="absent"))["changed"] is True  # absent: any type


def test_a_failed_backup_stops_the_wait_with_harvesters_message():
    c = fake({f"{BACKUPS}/router-1": make_backup(ready=False, error="VolumeSnapshot x in error state")})
    with pytest.raises(WaitFailed) as e:
        vm_backup.run(c, backup_params())
    assert str(e.value) == ("gave up waiting for VirtualMachineBackup default/router-1 to be ready to use: Harvester "
                            "reports: VolumeSnapshot x in error state")


def test_absent_deletes_and_reports_unchanged_when_gone():
    c = fake({f"{BACKUPS}/router-1": make_backup()})
    assert vm_backup.run(c, backup_params(vm=None, state="absent"))["changed"] is True
    assert ("delete", f"{BACKUPS}/router-1") in record(c)
    assert vm_backup.run(c, backup_params(vm=None, state="absent"))["changed"] is False


# --- retention (keep) --------------------------------------------------------------------------------
NIGHTLY = {"set": "nightly"}


def router_backups():
    """router-1..3 of the nightly set (router-1 oldest), an ad-hoc one and a snapshot of the same VM,
    and lab-dns's: only the first three are ever counted for lab-router."""
    made = [make_backup(f"router-{i}", labels=NIGHTLY, created=f"2026-01-0{i}T00:00:00Z") for i in (1, 2, 3)]
    made += [make_backup("router-adhoc", created="2026-01-01T12:00:00Z"),
             make_backup("router-snap", type_="snapshot", labels=NIGHTLY, created="2026-01-01T06:00:00Z"),
             make_backup("dns-1", vm="lab-dns", labels=NIGHTLY, created="2025-12-01T00:00:00Z")]
    return {f"{BACKUPS}/{b['metadata']['name']}": b for b in made}


def ready_now(client, path):
    client.objects[path]["status"] = make_backup()["status"]
    client.objects[path]["metadata"]["creationTimestamp"] = "2026-01-04T00:00:00Z"


def test_keep_deletes_the_vms_backups_of_the_set_beyond_the_newest_after_the_new_one_is_ready():
    c = fake(dict(router_backups(), **{SETTING: {"value": NFS}}), on_create=ready_now)
    result = vm_backup.run(c, backup_params(name="router-4", labels=NIGHTLY, keep=2), sleep=no_sleep)
    assert [e["name"] for e in result["expired"]] == ["router-2", "router-1"] and result["changed"] is True
    assert [(w.op, w.path) for w in c.writes()] == [("create", BACKUPS), ("delete", f"{BACKUPS}/router-2"),
                                                    ("delete", f"{BACKUPS}/router-1")]
    assert {f"{BACKUPS}/{n}" for n in ("router-4", "router-3", "router-adhoc", "router-snap", "dns-1")} <= set(c.objects)


def test_keep_in_check_mode_counts_the_new_backup_and_names_what_the_real_run_deletes():
    checked = fake(dict(router_backups(), **{SETTING: {"value": NFS}}), dry_run=True)
    would = vm_backup.run(checked, backup_params(name="router-4", labels=NIGHTLY, keep=2))
    real = fake(dict(router_backups(), **{SETTING: {"value": NFS}}), on_create=ready_now)
    done = vm_backup.run(real, backup_params(name="router-4", labels=NIGHTLY, keep=2), sleep=no_sleep)
    assert [e["name"] for e in would["expired"]] == [e["name"] for e in done["expired"]] == ["router-2", "router-1"]
    assert checked.objects == dict(router_backups(), **{SETTING: {"value": NFS}}), "check mode stores nothing"
    assert [(w.op, w.path) for w in checked.writes()][1:] == [("delete", f"{BACKUPS}/router-2"), ("delete", f"{BACKUPS}/router-1")]


def test_keep_without_wait_does_not_count_the_new_backup_in_either_mode():
    for check_mode in (True, False):
        c = fake(dict(router_backups(), **{SETTING: {"value": NFS}}), dry_run=check_mode)
        result = vm_backup.run(c, backup_params(name="router-4", labels=NIGHTLY, keep=2, wait=False))
        assert [e["name"] for e in result["expired"]] == ["router-1"], check_mode


def test_keep_with_nothing_beyond_it_deletes_nothing_and_an_existing_backup_stays_unchanged():
    c = fake(router_backups())
    result = vm_backup.run(c, backup_params(name="router-3", labels=NIGHTLY, keep=3))
    assert result == dict(result, changed=False, expired=[]) and c.writes() == []


def test_keep_never_runs_after_a_failed_backup():
    objects = dict(router_backups())
    objects[f"{BACKUPS}/router-4"] = make_backup("router-4", ready=False, error="boom", labels=NIGHTLY)
    c = fake(objects)
    with pytest.raises(WaitFailed):
        vm_backup.run(c, backup_params(name="router-4", labels=NIGHTLY, keep=1), sleep=no_sleep)
    assert c.writes() == [] and "list" not in c.ops()


# --- restores ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, message", [
    ({"backup": "A"}, "backup: 'A' is not a valid name"),
    ({"backup_namespace": "a_b"}, "backup_namespace: 'a_b' is not a valid name"),
    ({"vm": "Copy"}, "vm: 'Copy' is not a valid name"),
    ({"new_vm": False, "keep_mac_address": True}, "keep_mac_address: only with new_vm=true"),
    ({"wait_timeout": -1}, "wait_timeout: -1 must be more than 0"),
])
def test_restore_input_checks(kw, message):
    with pytest.raises(ValidationError) as e:
        vm_restore.check(restore_params(**kw))
    assert str(e.value).startswith(message)


def test_desired_restore():
    body = vm_restore.desired(restore_params(backup_namespace="other", new_vm=False, deletion_policy="delete"))
    assert body["spec"] == {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "copy"},
                            "virtualMachineBackupName": "router-1", "virtualMachineBackupNamespace": "other",
                            "newVM": False, "deletionPolicy": "delete", "keepMacAddress": False}


def vm(name, status):
    return {"metadata": {"name": name, "namespace": "default"}, "status": status}


@pytest.mark.parametrize("objects, kw, option, message", [
    ({}, {}, "backup", "backup: VirtualMachineBackup default/router-1 not found"),
    ({"b": make_backup(ready=False)}, {}, "backup",
     "backup: VirtualMachineBackup default/router-1 is not ready to use yet (progress 40%, InProgress=True"),
    ({"b": make_backup(ready=False, error="boom")}, {}, "backup",
     "backup: VirtualMachineBackup default/router-1 failed and cannot be restored: boom"),
    ({"b": make_backup(type_="snapshot", ns="other")}, {"backup_namespace": "other"}, "backup_namespace",
     "backup_namespace: VirtualMachineBackup other/router-1 is a snapshot, which can only be restored in its own"),
    ({"b": make_backup(type_="snapshot")}, {"new_vm": False, "deletion_policy": "delete", "vm": "lab-router"},
     "deletion_policy", "deletion_policy: VirtualMachineBackup default/router-1 is a snapshot"),
    ({"b": make_backup(), "vm": vm("copy", {"printableStatus": "Stopped"})}, {}, "vm",
     "vm: VirtualMachine default/copy already exists"),
    ({"b": make_backup()}, {"new_vm": False}, "vm", "vm: VirtualMachine default/copy not found; set new_vm=true"),
    ({"b": make_backup(), "vm": vm("copy", {"printableStatus": "Stopping"})}, {"new_vm": False}, "vm",
     "vm: VirtualMachine default/copy is Stopping; Harvester only replaces a stopped VM: stop it first: "
     "homelab.harvester.harvester_vm_power (state: stopped)"),
])
def test_restore_refusals_before_any_write(objects, kw, option, message):
    p = restore_params(**kw)
    paths = {"b": f"/apis/harvesterhci.io/v1beta1/namespaces/{p['backup_namespace'] or 'default'}/virtualmachinebackups/router-1",
             "vm": f"{VMS}/copy"}
    c = fake({paths[k]: o for k, o in objects.items()})
    with pytest.raises(ValidationError) as e:
        vm_restore.run(c, p)
    assert e.value.option == option and str(e.value).startswith(message), str(e.value)
    assert c.writes() == []


def complete_at_once(client, path):
    client.objects[path]["status"] = {"complete": True, "conditions": [{"type": "Ready", "status": "True",
                                                                        "message": "Operation complete"}]}


def test_a_restore_is_created_waited_for_and_then_left_alone():
    c = fake({f"{BACKUPS}/router-1": make_backup(), f"{VMS}/lab-builder": vm("lab-builder", {"printableStatus": "Stopped"})},
             on_create=complete_at_once)
    p = restore_params(vm="lab-builder", new_vm=False)
    result = vm_restore.run(c, p, sleep=no_sleep)
    assert result["changed"] is True and result["complete"] is True
    assert [w.op for w in c.writes()] == ["create"] and result["diff"]["after"]["spec"]["newVM"] is False
    again = vm_restore.run(c, p)
    assert again["changed"] is False and len(c.writes()) == 1
    with pytest.raises(ValidationError) as e:
        vm_restore.run(c, dict(p, deletion_policy="delete"))
    assert e.value.option == "deletion_policy"
    assert "exists with deletionPolicy 'retain', not 'delete'" in str(e.value)


def test_a_restore_error_stops_the_wait():
    failing = {"metadata": {"name": "copy", "namespace": "default"}, "spec": vm_restore.desired(restore_params())["spec"],
               "status": {"complete": False, "conditions": [
                   {"type": "InProgress", "status": "False", "reason": "Error", "message": "volume x restore failed"}]}}
    c = fake({f"{RESTORES}/copy": failing})
    with pytest.raises(WaitFailed) as e:
        vm_restore.run(c, restore_params())
    assert str(e.value).endswith("to complete: Harvester reports: volume x restore failed")
    assert vm_restore.summary(failing) == "not picked up by Harvester yet" and vm_restore.failure(None)
