# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_vm_backup.py and harvester_vm_backup_info.py: the
argument specs and input checks through AnsibleModule (``patch_module_args``, ansible-core 2.19)
with the client mocked; bad input fails before the client is even built, check mode builds a
dry-run client, the result keys."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_vm_backup, harvester_vm_backup_info
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

BACKUPS = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinebackups"


@pytest.mark.parametrize("args, message", [
    ({"name": "router-1"}, "vm: is required when state is present"),
    ({"vm": "lab-router"}, "missing required arguments: name"),
    ({"name": "router-1", "vm": "lab-router", "type": "full"}, "value of type must be one of: backup, snapshot, got: full"),
    ({"name": "router-1", "vm": "Lab"}, "vm: 'Lab' is not a valid name"),
    ({"name": "router-1", "state": "absent", "labels": {"a": "b"}}, "labels: only with state=present"),
    ({"name": "router-1", "vm": "lab-router", "labels": {"a": "-"}}, "labels.a: '-' is not a valid label value"),
    ({"name": "router-1", "vm": "lab-router", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_backup_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run(harvester_vm_backup, args)
    assert kind == "fail" and message in result["msg"], result
    client_class.assert_not_called()


def snapshot(body):
    return dict(body, metadata=dict(body["metadata"], resourceVersion="1"),
                status={"readyToUse": True, "conditions": [{"type": "Ready", "status": "True"}]})


def test_a_snapshot_is_created_and_returned():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = None
    c.create.side_effect = lambda path, body: snapshot(body)
    kind, result, client_class = run(harvester_vm_backup, {"name": "snap", "vm": "lab-dns", "type": "snapshot"},
                                     client=c, diff=True)
    assert kind == "exit" and result["changed"] is True and result["ready_to_use"] is True, result
    assert result["backup"]["spec"]["type"] == "snapshot" and result["diff"]["before"] == {}
    [(path, body)] = [call.args for call in c.create.call_args_list]
    assert path == BACKUPS and body["spec"]["source"]["name"] == "lab-dns"
    assert c.get.call_count == 1  # no setting read for a snapshot, ready in the create's answer
    assert client_class.call_args.kwargs["dry_run"] is False


def test_check_mode_builds_a_dry_run_client_and_does_not_wait():
    c = Mock(spec=Client)
    c.dry_run = True
    c.get.side_effect = lambda path, missing_ok=False: None if path.startswith(BACKUPS) else {"value": '{"type":"nfs"}'}
    c.create.side_effect = lambda path, body: body
    kind, result, client_class = run(harvester_vm_backup, {"name": "b", "vm": "lab-dns"}, client=c, check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["ready_to_use"] is False, result
    assert client_class.call_args.kwargs["dry_run"] is True
    assert c.get.call_count == 2  # the backup and the backup-target setting; no polling


@pytest.mark.parametrize("args, message", [
    ({"keep": -2}, "keep: -2 must be 0 or more"),
    ({"label_selector": "a in b"}, "label_selector: 'a in b' is not a label selector requirement"),
    ({"vm": "A"}, "vm: 'A' is not a valid name"),
])
def test_info_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run(harvester_vm_backup_info, args)
    assert kind == "fail" and message in result["msg"], result
    client_class.assert_not_called()


def test_info_lists_with_one_request():
    c = Mock(spec=Client)
    c.list.return_value = []
    kind, result, dummy = run(harvester_vm_backup_info, {"label_selector": "set=nightly", "keep": 2}, client=c)
    assert kind == "exit" and result == {"changed": False, "backups": [], "by_vm": {}, "expired": [], "warnings": []}
    c.list.assert_called_once_with(BACKUPS, label_selector="set=nightly")
