# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_node.py: the argument spec and the input checks through
AnsibleModule (``patch_module_args``, ansible-core 2.19), with the client mocked. Bad input must
fail before the client is even built; a run returns the node and the diff only in diff mode; a
refusal carries the node and the volumes it is about."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_node
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

NODE = {"metadata": {"name": "ms02-1", "annotations": {"harvesterhci.io/maintain-status": "completed"}},
        "spec": {"unschedulable": True}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def run_module(args, client=None, check_mode=False, diff=False):
    return run(harvester_node, args, client, check_mode=check_mode, diff=diff)


@pytest.mark.parametrize("args, message", [
    ({"maintenance": True}, "missing required arguments: name"),
    ({"name": "ms02-1"}, "one of the following is required: maintenance, cordon"),
    ({"name": "ms02-1", "maintenance": True, "cordon": False}, "parameters are mutually exclusive: maintenance|cordon"),
    ({"name": "ms02-1", "maintenance": True, "method": "ssh"}, "value of method must be one of: auto, steve, annotation"),
    ({"name": "ms02-1", "cordon": True, "force": True}, "force: only with maintenance=true"),
    ({"name": "Ms02", "maintenance": True}, "name: 'Ms02' is not a valid name"),
    ({"name": "ms02-1", "maintenance": True, "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"], result
    client_class.assert_not_called()


def client_with(nodes):
    c = Mock(spec=Client)
    c.dry_run = False
    c.list.side_effect = lambda path, **kw: list(nodes) if path == "/api/v1/nodes" else []
    c.get.side_effect = lambda path, missing_ok=False, **kw: NODE if path == "/api/v1/nodes/ms02-1" else None
    return c


@pytest.mark.parametrize("diff", [False, True])
def test_a_node_already_in_maintenance_returns_it_unchanged(diff):
    client = client_with([NODE])
    kind, result, dummy = run_module({"name": "ms02-1", "maintenance": True}, client, diff=diff)
    assert kind == "exit" and result["changed"] is False, result
    assert result["node"]["name"] == "ms02-1" and result["maintenance"] == "completed" and result["method"] is None
    assert ("diff" in result) is diff
    assert result["migrated_vms"] == [] and result["waited"] == []
    client.merge_patch.assert_not_called()
    client.request.assert_not_called()


def test_a_refusal_names_the_node_and_the_volumes():
    cp = {"node-role.kubernetes.io/control-plane": "true"}
    nodes = [{"metadata": {"name": n, "labels": cp}, "spec": {}} for n in ("ms02-1", "ms02-2", "ms02-3")]
    replicas = [{"metadata": {"name": "r1"}, "spec": {"volumeName": "pvc-a", "nodeID": "ms02-1", "healthyAt": "t"}}]
    client = client_with(nodes)
    client.list.side_effect = lambda path, **kw: (nodes if path == "/api/v1/nodes" else replicas if path.endswith("/replicas")
                                                  else [])
    kind, result, dummy = run_module({"name": "ms02-1", "maintenance": True}, client)
    assert kind == "fail" and result["node"] == "ms02-1" and result["volumes"] == ["pvc-a"], result
    assert "Longhorn volume pvc-a has no healthy replica on another node" in result["msg"]
    client.request.assert_not_called()


def test_an_unknown_node_fails():
    client = client_with([])
    kind, result, dummy = run_module({"name": "ms02-9", "cordon": True}, client)
    assert kind == "fail" and result["msg"] == "node 'ms02-9' not found" and result["node"] == "ms02-9"
    client.request.assert_not_called()
    client.merge_patch.assert_not_called()
