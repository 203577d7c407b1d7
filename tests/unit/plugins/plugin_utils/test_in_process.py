# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/plugin_utils/in_process.py: a module run in the worker keeps AnsibleModule's contract --
the same refusals with the same messages (every catalogued bad input of every module, compared
with AnsibleModule's own answer), invocation and no_log masking as exit_json writes them, the
task's environment seen by the K8S_AUTH_* fallbacks and restored afterwards, warnings, progress,
and the User-Agent that says how the task ran. The Client is mocked: no request is made."""

from __future__ import annotations

import importlib
import json
import os
from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import module as module_base
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.module_utils.progress import Progress
from ansible_collections.homelab.harvester.plugins.plugin_utils import in_process
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import CONNECTION
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run as run_as_module

CATALOGUE = importlib.import_module("tests.catalogue")
BAD = [(module, args, message) for module, rows in CATALOGUE.bad_inputs().items() for args, message in rows]


@pytest.fixture
def client(monkeypatch):
    """The Client class replaced: records how it was built, answers nothing (every GET 404s)."""
    fake = Mock(spec=Client)
    fake.get.return_value = None

    def build(*args, **kwargs):  # the real Client keeps the task's progress reporter and check mode
        fake.progress = kwargs.get("progress")
        fake.dry_run = bool(kwargs.get("dry_run"))
        return fake

    built = Mock(side_effect=build)
    monkeypatch.setattr(module_base, "Client", built)
    fake.built = built
    return fake


@pytest.mark.parametrize("module, args, message", BAD, ids=[f"{m}-{i}" for i, (m, a, msg) in enumerate(BAD)])
def test_every_bad_input_is_refused_as_the_module_path_refuses_it(module, args, message, client):
    connection = CONNECTION if "api_key" in in_process.definition(module).argument_spec else {}
    result = in_process.run(f"homelab.harvester.{module}", dict(connection, **args))
    kind, as_module, module_client = run_as_module(importlib.import_module(
        f"ansible_collections.homelab.harvester.plugins.modules.{module}"), args)
    assert result["failed"] is True and message in result["msg"], result
    assert kind == "fail" and as_module["msg"] == result["msg"]
    client.built.assert_not_called()  # refused before a client exists: no request possible


def test_a_run_leaves_the_modules_argument_spec_as_it_was(client):
    """ansible-core fills a dict option's suboption defaults into its ``default`` in place; a module
    process throws that away, the worker keeps the module loaded for every loop item and task. So
    each run validates against its own copy of the spec."""
    import copy
    spec = in_process.definition("capi_cluster").argument_spec
    before = copy.deepcopy(spec)
    in_process.run("homelab.harvester.capi_cluster", dict(CONNECTION, name="demo", kubernetes_version="1.33"))
    assert spec == before and spec["control_plane"]["default"] == {}


def test_unsupported_option_names_the_module_as_the_task_wrote_it(client):
    result = in_process.run("homelab.harvester.harvester_network", {"name": "a", "bogus": 1})
    assert result["msg"].startswith("Unsupported parameters for (homelab.harvester.harvester_network) module: bogus. "
                                    "Supported parameters include: api_key,")
    assert result["invocation"]["module_args"]["name"] == "a"


def test_invocation_and_result_are_masked_like_exit_json(client):
    client.create.side_effect = lambda path, body: dict(body, metadata=dict(body["metadata"], labels={
        "network.harvesterhci.io/ready": "true"}), echoed="token s3cr3t-token-value")
    result = in_process.run("homelab.harvester.harvester_network", dict(CONNECTION, name="vlan30", vlan_id=30))
    assert result["changed"] is True and "failed" not in result
    args = result["invocation"]["module_args"]
    assert args["api_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert args["vlan_id"] == 30 and args["namespace"] == "default" and args["wait"] is True  # defaults filled
    assert result["network"]["echoed"] == "token ********"  # a secret the module knows, wherever it appears
    assert client.built.call_args.kwargs["user_agent"] == "homelab.harvester (ansible; in-process)"


def test_check_mode_builds_a_dry_run_client_and_diff_only_under_diff(client):
    client.create.side_effect = lambda path, body: body
    result = in_process.run("homelab.harvester.harvester_network", dict(CONNECTION, name="vlan30", vlan_id=30), check_mode=True)
    assert client.built.call_args.kwargs["dry_run"] is True and "diff" not in result
    result = in_process.run("homelab.harvester.harvester_network", dict(CONNECTION, name="vlan30", vlan_id=30),
                            check_mode=True, diff=True)
    assert result["diff"]["before"] == {} and result["diff"]["after"]["spec"]["config"]["vlan"] == 30


def test_the_task_environment_feeds_the_fallbacks_and_is_restored(client, monkeypatch):
    monkeypatch.delenv("K8S_AUTH_HOST", raising=False)
    monkeypatch.setenv("K8S_AUTH_API_KEY", "worker-value-long-enough")
    client.create.side_effect = lambda path, body: body
    result = in_process.run("homelab.harvester.harvester_network", {"name": "vlan30", "wait": False},
                            task_env={"K8S_AUTH_HOST": "https://from-task-env:6443", "K8S_AUTH_API_KEY": "task-token-value"})
    connection = client.built.call_args.args[0]
    assert connection.server == "https://from-task-env:6443"
    assert result["invocation"]["module_args"]["host"] == "https://from-task-env:6443"
    assert result["invocation"]["module_args"]["api_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "K8S_AUTH_HOST" not in os.environ and os.environ["K8S_AUTH_API_KEY"] == "worker-value-long-enough"


def test_an_api_failure_has_the_module_failure_shape(client):
    from ansible_collections.homelab.harvester.plugins.module_utils.errors import api_error
    client.get.side_effect = api_error(403, {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "no"},
                                       path="/apis/x", method="GET")
    result = in_process.run("homelab.harvester.harvester_network", dict(CONNECTION, name="vlan30"))
    kind, as_module, dummy = run_as_module(importlib.import_module(
        "ansible_collections.homelab.harvester.plugins.modules.harvester_network"), {"name": "vlan30"},
        client=client)
    assert result["failed"] is True and result["status"] == 403 and result["reason"] == "Forbidden"
    assert kind == "fail" and {k: as_module[k] for k in ("msg", "status", "reason")} == \
        {k: result[k] for k in ("msg", "status", "reason")}


def test_warnings_and_alias_warnings_go_to_the_display(client):
    warnings = []
    client.create.side_effect = lambda path, body: body
    in_process.run("homelab.harvester.harvester_network",
                   dict(CONNECTION, name="vlan30", wait=False, validate_certs=True, verify_ssl=True), warn=warnings.append)
    assert warnings == ["Both option validate_certs and its alias verify_ssl are set."]


def test_progress_events_are_returned_and_printed_as_they_happen(client):
    states = iter([{"status": {"progress": 40}}, {"status": {"progress": 90}}])
    shown = []
    client.create.side_effect = lambda path, body: dict(body, status={"progress": 10})

    def get(path, missing_ok=False):
        state = next(states, None)
        if state is None:
            imported = {"type": "Imported", "status": "True", "lastUpdateTime": "2026-12-06T10:00:09Z"}
            return {"metadata": {"name": "talos", "namespace": "default"}, "spec": {},
                    "status": {"progress": 100, "conditions": [imported]}}
        return dict({"metadata": {"name": "talos", "namespace": "default"}, "spec": {}}, **state)

    client.get.side_effect = [None] + [get(None) for dummy in range(3)]
    result = in_process.run("homelab.harvester.harvester_image",
                            dict(CONNECTION, name="talos", url="http://nas.lab/talos.img", wait_timeout=30),
                            progress=Progress(sink=shown.append))
    messages = [e["msg"] for e in result["progress"]]
    assert messages == ["image default/talos: 10%", "image default/talos: 40%", "image default/talos: 90%",
                        "image default/talos: imported"]
    assert result["progress"][-1]["time"] == "2026-12-06T10:00:09Z"  # the cluster's time for it
    assert [e["msg"] for e in shown] == messages


def test_an_unhandled_exception_is_reported_as_a_module_process_reports_its_crash(client):
    """A bug, not a refusal: ``failed`` and the exception's summary, no ``msg`` (ansible-core words
    it as for a module: "Module failed: ..."); the action plugin marks the failure as the module's."""
    from ansible._internal._errors._captured import CapturedErrorSummary
    from ansible.module_utils._internal._messages import ErrorSummary

    from ansible_collections.homelab.harvester.plugins.plugin_utils.action import as_module_result
    client.get.side_effect = RuntimeError("something nobody foresaw")
    result = in_process.run("homelab.harvester.harvester_network", dict(CONNECTION, name="vlan30"))
    assert result["failed"] is True and "msg" not in result
    assert isinstance(result["exception"], ErrorSummary) and result["exception"].event.msg == "something nobody foresaw"
    marked = as_module_result(result)
    assert isinstance(marked["exception"], CapturedErrorSummary)
    assert marked["exception"].error_type.__name__ == "AnsibleModuleCapturedError"


