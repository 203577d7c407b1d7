# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_image against a real twin process whose image controller really downloads from an
HTTP server started here, called in process as its action plugin calls it
(tests/modules/runner.py); the twin's request log (/_twin/requests) says what reached the API:
waiting until Imported, idempotence with zero writes, check mode with only dryRun=All writes,
diff, a failed import with Harvester's message, immutable fields and recreate, absent, bad input
with no request. Through ansible-playbook: module_defaults (tests/integration/test_action_group.py),
AWX credentials (test_awx_credential_env.py), both execution paths (test_parity.py), progress
printed while it waits (test_execution_paths.py)."""

from __future__ import annotations

import hashlib

import pytest

from tests.catalogue.harvester_image import BAD_INPUTS
from tests.integration.image_files import DISK, DISK_SHA512, OTHER
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

TWIN_ARGS = ["--speed", "50"]  # the image controller backs off 10 s between retries
pytestmark = [pytest.mark.twin]

MODULE = "harvester_image"
IMAGES = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get_image(twin, name):
    r = twin.session().get(twin.url(f"{IMAGES}/{name}"))
    return r.json() if r.status_code == 200 else None


def talos(files, **extra):
    return {"name": "talos-1.11", "display_name": "talos-v1.11.5", "url": f"{files}/disk.img", "checksum": DISK_SHA512,
            "description": "Talos nocloud", "labels": {"os": "talos"}, "wait_timeout": 60, **extra}


def test_create_waits_until_imported_then_unchanged_with_zero_writes(twin, files):
    (first,), reqs = play(twin, [talos(files)], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    status = first["image"]["status"]
    assert any(c["type"] == "Imported" and c["status"] == "True" for c in status["conditions"])
    assert first["percent"] == 100 and first["size"] == len(DISK) == status["size"]
    uid = first["image"]["metadata"]["uid"]
    assert first["storage_class_name"] == f"lh-{uid}" == status["storageClassName"]
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["spec"] == {"displayName": "talos-v1.11.5", "sourceType": "download",
                                              "url": f"{files}/disk.img", "checksum": DISK_SHA512,
                                              "description": "Talos nocloud"}
    assert [r["method"] for r in writes(reqs)] == ["POST"]
    live = get_image(twin, "talos-1.11")
    assert live["metadata"]["labels"] == {"harvesterhci.io/imageDisplayName": "talos-v1.11.5", "os": "talos"}
    assert live["spec"]["storageClassParameters"]  # the mutator's, not ours

    (second,), reqs = play(twin, [talos(files)])
    assert second["changed"] is False and not second.get("failed"), second
    assert writes(reqs) == []
    assert [r["method"] for r in reqs] == ["GET"]  # one read: already imported


def test_check_mode_reports_changes_and_stores_nothing(twin, files):
    (create,), reqs = play(twin, [talos(files)], check=True, diff=True)
    assert create["changed"] is True and not create.get("failed"), create
    assert writes(reqs) and stored_writes(reqs) == []
    assert get_image(twin, "talos-1.11") is None
    assert create["diff"]["after"]["spec"]["url"] == f"{files}/disk.img"

    play(twin, [talos(files)])
    (update, delete), reqs = play(twin, [talos(files, description="v2"),
                                         {"name": "talos-1.11", "state": "absent"}], check=True)
    assert update["changed"] is True and delete["changed"] is True, (update, delete)
    assert [r["method"] for r in writes(reqs)] == ["PATCH", "DELETE"] and stored_writes(reqs) == []
    assert get_image(twin, "talos-1.11")["spec"]["description"] == "Talos nocloud"


def test_diff_of_an_update_shows_only_managed_fields(twin, files):
    play(twin, [talos(files)])
    changed = talos(files, description="", labels={"os": "talos-linux", "tier": "base"})
    (result,), reqs = play(twin, [changed], diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["spec"]["description"] == "Talos nocloud" and "description" not in after["spec"]
    assert before["metadata"]["labels"] == {"os": "talos"}  # not the display name label: Harvester's
    assert after["metadata"]["labels"] == {"os": "talos-linux", "tier": "base"}
    assert "status" not in before and "storageClassParameters" not in before["spec"]
    assert [r["method"] for r in writes(reqs)] == ["PATCH"]
    live = get_image(twin, "talos-1.11")
    assert "description" not in live["spec"] and live["metadata"]["labels"]["tier"] == "base"
    (again,), reqs = play(twin, [changed])
    assert again["changed"] is False and writes(reqs) == []


def test_wrong_checksum_fails_with_harvesters_message(twin, files):
    wrong = "0" * 128
    (result,), reqs = play(twin, [talos(files, checksum=wrong)])
    assert result["failed"], result
    assert result["msg"].startswith("gave up waiting for image default/talos-1.11 to be imported: ")
    assert f"the expected checksum {wrong} doesn't match the file actual checksum {DISK_SHA512}" in result["msg"]
    assert "RetryLimitExceeded=True" in result["last_seen"]
    assert [r["method"] for r in writes(reqs)] == ["POST"]


def test_url_change_refused_then_recreated(twin, files):
    play(twin, [talos(files)])
    moved = talos(files, url=f"{files}/other.img", checksum=hashlib.sha512(OTHER).hexdigest())
    (refused, recreated), reqs = play(twin, [moved, dict(moved, recreate=True)])
    assert refused["failed"] and refused["field"] == "url"
    assert refused["msg"] == (f"url of VirtualMachineImage default/talos-1.11 cannot be changed in place "
                              f"({files}/disk.img -> {files}/other.img); set recreate=true to delete and create it again")
    assert recreated["changed"] is True and not recreated.get("failed"), recreated
    assert recreated["size"] == len(OTHER)
    assert [r["method"] for r in writes(reqs)] == ["DELETE", "POST"]
    assert get_image(twin, "talos-1.11")["spec"]["url"] == f"{files}/other.img"


def test_state_absent_waits_for_the_finalizer(twin, files):
    play(twin, [talos(files)])
    gone = {"name": "talos-1.11", "state": "absent"}
    (first, second), reqs = play(twin, [gone, gone], diff=True)
    assert first["changed"] is True and second["changed"] is False, (first, second)
    assert first["diff"]["before"]["spec"]["url"] == f"{files}/disk.img" and first["diff"]["after"] == {}
    assert [r["method"] for r in writes(reqs)] == ["DELETE"]
    assert get_image(twin, "talos-1.11") is None


def test_upload_creates_the_object_only(twin):
    (result,), reqs = play(twin, [{"name": "windows", "display_name": "Windows-2025", "source_type": "upload",
                                   "wait_timeout": 30}])
    assert result["changed"] is True and not result.get("failed"), result
    assert result["storage_class_name"].startswith("lh-")
    assert [r["method"] for r in writes(reqs)] == ["POST"]


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
