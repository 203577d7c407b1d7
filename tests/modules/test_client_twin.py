# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client (plugins/module_utils/client.py) against a real twin process over HTTPS: TLS with
the kubeconfig's CA, tokens, dry run, retries on injected faults and timeouts, counted through
the twin's own request log (/_twin/requests)."""

from __future__ import annotations

import time

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import kinds
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client, Found
from ansible_collections.homelab.harvester.plugins.module_utils.connection import Connection, resolve
from ansible_collections.homelab.harvester.plugins.module_utils.errors import (
    BadRequest,
    RequestTimeout,
    ServerError,
    TLSFailure,
    Unauthorized,
)
from ansible_collections.homelab.harvester.plugins.module_utils.retry import RetryPolicy

pytestmark = pytest.mark.twin

NODES = "/api/v1/nodes"


class Sleeper:
    """Records the waits; really sleeps only when asked (Retry-After checks)."""

    def __init__(self, real=False):
        self.waits = []
        self.real = real

    def __call__(self, seconds):
        self.waits.append(seconds)
        if self.real:
            time.sleep(seconds)


def client_for(twin, sleeper=None, policy=None, **kwargs):
    conn = resolve({"kubeconfig": str(twin.kubeconfig)}, environ={})
    return Client(conn, retry_policy=policy or RetryPolicy(base_delay=0.01, max_delay=0.05),
                  sleep=sleeper or Sleeper(), debug_log=False, **kwargs)


def api_requests(twin, since, path=None):
    """The API requests the twin logged after ``since``, without its own /_twin hooks."""
    log = [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]
    return [r for r in log if path is None or r["path"] == path]


def test_tls_with_the_kubeconfigs_ca(twin):
    client = client_for(twin)
    assert client.connection.ca_data and client.connection.verify
    assert client.version()["gitVersion"]
    names = [n["metadata"]["name"] for n in client.list(kinds.NODE.path())]
    assert names == ["ms02-1", "ms02-2", "ms02-3"]
    session = client.transport
    first = session._conn
    client.get(NODES)
    assert session._conn is first                    # one kept-alive connection for the process


def test_tls_without_the_ca_fails_clearly(twin):
    client = Client(Connection(twin.server, token=twin.token), sleep=Sleeper(), debug_log=False)
    with pytest.raises(TLSFailure) as e:
        client.get(NODES)
    text = str(e.value)
    assert text.startswith(f"GET nodes: TLS verification of {twin.server} failed: ")
    assert "certificate" in text and "ca_cert" in text and "validate_certs" in text
    assert twin.token not in text
    insecure = Client(Connection(twin.server, token=twin.token, verify=False), debug_log=False)
    assert insecure.get(NODES)["kind"] == "NodeList"


def test_wrong_token_is_unauthorized_in_one_line(twin):
    wrong = "wrong-token-1234567890abcdef"
    conn = resolve({"kubeconfig": str(twin.kubeconfig), "api_key": wrong}, environ={})
    client = Client(conn, sleep=Sleeper(), debug_log=False)
    with pytest.raises(Unauthorized) as e:
        client.get(NODES)
    text = str(e.value)
    assert text.startswith("GET nodes: 401 Unauthorized: ") and "\n" not in text
    assert wrong not in text and twin.token not in text and wrong not in repr(e.value)


def test_dry_run_writes_nothing(twin):
    client = client_for(twin, dry_run=True)
    nad = kinds.NAD.new("dry", "default", spec={"config": (
        '{"cniVersion":"0.3.1","name":"dry","type":"bridge","bridge":"mgmt-br","promiscMode":true,"vlan":30,"ipam":{}}')})
    existing = client.get(kinds.NODE.path(name="ms02-1"))
    since = twin.last_seq()
    predicted = client.create(kinds.NAD.path("default"), nad)
    assert predicted["metadata"]["name"] == "dry"
    client.merge_patch(kinds.NODE.path(name="ms02-1"), {"metadata": {"labels": {"dry-run": "yes"}}})
    client.delete(kinds.NODE.path(name="ms02-3"))
    writes = [r for r in api_requests(twin, since) if r["method"] != "GET"]
    assert [r["method"] for r in writes] == ["POST", "PATCH", "DELETE"]
    assert all("dryRun=All" in r["query"] for r in writes)
    live = client_for(twin)
    assert live.get(kinds.NAD.path("default", "dry"), missing_ok=True) is None
    node = live.get(kinds.NODE.path(name="ms02-1"))
    assert node["metadata"]["resourceVersion"] == existing["metadata"]["resourceVersion"]
    assert "dry-run" not in (node["metadata"].get("labels") or {})
    assert live.get(kinds.NODE.path(name="ms02-3"))["metadata"]["name"] == "ms02-3"
    assert client.stats.dry_run_writes == 3


