# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_vm_restore.py: the argument spec (the ``target``
alias, the retain default) and the input checks through AnsibleModule with the client mocked;
bad input fails before the client is built, a refusal before any write names the option."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_vm_restore
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

RESTORES = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinerestores"
BACKUP = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachinebackups/router-1"


@pytest.mark.parametrize("args, message", [
    ({"name": "r", "backup": "router-1"}, "missing required arguments: vm"),
    ({"name": "r", "vm": "copy"}, "missing required arguments: backup"),
    ({"name": "r", "backup": "router-1", "vm": "copy", "deletion_policy": "keep"},
     "value of deletion_policy must be one of: retain, delete, got: keep"),
    ({"name": "r", "backup": "router-1", "vm": "copy", "keep_mac_address": True}, "keep_mac_address: only with new_vm=true"),
    ({"name": "r", "backup": "router_1", "vm": "copy"}, "backup: 'router_1' is not a valid name"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run(harvester_vm_restore, args)
    assert kind == "fail" and message in result["msg"], result
    client_class.assert_not_called()


def test_a_new_vm_restore_is_created_with_the_retain_default_through_the_target_alias():
    ready = {"metadata": {"name": "router-1"}, "spec": {"type": "backup"}, "status": {"readyToUse": True}}
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.side_effect = lambda path, missing_ok=False: ready if path == BACKUP else None
    c.create.side_effect = lambda path, body: dict(body, status={"complete": True})
    kind, result, dummy = run(harvester_vm_restore, {"name": "copy", "backup": "router-1", "target": "copy",
                                                     "new_vm": True}, client=c)
    assert kind == "exit" and result["changed"] is True and result["complete"] is True, result
    [(path, body)] = [call.args for call in c.create.call_args_list]
    assert path == RESTORES and body["spec"]["deletionPolicy"] == "retain" and body["spec"]["target"]["name"] == "copy"


def test_a_running_vm_is_refused_naming_the_option():
    ready = {"metadata": {"name": "router-1"}, "spec": {"type": "backup"}, "status": {"readyToUse": True}}
    running = {"metadata": {"name": "lab-router"}, "status": {"printableStatus": "Running", "ready": True}}
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.side_effect = lambda path, missing_ok=False: ready if path == BACKUP else (
        running if path.endswith("/virtualmachines/lab-router") else None)
    kind, result, dummy = run(harvester_vm_restore, {"name": "back", "backup": "router-1", "vm": "lab-router"},
                              client=c)
    assert kind == "fail" and result["option"] == "vm", result
    assert result["msg"].endswith("stop it first: homelab.harvester.harvester_vm_power (state: stopped)")
    c.create.assert_not_called()