# --- the API's warnings and a failure's traceback, as on the module path ------------------------
def with_transport(monkeypatch, *script):
    """The real Client, built by ModuleContext as always, on a transport that answers ``script``
    ((status, body, headers) each)."""
    answers = list(script)

    class Transport:
        def send(self, method, target, headers, body, timeout):
            status, payload, answer_headers = answers.pop(0)
            return status, answer_headers, json.dumps(payload).encode()

    monkeypatch.setattr(module_base, "Client", lambda connection, **kw: Client(connection, transport=Transport(),
                                                                               debug_log=False, **kw))


FORBIDDEN = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "reason": "Forbidden",
             "message": "no"}


def test_the_apis_warnings_go_to_the_display_once_each(monkeypatch):
    not_found = dict(FORBIDDEN, code=404, reason="NotFound", message="not found")
    body = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": "vlan30", "namespace": "default"}}
    with_transport(monkeypatch, (404, not_found, {"Warning": '299 - "first"'}),
                   (201, body, {"Warning": ['299 - "first"', '299 - "second"']}))
    warnings = []
    result = in_process.run("homelab.harvester.harvester_network", dict(CONNECTION, name="vlan30", vlan_id=30, wait=False),
                            warn=warnings.append)
    assert result["changed"] is True and warnings == ["first", "second"]