def test_503_twice_then_success(twin):
    twin.fault(method="GET", path=f"^{NODES}$", status=503, count=2)
    sleeper = Sleeper()
    client = client_for(twin, sleeper)
    since = twin.last_seq()
    assert client.get(NODES)["kind"] == "NodeList"
    logged = api_requests(twin, since, NODES)
    assert [r["status"] for r in logged] == [503, 503, 200]
    assert len(sleeper.waits) == 2 and client.stats.retries == 2


def test_429_retry_after_is_honoured(twin):
    twin.fault(method="GET", path=f"^{NODES}$", status=429, retry_after=1, count=1)
    sleeper = Sleeper(real=True)
    client = client_for(twin, sleeper)
    since = twin.last_seq()
    started = time.monotonic()
    client.get(NODES)
    assert time.monotonic() - started >= 1.0
    assert sleeper.waits == [1.0]
    assert [r["status"] for r in api_requests(twin, since, NODES)] == [429, 200]


def test_connection_reset_on_get_is_retried(twin):
    twin.fault(method="GET", path=f"^{NODES}$", reset=True, count=1)
    client = client_for(twin)
    since = twin.last_seq()
    assert client.get(NODES)["kind"] == "NodeList"
    assert [r["status"] for r in api_requests(twin, since, NODES)] == [0, 200]   # 0: the twin cut the connection


def test_a_fixed_name_create_is_retried_after_a_reset_and_stored_once(twin):
    path = kinds.NAMESPACE.path()
    twin.fault(method="POST", path=f"^{path}$", reset=True, count=1)
    client = client_for(twin)
    since = twin.last_seq()
    made = client.create(path, kinds.NAMESPACE.new("reset-me"))
    assert made["metadata"]["name"] == "reset-me" and not isinstance(made, Found)
    assert [r["status"] for r in api_requests(twin, since, path)] == [0, 201]  # dropped, then created


def test_a_create_stored_with_its_answer_lost_returns_the_stored_object(twin):
    path = kinds.NAMESPACE.path()
    twin.fault(method="POST", path=f"^{path}$", reset_after=True, count=1)
    client = client_for(twin)
    since = twin.last_seq()
    found = client.create(path, kinds.NAMESPACE.new("lost-answer"))
    assert isinstance(found, Found) and found["metadata"]["name"] == "lost-answer"
    assert [r["status"] for r in api_requests(twin, since, path)] == [201, 409]  # stored, then AlreadyExists
    assert client.get(kinds.NAMESPACE.path(name="lost-answer"))["metadata"]["uid"] == found["metadata"]["uid"]


def test_a_fixed_name_create_is_retried_on_500_a_generated_name_is_not(twin):
    path = kinds.NAMESPACE.path()
    twin.fault(method="POST", path=f"^{path}$", status=500, count=2)
    client = client_for(twin)
    since = twin.last_seq()
    assert client.create(path, kinds.NAMESPACE.new("twice"))["metadata"]["name"] == "twice"
    assert [r["status"] for r in api_requests(twin, since, path)] == [500, 500, 201]
    twin.fault(method="POST", path=f"^{path}$", status=500, count=1)
    since = twin.last_seq()
    with pytest.raises(ServerError) as e:
        client.create(path, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"generateName": "once-"}})
    assert str(e.value) == "POST namespaces: 500 InternalError: injected fault (500)"
    assert [r["status"] for r in api_requests(twin, since, path)] == [500]


