# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the HTTP client (plugins/module_utils/client.py) on a fake transport: requests
as sent, Status errors as exceptions, dry run, retries (with a recorded sleeper), the debug log,
and no credential in any message or log line."""

from __future__ import annotations

import json

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import errors
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client, DebugLog, Found, Session, ssl_context, warning_texts
from ansible_collections.homelab.harvester.plugins.module_utils.connection import Connection, Credentials
from ansible_collections.homelab.harvester.plugins.module_utils.errors import ConnectionFailure
from ansible_collections.homelab.harvester.plugins.module_utils.retry import RetryPolicy

TOKEN = "sekret-token-0123456789"
NAD = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
UPGRADES = "/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/upgrades"


def status(code, reason, message, **details):
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message}
    if details:
        body["details"] = details
    return body


class FakeTransport:
    """Answers from a script: each entry is (status, body[, headers]) or an exception to raise."""

    def __init__(self, *script):
        self.script = list(script)
        self.sent = []

    def send(self, method, target, headers, body, timeout):
        self.sent.append({"method": method, "target": target, "headers": dict(headers),
                          "body": json.loads(body) if body else None, "timeout": timeout})
        answer = self.script.pop(0) if self.script else (200, {})
        if isinstance(answer, BaseException):
            raise answer  # pylint: disable=raising-bad-type
        code, payload = answer[0], answer[1]
        headers = answer[2] if len(answer) > 2 else {}
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return code, headers, raw


class Body:
    """A streamed response body: its lines one at a time (a reset after ``fail_after`` lines);
    ``taken`` counts the lines the caller read."""

    def __init__(self, *lines, fail_after=None):
        self.lines, self.fail_after, self.taken = list(lines), fail_after, 0

    def __iter__(self):
        for line in self.lines:
            if self.taken == self.fail_after:
                raise ConnectionResetError("reset by peer")
            self.taken += 1
            yield line

    def read(self):
        return b"".join(self.lines)


class StreamingTransport(FakeTransport):
    """FakeTransport that also streams: a script entry ``(status, Body)`` answers ``stream``, and
    ``ended`` records each stream's end (True: read to its end)."""

    def __init__(self, *script):
        super().__init__(*script)
        self.ended = []

    def stream(self, method, target, headers, timeout):
        self.sent.append({"method": method, "target": target, "headers": dict(headers), "timeout": timeout})
        code, body = self.script.pop(0)
        return code, {}, body

    def end(self, resp, complete):
        self.ended.append(complete)


def make(*script, dry_run=False, policy=None, log=None, connection=None):
    sleeps = []
    transport = FakeTransport(*script)
    conn = connection or Connection("https://h:6443", token=TOKEN, timeout=12)
    client = Client(conn, dry_run=dry_run, retry_policy=policy or RetryPolicy(random=lambda: 0.5),
                    sleep=sleeps.append, transport=transport, debug_log=log or False)
    return client, transport, sleeps


# --- requests as sent --------------------------------------------------------------------
def test_get_sends_token_accept_and_timeout():
    client, t, _s = make((200, {"kind": "Node"}))
    assert client.get("/api/v1/nodes/n1") == {"kind": "Node"}
    sent = t.sent[0]
    assert sent["method"] == "GET" and sent["target"] == "/api/v1/nodes/n1"
    assert sent["headers"]["Authorization"] == "Bearer " + TOKEN
    assert sent["headers"]["Accept"] == "application/json" and "Content-Type" not in sent["headers"]
    assert sent["timeout"] == 12.0
    client.get("/api/v1/nodes", query={"labelSelector": "a=b"}, timeout=2)
    assert t.sent[1]["target"] == "/api/v1/nodes?labelSelector=a%3Db" and t.sent[1]["timeout"] == 2.0


def test_writes_carry_content_type_and_field_manager():
    client, t, _s = make((201, {}), (200, {}), (200, {}), (200, {}))
    client.create(NAD, {"metadata": {"name": "x"}})
    client.replace(NAD + "/x", {"metadata": {"name": "x", "resourceVersion": "1"}})
    client.merge_patch(NAD + "/x", {"spec": {"config": "{}"}})
    client.json_patch(NAD + "/x", [{"op": "remove", "path": "/metadata/labels/a"}])
    methods = [(s["method"], s["headers"]["Content-Type"]) for s in t.sent]
    assert methods == [("POST", "application/json"), ("PUT", "application/json"),
                       ("PATCH", "application/merge-patch+json"), ("PATCH", "application/json-patch+json")]
    assert all(s["target"].endswith("?fieldManager=homelab.harvester&fieldValidation=Strict") for s in t.sent)
    assert t.sent[0]["body"] == {"metadata": {"name": "x"}}
    with pytest.raises(TypeError):
        client.json_patch(NAD + "/x", {"op": "add"})


