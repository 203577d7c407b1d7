# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/longhorn_setting.py with the client mocked: the argument spec,
bad input refused before the client is built, natural values against the stored per-engine
JSON, and a danger-zone change with attached volumes reported pending, not failed."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import longhorn_setting
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

SETTINGS = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings"


def run_module(args, client=None, check_mode=False, diff=False):
    return run(longhorn_setting, args, client, check_mode=check_mode, diff=diff)


def test_argument_spec():
    spec = longhorn_setting.ARGUMENT_SPEC
    assert spec["value"]["type"] == "raw" and spec["settings"]["type"] == "dict"
    assert spec["wait_applied"] == {"type": "bool", "default": True}
    assert "state" not in spec  # Longhorn settings are never created or deleted


@pytest.mark.parametrize("args, message", [
    ({"name": "default-replica-cnt", "value": 2}, "unknown Longhorn setting; did you mean default-replica-count"),
    ({"name": "storage-network", "value": "harvester-system/storagenetwork-x"}, "set the Harvester setting storage-network instead"),
    ({"name": "guaranteed-instance-manager-cpu", "value": 20}, "set the Harvester setting instance-manager-resources"),
    ({"name": "backupstore-poll-interval", "value": 300}, "set the Harvester setting backup-target (field refreshIntervalInSeconds)"),
    ({"name": "default-replica-count", "value": {"v1": 2, "v3": 2}}, "data engine v3 is not supported"),
    ({"name": "snapshot-max-count", "value": True}, "settings.snapshot-max-count: True is not an integer"),
    ({"name": "taint-toleration", "value": "node.kubernetes.io/x:NoSchedule"}, "must not use the kubernetes.io prefix"),
    ({"name": "log-level"}, "value: is required with name (log-level)"),
    ({"value": 1}, "one of the following is required: name, settings"),
    ({"name": "log-level", "value": "Info", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"], result
    client_class.assert_not_called()


def lh(name, value, applied=True, rv="1"):
    return {"apiVersion": "longhorn.io/v1beta2", "kind": "Setting", "value": value, "status": {"applied": applied},
            "metadata": {"name": name, "namespace": "longhorn-system", "resourceVersion": rv}}


def test_natural_value_equals_the_stored_per_engine_json():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = lh("default-replica-count", '{"v1":"2","v2":"2"}')
    kind, result, dummy = run_module({"name": "default-replica-count", "value": 2}, client=c)
    assert kind == "exit" and result["changed"] is False, result
    c.merge_patch.assert_not_called()


def test_change_writes_the_normalised_form_and_waits_for_applied():
    c = Mock(spec=Client)
    c.dry_run = False
    reads = iter([lh("default-replica-count", '{"v1":"3","v2":"3"}'), lh("default-replica-count", '{"v1":"2","v2":"2"}')])
    c.get.side_effect = lambda path, missing_ok=False: next(reads)
    c.merge_patch.return_value = lh("default-replica-count", '{"v1":"2","v2":"2"}', applied=False, rv="2")
    kind, result, dummy = run_module({"name": "default-replica-count", "value": "2"}, client=c, diff=True)
    assert kind == "exit" and result["changed"] is True and result["pending"] == {}, result
    assert c.merge_patch.call_args.args == (f"{SETTINGS}/default-replica-count",
                                            {"metadata": {"resourceVersion": "1"}, "value": '{"v1":"2","v2":"2"}'})
    assert result["settings"]["default-replica-count"]["applied"] is True  # read again until applied
    assert result["diff"]["after"] == {"default-replica-count": {"v1": "2", "v2": "2"}}


def test_danger_zone_with_attached_volumes_is_pending_not_failed():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = lh("taint-toleration", "")
    c.merge_patch.return_value = lh("taint-toleration", "nodetype=storage:NoSchedule", rv="2")
    c.list.return_value = [{"metadata": {"name": "pvc-1"}, "status": {"state": "attached"}},
                           {"metadata": {"name": "pvc-2"}, "status": {"state": "detached"}}]
    kind, result, dummy = run_module({"name": "taint-toleration", "value": "nodetype=storage:NoSchedule"}, client=c)
    assert kind == "exit" and result["changed"] is True, result
    assert result["pending"]["taint-toleration"].startswith("pending until all Longhorn volumes are detached")
    assert result["pending"]["taint-toleration"].endswith("attached now: pvc-1")
    assert any(w.startswith("settings.taint-toleration: changed, pending") for w in result["warnings"])
    assert c.list.call_args.args == ("/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes",)
