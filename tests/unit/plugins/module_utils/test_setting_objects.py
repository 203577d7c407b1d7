# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/setting_objects.py: the request parsing, when Harvester has
configured a value (hash annotation, configured condition, stale conditions), secrets to mask,
and the Longhorn wait (pending vs timeout)."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import kinds
from ansible_collections.homelab.harvester.plugins.module_utils import setting_objects as so
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.module_utils.errors import Conflict, Invalid, ServerError, WaitTimeout
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError


def obj(value, rv="2", annotations=None, cond=None):
    o = {"metadata": {"name": "x", "resourceVersion": rv, "annotations": annotations or {}}, "value": value}
    if cond:
        o["status"] = {"conditions": [dict({"type": "configured"}, **cond)]}
    return o


def test_requested_forms():
    assert so.requested({"name": "a", "value": 1, "wait_timeout": 5}) == {"a": 1}
    assert so.requested({"settings": {"a": 1, "b": "x"}, "wait_timeout": 5}) == {"a": 1, "b": "x"}
    assert so.requested({"settings": {"a": None}, "wait_timeout": 5}, value_required=False) == {"a": None}
    with pytest.raises(ValidationError, match="value: is required with name"):
        so.requested({"name": "a", "value": None, "wait_timeout": 5})
    with pytest.raises(ValidationError, match="settings.b: needs a value"):
        so.requested({"settings": {"a": 1, "b": None}, "wait_timeout": 5})


def test_synced_setting_done_when_the_hash_matches():
    value = "debug"
    assert so.harvester_state("log-level", obj(value), "1") == (False, None)
    done = obj(value, annotations={so.HASH: so.sha224(value)}, cond={"status": "True"})
    assert so.harvester_state("log-level", done, "1") == (True, None)
    patched = obj(value, annotations={so.HASH: so.sha224(value + "p"), so.UPGRADE_PATCHED: "p"})
    assert so.harvester_state("log-level", patched, "1") == (True, None)


def test_a_stale_error_is_not_believed_until_the_controller_writes():
    failing = obj("x", rv="1", cond={"status": "False", "message": "old failure"})
    assert so.harvester_state("additional-ca", failing, "1") == (False, None)
    assert so.harvester_state("additional-ca", dict(failing, metadata=dict(failing["metadata"], resourceVersion="3")),
                              "1") == (False, "old failure")


def test_reset_of_a_never_configured_setting_is_done():
    assert so.harvester_state("log-level", obj(""), "1") == (True, None)


def test_backup_target_waits_for_the_keys_to_be_blanked():
    with_keys = obj('{"type":"s3","accessKeyId":"AK","secretAccessKey":"SK"}', cond={"status": "True"})
    assert so.harvester_state("backup-target", with_keys, "1") == (False, None)
    blanked = obj('{"type":"s3","accessKeyId":"","secretAccessKey":""}', cond={"status": "True"})
    assert so.harvester_state("backup-target", blanked, "1") == (True, None)
    assert so.harvester_state("backup-target", obj("", cond={"status": "False"}), "1") == (True, None)


def test_storage_network_waits_for_completed():
    value = '{"vlan":100}'
    going = obj(value, annotations={so.SN_HASH: so.sha1(value)}, cond={"status": "False", "reason": so.IN_PROGRESS,
                                                                       "message": "Stopping Pods"})
    assert so.harvester_state("storage-network", going, "1") == (False, None)
    done = obj(value, annotations={so.SN_HASH: so.sha1(value)}, cond={"status": "True", "reason": "Completed"})
    assert so.harvester_state("storage-network", done, "1") == (True, None)


def test_secrets_to_mask():
    assert so.harvester_secrets("backup-target", {"type": "s3", "accessKeyId": "AK", "secretAccessKey": "SK"}) == ["AK", "SK"]
    assert so.harvester_secrets("backup-target", '{"accessKeyId":"","secretAccessKey":"SK"}') == ["SK"]
    registry = {"Configs": {"r.example": {"Auth": {"Username": "u", "Password": "pw"}}}}
    assert so.harvester_secrets("containerd-registry", registry) == ["pw"]
    assert so.harvester_secrets("http-proxy", {"httpProxy": "http://u:pp@proxy:3128"}) == ["pp"]
    assert so.harvester_secrets("log-level", "debug") == []
    assert so.harvester_secrets("backup-target", "{not json") == []


def test_views():
    assert so.harvester_view("overcommit-config", '{"cpu":1000}') == {"cpu": 1000}
    assert so.harvester_view("backup-target", '{"secretAccessKey":"SK"}') == {"secretAccessKey": "********"}
    assert so.harvester_view("ui-source", "auto") == "auto"
    assert so.longhorn_view('{"v1":"2","v2":"2"}') == {"v1": "2", "v2": "2"}
    assert so.longhorn_view("[not a dict") == "[not a dict"


