# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/module.py on the module path (the real AnsibleModule, its real
exit_json/fail_json writing the result to stdout): the API's ``Warning`` headers become the task's
warnings, and a failure carries ``exception`` (its traceback) exactly when the controller asks for
tracebacks, as ``fail_json`` decides. The HTTP transport is faked; the Client is the real one."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import _internal
from ansible.module_utils._internal import _traceback
from ansible.module_utils.testing import patch_module_args

from ansible_collections.homelab.harvester.plugins.module_utils import module as module_base
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_network

CONNECTION = {"host": "https://harvester.example:6443", "api_key": "s3cr3t-token-value"}
NAD = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
NOT_FOUND = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound",
             "message": 'network-attachment-definitions.k8s.cni.cncf.io "vlan30" not found'}
FORBIDDEN = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "reason": "Forbidden",
             "message": "no"}


class ScriptedTransport:
    """Answers (status, body, headers) from a script, in order; records (method, target)."""

    def __init__(self, *script):
        self.script, self.sent = list(script), []

    def send(self, method, target, headers, body, timeout):
        self.sent.append((method, target))
        status, payload, answer_headers = self.script.pop(0)
        return status, answer_headers, json.dumps(payload).encode()


def with_transport(monkeypatch, transport):
    """The real Client, built by ModuleContext as always, on ``transport``."""
    monkeypatch.setattr(module_base, "Client", lambda connection, **kw: Client(connection, transport=transport,
                                                                               debug_log=False, **kw))


def created(path, body):
    return dict(json.loads(json.dumps(body)), metadata={"name": "vlan30", "namespace": "default", "uid": "u1"})


def run_main(args, capsys, monkeypatch):
    """harvester_network as AnsiballZ runs it (``run_module(DEFINITION)``): the result as it reaches stdout. As in a
    module process, warnings go into the result and whether tracebacks are wanted is read from this
    run's ``_ansible_tracebacks_for`` (not from an earlier test's arguments, nor a controller's display)."""
    monkeypatch.setattr(_internal, "is_controller", False)  # a test before may have imported the controller's display
    monkeypatch.setattr(_traceback, "_module_tracebacks_enabled_events", None)
    monkeypatch.setattr(_traceback, "_is_traceback_enabled", _traceback._is_module_traceback_enabled)
    with patch_module_args(dict(CONNECTION, **args)), pytest.raises(SystemExit):
        module_base.run_module(harvester_network.DEFINITION)
    return json.loads(capsys.readouterr().out)


def _text(warning):
    """A warning as the module wrote it: a string, or (ansible-core 2.19+) a WarningSummary."""
    return warning["event"]["msg"] if isinstance(warning, dict) else warning


def test_the_apis_warnings_are_the_tasks_warnings_once_each(monkeypatch, capsys):
    body = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": "vlan30", "namespace": "default"}}
    transport = ScriptedTransport((404, NOT_FOUND, {"Warning": '299 - "first"'}),
                                  (201, body, {"Warning": ['299 - "first"', '299 - "second"']}))
    with_transport(monkeypatch, transport)
    result = run_main({"name": "vlan30", "vlan_id": 30, "wait": False}, capsys, monkeypatch)
    assert result["changed"] is True
    assert [_text(w) for w in result["warnings"]] == ["first", "second"]
    assert transport.sent[1] == ("POST", NAD + "?fieldManager=homelab.harvester&fieldValidation=Strict")


@pytest.mark.parametrize("tracebacks", [["error"], []])
def test_a_failure_carries_its_traceback_when_tracebacks_are_asked_for(tracebacks, monkeypatch, capsys):
    transport = ScriptedTransport((403, FORBIDDEN, {}))
    with_transport(monkeypatch, transport)
    result = run_main({"name": "vlan30", "_ansible_tracebacks_for": tracebacks}, capsys, monkeypatch)
    assert result["failed"] is True and result["status"] == 403
    assert result["msg"] == "GET network-attachment-definitions/default/vlan30: 403 Forbidden: no"
    if tracebacks:
        assert result["exception"].startswith("Traceback (most recent call last):\n")
        assert result["exception"].rstrip().splitlines()[-1] == (
            "ansible_collections.homelab.harvester.plugins.module_utils.errors.Forbidden: " + result["msg"])
    else:
        assert "exception" not in result


def test_the_traceback_never_shows_a_secret(monkeypatch, capsys):
    token = CONNECTION["api_key"]
    echoed = dict(FORBIDDEN, message="denied")
    transport = ScriptedTransport((403, echoed, {}))
    with_transport(monkeypatch, transport)
    original = module_base.traceback_text
    monkeypatch.setattr(module_base, "traceback_text", lambda e: original(e) + f"(the token was {token})\n")
    result = run_main({"name": "vlan30", "_ansible_tracebacks_for": ["error"]}, capsys, monkeypatch)
    assert "(the token was ********)" in result["exception"] and token not in result["exception"]