def test_delete_with_propagation_policy():
    client, t, _s = make((200, {"kind": "Status"}), (404, status(404, "NotFound", "gone")))
    client.delete(NAD + "/x", propagation_policy="Foreground", preconditions={"uid": "u"})
    assert t.sent[0]["body"] == {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground",
                                 "preconditions": {"uid": "u"}}
    assert client.delete(NAD + "/x", missing_ok=True) is None
    assert t.sent[1]["body"] is None
    with pytest.raises(ValueError):
        client.delete(NAD + "/x", propagation_policy="Sideways")


def test_list_follows_continue_pages():
    client, t, _s = make((200, {"items": [1, 2], "metadata": {"continue": "c2"}}), (200, {"items": [3], "metadata": {}}))
    assert client.list(NAD, label_selector="a=b", limit=2) == [1, 2, 3]
    assert t.sent[0]["target"] == NAD + "?labelSelector=a%3Db&limit=2"
    assert t.sent[1]["target"] == NAD + "?labelSelector=a%3Db&limit=2&continue=c2"


def test_missing_ok_get():
    client, _t, _s = make((404, status(404, "NotFound", "nope")), (404, status(404, "NotFound", "nope")))
    assert client.get(NAD + "/x", missing_ok=True) is None
    with pytest.raises(errors.NotFound):
        client.get(NAD + "/x")


def test_relative_path_refused():
    client, _t, _s = make()
    with pytest.raises(ValueError):
        client.get("api/v1/nodes")


# --- dry run: check mode's choke point -------------------------------------------------------
def test_dry_run_on_writes_only():
    client, t, _s = make(dry_run=True)
    client.get(NAD + "/x")
    client.create(NAD, {})
    client.merge_patch(NAD + "/x", {})
    client.delete(NAD + "/x")
    client.replace(NAD + "/x", {}, dry_run=False)       # a call may opt out
    targets = [s["target"] for s in t.sent]
    assert "dryRun" not in targets[0]
    assert all(x.endswith("dryRun=All") for x in targets[1:4])
    assert "dryRun" not in targets[4]
    assert client.stats.dry_run_writes == 3 and client.stats.writes == 4 and client.stats.reads == 1


def test_dry_run_per_call_on_a_live_client():
    client, t, _s = make()
    client.create(NAD, {}, dry_run=True)
    assert t.sent[0]["target"] == NAD + "?fieldManager=homelab.harvester&fieldValidation=Strict&dryRun=All"


# --- field validation and the API's warnings -------------------------------------------------
def test_every_create_update_and_patch_asks_for_strict_field_validation_dry_runs_included():
    client, t, _s = make(dry_run=True)
    client.create(NAD, {})
    client.replace(NAD + "/x", {})
    client.merge_patch(NAD + "/x", {}, subresource_status=True)
    client.json_patch(NAD + "/x", [])
    client.delete(NAD + "/x")
    client.get(NAD + "/x")
    client.create(NAD, {}, query={"fieldValidation": "Warn"})  # a caller may ask for another mode
    validation = [dict(q.split("=") for q in s["target"].partition("?")[2].split("&") if q).get("fieldValidation")
                  for s in t.sent]
    assert validation == ["Strict"] * 4 + [None, None, "Warn"]
    assert all("dryRun=All" in s["target"] for s in t.sent[:5])


def test_a_strict_refusal_is_a_bad_request_naming_the_fields():
    message = 'strict decoding error: unknown field "spec.a", unknown field "spec.b"'
    client, _t, _s = make((400, status(400, "BadRequest", message)))
    with pytest.raises(errors.BadRequest) as e:
        client.create(NAD, {"spec": {"a": 1, "b": 2}})
    assert str(e.value) == f"POST network-attachment-definitions/default: 400 BadRequest: {message}"


