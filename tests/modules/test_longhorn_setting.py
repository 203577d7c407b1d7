# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""longhorn_setting against a real twin process, called in process as its action plugin calls it
(tests/modules/runner.py); the twin's request log says what reached the API: natural values
normalised like Longhorn's mutator (no phantom diff against the stored per-engine JSON), first
run changed, second run with zero writes, check mode with only dryRun=All writes, diff, many
settings in one task, waiting for status.applied, a danger-zone change reported pending (not
failed) while volumes are attached, and bad input refused with no request. Through
ansible-playbook: module_defaults (tests/integration/test_action_group.py), AWX credentials
(test_awx_credential_env.py), both execution paths (test_parity.py)."""

from __future__ import annotations

import pytest

from tests.catalogue.longhorn_setting import BAD_INPUTS, REFUSALS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "longhorn_setting"
SETTINGS = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get_setting(twin, name):
    r = twin.session().get(twin.url(f"{SETTINGS}/{name}"))
    r.raise_for_status()
    return r.json()


def test_natural_value_against_per_engine_json(twin):
    (first,), reqs = play(twin, [{"name": "default-replica-count", "value": 2}], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert first["diff"] == {"before": {"default-replica-count": {"v1": "3", "v2": "3"}},
                             "after": {"default-replica-count": {"v1": "2", "v2": "2"}}}
    assert first["settings"]["default-replica-count"] == {"value": '{"v1":"2","v2":"2"}', "applied": True, "changed": True}
    assert len(writes(reqs)) == 2 and len(stored_writes(reqs)) == 1  # the dry run, then the write
    assert get_setting(twin, "default-replica-count")["value"] == '{"v1":"2","v2":"2"}'

    # "2", 2 and {v1: 2, v2: "2"} are the stored {"v1":"2","v2":"2"}: no change, one read each, no write
    same = [{"name": "default-replica-count", "value": "2"}, {"name": "default-replica-count", "value": 2},
            {"name": "default-replica-count", "value": {"v1": 2, "v2": "2"}}]
    (a, b, c), reqs = play(twin, same)
    assert [a["changed"], b["changed"], c["changed"]] == [False, False, False], (a, b, c)
    assert writes(reqs) == [] and [r["method"] for r in reqs] == ["GET"] * 3


MANY = {"settings": {"replica-auto-balance": "best-effort", "storage-minimal-available-percentage": 15,
                     "upgrade-checker": False, "log-level": "Debug"}}


def test_many_settings_in_one_task_then_unchanged(twin):
    (first,), reqs = play(twin, [MANY], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert sorted(first["changed_settings"]) == sorted(MANY["settings"])
    assert first["diff"]["after"] == {"replica-auto-balance": "best-effort", "storage-minimal-available-percentage": "15",
                                      "upgrade-checker": "false", "log-level": "Debug"}
    assert len(stored_writes(reqs)) == 4 and first["pending"] == {}
    assert all(s["applied"] for s in first["settings"].values())
    assert get_setting(twin, "upgrade-checker")["value"] == "false"
    (again,), reqs = play(twin, [MANY])
    assert again["changed"] is False and writes(reqs) == [] and len(reqs) == 4


def test_check_mode_reports_changes_and_stores_nothing(twin):
    (result,), reqs = play(twin, [MANY], check=True, diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert len(writes(reqs)) == 4 and stored_writes(reqs) == []
    assert get_setting(twin, "log-level")["value"] == "Info"


def test_danger_zone_change_is_reported_pending_not_failed(twin):
    task = {"name": "taint-toleration", "value": "nodetype=storage:NoSchedule"}
    (first,), reqs = play(twin, [task])
    assert first["changed"] is True and not first.get("failed"), first
    assert "pending until all Longhorn volumes are detached" in first["pending"]["taint-toleration"]
    assert any("taint-toleration: changed, pending" in w for w in first.get("warnings", [])), first
    assert get_setting(twin, "taint-toleration")["value"] == "nodetype=storage:NoSchedule"
    (second,), reqs = play(twin, [task])
    assert second["changed"] is False and writes(reqs) == []


def test_values_longhorn_refuses_are_judged_by_its_webhooks_and_never_stored(twin):
    """The catalogue's REFUSALS: each sent once with dryRun=All, refused in Longhorn's words naming
    the setting, no stored write."""
    results, reqs = play(twin, [args for args, message in REFUSALS])
    for (args, message), result in zip(REFUSALS, results, strict=True):
        assert result["failed"] and result["msg"] == f"{message} (nothing was changed)", (args, result)
    assert len(writes(reqs)) == len(REFUSALS) and stored_writes(reqs) == []


def test_a_batch_is_judged_whole_before_any_write(twin):
    """Longhorn refuses one setting of three: the failure names it, and the others are not written
    either (every change was dry-run before the first write)."""
    batch = {"settings": {"log-level": "Debug", "default-longhorn-static-storage-class": "no-such-class",
                          "upgrade-checker": False}}
    (result,), reqs = play(twin, [batch])
    assert result["failed"] and result["changed"] is False, result
    assert [r["setting"] for r in result["refusals"]] == ["default-longhorn-static-storage-class"]
    assert len(writes(reqs)) == 3 and stored_writes(reqs) == []
    assert get_setting(twin, "log-level")["value"] == "Info" and get_setting(twin, "upgrade-checker")["value"] == "true"


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)


def test_webhook_refusal_is_one_clean_line_also_in_check_mode(twin):
    task = {"name": "default-longhorn-static-storage-class", "value": "no-such-class"}
    for check in (False, True):
        (result,), reqs = play(twin, [task], check=check)
        assert result["failed"] and result["refusals"][0]["status"] == 422 and "\n" not in result["msg"], result
        assert result["msg"].startswith("settings.default-longhorn-static-storage-class: failed to set the setting "
                                        "default-longhorn-static-storage-class with invalid value no-such-class"), result
        assert "cannot use a storage class no-such-class that does not exist" in result["msg"]
        # one dry run, not retried, nothing stored
        assert [r["method"] for r in writes(reqs)] == ["PATCH"] and stored_writes(reqs) == []
    assert get_setting(twin, "default-longhorn-static-storage-class")["value"] == "longhorn-static"
