# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_setting.py: the argument spec and the input checks
through AnsibleModule with the client mocked (bad input fails before the client is built), one
patch of only ``value`` per differing setting, no phantom change for blanked S3 keys, masking."""

from __future__ import annotations

import json
from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_setting
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run


def run_module(args, client=None, check_mode=False, diff=False):
    return run(harvester_setting, args, client, check_mode=check_mode, diff=diff)


def test_argument_spec():
    spec = harvester_setting.ARGUMENT_SPEC
    assert spec["value"]["type"] == "raw" and spec["settings"]["type"] == "dict"
    assert spec["state"] == {"type": "str", "choices": ["present", "absent"], "default": "present"}
    assert spec["wait"]["default"] is True and spec["wait_timeout"]["default"] == 120


@pytest.mark.parametrize("args, message", [
    ({"name": "log-levl", "value": "debug"}, "settings.log-levl: unknown Harvester setting; did you mean log-level?"),
    ({"name": "server-version", "value": "v9"}, "is written by Harvester itself and cannot be set"),
    ({"name": "log-level", "value": "loud"}, "settings.log-level: 'loud' is not one of"),
    ({"name": "overcommit-config", "value": "[1]"}, "settings.overcommit-config: takes a mapping"),
    ({"name": "ui-source", "value": ["a"]}, "settings.ui-source: takes a plain string, not a list"),
    ({"name": "log-level"}, "value: is required with name (log-level)"),
    ({"settings": {}}, "settings: must name at least one setting"),
    ({"value": "debug"}, "one of the following is required: name, settings"),
    ({"settings": {"log-level": None}}, "settings.log-level: needs a value"),
    ({"name": "log-level", "value": "x", "state": "absent"}, "value: is not used with state=absent"),
    ({"name": "log-level", "value": "x", "settings": {"a": 1}}, "parameters are mutually exclusive: name|settings"),
    ({"name": "log-level", "value": "info", "wait_timeout": -5}, "wait_timeout: -5 must be more than 0"),
    ({"name": "log-level", "value": "info", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"], result
    client_class.assert_not_called()


def setting(name, value="", rv="1", **extra):
    return dict({"apiVersion": "harvesterhci.io/v1beta1", "kind": "Setting",
                 "metadata": {"name": name, "resourceVersion": rv}, "value": value}, **extra)


def test_one_patch_of_only_value_per_differing_setting_and_no_wait_for_unsynced():
    c = Mock(spec=Client)
    c.dry_run = False
    live = {"ui-source": setting("ui-source", "auto"), "log-level": setting("log-level", "info")}
    c.get.side_effect = lambda path, missing_ok=False: live[path.rsplit("/", 1)[1]]
    c.merge_patch.side_effect = lambda path, body, dry_run=None: setting("ui-source", body["value"], rv="2")
    kind, result, dummy = run_module({"settings": {"ui-source": "bundled", "log-level": "info"}}, client=c, diff=True)
    assert kind == "exit" and result["changed"] is True, result
    assert result["changed_settings"] == ["ui-source"]
    dry, real = c.merge_patch.call_args_list  # Harvester judges the change first, then it is written
    assert dry.args == ("/apis/harvesterhci.io/v1beta1/settings/ui-source", {"value": "bundled"})
    assert dry.kwargs == {"dry_run": True}
    assert real.args == ("/apis/harvesterhci.io/v1beta1/settings/ui-source",
                         {"metadata": {"resourceVersion": "1"}, "value": "bundled"}) and not real.kwargs
    assert result["diff"] == {"before": {"ui-source": "auto"}, "after": {"ui-source": "bundled"}}
    assert c.get.call_count == 2  # ui-source has no controller: nothing to wait for


def test_blanked_s3_keys_are_no_change_and_secrets_are_masked():
    c = Mock(spec=Client)
    c.dry_run = False
    stored = {"type": "s3", "endpoint": "https://s3", "bucketName": "b", "bucketRegion": "r",
              "accessKeyId": "", "secretAccessKey": ""}
    c.get.return_value = setting("backup-target", json.dumps(stored, separators=(",", ":")),
                                 status={"conditions": [{"type": "configured", "status": "True"}]})
    desired = dict(stored, accessKeyId="AKIAUNITTEST", secretAccessKey="unit-secret-value")
    kind, result, dummy = run_module({"name": "backup-target", "value": desired}, client=c)
    assert kind == "exit" and result["changed"] is False, result
    c.merge_patch.assert_not_called()
    assert result["settings"]["backup-target"]["configured"] == "True"


def test_check_mode_builds_a_dry_run_client_and_does_not_wait():
    c = Mock(spec=Client)
    c.dry_run = True
    c.get.return_value = setting("log-level", "info")
    c.merge_patch.return_value = setting("log-level", "debug")
    kind, result, client_class = run_module({"name": "log-level", "value": "debug"}, client=c, check_mode=True)
    assert kind == "exit" and result["changed"] is True
    assert client_class.call_args.kwargs["dry_run"] is True
    assert c.get.call_count == 1


def test_api_errors_become_one_failure_shape():
    from ansible_collections.homelab.harvester.plugins.module_utils.errors import api_error
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = setting("storage-network")
    status = {"kind": "Status", "reason": "Invalid", "code": 422, "message": "denied: Please stop all VMs"}
    c.merge_patch.side_effect = api_error(422, status, path="/apis/harvesterhci.io/v1beta1/settings/storage-network",
                                          method="PATCH")
    value = {"vlan": 100, "clusterNetwork": "mgmt", "range": "10.10.100.0/24"}
    kind, result, dummy = run_module({"name": "storage-network", "value": value}, client=c)
    assert kind == "fail" and result["refusals"][0]["status"] == 422 and "\n" not in result["msg"]
    assert result["msg"] == "settings.storage-network: denied: Please stop all VMs (nothing was changed)"
    assert c.merge_patch.call_args.kwargs == {"dry_run": True}  # refused in the dry run: nothing sent for real


def test_missing_setting_is_never_created():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = None
    kind, result, dummy = run_module({"name": "log-level", "value": "debug"}, client=c)
    assert kind == "fail" and "does not exist on this cluster" in result["msg"]
    c.create.assert_not_called()
    c.merge_patch.assert_not_called()