def test_warning_headers_become_warnings_once_each_in_order():
    shown = []
    transport = FakeTransport(
        (200, {}, {"Warning": ['299 - "unknown field \\"spec.foo\\""', '299 - "second"']}),
        (503, status(503, "ServiceUnavailable", "x"), {"Warning": '299 - "second"'}),
        (201, {}, {"warning": ['299 - "third, with a comma" "Sun, 06 Dec 2026 10:00:00 GMT", 299 - "fourth"',
                               '199 - "not a 299"', '299 - ""']}),
        (409, status(409, "Conflict", "no"), {"Warning": ['299 - "second"', '299 - "on a refusal"']}),
    )
    client = Client(Connection("https://h:6443", token=TOKEN), retry_policy=RetryPolicy(random=lambda: 0.5),
                    sleep=lambda s: None, transport=transport, debug_log=False, warn=shown.append)
    client.get(NAD + "/x")
    client.create(NAD, {"metadata": {"name": "x"}})  # 503, retried: its warning again is shown once
    with pytest.raises(errors.Conflict):
        client.replace(NAD + "/x", {"metadata": {"resourceVersion": "1"}})
    assert shown == ['unknown field "spec.foo"', "second", "third, with a comma", "fourth", "on a refusal"]
    assert client.warnings == shown
    sibling = client.sibling(Connection("https://other:6443", token=TOKEN))
    assert sibling.warnings == shown  # one task, one list: a sibling's repeat is not shown again


def test_warning_headers_of_a_real_http_response_and_of_steve():
    import email.parser
    import http.client
    message = email.parser.Parser(_class=http.client.HTTPMessage).parsestr(
        'Warning: 299 - "a"\r\nWarning: 299 - "b \\\\ c"\r\nWarning: 299 - unquoted from Steve\r\n\r\n')
    assert warning_texts(message) == ["a", "b \\ c", "unquoted from Steve"]
    assert warning_texts(None) == [] and warning_texts({}) == []


def test_a_warning_that_echoes_the_token_is_scrubbed():
    shown = []
    client = Client(Connection("https://h:6443", token=TOKEN), transport=FakeTransport(
        (200, {}, {"Warning": f'299 - "token {TOKEN} is old"'})), debug_log=False, warn=shown.append)
    client.get(NAD)
    assert shown == ["token *** is old"]


# --- Status -> exceptions ---------------------------------------------------------------------
@pytest.mark.parametrize("code, reason, cls", [
    (400, "BadRequest", errors.BadRequest),
    (401, "Unauthorized", errors.Unauthorized),
    (403, "Forbidden", errors.Forbidden),
    (404, "NotFound", errors.NotFound),
    (409, "Conflict", errors.Conflict),
    (409, "AlreadyExists", errors.AlreadyExists),
    (410, "Expired", errors.Gone),
    (405, "MethodNotAllowed", errors.ApiError),
    (422, "Invalid", errors.Invalid),
    (429, "TooManyRequests", errors.TooManyRequests),
    (500, "InternalError", errors.ServerError),
    (503, "ServiceUnavailable", errors.ServerError),
])
def test_status_to_exception(code, reason, cls):
    client, _t, _s = make(*[(code, status(code, reason, f"{reason} happened"))] * 5, policy=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.ApiError) as e:
        client.create(NAD, {"metadata": {"name": "platform"}})
    assert e.value.__class__ is cls  # exactly this class, not a subclass
    assert e.value.status == code and e.value.reason == reason
    text = str(e.value)
    assert text.startswith(f"POST network-attachment-definitions/default: {code} {reason}: ")
    assert "\n" not in text and TOKEN not in text


def test_conflict_and_already_exists_are_distinguishable():
    conflict = errors.api_error(409, status(409, "Conflict", "modified"))
    exists = errors.api_error(409, status(409, "AlreadyExists", "exists"))
    assert isinstance(conflict, errors.Conflict) and not isinstance(conflict, errors.AlreadyExists)
    assert isinstance(exists, errors.Conflict) and isinstance(exists, errors.AlreadyExists)
    assert exists.already_exists and not conflict.already_exists


