"""Watch streams, discovery documents and the /_twin test hooks."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from .conftest import status_of
from .test_api_semantics import NAD_PATH, TEST_NS, nad, test_namespace  # noqa: F401 - autouse fixture


# ---------------------------------------------------------------------------------------- watch
def _collect(twin, path, params, n, timeout=10):
    """Read n events of a watch stream."""
    events = []
    with twin.session().get(twin.url(path), params=dict(params, watch="true"), stream=True, timeout=timeout) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                events.append(json.loads(line))
            if len(events) >= n:
                break
    return events


def test_watch_from_a_resource_version_streams_changes(twin):
    s = twin.session()
    start = s.get(twin.url(NAD_PATH)).json()["metadata"]["resourceVersion"]
    s.post(twin.url(NAD_PATH), json=nad("w")).raise_for_status()
    s.patch(twin.url(NAD_PATH + "/w"), data='{"metadata":{"labels":{"a":"b"}}}',
            headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    s.delete(twin.url(NAD_PATH + "/w")).raise_for_status()
    events = _collect(twin, NAD_PATH, {"resourceVersion": start}, 3)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert all(e["object"]["metadata"]["name"] == "w" for e in events)
    assert events[1]["object"]["metadata"]["labels"] == {"a": "b"}


def test_watch_without_resource_version_starts_with_current_objects_then_follows(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("old")).raise_for_status()

    def later():
        time.sleep(0.3)
        s.post(twin.url(NAD_PATH), json=nad("new")).raise_for_status()

    threading.Thread(target=later).start()
    events = _collect(twin, NAD_PATH, {}, 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "old"), ("ADDED", "new")]


def test_watch_honours_selectors(twin):
    s = twin.session()
    start = s.get(twin.url(NAD_PATH)).json()["metadata"]["resourceVersion"]
    s.post(twin.url(NAD_PATH), json=nad("x")).raise_for_status()
    s.post(twin.url(NAD_PATH), json=nad("y", labels={"pick": "me"})).raise_for_status()
    events = _collect(twin, NAD_PATH, {"resourceVersion": start, "labelSelector": "pick=me"}, 1)
    assert events[0]["object"]["metadata"]["name"] == "y"


def test_watch_ends_at_timeout_seconds(twin):
    t0 = time.monotonic()
    r = twin.session().get(twin.url(NAD_PATH), params={"watch": "1", "timeoutSeconds": "1"}, timeout=10)
    assert r.status_code == 200 and r.text == ""
    assert time.monotonic() - t0 < 5


def test_watch_with_the_dynamic_client(twin):
    client = twin.dynamic()
    api = client.resources.get(api_version="twin.test.io/v1", kind="Widget")
    rv = api.get(namespace=TEST_NS).metadata.resourceVersion
    api.create(body=nad("dyn"), namespace=TEST_NS)
    api.delete(name="dyn", namespace=TEST_NS)
    seen = []
    for event in api.watch(namespace=TEST_NS, resource_version=rv, timeout=3):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            break
    assert seen == [("ADDED", "dyn"), ("DELETED", "dyn")]


# ---------------------------------------------------------------------------------------- discovery
def test_version_and_group_discovery(twin):
    s = twin.session()
    assert s.get(twin.url("/version")).json()["major"] == "1"
    assert s.get(twin.url("/api")).json()["versions"] == ["v1"]
    groups = {g["name"]: g for g in s.get(twin.url("/apis")).json()["groups"]}
    for name in ("network.harvesterhci.io", "harvesterhci.io", "longhorn.io", "cluster.x-k8s.io", "kubevirt.io",
                 "k8s.cni.cncf.io", "infrastructure.cluster.x-k8s.io", "storage.k8s.io"):
        assert name in groups, name
    assert groups["cluster.x-k8s.io"]["preferredVersion"]["version"] == "v1beta2"
    resources = s.get(twin.url("/apis/network.harvesterhci.io/v1beta1")).json()["resources"]
    vc = next(r for r in resources if r["name"] == "vlanconfigs")
    assert vc["kind"] == "VlanConfig" and not vc["namespaced"] and "vc" in vc["shortNames"]
    core = {r["name"] for r in s.get(twin.url("/api/v1")).json()["resources"]}
    assert {"namespaces", "nodes", "secrets", "configmaps", "services", "persistentvolumeclaims"} <= core


def test_group_document_lists_versions_and_the_preferred_one(twin):
    s = twin.session()
    group = s.get(twin.url("/apis/cluster.x-k8s.io")).json()
    assert group["kind"] == "APIGroup" and group["name"] == "cluster.x-k8s.io"
    versions = [v["version"] for v in group["versions"]]
    assert "v1beta2" in versions and "v1beta1" in versions
    assert group["preferredVersion"] == {"groupVersion": "cluster.x-k8s.io/v1beta2", "version": "v1beta2"}
    assert all(v["groupVersion"] == f"cluster.x-k8s.io/{v['version']}" for v in group["versions"])
    network = s.get(twin.url("/apis/network.harvesterhci.io")).json()
    assert [v["version"] for v in network["versions"]] == ["v1beta1"]
    r = s.get(twin.url("/apis/nope.example.io"))
    assert r.status_code == 404 and status_of(r)["reason"] == "NotFound"


def test_kubectl_api_resources(twin):
    out = twin.kubectl("api-resources", "-o", "name").stdout.split()
    assert "vlanconfigs.network.harvesterhci.io" in out
    assert "settings.longhorn.io" in out and "settings.harvesterhci.io" in out
    assert "network-attachment-definitions.k8s.cni.cncf.io" in out


def test_dynamic_client_discovers_kinds(twin):
    client = twin.dynamic()
    for api_version, kind in [("harvesterhci.io/v1beta1", "VirtualMachineImage"), ("longhorn.io/v1beta2", "Setting"),
                              ("cluster.x-k8s.io/v1beta2", "Cluster"), ("kubevirt.io/v1", "VirtualMachine"),
                              ("v1", "Node")]:
        assert client.resources.get(api_version=api_version, kind=kind).kind == kind


# ---------------------------------------------------------------------------------------- hooks
def test_request_log_records_every_request_in_order(twin):
    s = twin.session()
    seq = twin.last_seq()
    s.post(twin.url(NAD_PATH), params={"dryRun": "All"}, json=nad("a"))
    s.get(twin.url(NAD_PATH + "/a"))
    # A watch is logged when its stream ends, so one left open by an earlier test on this worker
    # may land in between: only the requests made here count.
    log = [e for e in twin.requests_log(seq) if "watch" not in e.get("query", "")]
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", NAD_PATH, 201), ("GET", NAD_PATH + "/a", 404)]
    assert log[0]["query"] == "dryRun=All"


def test_request_log_needs_the_token(twin):
    r = requests.get(twin.url("/_twin/requests"), verify=str(twin.ca_file))
    assert r.status_code == 401


def test_fault_status_for_the_next_n_matches(twin):
    twin.fault(method="GET", path="/namespaces/default$", status=503, count=2, retry_after=1)
    s = twin.session()
    url = twin.url("/api/v1/namespaces/default")
    first = s.get(url)
    assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    assert status_of(first)["reason"] == "ServiceUnavailable"
    assert s.get(url).status_code == 503
    assert s.get(url).status_code == 200
    assert s.get(twin.url("/_twin/faults")).json() == []


def test_fault_only_matches_its_method(twin):
    twin.fault(method="PUT", path="/configmaps", status=409, count=1)
    assert twin.session().get(twin.url("/api/v1/namespaces/default/configmaps")).status_code == 200


def test_fault_ratio_is_spread_evenly(twin):
    twin.fault(method="GET", path="/api/v1/nodes$", status=429, ratio=0.5)
    codes = [twin.session().get(twin.url("/api/v1/nodes")).status_code for _ in range(6)]
    assert codes.count(429) == 3 and codes.count(200) == 3


def test_fault_connection_reset(twin):
    twin.fault(method="GET", path="/api/v1/nodes$", reset=True, count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        twin.session().get(twin.url("/api/v1/nodes"))
    assert twin.session().get(twin.url("/api/v1/nodes")).status_code == 200


def test_fault_reset_after_stores_the_write_and_loses_the_answer(twin):
    twin.fault(method="POST", path="/widgets$", reset_after=True, count=1)
    s = twin.session()
    with pytest.raises(requests.exceptions.ConnectionError):
        s.post(twin.url(NAD_PATH), json=nad("lost-answer"))
    # stored although the client never heard so: the repeat meets AlreadyExists
    assert twin.session().get(twin.url(NAD_PATH + "/lost-answer")).status_code == 200
    again = twin.session().post(twin.url(NAD_PATH), json=nad("lost-answer"))
    assert again.status_code == 409 and status_of(again)["reason"] == "AlreadyExists"
    logged = [e for e in twin.requests_log() if e["method"] == "POST" and e["path"] == NAD_PATH]
    assert [(e["status"], e.get("fault")) for e in logged] == [(201, "reset_after"), (409, None)]


def test_fault_reset_stores_nothing(twin):
    twin.fault(method="POST", path="/widgets$", reset=True, count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        twin.session().post(twin.url(NAD_PATH), json=nad("never"))
    assert twin.session().get(twin.url(NAD_PATH + "/never")).status_code == 404


def test_random_faults_are_seeded_and_fit_the_request(twin):
    def run(seed):
        twin.reset()
        twin.fault(path="^/api/v1/namespaces/default/configmaps", ratio=0.5, seed=seed, retry_after=1,
                   random=["409", "429", "500", "503", "reset", "reset_after"])
        s, outcomes = twin.session(), []
        for _ in range(40):
            try:
                outcomes.append(s.get(twin.url("/api/v1/namespaces/default/configmaps")).status_code)
            except requests.exceptions.ConnectionError:
                outcomes.append("reset")
                s = twin.session()
        faults = [e.get("fault") for e in twin.requests_log() if "/configmaps" in e["path"]]
        armed = s.get(twin.url("/_twin/faults")).json()[0]
        return outcomes, faults, armed
    first, faults, armed = run(11)
    assert run(11)[0] == first  # the same seed, the same faults on the same requests
    fired = [f for f in faults if f]
    assert 8 <= len(fired) <= 32 and sum(armed["fired"].values()) == len(fired)
    # a GET never gets a 409 nor a reset after it was served: those only fit writes
    assert set(fired) <= {"429", "500", "503", "reset"} and len(set(fired)) >= 3
    assert 409 not in first and run(12)[0] != first


def test_random_409_only_for_a_write_carrying_its_resource_version(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("rv")).raise_for_status()
    twin.fault(method="PATCH", path="/widgets/rv$", ratio=1.0, seed=1, random=["409"])
    merge = {"Content-Type": "application/merge-patch+json"}
    blind = s.patch(twin.url(NAD_PATH + "/rv"), json={"metadata": {"labels": {"a": "b"}}}, headers=merge)
    assert blind.status_code == 503  # nothing else fits: a 409 needs a resourceVersion to conflict with
    rv = s.get(twin.url(NAD_PATH + "/rv")).json()["metadata"]["resourceVersion"]
    versioned = s.patch(twin.url(NAD_PATH + "/rv"), json={"metadata": {"resourceVersion": rv, "labels": {"a": "b"}}},
                        headers=merge)
    assert versioned.status_code == 409 and status_of(versioned)["reason"] == "Conflict"


def test_fault_delay(twin):
    twin.fault(method="GET", path="/api/v1/nodes$", delay=0.5, count=1)
    t0 = time.monotonic()
    assert twin.session().get(twin.url("/api/v1/nodes")).status_code == 200
    assert time.monotonic() - t0 >= 0.45


def test_bad_fault_is_refused(twin):
    r = twin.session().post(twin.url("/_twin/faults"), json={"path": "x", "status": 503, "reset": True})
    assert r.status_code == 400


def test_reset_restores_the_start_state(twin):
    s = twin.session()
    s.post(twin.url(NAD_PATH), json=nad("r")).raise_for_status()
    twin.fault(method="GET", path="/nothing", status=500, count=5)
    twin.reset()
    assert s.get(twin.url(NAD_PATH + "/r")).status_code == 404
    assert s.get(twin.url("/_twin/faults")).json() == []
    assert s.get(twin.url("/api/v1/namespaces/default")).status_code == 200


# ---------------------------------------------------------------------------------------- tables
def test_table_rows_use_printer_columns_and_human_ages(twin):
    s = twin.session()
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    doc = s.get(twin.url("/api/v1/namespaces"), headers=accept).json()
    assert doc["kind"] == "Table"
    assert [c["name"] for c in doc["columnDefinitions"]] == ["Name", "Age"]
    row = next(r for r in doc["rows"] if r["cells"][0] == "default")
    assert row["cells"][1].endswith("s") or row["cells"][1].endswith("m")
    assert row["object"]["kind"] == "PartialObjectMetadata"


@pytest.mark.parametrize("seconds,text", [(5, "5s"), (119, "119s"), (150, "2m30s"), (600, "10m"), (3 * 3600, "3h"),
                                          (7 * 3600 + 60, "7h1m"), (30 * 3600, "30h"), (3 * 86400, "3d"),
                                          (400 * 86400, "400d"), (3 * 365 * 86400, "3y")])
def test_human_duration_matches_apimachinery(seconds, text):
    from tests.twin.table import human_duration
    assert human_duration(seconds) == text


def test_environment_hook_merges_and_resets(twin):
    s = twin.session()
    r = s.patch(twin.url("/_twin/environment"), json={"unreachable": ["nfs://10.10.10.20:/x"], "other": 1})
    assert r.json() == {"unreachable": ["nfs://10.10.10.20:/x"], "other": 1}
    assert s.patch(twin.url("/_twin/environment"), json={"other": None}).json() == {"unreachable": ["nfs://10.10.10.20:/x"]}
    twin.reset()
    assert s.get(twin.url("/_twin/environment")).json() == {}
