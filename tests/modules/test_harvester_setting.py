# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_setting against a real twin process, called in process as its action plugin calls it
(tests/modules/runner.py); the twin's request log (/_twin/requests) says what reached the API:
first run changed, second run with zero writes, check mode with only dryRun=All writes, diff of
values with secrets masked, many settings in one task, absent resets to the default, backup-target
S3 keys blanked by the controller and still no phantom change, bad input refused with no request,
and the storage-network webhook refusal as one clean line. Through ansible-playbook: the S3 keys
kept out of the printed output (tests/integration/test_harvester_setting_playbook.py),
module_defaults (test_action_group.py), AWX credentials (test_awx_credential_env.py), both
execution paths (test_parity.py)."""

from __future__ import annotations

import json

import pytest

from tests.catalogue.harvester_setting import BAD_INPUTS, REFUSALS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_setting"
SETTINGS = "/apis/harvesterhci.io/v1beta1/settings"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get_setting(twin, name):
    r = twin.session().get(twin.url(f"{SETTINGS}/{name}"))
    r.raise_for_status()
    return r.json()


OVERCOMMIT = {"cpu": 1600, "memory": 150, "storage": 200}
MANY = {"settings": {"overcommit-config": OVERCOMMIT, "log-level": "debug", "upgrade-checker-enabled": False}}


def test_set_then_unchanged_with_zero_writes(twin):
    (first,), reqs = play(twin, [{"name": "overcommit-config", "value": OVERCOMMIT}], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert first["changed_settings"] == ["overcommit-config"]
    assert first["settings"]["overcommit-config"]["configured"] == "True"  # waited for the controller
    assert first["diff"] == {"before": {"overcommit-config": ""}, "after": {"overcommit-config": OVERCOMMIT}}
    # judged by Harvester's webhook first (dryRun=All), then written
    assert [(r["method"], "dryRun=All" in (r.get("query") or "")) for r in writes(reqs)] == [("PATCH", True), ("PATCH", False)]
    live = get_setting(twin, "overcommit-config")
    assert live["value"] == '{"cpu":1600,"memory":150,"storage":200}'  # sorted keys, no spaces

    # the same value in another key order, and as JSON text with spaces: unchanged, one read, no write
    (second, third), reqs = play(twin, [
        {"name": "overcommit-config", "value": {"storage": 200, "memory": 150, "cpu": 1600}},
        {"name": "overcommit-config", "value": '{"memory": 150, "cpu": 1600, "storage": 200}'}])
    assert second["changed"] is False and third["changed"] is False, (second, third)
    assert writes(reqs) == [] and [r["method"] for r in reqs] == ["GET", "GET"]


def test_many_settings_in_one_task(twin):
    (first,), reqs = play(twin, [MANY], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert sorted(first["changed_settings"]) == ["log-level", "overcommit-config", "upgrade-checker-enabled"]
    assert first["diff"]["after"] == {"overcommit-config": OVERCOMMIT, "log-level": "debug", "upgrade-checker-enabled": "false"}
    assert len(stored_writes(reqs)) == 3
    assert get_setting(twin, "upgrade-checker-enabled")["value"] == "false"
    assert get_setting(twin, "log-level")["value"] == "debug"
    (again,), reqs = play(twin, [MANY])
    assert again["changed"] is False and again["changed_settings"] == [] and writes(reqs) == []
    assert len(reqs) == 3  # one read per setting


def test_check_mode_reports_changes_and_stores_nothing(twin):
    (result,), reqs = play(twin, [MANY], check=True, diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert len(writes(reqs)) == 3 and stored_writes(reqs) == []
    assert result["diff"]["after"]["log-level"] == "debug"
    assert get_setting(twin, "log-level").get("value", "") == ""


def test_absent_resets_to_the_default(twin):
    play(twin, [MANY])
    gone = {"settings": {"log-level": None, "overcommit-config": None}, "state": "absent"}
    (first, second), reqs = play(twin, [gone, gone], diff=True)
    assert first["changed"] is True and second["changed"] is False, (first, second)
    assert first["diff"]["before"]["log-level"] == "debug" and first["diff"]["after"] == {"log-level": "", "overcommit-config": ""}
    assert len(stored_writes(reqs)) == 2 and all(r["method"] == "PATCH" for r in writes(reqs))  # never DELETE
    live = get_setting(twin, "overcommit-config")
    assert live.get("value", "") == "" and live["default"] == '{"cpu":1000,"memory":150,"storage":100}'
    assert first["settings"]["log-level"]["default"] == "info"


S3 = {"type": "s3", "endpoint": "https://s3.lab.example:9000", "bucketName": "harvester-backups",
      "bucketRegion": "us-east-1", "accessKeyId": "AKIATWINACCESSKEY01", "secretAccessKey": "tw1n-s3cr3t-k3y-value"}


def test_backup_target_s3_keys_no_phantom_diff_and_masked(twin):
    (first,), reqs = play(twin, [{"name": "backup-target", "value": S3}], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    text = json.dumps(first)
    assert S3["secretAccessKey"] not in text and S3["accessKeyId"] not in text
    assert first["diff"]["after"]["backup-target"]["secretAccessKey"] == "********"
    live = get_setting(twin, "backup-target")
    stored = json.loads(live["value"])
    assert stored["secretAccessKey"] == "" and stored["accessKeyId"] == ""  # the controller blanked them
    assert first["settings"]["backup-target"]["configured"] == "True"  # waited for the blanking

    (second,), reqs = play(twin, [{"name": "backup-target", "value": S3}])
    assert second["changed"] is False, second
    assert writes(reqs) == []


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)


def test_values_harvester_refuses_are_judged_by_its_webhook_and_never_stored(twin):
    """The catalogue's REFUSALS: each sent once with dryRun=All, refused in Harvester's words naming
    the setting (and field), no stored write."""
    results, reqs = play(twin, [args for args, message in REFUSALS])
    for (args, message), result in zip(REFUSALS, results, strict=True):
        assert result["failed"] and result["msg"] == f"{message} (nothing was changed)", (args, result)
    assert len(writes(reqs)) == len(REFUSALS) and stored_writes(reqs) == []


def test_storage_network_while_vms_run_is_one_clean_line(twin):
    value = {"vlan": 100, "clusterNetwork": "mgmt", "range": "10.10.100.0/24"}
    (result,), reqs = play(twin, [{"name": "storage-network", "value": value}])
    assert result["failed"] and "\n" not in result["msg"], result
    assert result["msg"] == (
        "settings.storage-network: Please stop all VMs before configuring the storage-network setting (nothing was changed)")
    assert result["refusals"] == [{
        "setting": "storage-network", "field": "settings.storage-network", "status": 422, "reason": "Invalid",
        "message": "Please stop all VMs before configuring the storage-network setting",
        "api_path": "/apis/harvesterhci.io/v1beta1/settings/storage-network"}]
    assert [r["method"] for r in writes(reqs)] == ["PATCH"] and stored_writes(reqs) == []  # the dry run only
    assert get_setting(twin, "storage-network").get("value", "") == ""


def test_a_batch_is_judged_whole_before_any_write_and_every_refusal_reported(twin):
    """Harvester refuses two of three settings: both refusals in one failure, and the good one is
    not written either (every change was dry-run before the first write)."""
    batch = {"settings": {
        "log-level": "debug",
        "storage-network": {"vlan": 100, "clusterNetwork": "mgmt", "range": "10.10.100.0/24"},
        "http-proxy": {"httpProxy": "http://proxy.lab.example:3128", "noProxy": "lab.example"}}}
    for check in (False, True):
        (result,), reqs = play(twin, [batch], check=check)
        assert result["failed"] and result["changed"] is False, result
        assert [r["setting"] for r in result["refusals"]] == ["storage-network", "http-proxy"]
        assert result["msg"].startswith("settings.storage-network: Please stop all VMs before configuring the "
                                        "storage-network setting; settings.http-proxy: noProxy should contain the "
                                        "node's IP addresses or CIDR."), result["msg"]
        assert result["msg"].endswith("(nothing was changed)")
        assert len(writes(reqs)) == 3 and stored_writes(reqs) == []
    assert get_setting(twin, "log-level").get("value", "") == ""