def test_invalid_lists_causes_with_field_paths():
    body = status(422, "Invalid", 'NetworkAttachmentDefinition.k8s.cni.cncf.io "platform" is invalid: [...]',
                  name="platform", causes=[
                      {"reason": "FieldValueInvalid", "field": "spec.config", "message": "Invalid value: \"x\": not JSON"},
                      {"reason": "FieldValueRequired", "field": "metadata.labels", "message": "Required value"}])
    client, _t, _s = make((422, body))
    with pytest.raises(errors.Invalid) as e:
        client.replace(NAD + "/platform", {})
    assert str(e.value) == ('PUT network-attachment-definitions/default/platform: 422 Invalid: '
                            'spec.config: Invalid value: "x": not JSON; metadata.labels: Required value')
    assert e.value.fields == ["spec.config", "metadata.labels"]
    assert e.value.as_dict()["causes"][0]["field"] == "spec.config"


def test_unauthorized_is_one_line_without_the_token():
    client, _t, _s = make((401, status(401, "Unauthorized", "Unauthorized")))
    with pytest.raises(errors.Unauthorized) as e:
        client.get("/api/v1/nodes")
    assert str(e.value) == ("GET nodes: 401 Unauthorized: the API did not accept the credentials (token or client "
                            "certificate); check api_key / the kubeconfig user")


def test_non_status_error_body():
    client, _t, _s = make((502, b"<html>\n<h1>Bad Gateway</h1>\n</html>"), policy=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.ServerError) as e:
        client.get("/version")
    assert str(e.value) == "GET /version: 502 BadGateway: <html> <h1>Bad Gateway</h1> </html>"


def test_echoed_token_is_scrubbed():
    client, _t, _s = make((400, status(400, "BadRequest", f"bad header Bearer {TOKEN}")))
    with pytest.raises(errors.BadRequest) as e:
        client.get("/api/v1/nodes")
    assert TOKEN not in str(e.value) and "Bearer ***" in str(e.value)


# --- retries ------------------------------------------------------------------------------
def test_503_twice_then_success_on_get():
    unavailable = (503, status(503, "ServiceUnavailable", "etcd"))
    client, t, sleeps = make(unavailable, unavailable, (200, {"ok": True}))
    assert client.get("/api/v1/nodes") == {"ok": True}
    assert len(t.sent) == 3 and sleeps == [0.125, 0.25]          # full jitter at random()=0.5, base 0.25
    assert client.stats.retries == 2 and client.stats.requests == 3


def test_post_with_generate_name_not_retried_on_500():
    client, t, sleeps = make((500, status(500, "InternalError", "boom")), (201, {}))
    with pytest.raises(errors.ServerError):
        client.create(UPGRADES, {"metadata": {"generateName": "hvst-upgrade-"}})
    assert len(t.sent) == 1 and sleeps == []


def test_a_dry_run_is_retried_whatever_its_shape():
    """A dry run stores nothing, so repeating one cannot do more than sending it once: a merge
    patch without a resourceVersion (as the settings modules dry-run each change) and a generated
    name's create are repeated after a 503 and a reset, as the real write of either is not."""
    unavailable = (503, status(503, "ServiceUnavailable", "etcd"))
    client, t, _s = make(unavailable, (200, {"value": "x"}))
    assert client.merge_patch("/apis/harvesterhci.io/v1beta1/settings/log-level", {"value": "x"}, dry_run=True) == {"value": "x"}
    assert [s["method"] for s in t.sent] == ["PATCH", "PATCH"] and all("dryRun=All" in s["target"] for s in t.sent)
    client, t, _s = make(ConnectionFailure("connection lost", cause="reset", sent=True), (201, {}))
    client.dry_run = True
    client.create(UPGRADES, {"metadata": {"generateName": "hvst-upgrade-"}})
    assert len(t.sent) == 2
    client, t, _s = make(unavailable, (200, {}))
    with pytest.raises(errors.ServerError):
        client.merge_patch("/apis/harvesterhci.io/v1beta1/settings/log-level", {"value": "x"})
    assert len(t.sent) == 1


def test_fixed_name_create_retried_on_500_and_reset():
    client, t, _s = make((500, status(500, "InternalError", "boom")), (201, {"made": 1}))
    assert client.create(NAD, {"metadata": {"name": "x"}}) == {"made": 1}
    assert [s["method"] for s in t.sent] == ["POST", "POST"]
    client, t, _s = make(ConnectionFailure("connection lost", cause="reset", sent=True), (201, {"made": 2}))
    assert client.create(NAD, {"metadata": {"name": "x"}}) == {"made": 2} and len(t.sent) == 2


