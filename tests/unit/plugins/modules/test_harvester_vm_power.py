# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_vm_power.py: the argument spec and the input checks
through AnsibleModule (``patch_module_args``, ansible-core 2.19), with the client mocked. Bad
input must fail before the client is even built; a run returns ``vms``, and the diff only in
diff mode; a refusal carries the VMs it is about."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_vm_power
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"


def run_module(args, client=None, check_mode=False, diff=False):
    return run(harvester_vm_power, args, client, check_mode=check_mode, diff=diff)


@pytest.mark.parametrize("args, message", [
    ({"name": "a", "names": ["b"], "state": "stopped"}, "parameters are mutually exclusive: name|names|label_selector"),
    ({"names": ["b"], "label_selector": "x=y", "state": "stopped"}, "parameters are mutually exclusive: name|names|label_selector"),
    ({"name": "a"}, "missing required arguments: state"),
    ({"name": "a", "state": "paused"}, "value of state must be one of: stopped, running, got: paused"),
    ({"name": "a", "state": "running", "run_strategy": "Once"}, "value of run_strategy must be one of: Always, RerunOnFailure"),
    ({"name": "a", "state": "stopped", "run_strategy": "Always"}, "run_strategy: only with state=running"),
    ({"names": [], "state": "running"}, "names: must not be empty"),
    ({"names": ["ok", "Not OK"], "state": "running"}, "names[1]: 'Not OK' is not a valid name"),
    ({"label_selector": "a b", "state": "stopped"}, "label_selector: 'a b' is not a label selector requirement"),
    ({"name": "a", "all_namespaces": True, "state": "stopped"}, "all_namespaces: only with label_selector"),
    ({"state": "stopped", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"], result
    client_class.assert_not_called()


def vm(name, strategy, status, ready=None):
    st = {"printableStatus": status}
    if ready is not None:
        st["ready"] = ready
    return {"metadata": {"name": name, "namespace": "default", "resourceVersion": "3"},
            "spec": {"runStrategy": strategy, "template": {}}, "status": st}


def client_with(vms, vmis=()):
    c = Mock(spec=Client)
    c.dry_run = False
    c.list.side_effect = lambda path, label_selector=None: list(vmis if path.endswith("instances") else vms)
    c.merge_patch.side_effect = lambda path, patch: {"metadata": {}, "spec": patch["spec"]}
    return c


def test_stop_without_wait_patches_and_returns_vms_without_diff():
    c = client_with([vm("router", "RerunOnFailure", "Running", ready=True)],
                    [{"metadata": {"name": "router", "namespace": "default"}, "status": {"phase": "Running"}}])
    kind, result, client_class = run_module({"state": "stopped", "wait": False}, client=c)
    assert kind == "exit" and result["changed"] is True, result
    assert result["vms"] == [{"namespace": "default", "name": "router", "before": "Running", "after": "Stopped", "changed": True}]
    assert "diff" not in result
    [(path, patch)] = [call.args for call in c.merge_patch.call_args_list]
    assert path == f"{VMS}/router" and patch["spec"] == {"runStrategy": "Halted"}
    assert client_class.call_args.kwargs["dry_run"] is False


def test_check_mode_builds_a_dry_run_client_and_diff_mode_returns_the_diff():
    c = client_with([vm("builder", "Halted", "Stopped")])
    kind, result, client_class = run_module({"name": "builder", "state": "running"}, client=c, check_mode=True, diff=True)
    assert kind == "exit" and result["changed"] is True, result
    assert client_class.call_args.kwargs["dry_run"] is True
    assert result["diff"]["after"]["default/builder"]["spec"] == {"runStrategy": "RerunOnFailure"}
    assert result["vms"][0]["after"] == "Running"  # where it is headed: check mode does not wait


def test_an_unknown_vm_fails_naming_it():
    c = client_with([vm("router", "Halted", "Stopped")])
    kind, result, dummy = run_module({"names": ["router", "ghost"], "state": "running"}, client=c)
    assert kind == "fail"
    assert result["msg"] == "VirtualMachine default/ghost not found; nothing was changed"
    assert result["vms"] == ["default/ghost"]
    c.merge_patch.assert_not_called()
