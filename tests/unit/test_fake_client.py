# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of tests/unit/fake_client.py, so that the unit tests' stand-in cannot drift from the
real Client silently: the same method signatures, RFC 7386 and RFC 6902 patches, a dry run stores
nothing, lists by collection and label selector, the one call record, per-test answers."""

from __future__ import annotations

import inspect

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.module_utils.errors import AlreadyExists, Conflict, Invalid, NotFound
from tests.unit.fake_client import NORMAL, Call, FakeClient, Seq, conflict, json_patch, merge_patch, selects

VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"


def vm(name, ns="default", labels=None):
    return {"metadata": {"name": name, "namespace": ns, **({"labels": labels} if labels else {})}, "spec": {"runStrategy": "Halted"}}


@pytest.mark.parametrize("method", ["get", "list", "version", "watch", "create", "replace", "merge_patch", "json_patch",
                                    "delete", "request"])
def test_the_methods_take_the_real_clients_arguments(method):
    real = list(inspect.signature(getattr(Client, method)).parameters)
    assert list(inspect.signature(getattr(FakeClient, method)).parameters) == real


def test_dry_run_and_progress_are_where_the_real_client_has_them():
    assert FakeClient().dry_run is False and FakeClient(dry_run=True).dry_run is True
    assert FakeClient().progress.events == []


@pytest.mark.parametrize("target, patch, expected", [
    ({"a": 1, "b": 2}, {"a": None}, {"b": 2}),  # null removes
    ({"a": {"b": 1, "c": 2}}, {"a": {"c": 3, "d": 4}}, {"a": {"b": 1, "c": 3, "d": 4}}),  # objects merge key by key
    ({"a": [1, 2, 3]}, {"a": [4]}, {"a": [4]}),  # lists are replaced whole
    ({"a": {"b": 1}}, {"a": "x"}, {"a": "x"}),  # a scalar replaces an object
    ({"a": "x"}, {"a": {"b": None, "c": 1}}, {"a": {"c": 1}}),  # an object replaces a scalar, its nulls dropped
    ({"a": 1}, {"gone": None}, {"a": 1}),  # removing what is not there is no error
    ({"a": 1}, ["x"], ["x"]),  # a patch that is not an object replaces the target
])
def test_merge_patch_is_rfc_7386(target, patch, expected):
    before = repr(target)
    assert merge_patch(target, patch) == expected
    assert repr(target) == before  # the target is not changed in place


def test_json_patch_is_rfc_6902_and_a_failed_test_changes_nothing():
    doc = {"metadata": {"resourceVersion": "5", "labels": {"a/b": "x"}}, "spec": {"list": [1, 2]}}
    done = json_patch(doc, [{"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
                            {"op": "replace", "path": "/spec/list/0", "value": 9},
                            {"op": "add", "path": "/spec/list/-", "value": 3},
                            {"op": "remove", "path": "/metadata/labels/a~1b"},
                            {"op": "add", "path": "/spec/new", "value": {"k": 1}}])
    assert done == {"metadata": {"resourceVersion": "5", "labels": {}}, "spec": {"list": [9, 2, 3], "new": {"k": 1}}}
    c = FakeClient({f"{VMS}/a": vm("a")})
    with pytest.raises(Invalid, match="the test of /metadata/name failed"):
        c.json_patch(f"{VMS}/a", [{"op": "replace", "path": "/spec/runStrategy", "value": "Always"},
                                  {"op": "test", "path": "/metadata/name", "value": "b"}])
    with pytest.raises(Invalid, match="the path /spec/nothing/x does not exist"):
        c.json_patch(f"{VMS}/a", [{"op": "replace", "path": "/spec/nothing/x", "value": 1}])
    assert c.objects[f"{VMS}/a"] == vm("a")
    with pytest.raises(TypeError):
        c.json_patch(f"{VMS}/a", {"op": "remove"})


def test_writes_change_the_store():
    c = FakeClient({f"{VMS}/a": vm("a")})
    created = c.create(VMS, {"metadata": {"generateName": "b-", "namespace": "default"}, "spec": {}})
    assert created["metadata"]["name"] == "b-x1y2z" and c.objects[f"{VMS}/b-x1y2z"] == created
    assert created["metadata"]["resourceVersion"] and created["metadata"]["uid"]
    with pytest.raises(AlreadyExists):
        c.create(VMS, vm("a"))
    assert c.merge_patch(f"{VMS}/a", {"spec": {"runStrategy": "Always"}})["spec"] == {"runStrategy": "Always"}
    assert c.objects[f"{VMS}/a"]["spec"] == {"runStrategy": "Always"}
    c.replace(f"{VMS}/a", vm("a", labels={"x": "y"}))
    assert c.objects[f"{VMS}/a"] == vm("a", labels={"x": "y"})
    assert c.delete(f"{VMS}/a")["metadata"]["name"] == "a" and f"{VMS}/a" not in c.objects
    with pytest.raises(NotFound):
        c.merge_patch(f"{VMS}/a", {})
    assert c.delete(f"{VMS}/a", missing_ok=True) is None


@pytest.mark.parametrize("client_dry_run, call_dry_run", [(True, None), (False, True)])
def test_a_dry_run_answers_what_would_be_stored_and_stores_nothing(client_dry_run, call_dry_run):
    reacted = []
    c = FakeClient({f"{VMS}/a": vm("a")}, dry_run=client_dry_run,
                   after={op: lambda client, path: reacted.append(path) for op in ("create", "merge_patch", "json_patch", "delete")})
    before = {k: dict(v) for k, v in c.objects.items()}
    assert c.create(VMS, vm("b"), dry_run=call_dry_run)["metadata"]["name"] == "b"
    assert c.merge_patch(f"{VMS}/a", {"spec": {"runStrategy": "Always"}}, dry_run=call_dry_run)["spec"]["runStrategy"] == "Always"
    assert c.json_patch(f"{VMS}/a", [{"op": "remove", "path": "/spec/runStrategy"}], dry_run=call_dry_run)["spec"] == {}
    assert c.delete(f"{VMS}/a", dry_run=call_dry_run)["metadata"]["name"] == "a"
    assert c.objects == before and reacted == []
    assert [w.dry_run for w in c.writes()] == [True] * 4


def test_a_write_can_turn_dry_run_off_and_then_stores():
    c = FakeClient(dry_run=True)
    c.create(VMS, vm("b"), dry_run=False)
    assert f"{VMS}/b" in c.objects and c.writes()[0].dry_run is False


def test_lists_by_collection_across_namespaces_and_by_label_selector():
    c = FakeClient({f"{VMS}/b": vm("b", labels={"app": "web", "tier": "dev"}), f"{VMS}/a": vm("a", labels={"app": "db"}),
                    "/apis/kubevirt.io/v1/namespaces/lab/virtualmachines/c": vm("c", "lab", {"app": "web"}),
                    "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/a": vm("a")})
    assert [o["metadata"]["name"] for o in c.list(VMS)] == ["a", "b"]
    assert [o["metadata"]["name"] for o in c.list("/apis/kubevirt.io/v1/virtualmachines")] == ["a", "b", "c"]
    assert [o["metadata"]["name"] for o in c.list("/apis/kubevirt.io/v1/virtualmachines", label_selector="app=web")] == ["b", "c"]
    assert [o["metadata"]["name"] for o in c.list(VMS, label_selector="app in (web, db),!tier")] == ["a"]
    assert c.calls[2].query == {"labelSelector": "app=web"}


@pytest.mark.parametrize("selector, selected", [
    ("app=web", True), ("app==web", True), ("app!=web", False), ("app", True), ("!app", False), ("app,tier=dev", True),
    ("tier in (dev, test)", True), ("tier notin (dev)", False), ("gone!=x", True), ("gone", False), ("", True),
])
def test_label_selectors_as_the_apiserver_reads_them(selector, selected):
    assert selects(selector, {"metadata": {"labels": {"app": "web", "tier": "dev"}}}) is selected


def test_get_of_a_missing_object_is_a_404_unless_missing_ok():
    c = FakeClient()
    with pytest.raises(NotFound):
        c.get(f"{VMS}/nope")
    assert c.get(f"{VMS}/nope", missing_ok=True) is None


def test_every_call_is_recorded_in_one_shape():
    c = FakeClient({f"{VMS}/a": vm("a")})
    c.get(f"{VMS}/a")
    c.list(VMS, label_selector="app=web")
    c.merge_patch(f"{VMS}/a", {"spec": {}}, retry=True)
    c.request("POST", f"{VMS}/a", query={"action": "restart"}, body={"x": 1})
    c.delete(f"{VMS}/a", propagation_policy="Foreground")
    assert all(isinstance(call, Call) for call in c.calls)
    assert c.calls == [
        Call("get", "GET", f"{VMS}/a", {}, None, None, {}),
        Call("list", "GET", VMS, {"labelSelector": "app=web"}, None, None, {}),
        Call("merge_patch", "PATCH", f"{VMS}/a", {}, {"spec": {}}, False, {"retry": True}),
        Call("request", "POST", f"{VMS}/a", {"action": "restart"}, {"x": 1}, False, {}),
        Call("delete", "DELETE", f"{VMS}/a", {}, None, False, {"propagation_policy": "Foreground"}),
    ]
    assert c.ops() == ["get", "list", "merge_patch", "request", "delete"]
    assert [w.op for w in c.writes()] == ["merge_patch", "request", "delete"]


def test_the_record_keeps_the_body_as_sent():
    c = FakeClient({f"{VMS}/a": vm("a")})
    patch = {"spec": {"runStrategy": "Always"}}
    c.merge_patch(f"{VMS}/a", patch)
    patch["spec"]["runStrategy"] = "changed later"
    assert c.calls[0].body == {"spec": {"runStrategy": "Always"}}


def test_answers_replace_the_store_one_call_at_a_time():
    c = FakeClient({f"{VMS}/a": vm("a")}, answers={
        ("get", f"{VMS}/a"): Seq([{"first": 1}, NotFound(404, "NotFound", "gone"), NORMAL]),
        ("merge_patch", f"{VMS}/a"): Seq([conflict(f"{VMS}/a"), NORMAL]),
        ("request", f"{VMS}/a"): lambda client, call: call.query["action"],
        ("watch", VMS): Seq([[{"type": "ADDED"}], None]),
    })
    assert c.get(f"{VMS}/a") == {"first": 1}
    assert c.get(f"{VMS}/a", missing_ok=True) is None  # an answered 404 is a 404
    assert c.get(f"{VMS}/a") == vm("a") and c.get(f"{VMS}/a") == vm("a")  # the last answer repeats
    with pytest.raises(Conflict):
        c.merge_patch(f"{VMS}/a", {"spec": {"runStrategy": "Always"}})
    assert c.objects[f"{VMS}/a"] == vm("a")
    c.merge_patch(f"{VMS}/a", {"spec": {"runStrategy": "Always"}})
    assert c.objects[f"{VMS}/a"]["spec"] == {"runStrategy": "Always"}
    assert c.request("POST", f"{VMS}/a", query={"action": "stop"}) == "stop"
    assert list(c.watch(VMS)) == [{"type": "ADDED"}] and list(c.watch(VMS)) == []
    assert c.request("PUT", "/elsewhere") is None  # no answer: a write that answers nothing


def test_answers_are_copies():
    shared = {"a": 1}
    c = FakeClient(answers={("get", "/x"): shared})
    c.get("/x")["a"] = 2
    assert c.get("/x") == {"a": 1}
