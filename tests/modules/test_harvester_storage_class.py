# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_storage_class against a real twin process, called in process as its action plugin
calls it (tests/modules/runner.py); the twin's request log says what reached the API: create,
idempotence with zero writes (the seeded chart class with its extra parameters included), check
mode with only dryRun=All writes, immutable parameters refused naming the option and recreated on
request, the default moved from harvester-longhorn (both objects checked), absent, Harvester's
refusals to delete a reserved class and a class images use, and bad input with no request at all.
Through ansible-playbook: module_defaults (tests/integration/test_action_group.py), AWX
credentials (test_awx_credential_env.py), both execution paths (test_parity.py)."""

from __future__ import annotations

import pytest

from tests.catalogue.harvester_storage_class import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_storage_class"
SCS = "/apis/storage.k8s.io/v1/storageclasses"
IMAGES = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages"
DEFAULT = "storageclass.kubernetes.io/is-default-class"
DESCRIPTION = "field.cattle.io/description"
R2 = {"name": "lab-r2", "replicas": 2, "description": "two replicas"}
LAB_DEFAULT = {"name": "lab-default", "default": True}


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get_sc(twin, name):
    r = twin.session().get(twin.url(f"{SCS}/{name}"))
    return r.json() if r.status_code == 200 else None


def default_flag(twin, name):
    return (get_sc(twin, name)["metadata"].get("annotations") or {}).get(DEFAULT)


def methods(requests):
    return [(r["method"], r["path"].rpartition("/storageclasses")[2] or "/") for r in writes(requests)]


def test_create_then_unchanged_with_zero_writes(twin):
    (first,), reqs = play(twin, [R2], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert first["previous_default"] is None
    params = {"numberOfReplicas": "2", "staleReplicaTimeout": "30", "migratable": "true"}
    assert first["diff"] == {"before": {}, "after": {
        "provisioner": "driver.longhorn.io", "parameters": params, "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate", "allowVolumeExpansion": True,
        "metadata": {"annotations": {DESCRIPTION: "two replicas"}}}}
    assert methods(reqs) == [("POST", "/")]
    live = get_sc(twin, "lab-r2")
    assert live["parameters"] == params and live["allowVolumeExpansion"] is True
    assert live["metadata"]["annotations"] == {DESCRIPTION: "two replicas"}  # not made the default

    (again,), reqs = play(twin, [R2])
    assert again["changed"] is False, again
    assert writes(reqs) == []


def test_seeded_chart_class_is_unchanged_despite_its_extra_parameters(twin):
    """harvester-longhorn carries fromBackup and baseImage (empty) and Harvester's annotations:
    none of them is ours, so describing it as three replicas, migratable, default, makes no change."""
    (result,), reqs = play(twin, [{"name": "harvester-longhorn", "replicas": 3, "migratable": True,
                                   "default": True}])
    assert result["changed"] is False and result["previous_default"] is None, result
    assert writes(reqs) == []


def test_check_mode_reports_changes_and_stores_nothing(twin):
    (create,), reqs = play(twin, [R2], check=True, diff=True)
    assert create["changed"] is True and not create.get("failed"), create
    assert create["storage_class"]["parameters"]["numberOfReplicas"] == "2"  # the server's dry-run answer
    assert writes(reqs) and stored_writes(reqs) == []
    assert get_sc(twin, "lab-r2") is None

    play(twin, [R2])
    (recreate, delete), reqs = play(twin, [dict(R2, replicas=3, recreate=True),
                                           {"name": "lab-r2", "state": "absent"}], check=True)
    assert recreate["changed"] is True and delete["changed"] is True, (recreate, delete)
    assert methods(reqs) == [("DELETE", "/lab-r2"), ("DELETE", "/lab-r2")] and stored_writes(reqs) == []
    assert get_sc(twin, "lab-r2")["parameters"]["numberOfReplicas"] == "2"


def test_mutable_fields_change_in_place(twin):
    play(twin, [R2])
    (changed,), reqs = play(twin, [dict(R2, description="2 replicas, growable no more",
                                        allow_volume_expansion=False)], diff=True)
    assert changed["changed"] is True, changed
    assert changed["diff"]["before"]["allowVolumeExpansion"] is True
    assert changed["diff"]["after"]["allowVolumeExpansion"] is False
    assert methods(reqs) == [("PATCH", "/lab-r2")]
    live = get_sc(twin, "lab-r2")
    assert live["allowVolumeExpansion"] is False
    assert live["metadata"]["annotations"][DESCRIPTION] == "2 replicas, growable no more"


def test_changed_parameter_refused_naming_the_option_then_recreated(twin):
    play(twin, [R2])
    three = dict(R2, replicas=3)
    (refused, also_refused, recreated), reqs = play(twin, [
        three, dict(R2, parameters={"diskSelector": "nvme"}), dict(three, recreate=True)])
    assert refused["failed"] and refused["field"] == "replicas"
    assert refused["msg"] == ("replicas of StorageClass lab-r2 cannot be changed in place (2 -> 3); "
                              "set recreate=true to delete and create it again")
    assert also_refused["failed"] and also_refused["field"] == "parameters.diskSelector", also_refused
    assert "(<unset> -> nvme)" in also_refused["msg"]
    assert recreated["changed"] is True and not recreated.get("failed"), recreated
    assert methods(reqs) == [("DELETE", "/lab-r2"), ("POST", "/")]
    assert get_sc(twin, "lab-r2")["parameters"]["numberOfReplicas"] == "3"


def test_default_moves_from_harvester_longhorn(twin):
    (moved,), reqs = play(twin, [LAB_DEFAULT], diff=True)
    assert moved["changed"] is True and not moved.get("failed"), moved
    assert moved["previous_default"] == "harvester-longhorn"
    # our class is created without the flag, the old default loses it, then ours gets it
    assert methods(reqs) == [("POST", "/"), ("PATCH", "/harvester-longhorn"), ("PATCH", "/lab-default")]
    assert default_flag(twin, "harvester-longhorn") == "false"
    assert default_flag(twin, "lab-default") == "true"
    ours, theirs = moved["diff"]
    assert ours["before"] == {} and ours["after"]["metadata"]["annotations"] == {DEFAULT: "true"}
    assert theirs == {"before": {"metadata": {"name": "harvester-longhorn", "annotations": {DEFAULT: "true"}}},
                      "after": {"metadata": {"name": "harvester-longhorn", "annotations": {DEFAULT: "false"}}}}
    assert moved["storage_class"]["metadata"]["annotations"][DEFAULT] == "true"

    (again,), reqs = play(twin, [LAB_DEFAULT])
    assert again["changed"] is False and again["previous_default"] is None, again
    assert writes(reqs) == []

    # and back: the module makes the reserved chart class the default again
    (back,), reqs = play(twin, [{"name": "harvester-longhorn", "default": True}])
    assert back["changed"] is True and back["previous_default"] == "lab-default", back
    assert methods(reqs) == [("PATCH", "/lab-default"), ("PATCH", "/harvester-longhorn")]
    assert (default_flag(twin, "lab-default"), default_flag(twin, "harvester-longhorn")) == ("false", "true")


def test_default_move_in_check_mode_stores_nothing(twin):
    (predicted,), reqs = play(twin, [LAB_DEFAULT], check=True, diff=True)
    assert predicted["changed"] is True and not predicted.get("failed"), predicted
    assert predicted["previous_default"] == "harvester-longhorn"
    assert predicted["storage_class"]["metadata"]["annotations"][DEFAULT] == "true"  # predicted, not sent
    assert len(predicted["diff"]) == 2
    assert methods(reqs) == [("POST", "/"), ("PATCH", "/harvester-longhorn")] and stored_writes(reqs) == []
    assert default_flag(twin, "harvester-longhorn") == "true" and get_sc(twin, "lab-default") is None


def test_default_false_demotes_only_this_class(twin):
    play(twin, [LAB_DEFAULT])
    (demoted,), reqs = play(twin, [dict(LAB_DEFAULT, default=False)])
    assert demoted["changed"] is True and demoted["previous_default"] is None, demoted
    assert methods(reqs) == [("PATCH", "/lab-default")]
    assert (default_flag(twin, "lab-default"), default_flag(twin, "harvester-longhorn")) == ("false", "false")


def test_state_absent_twice(twin):
    play(twin, [R2])
    gone = {"name": "lab-r2", "state": "absent"}
    (first, second), reqs = play(twin, [gone, gone], diff=True)
    assert first["changed"] is True and second["changed"] is False
    assert first["diff"]["before"]["parameters"]["numberOfReplicas"] == "2" and first["diff"]["after"] == {}
    assert methods(reqs) == [("DELETE", "/lab-r2")]
    assert get_sc(twin, "lab-r2") is None


def test_harvester_refuses_deleting_the_reserved_class_and_one_images_use(twin):
    play(twin, [R2])
    image = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage", "metadata": {"name": "talos"},
             "spec": {"displayName": "talos", "sourceType": "upload", "targetStorageClassName": "lab-r2"}}
    assert twin.session().post(twin.url(IMAGES), json=image).status_code == 201
    (reserved, used), reqs = play(twin, [{"name": "harvester-longhorn", "state": "absent"},
                                         {"name": "lab-r2", "state": "absent"}])
    assert reserved["failed"] and reserved["status"] == 422
    assert reserved["msg"] == ("DELETE storageclasses/harvester-longhorn: 422 Invalid: "
                               "storage class harvester-longhorn is reserved by Harvester and can't be deleted")
    assert used["failed"] and used["msg"] == ("DELETE storageclasses/lab-r2: 422 Invalid: "
                                              "storage class lab-r2 is used by virtual machine images: [talos]")
    assert methods(reqs) == [("DELETE", "/harvester-longhorn"), ("DELETE", "/lab-r2")]
    assert get_sc(twin, "harvester-longhorn") is not None and get_sc(twin, "lab-r2") is not None


def test_harvester_refuses_an_encrypted_class_without_its_secret(twin):
    (result,), reqs = play(twin, [{"name": "sealed", "parameters": {"encrypted": True}}])
    assert result["failed"] and result["status"] == 422
    assert result["msg"].startswith("POST storageclasses: 422 Invalid: spec.parameters: storage class must contain "
                                    "csi.storage.k8s.io/provisioner-secret-name"), result
    assert methods(reqs) == [("POST", "/")] and get_sc(twin, "sealed") is None


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