def test_per_call_timeout(twin):
    twin.fault(method="GET", path=f"^{NODES}$", delay=3, count=1)
    client = client_for(twin)
    started = time.monotonic()
    with pytest.raises(RequestTimeout) as e:
        client.get(NODES, timeout=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed                     # not retried: the timeout is the caller's budget
    assert str(e.value) == f"GET nodes: no answer from {twin.server} within 0.5 s (request_timeout)"
    assert client.get(NODES, timeout=5)["kind"] == "NodeList"   # the session recovers


def test_watch_hands_over_each_event_while_the_stream_stays_open(twin):
    """A window far longer than the socket timeout: a client that waited for the stream's end would
    fail with a timeout; one that reads event by event gets both events and stops when it likes."""
    client = Client(resolve({"kubeconfig": str(twin.kubeconfig), "request_timeout": 10}), debug_log=False)
    nads = kinds.NAD.path("default")
    rv = client.request("GET", nads)["metadata"]["resourceVersion"]
    body = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", "metadata": {"name": "w1"},
            "spec": {"config": '{"cniVersion":"0.3.1","type":"bridge","bridge":"mgmt-br"}'}}
    client.create(nads, body)
    events = client.watch(nads, query={"resourceVersion": rv, "timeoutSeconds": 600}, timeout=10)
    first = next(events)
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "w1")
    client.create(nads, dict(body, metadata={"name": "w2"}))  # while the stream is open, on the same client
    names = []
    for event in events:
        names.append(event["object"]["metadata"]["name"])
        if event["object"]["metadata"]["name"] == "w2":
            break
    events.close()
    assert "w2" in names
    assert client.get(nads + "/w1")["metadata"]["name"] == "w1"  # the client goes on after leaving a stream early


# --- field validation and the API's warnings -------------------------------------------------
def nad(name, **spec):
    config = f'{{"cniVersion":"0.3.1","name":"{name}","type":"bridge","bridge":"mgmt-br","vlan":30,"ipam":{{}}}}'
    return kinds.NAD.new(name, "default", spec=dict(spec, config=config))


def test_a_field_the_api_does_not_know_is_refused_and_nothing_is_stored(twin):
    """fieldValidation=Strict: the apiserver's 400 names every unknown field, in a dry run too."""
    client = client_for(twin)
    for dry_run in (True, False):
        with pytest.raises(BadRequest) as e:
            client.create(kinds.NAD.path("default"), nad("strict", bogus=1, other="x"), dry_run=dry_run)
        assert e.value.reason == "BadRequest"
        assert e.value.message == 'strict decoding error: unknown field "spec.bogus", unknown field "spec.other"'
    assert client.get(kinds.NAD.path("default", "strict"), missing_ok=True) is None
    client.create(kinds.NAD.path("default"), nad("strict"))
    since = twin.last_seq()
    with pytest.raises(BadRequest, match='unknown field "spec.bogus"'):
        client.merge_patch(kinds.NAD.path("default", "strict"), {"spec": {"bogus": 1}})
    assert [(r["method"], r["status"]) for r in api_requests(twin, since)] == [("PATCH", 400)]
    assert "bogus" not in client.get(kinds.NAD.path("default", "strict"))["spec"]
    assert client.warnings == []


def test_unknown_fields_pruned_under_warn_reach_the_callers_warnings(twin):
    """A caller that asks for fieldValidation=Warn gets the pruned fields as warnings, once each."""
    shown = []
    client = client_for(twin, warn=shown.append)
    query = {"fieldValidation": "Warn"}
    client.create(kinds.NAD.path("default"), nad("warned", bogus=1), query=query, dry_run=True)
    created = client.create(kinds.NAD.path("default"), nad("warned", bogus=1), query=query)
    assert "bogus" not in created["spec"]
    assert shown == ['unknown field "spec.bogus"']


def test_a_deprecated_version_answers_with_its_warning(twin):
    """apiextensions-apiserver: every request to a `deprecated: true` version gets its
    deprecationWarning, or the default text naming the newest served version."""
    shown = []
    client = client_for(twin, warn=shown.append)
    client.list("/apis/cluster.x-k8s.io/v1beta1/namespaces/default/clusters")
    client.get("/apis/cluster.x-k8s.io/v1beta1/namespaces/default/clusters/none", missing_ok=True)
    client.list("/apis/kubevirt.io/v1alpha3/namespaces/default/virtualmachines")
    client.list(kinds.CAPI_CLUSTER.path("default"))  # v1beta2: not deprecated
    assert shown == ["cluster.x-k8s.io/v1beta1 Cluster is deprecated; use cluster.x-k8s.io/v1beta2 Cluster",
                     "kubevirt.io/v1alpha3 is now deprecated and will be removed in a future release."]
