# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_storage_class.py: the argument spec and the input
checks through AnsibleModule, with the client mocked. Bad input must fail before the client is
even built; the options reach the object written; check mode builds a dry-run client."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_storage_class
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

PATH = "/apis/storage.k8s.io/v1/storageclasses"
DEFAULT = "storageclass.kubernetes.io/is-default-class"


def run_module(args, client=None, check_mode=False, diff=False):
    return run(harvester_storage_class, args, client, check_mode=check_mode, diff=diff)


@pytest.mark.parametrize("args, message", [
    ({"name": "Lab"}, "name: 'Lab' is not a valid name"),
    ({"name": "lab", "replicas": 0}, "replicas: 0 is not in 1-20"),
    ({"name": "lab", "replicas": "three"}, "argument 'replicas' is of type"),
    ({"name": "lab", "data_locality": "strict-local"}, "data_locality: strict-local is refused by Harvester"),
    ({"name": "lab", "replicas": 2, "parameters": {"numberOfReplicas": 2}},
     "parameters: numberOfReplicas is also set by the replicas option"),
    ({"name": "lab", "provisioner": "nfs.csi.k8s.io", "disk_selector": ["nvme"]}, "disk_selector: is a Longhorn parameter"),
    ({"name": "lab", "volume_binding_mode": "Later"}, "value of volume_binding_mode must be one of: Immediate, WaitForFirstConsumer"),
    ({"name": "lab", "default": "maybe"}, "argument 'default' is of type"),
    ({"replicas": 2}, "missing required arguments: name"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"], result
    client_class.assert_not_called()


def stored(body):
    return dict(body, metadata=dict(body["metadata"], uid="u1", resourceVersion="1"))


def test_present_creates_the_class_the_options_describe():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = None
    c.create.side_effect = lambda path, body: stored(body)
    kind, result, client_class = run_module({"name": "lab", "replicas": 2, "disk_selector": ["nvme", "ssd"],
                                             "parameters": {"encrypted": False}, "reclaim_policy": "Retain"}, client=c)
    assert kind == "exit" and result["changed"] is True, result
    assert result["previous_default"] is None and "diff" not in result
    [(path, body)] = [call.args for call in c.create.call_args_list]
    assert path == PATH
    assert body["parameters"] == {"numberOfReplicas": "2", "staleReplicaTimeout": "30", "migratable": "true",
                                  "diskSelector": "nvme,ssd", "encrypted": "false"}
    assert (body["reclaimPolicy"], body["volumeBindingMode"], body["allowVolumeExpansion"]) == ("Retain", "Immediate", True)
    assert "annotations" not in body["metadata"]  # default not given: not the default
    c.list.assert_not_called()  # the other classes are read only for default=true
    assert client_class.call_args.kwargs["dry_run"] is False


def test_check_mode_builds_a_dry_run_client_and_returns_the_diff():
    c = Mock(spec=Client)
    c.dry_run = True
    c.list.return_value = []
    c.get.return_value = None
    c.create.side_effect = lambda path, body: stored(body)
    kind, result, client_class = run_module({"name": "lab", "default": True}, client=c, check_mode=True, diff=True)
    assert kind == "exit" and result["changed"] is True, result
    assert client_class.call_args.kwargs["dry_run"] is True
    assert result["diff"]["after"]["metadata"]["annotations"] == {DEFAULT: "true"}
    assert c.create.call_args.args[1]["metadata"]["annotations"] == {DEFAULT: "true"}


def test_absent_returns_no_object():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.side_effect = [stored({"metadata": {"name": "lab"}, "provisioner": "driver.longhorn.io"}), None]
    kind, result, dummy = run_module({"name": "lab", "state": "absent"}, client=c)
    assert kind == "exit" and result["changed"] is True and "storage_class" not in result, result
    c.delete.assert_called_once()