def test_fixed_name_create_retried_after_a_timeout_only_for_creates():
    slow = errors.RequestTimeout("no answer", cause="timeout", sent=True)
    client, t, _s = make(slow, (201, {"made": 1}))
    assert client.create(NAD, {"metadata": {"name": "x"}}) == {"made": 1} and len(t.sent) == 2
    client, t, _s = make(errors.RequestTimeout("no answer", cause="timeout", sent=True), (200, {}))
    with pytest.raises(errors.RequestTimeout):
        client.get("/version")  # a read's timeout stays the caller's budget
    assert len(t.sent) == 1


def test_a_lost_create_answer_then_already_exists_returns_the_stored_object():
    exists = (409, status(409, "AlreadyExists", 'network-attachment-definitions "x" already exists'))
    stored = {"metadata": {"name": "x", "resourceVersion": "5"}}
    client, t, _s = make(ConnectionFailure("connection lost", cause="reset", sent=True), exists, (200, stored))
    found = client.create(NAD, {"metadata": {"name": "x"}})
    assert found == stored and isinstance(found, Found)
    assert [(s["method"], s["target"].split("?")[0]) for s in t.sent] == [("POST", NAD), ("POST", NAD), ("GET", NAD + "/x")]


def test_a_lost_create_answer_then_a_webhooks_conflict_returns_the_stored_object():
    """Admission runs before storage: a webhook that sees the earlier attempt's object (Harvester's
    image validator: another image with the same display name) answers the repeat with its own 409
    Conflict, not AlreadyExists. The object is read back as for AlreadyExists; a name nobody
    stored keeps the refusal."""
    images = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages"
    refused = (409, status(409, "Conflict", 'admission webhook "validator.harvesterhci.io" denied the request: '
                                            "A resource with the same name exists"))
    stored = {"metadata": {"name": "iso", "resourceVersion": "7"}}
    client, t, _s = make(ConnectionFailure("connection lost", cause="reset", sent=True), refused, (200, stored))
    found = client.create(images, {"metadata": {"name": "iso"}})
    assert found == stored and isinstance(found, Found)
    assert [s["method"] for s in t.sent] == ["POST", "POST", "GET"]
    client, t, _s = make(ConnectionFailure("connection lost", cause="reset", sent=True), refused,
                         (404, status(404, "NotFound", 'virtualmachineimages "iso" not found')))
    with pytest.raises(errors.Conflict):
        client.create(images, {"metadata": {"name": "iso"}})


def test_already_exists_without_a_lost_answer_stays_an_error():
    exists = (409, status(409, "AlreadyExists", 'network-attachment-definitions "x" already exists'))
    client, t, _s = make(exists)
    with pytest.raises(errors.AlreadyExists) as e:
        client.create(NAD, {"metadata": {"name": "x"}})
    assert e.value.attempts == 1 and not e.value.maybe_stored and len(t.sent) == 1
    # a 429 is refused before processing: a later AlreadyExists is someone else's object
    client, t, _s = make((429, status(429, "TooManyRequests", "slow")), exists)
    with pytest.raises(errors.AlreadyExists) as e:
        client.create(NAD, {"metadata": {"name": "x"}})
    assert e.value.attempts == 2 and not e.value.maybe_stored


def test_a_lost_delete_answer_then_not_found_is_done():
    gone = (404, status(404, "NotFound", 'network-attachment-definitions "x" not found'))
    client, t, _s = make(ConnectionFailure("connection lost", cause="reset", sent=True), gone)
    assert client.delete(NAD + "/x") is None and len(t.sent) == 2
    client, t, _s = make(gone)
    with pytest.raises(errors.NotFound):
        client.delete(NAD + "/x")


def test_429_retried_for_post_with_retry_after():
    client, t, sleeps = make((429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "2"}), (201, {"a": 1}))
    assert client.create(NAD, {}) == {"a": 1}
    assert sleeps == [2.0] and len(t.sent) == 2


def test_retry_after_from_status_details():
    client, _t, sleeps = make((429, status(429, "TooManyRequests", "x", retryAfterSeconds=3)), (200, {}))
    client.get("/api/v1/nodes")
    assert sleeps == [3.0]


