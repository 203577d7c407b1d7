# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_upgrade.py: the argument spec and the input checks
through AnsibleModule (``patch_module_args``, ansible-core 2.19), with the client mocked. Bad
input fails before the client is even built; check mode builds a dry-run client; the diff only
in diff mode; a pre-flight refusal carries its blockers and an upgrade failure what was seen."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_upgrade
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

UPGRADES = "/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/upgrades"


def run_module(args, client=None, check_mode=False, diff=False):
    return run(harvester_upgrade, args, client, check_mode=check_mode, diff=diff)


@pytest.mark.parametrize("args, message", [
    ({}, "one of the following is required: version, image"),
    ({"version": "v1.9.0", "image": "default/iso"}, "parameters are mutually exclusive: version|image"),
    ({"version": "v1.9.0", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
    ({"version": "v1.9.0", "wait_timeout": "soon"}, "wait_timeout"),
    ({"version": "v1.9.0/x"}, "version: 'v1.9.0/x' is not a valid name"),
    ({"image": "default"}, "image: 'default' is not <namespace>/<name> of a VirtualMachineImage"),
    ({"version": "v1.9.0", "iso_url": "file:///iso"}, "iso_url: 'file:///iso' is not an http:// or https:// URL"),
    ({"version": "v1.9.0", "iso_url": "http://nas/h.iso", "iso_checksum": "0" * 127}, "iso_checksum: "),
    ({"version": "v1.9.0", "release_date": "2026"}, "release_date: only with iso_url"),
    ({"version": "v1.9.0", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"], result
    client_class.assert_not_called()


def node(name, unschedulable=False):
    return {"metadata": {"name": name}, "spec": {"unschedulable": unschedulable},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def client_with(nodes, version=None, server="v1.8.2", dry_run=False):
    c = Mock(spec=Client)
    c.dry_run = dry_run  # what the real Client is built with: the task's check mode

    def get(path, missing_ok=False, **kw):
        if path.endswith("/settings/server-version"):
            return {"default": "dev", "value": server}
        return version
    c.get.side_effect = get
    c.list.side_effect = lambda path, **kw: list(nodes) if path == "/api/v1/nodes" else []
    c.create.side_effect = lambda path, body, **kw: dict(body, metadata=dict(body["metadata"], name="hvst-upgrade-abcde"))
    return c


def test_check_mode_builds_a_dry_run_client_and_returns_the_diff_only_in_diff_mode():
    c = client_with([node("ms02-1")], version={"spec": {"isoURL": "http://nas/h.iso"}}, dry_run=True)
    kind, result, client_class = run_module({"version": "v1.9.0"}, client=c, check_mode=True, diff=True)
    assert kind == "exit" and result["changed"] is True, result
    assert client_class.call_args.kwargs["dry_run"] is True
    assert result["name"] == "hvst-upgrade-abcde" and result["blockers"] == []
    assert result["diff"] == {"before": {"server_version": "v1.8.2"}, "after": {"server_version": "v1.9.0"}}
    [(path, body)] = [call.args for call in c.create.call_args_list]
    assert path == UPGRADES and body["spec"] == {"version": "v1.9.0", "logEnabled": True}

    kind, result, dummy = run_module({"version": "v1.9.0"}, client=client_with([node("ms02-1")], version={"spec": {}}, dry_run=True),
                                     check_mode=True)
    assert kind == "exit" and "diff" not in result


def test_blockers_fail_the_task_with_every_one_and_no_write():
    c = client_with([node("ms02-1", unschedulable=True), node("ms02-2", unschedulable=True)])
    kind, result, dummy = run_module({"version": "v1.9.0"}, client=c)
    assert kind == "fail", result
    assert result["blockers"] == [
        "Version v1.9.0 does not exist in harvester-system; give iso_url (and iso_checksum) to create it",
        "node ms02-1 is cordoned (unschedulable)", "node ms02-2 is cordoned (unschedulable)"]
    assert result["msg"].startswith("cannot upgrade to v1.9.0: Version v1.9.0 does not exist")
    c.create.assert_not_called()


def test_already_on_the_version_exits_unchanged():
    kind, result, dummy = run_module({"version": "v1.9.0"}, client=client_with([node("ms02-1")], server="v1.9.0"))
    assert kind == "exit" and result["changed"] is False and result["server_version"] == "v1.9.0", result


def test_absent_returns_the_deleted_upgrades():
    c = client_with([])
    c.list.side_effect = lambda path, **kw: [{"metadata": {"name": "hvst-upgrade-abcde"}, "spec": {"version": "v1.9.0"}}] \
        if path == UPGRADES else []
    kind, result, dummy = run_module({"version": "v1.9.0", "state": "absent", "wait": False}, client=c)
    assert kind == "exit" and result["changed"] is True and result["deleted"] == ["hvst-upgrade-abcde"], result
    c.delete.assert_called_once()
