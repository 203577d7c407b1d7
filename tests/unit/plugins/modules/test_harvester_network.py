# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_network.py: the argument spec and the input checks
through AnsibleModule (``patch_module_args``, ansible-core 2.19), with the client mocked. Bad
input must fail before the client is even built."""

from __future__ import annotations

import json
from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_network
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"


def run_module(args, client=None):
    """Run the module with ``args``; returns (kind, result, Client class mock)."""
    return run(harvester_network, args, client)


@pytest.mark.parametrize("args, message", [
    ({"name": "vlan30", "vlan_id": 5000}, "vlan_id: 5000 is not in 1-4094"),
    ({"name": "vlan30", "vlan_id": 0}, "vlan_id: 0 is not in 1-4094"),
    ({"name": "VLAN_30"}, "name: 'VLAN_30' is not a valid name"),
    ({"name": "x" * 64}, "name: '" + "x" * 64 + "' is 64 characters, at most 63 are allowed"),
    ({"name": "vlan30", "namespace": "Lab"}, "namespace: 'Lab' is not a valid name"),
    ({"name": "vlan30", "cluster_network": "averylongname"}, "cluster_network: 'averylongname' is 13 characters"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"mode": "manual", "cidr": "10.10.30.0/24"}},
     "route.gateway: is required when route.mode is manual"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"mode": "manual", "cidr": "10.10.30.0/24", "gateway": "10.10.31.1"}},
     "route.gateway: 10.10.31.1 is not inside route.cidr 10.10.30.0/24"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"mode": "auto", "gateway": "10.10.30.1"}}, "route.gateway: only with route.mode manual"),
    ({"name": "vlan30", "route": {"mode": "auto"}}, "route: needs vlan_id"),
    ({"name": "vlan30", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
    ({"name": "vlan30", "vlan_id": "thirty"}, "argument 'vlan_id' is of type str and we were unable to convert to int"),
    ({"name": "vlan30", "vlan_id": 30, "route": {"cidr": "10.10.30.0/24"}}, "missing required arguments: mode found in route"),
    ({"name": "vlan30", "wait_timeout": -1}, "wait_timeout: -1 must be more than 0"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"]
    client_class.assert_not_called()


def test_present_calls_the_client_and_exits_with_the_network():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = None
    c.create.side_effect = lambda path, body: dict(body, metadata=dict(body["metadata"], labels={
        "network.harvesterhci.io/ready": "true"}))
    kind, result, client_class = run_module({"name": "vlan30", "vlan_id": 30}, client=c)
    assert kind == "exit" and result["changed"] is True
    assert "diff" not in result  # only under --diff
    assert json.loads(result["network"]["spec"]["config"])["vlan"] == 30
    assert client_class.call_args.kwargs["dry_run"] is False
    assert c.get.call_count == 1  # the create's answer is already ready: no extra read


def test_api_errors_become_one_failure_shape():
    from ansible_collections.homelab.harvester.plugins.module_utils.errors import api_error
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = None
    status = {"kind": "Status", "reason": "InternalError", "message": 'admission webhook "x" denied the request: no'}
    c.create.side_effect = api_error(500, status, path=NADS, method="POST")
    kind, result, dummy = run_module({"name": "vlan30"}, client=c)
    assert kind == "fail"
    assert result["msg"] == ("POST network-attachment-definitions/default: 500 InternalError: admission webhook \"x\" "
                             "denied the request: no")
    assert result["status"] == 500 and result["reason"] == "InternalError"