def test_put_retried_only_with_resource_version():
    boom = (502, status(502, "BadGateway", "proxy"))
    client, t, _s = make(boom, (200, {}))
    client.replace(NAD + "/x", {"metadata": {"name": "x", "resourceVersion": "7"}})
    assert len(t.sent) == 2
    client, t, _s = make(boom, (200, {}))
    with pytest.raises(errors.ServerError):
        client.replace(NAD + "/x", {"metadata": {"name": "x"}})
    assert len(t.sent) == 1


def test_reset_retried_on_get_not_on_post():
    reset = ConnectionFailure("connection lost", cause="reset", sent=True)
    client, t, _s = make(reset, (200, {"ok": 1}))
    assert client.get("/version") == {"ok": 1} and len(t.sent) == 2
    client, t, _s = make(ConnectionFailure("connection lost", cause="reset", sent=True), (201, {}))
    with pytest.raises(ConnectionFailure) as e:
        client.create(NAD, {"metadata": {"generateName": "x-"}})
    assert len(t.sent) == 1
    assert str(e.value) == "POST network-attachment-definitions/default: connection lost"


def test_refused_retried_even_for_post():
    client, t, _s = make(ConnectionFailure("refused", cause="refused", sent=False), (201, {"made": 1}))
    assert client.create(NAD, {}) == {"made": 1} and len(t.sent) == 2


def test_retries_are_bounded():
    unavailable = (503, status(503, "ServiceUnavailable", "down"))
    client, t, sleeps = make(*[unavailable] * 10, policy=RetryPolicy(max_attempts=3, random=lambda: 1.0))
    with pytest.raises(errors.ServerError):
        client.get("/version")
    assert len(t.sent) == 3 and len(sleeps) == 2


def test_retry_false_disables():
    client, t, _s = make((503, status(503, "ServiceUnavailable", "down")), (200, {}))
    with pytest.raises(errors.ServerError):
        client.request("GET", "/version", retry=False)
    assert len(t.sent) == 1


class ExecConnection(Connection):
    """A connection whose exec plugin hands out a new token on every run."""

    __slots__ = ("runs",)

    def __init__(self):
        super().__init__("https://h:6443")
        self.runs = 0
        self._exec = True

    @property
    def uses_exec(self):
        return True

    def credentials(self):
        if self._cached is None:
            self.runs += 1
            self._cached = Credentials(token=f"exec-token-{self.runs}")
        return self._cached


def test_401_with_exec_credentials_reruns_the_plugin_once():
    conn = ExecConnection()
    unauthorized = (401, status(401, "Unauthorized", "Unauthorized"))
    client, t, _s = make(unauthorized, (200, {"ok": 1}), connection=conn)
    assert client.get("/version") == {"ok": 1}
    assert [s["headers"]["Authorization"] for s in t.sent] == ["Bearer exec-token-1", "Bearer exec-token-2"]
    client, t, _s = make(unauthorized, unauthorized, unauthorized, connection=ExecConnection())
    with pytest.raises(errors.Unauthorized):
        client.get("/version")
    assert len(t.sent) == 2


# --- debug log ------------------------------------------------------------------------------
def test_debug_log_has_method_path_status_and_no_secrets(tmp_path):
    path = tmp_path / "debug.log"
    client, _t, _s = make((503, status(503, "ServiceUnavailable", "x")), (200, {"token": TOKEN}),
                          (422, status(422, "Invalid", f"bad {TOKEN}")), log=DebugLog(str(path)))
    client.get("/api/v1/nodes")
    with pytest.raises(errors.Invalid):
        client.create(NAD, {"stringData": {"password": "hunter2-secret"}, "token": TOKEN})
    text = path.read_text()
    lines = text.splitlines()
    assert len(lines) == 4
    assert " GET /api/v1/nodes -> 503 " in lines[0] and "attempt=1" in lines[0]
    assert "retry in" in lines[1]
    assert " GET /api/v1/nodes -> 200 " in lines[2] and "attempt=2" in lines[2]
    assert f" POST {NAD}?fieldManager=homelab.harvester&fieldValidation=Strict -> 422 " in lines[3]
    assert TOKEN not in text and "hunter2" not in text
    assert (path.stat().st_mode & 0o777) == 0o600


def test_debug_log_from_environment(tmp_path):
    assert DebugLog.from_env({}) is None
    assert DebugLog.from_env({"HOMELAB_HARVESTER_DEBUG_LOG": str(tmp_path / "x")}).path == str(tmp_path / "x")