@pytest.mark.parametrize("shown", [True, False])
def test_a_failure_carries_its_traceback_as_fail_json_gives_it(shown, monkeypatch):
    """``exception`` only when the controller asks for tracebacks (ANSIBLE_DISPLAY_TRACEBACK), as
    fail_json decides on the module path; the action plugin hands it on as the module's."""
    from ansible._internal._errors._captured import CapturedErrorSummary

    from ansible_collections.homelab.harvester.plugins.plugin_utils.action import as_module_result
    monkeypatch.setattr(in_process, "tracebacks_shown", lambda: shown)
    with_transport(monkeypatch, (403, FORBIDDEN, {}))
    result = in_process.run("homelab.harvester.harvester_network", dict(CONNECTION, name="vlan30"))
    assert result["failed"] is True and result["msg"] == "GET network-attachment-definitions/default/vlan30: 403 Forbidden: no"
    if not shown:
        assert "exception" not in result
        return
    assert result["exception"].startswith("Traceback (most recent call last):\n")
    assert result["exception"].rstrip().splitlines()[-1] == (
        "ansible_collections.homelab.harvester.plugins.module_utils.errors.Forbidden: " + result["msg"])
    marked = as_module_result(result)
    assert isinstance(marked["exception"], CapturedErrorSummary)
    assert marked["exception"].event.formatted_traceback.startswith("Traceback (most recent call last):\n")


def test_tracebacks_are_shown_as_the_controllers_display_traceback_says(monkeypatch):
    from ansible import constants

    for setting, expected in ((["never"], False), (["error"], True), (["always"], True), (["warning"], False)):
        monkeypatch.setattr(constants.config, "get_config_value",
                            lambda name, *a, _v=setting, _real=constants.config.get_config_value, **k:
                            _v if name == "DISPLAY_TRACEBACK" else _real(name, *a, **k))
        assert in_process.tracebacks_shown() is expected, setting


def test_the_traceback_never_shows_a_secret(monkeypatch):
    token = CONNECTION["api_key"]
    original = module_base.traceback_text
    monkeypatch.setattr(module_base, "traceback_text", lambda e: original(e) + f"(the token was {token})\n")
    monkeypatch.setattr(in_process, "tracebacks_shown", lambda: True)
    with_transport(monkeypatch, (403, FORBIDDEN, {}))
    result = in_process.run("homelab.harvester.harvester_network", dict(CONNECTION, name="vlan30"))
    assert "(the token was ********)" in result["exception"] and token not in result["exception"]