def lh(name, applied):
    return {"metadata": {"name": name, "resourceVersion": "1"}, "value": "v", "status": {"applied": applied}}


def test_longhorn_wait_pending_and_timeout():
    clock = iter(range(0, 1000, 10))
    c = Mock(spec=Client)
    c.get.return_value = lh("v1-data-engine", False)
    outcome = so.Outcome("v1-data-engine", lh("v1-data-engine", True), lh("v1-data-engine", False), True, "false")
    from ansible_collections.homelab.harvester.plugins.module_utils import wait
    original = wait.until

    def fast_until(*args, **kwargs):
        return original(*args, clock=lambda: next(clock), **kwargs)
    so_until = Mock(side_effect=fast_until)
    wait.until, saved = so_until, wait.until
    try:
        pending = so.longhorn_wait(c, kinds.LONGHORN_SETTING, kinds.LONGHORN_VOLUME, [outcome], 5, sleep=lambda s: None)
        assert pending == {"v1-data-engine": "pending until the instance managers of the affected data engine run no volumes"}
        outcome = so.Outcome("log-level", None, lh("log-level", False), True, "Debug")
        c.get.return_value = lh("log-level", False)
        with pytest.raises(WaitTimeout, match="waiting for Longhorn to apply setting log-level; last seen: applied=false"):
            so.longhorn_wait(c, kinds.LONGHORN_SETTING, kinds.LONGHORN_VOLUME, [outcome], 5, sleep=lambda s: None)
    finally:
        wait.until = saved


def test_a_setting_patch_stored_with_its_answer_lost_counts_as_changed():
    c = Mock(spec=Client)
    c.get.side_effect = [obj("info", rv="2"), obj("debug", rv="3")]
    lost = Conflict(409, "Conflict", "the object has been modified")
    lost.maybe_stored = True
    c.merge_patch.side_effect = lost
    outcome = so.apply_value(c, kinds.HARVESTER_SETTING, None, "log-level", "debug", lambda stored: stored == "debug")
    assert outcome.changed and outcome.before["value"] == "info" and outcome.after["value"] == "debug"
    assert c.merge_patch.call_count == 1


def _denied(message, field="value"):
    return Invalid(422, "Invalid", f'admission webhook "validator.harvesterhci.io" denied the request: {message}',
                   causes=[{"field": field, "reason": "FieldValueInvalid", "message": message}],
                   path="/apis/harvesterhci.io/v1beta1/settings/x", method="PATCH")


def test_every_change_is_dry_run_first_and_all_refusals_reported_before_any_write():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.side_effect = lambda path, missing_ok=False: obj("", rv="2")
    refusals = {"overcommit-config": _denied("Cannot undercommit. Should be greater than or equal to 100 but got 50", "cpu"),
                "max-hotplug-ratio": _denied("value: 50 must be in range [1 .. 20]")}

    def patch(path, body, dry_run=None):
        name = path.rsplit("/", 1)[1]
        assert dry_run is True  # nothing but dry runs before every refusal is known
        if name in refusals:
            raise refusals[name]
        return dict(obj(body["value"]), metadata={"name": name})
    c.merge_patch.side_effect = patch
    wires = {"log-level": "debug", "overcommit-config": '{"cpu":50}', "max-hotplug-ratio": "50"}
    with pytest.raises(so.Refused) as caught:
        so.apply_all(c, kinds.HARVESTER_SETTING, None, wires, lambda n, stored, wire: stored == wire)
    assert caught.value.problems == [
        "settings.overcommit-config.cpu: Cannot undercommit. Should be greater than or equal to 100 but got 50",
        "settings.max-hotplug-ratio: value: 50 must be in range [1 .. 20]"]
    assert str(caught.value).endswith("(nothing was changed)")
    assert caught.value.as_dict()["changed"] is False and c.merge_patch.call_count == 3


def test_a_failure_that_is_no_refusal_stops_at_once():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.side_effect = lambda path, missing_ok=False: obj("", rv="2")
    c.merge_patch.side_effect = ServerError(503, "ServiceUnavailable", "etcd leader changed", method="PATCH", path="/x")
    with pytest.raises(ServerError):
        so.apply_all(c, kinds.HARVESTER_SETTING, None, {"log-level": "debug", "ui-source": "bundled"},
                     lambda n, stored, wire: stored == wire)
    assert c.merge_patch.call_count == 1


def test_check_mode_outcomes_are_the_dry_run_answers():
    c = Mock(spec=Client)
    c.dry_run = True
    c.get.side_effect = lambda path, missing_ok=False: obj("info", rv="2")
    c.merge_patch.side_effect = lambda path, body, dry_run=None: obj(body["value"], rv="2")
    (outcome,) = so.apply_all(c, kinds.HARVESTER_SETTING, None, {"log-level": "debug"}, lambda n, s, w: s == w)
    assert outcome.changed and outcome.after["value"] == "debug" and c.merge_patch.call_count == 1