def test_stats_and_repr_never_show_the_token():
    client, _t, _s = make()
    client.get("/version")
    assert client.stats.as_dict()["by_method"] == {"GET": 1}
    assert TOKEN not in repr(client) and TOKEN not in repr(client.stats)


# --- TLS and session set-up (no network) ----------------------------------------------------------
def test_ssl_context_modes(tmp_path):
    import ssl
    off = ssl_context(Connection("https://h", token="t", verify=False))
    assert off.verify_mode == ssl.CERT_NONE and off.check_hostname is False
    system = ssl_context(Connection("https://h", token="t"))
    assert system.verify_mode == ssl.CERT_REQUIRED and system.check_hostname is True
    with pytest.raises(errors.AuthConfigError, match="cannot load the cluster CA from the kubeconfig's certificate-authority-data"):
        ssl_context(Connection("https://h", token="t", ca_data="not a pem"))
    bad = tmp_path / "ca.pem"
    bad.write_text("garbage")
    with pytest.raises(errors.AuthConfigError, match="cannot load the cluster CA from ca_cert"):
        ssl_context(Connection("https://h", token="t", ca_file=str(bad)))


def test_session_refuses_bad_urls_and_proxies():
    with pytest.raises(errors.AuthConfigError, match="not an http"):
        Session(Connection("ftp://h", token="t"))
    with pytest.raises(errors.AuthConfigError, match="only http:// proxies"):
        Session(Connection("https://h", token="t", proxy="socks5://p:1080"))
    s = Session(Connection("https://rancher.example/k8s/clusters/c-1/", token="t"))
    assert (s.host, s.port, s.prefix) == ("rancher.example", 443, "/k8s/clusters/c-1")


def test_refused_connection_is_classified():
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                            # nothing listens there now
    client = Client(Connection(f"http://127.0.0.1:{port}", token=TOKEN, timeout=2),
                    retry_policy=RetryPolicy(max_attempts=2, random=lambda: 0.0), sleep=lambda s: None, debug_log=False)
    with pytest.raises(ConnectionFailure) as e:
        client.create("/api/v1/namespaces", {})
    assert e.value.cause == "refused" and e.value.sent is False
    assert str(e.value) == f"POST namespaces: cannot connect to http://127.0.0.1:{port}: connection refused"
    assert client.stats.requests == 2                       # refused: retried even for a POST


# --- watch ---------------------------------------------------------------------------------------
def event(kind, rv):
    return (json.dumps({"type": kind, "object": {"metadata": {"name": "u", "resourceVersion": rv}}}) + "\n").encode()


def watching(*script):
    transport = StreamingTransport(*script)
    client = Client(Connection("https://h:6443", token=TOKEN, timeout=12), transport=transport, debug_log=False)
    return client, transport


def test_watch_gives_each_event_as_it_arrives():
    body = Body(event("ADDED", "1"), b"\n", event("MODIFIED", "2"))
    client, t = watching((200, body))
    events = client.watch(UPGRADES, query={"fieldSelector": "metadata.name=u", "timeoutSeconds": 5}, timeout=35)
    first = next(events)
    assert first["type"] == "ADDED" and body.taken == 1  # handed over before the rest was read
    assert [e["object"]["metadata"]["resourceVersion"] for e in events] == ["2"]
    assert t.sent[0]["target"] == f"{UPGRADES}?fieldSelector=metadata.name%3Du&timeoutSeconds=5&watch=true"
    assert t.sent[0]["timeout"] == 35.0 and t.ended == [True]  # read to its end: the connection is kept


def test_a_watch_left_early_closes_its_connection():
    client, t = watching((200, Body(event("ADDED", "1"), event("MODIFIED", "2"))))
    events = client.watch(UPGRADES)
    next(events)
    events.close()
    assert t.ended == [False]


def test_watch_errors_are_the_api_errors_and_a_lost_stream_a_connection_failure():
    client, t = watching((410, Body(json.dumps(status(410, "Expired", "too old resource version")).encode())))
    with pytest.raises(errors.Gone):
        next(client.watch(UPGRADES))
    client, t = watching((200, Body(event("ADDED", "1"), event("MODIFIED", "2"), fail_after=1)))
    events = client.watch(UPGRADES)
    next(events)
    with pytest.raises(ConnectionFailure, match="watch of .* lost"):
        next(events)
    assert t.ended == [False]
