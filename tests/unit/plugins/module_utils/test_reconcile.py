# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/reconcile.py on a Mock(spec=Client): what is compared,
what is patched, 409 handling, check mode, immutable fields and recreate, and ``converge`` from a
``KindSpec`` (vm_network.SPEC)."""

from __future__ import annotations

import copy
import json
from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import kinds, vm_network
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client, Found
from ansible_collections.homelab.harvester.plugins.module_utils.errors import AlreadyExists, Conflict, NotFound
from ansible_collections.homelab.harvester.plugins.module_utils.reconcile import (
    Field,
    ImmutableFieldError,
    converge,
    converge_present,
    ensure_absent,
    ensure_present,
    managed_view,
)
from ansible_collections.homelab.harvester.plugins.module_utils.wait import WaitFailed

PATH = kinds.NAD.path("default", "platform")
COLLECTION = kinds.NAD.path("default")
PARAMS = {"name": "platform", "namespace": "default", "cluster_network": "mgmt", "vlan_id": 30,
          "route": {"mode": "auto", "cidr": None, "gateway": None, "dhcp_server": None}, "description": "VLAN 30"}


def desired(**changes):
    params = dict(PARAMS, **changes)
    return vm_network.desired(params), vm_network.fields(params)


def live_from(obj, rv="7"):
    """What the server holds after a create: webhook MTU, controller labels, learned route,
    finalizers, resourceVersion, status."""
    live = copy.deepcopy(obj)
    conf = json.loads(live["spec"]["config"])
    conf["mtu"] = 1500
    live["spec"]["config"] = json.dumps(conf, indent=1, sort_keys=True)  # other key order and spacing
    meta = live["metadata"]
    meta.update(resourceVersion=rv, uid="u-1", generation=1, finalizers=["wrangler.cattle.io/x"],
                labels={vm_network.LABEL_READY: "true", "network.harvesterhci.io/vlan-id": "30"})
    meta.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    if vm_network.ANNOTATION_ROUTE in meta["annotations"]:
        meta["annotations"][vm_network.ANNOTATION_ROUTE] = json.dumps(
            {"mode": "auto", "cidr": "10.10.30.0/24", "gateway": "10.10.30.1", "connectivity": "true", "outdated": False})
    live["status"] = {"anything": True}
    return live


def client(get=None, dry_run=False):
    c = Mock(spec=Client)
    c.dry_run = dry_run
    if isinstance(get, list):
        c.get.side_effect = get
    else:
        c.get.return_value = get
    c.create.side_effect = lambda path, body: dict(body, created=True)
    c.merge_patch.side_effect = lambda path, patch: {"patched": patch}
    return c


def test_create_when_missing():
    want, fields = desired()
    c = client(get=None)
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields)
    assert changed and before is None and after["created"]
    c.create.assert_called_once_with(COLLECTION, want)
    assert diff["before"] == {} and diff["after"]["spec"]["config"]["vlan"] == 30
    assert diff["after"]["metadata"]["annotations"][vm_network.ANNOTATION_ROUTE] == {"mode": "auto"}


def test_server_owned_fields_never_count_as_drift():
    want, fields = desired()
    c = client(get=live_from(want))
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields, immutable=vm_network.immutable(PARAMS))
    assert not changed and after is before
    c.create.assert_not_called()
    c.merge_patch.assert_not_called()
    assert diff["before"] == diff["after"]


def test_patch_carries_only_the_differing_fields_and_the_resource_version():
    live = live_from(desired()[0])
    want, fields = desired(vlan_id=31)
    c = client(get=live)
    changed, dummy, after, diff = ensure_present(c, kinds.NAD, want, fields=fields)
    assert changed
    path, patch = c.merge_patch.call_args.args
    assert path == PATH
    assert set(patch) == {"metadata", "spec"} and patch["metadata"] == {"resourceVersion": "7"}
    conf = json.loads(patch["spec"]["config"])
    assert conf["vlan"] == 31 and conf["mtu"] == 1500  # the webhook's MTU is carried over
    assert diff["before"]["spec"]["config"]["vlan"] == 30 and diff["after"]["spec"]["config"]["vlan"] == 31
    assert "annotations" not in diff["before"]["metadata"] or diff["before"]["metadata"] == diff["after"]["metadata"]


def test_description_removed_with_null():
    live = live_from(desired()[0])
    want, fields = desired(description="")
    c = client(get=live)
    assert ensure_present(c, kinds.NAD, want, fields=fields)[0]
    patch = c.merge_patch.call_args.args[1]
    assert patch["metadata"]["annotations"] == {vm_network.ANNOTATION_DESCRIPTION: None}
    assert "spec" not in patch


def test_conflict_rereads_and_reapplies():
    live = live_from(desired()[0])
    newer = live_from(desired()[0], rv="8")
    want, fields = desired(vlan_id=31)
    c = client(get=[live, newer])
    c.merge_patch.side_effect = [Conflict(409, "Conflict", "the object has been modified"), {"ok": True}]
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields, sleep=lambda s: None)
    assert changed and after == {"ok": True}
    assert c.get.call_count == 2
    assert [call.args[1]["metadata"]["resourceVersion"] for call in c.merge_patch.call_args_list] == ["7", "8"]


def test_check_mode_uses_the_same_calls_and_the_servers_answer():
    live = live_from(desired()[0])
    want, fields = desired(vlan_id=31)
    c = client(get=live, dry_run=True)
    c.merge_patch.side_effect = lambda path, patch: {"dry": True}
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields)
    assert changed and after == {"dry": True}  # the client adds dryRun=All (its dry_run), reconcile does not bypass it
    c.merge_patch.assert_called_once()


def test_immutable_change_is_refused_naming_the_option():
    live = live_from(desired()[0])
    want, fields = desired(cluster_network="storage")
    c = client(get=live)
    with pytest.raises(ImmutableFieldError) as e:
        ensure_present(c, kinds.NAD, want, fields=fields, immutable=vm_network.immutable(PARAMS))
    assert str(e.value).startswith("cluster_network of NetworkAttachmentDefinition default/platform cannot be changed")
    assert "(mgmt -> storage)" in str(e.value) and "recreate=true" in str(e.value)
    assert e.value.as_dict() == {"field": "cluster_network"}
    c.merge_patch.assert_not_called()
    c.delete.assert_not_called()


def test_recreate_deletes_waits_and_creates():
    live = live_from(desired()[0])
    want, fields = desired(cluster_network="storage")
    c = client(get=[live, None])  # the read, then the wait for deletion sees it gone
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields, immutable=vm_network.immutable(PARAMS),
                                                  recreate=True, sleep=lambda s: None)
    assert changed and before is live and after["created"]
    c.delete.assert_called_once_with(PATH)
    c.create.assert_called_once_with(COLLECTION, want)


def test_recreate_in_check_mode_only_checks_the_delete():
    live = live_from(desired()[0])
    want, fields = desired(cluster_network="storage")
    c = client(get=live, dry_run=True)
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields, immutable=vm_network.immutable(PARAMS), recreate=True)
    assert changed and after == want
    c.delete.assert_called_once_with(PATH)
    c.create.assert_not_called()


def test_ensure_absent():
    live = live_from(desired()[0])
    c = client(get=[live, None])
    changed, before, after, diff = ensure_absent(c, kinds.NAD, "default", "platform", fields=vm_network.ALL_FIELDS,
                                                 sleep=lambda s: None)
    assert changed and before is live and after is None
    c.delete.assert_called_once_with(PATH, missing_ok=True)
    assert diff["after"] == {} and diff["before"]["spec"]["config"]["vlan"] == 30

    gone = client(get=None)
    assert ensure_absent(gone, kinds.NAD, "default", "platform")[0] is False
    gone.delete.assert_not_called()


def test_ensure_absent_of_an_object_being_deleted_is_unchanged():
    live = live_from(desired()[0])
    live["metadata"]["deletionTimestamp"] = "2026-11-25T00:00:00Z"
    c = client(get=live)
    assert ensure_absent(c, kinds.NAD, "default", "platform", wait=False)[0] is False
    c.delete.assert_not_called()


def test_api_errors_pass_through():
    c = client()
    c.get.side_effect = NotFound(404, "NotFound", "namespaces \"nope\" not found")
    with pytest.raises(NotFound):
        ensure_present(c, kinds.NAD, desired()[0], fields=desired()[1])


def test_json_in_strings_is_compared_parsed():
    field = Field(("spec", "config"), normalise=json.loads)
    a = {"spec": {"config": '{"a":1,"b":[1,2]}'}}
    b = {"spec": {"config": '{ "b": [1, 2],\n "a": 1 }'}}
    assert field.view(a) == field.view(b)
    assert managed_view(a, [field]) == {"spec": {"config": {"a": 1, "b": [1, 2]}}}


def test_a_create_that_meets_already_exists_compares_and_patches_what_exists():
    want, fields = desired(description="new")
    made_meanwhile = live_from(desired(description="old")[0])
    c = client(get=[None, made_meanwhile])
    c.create.side_effect = AlreadyExists(409, "AlreadyExists", "exists")
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields)
    assert changed and before is None
    patch = c.merge_patch.call_args[0][1]
    assert patch["metadata"]["annotations"]["field.cattle.io/description"] == "new"


def test_our_create_stored_with_its_answer_lost_is_a_change_without_a_second_write():
    want, fields = desired()
    c = client(get=None)
    c.create.side_effect = lambda path, body: Found(live_from(want))  # the client read it back
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields)
    assert changed and before is None and c.merge_patch.call_count == 0


def test_a_patch_stored_with_its_answer_lost_still_counts_as_a_change():
    want, fields = desired(description="new")
    old, now = live_from(desired(description="old")[0]), live_from(want, rv="8")
    c = client(get=[old, now])
    lost = Conflict(409, "Conflict", "the object has been modified")
    lost.maybe_stored = True  # the first attempt's answer was lost; its repeat met the new resourceVersion
    c.merge_patch.side_effect = lost
    changed, before, after, diff = ensure_present(c, kinds.NAD, want, fields=fields, sleep=lambda s: None)
    assert changed and before is old and after is now and c.merge_patch.call_count == 1
    assert diff["after"]["metadata"]["annotations"]["field.cattle.io/description"] == "new"


CONVERGE = dict(PARAMS, state="present", recreate=False, wait=True, wait_timeout=30, labels=None)


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)


def test_converge_waits_for_the_specs_ready_and_returns_the_object_under_its_noun(no_sleep):
    want, dummy = desired()
    c = client(get=[None, live_from(want)])
    c.create.side_effect = lambda path, body: dict(body, metadata=dict(body["metadata"], resourceVersion="1"))
    result = converge(c, vm_network.SPEC, CONVERGE)
    assert result["changed"] is True and set(result) == {"changed", "network", "diff"}
    assert vm_network.ready(result["network"])  # the read after the create, not the create's answer
    assert c.get.call_count == 2


def test_converge_stops_when_the_object_is_deleted_while_waiting(no_sleep):
    want, dummy = desired()
    c = client(get=[None, None])
    c.create.side_effect = lambda path, body: dict(body, metadata=dict(body["metadata"], resourceVersion="1"))
    with pytest.raises(WaitFailed) as e:
        converge(c, vm_network.SPEC, CONVERGE)
    assert str(e.value) == "gave up waiting for network default/platform to be ready: the network was deleted"
    assert e.value.last_seen == "no such network"


def test_converge_in_check_mode_reads_check_mode_from_the_client_and_does_not_wait():
    c = client(get=None, dry_run=True)
    c.create.side_effect = lambda path, body: dict(body, metadata=dict(body["metadata"], resourceVersion="1"))
    result = converge(c, vm_network.SPEC, CONVERGE)
    assert result["changed"] is True and not vm_network.ready(result["network"])
    assert c.get.call_count == 1  # the lookup only: no wait on a dry run


def test_converge_absent_answers_changed_and_diff_only():
    want, dummy = desired()
    c = client(get=[live_from(want), None])
    result = converge(c, vm_network.SPEC, dict(CONVERGE, state="absent"))
    assert set(result) == {"changed", "diff"} and result["changed"] is True
    assert result["diff"]["after"] == {} and result["diff"]["before"]["spec"]["config"]["vlan"] == 30


def test_converge_present_gives_the_object_before_and_after_the_wait(no_sleep):
    want, dummy = desired(vlan_id=31)
    before = live_from(desired()[0])
    c = client(get=[before, live_from(want, rv="8")])
    changed, was, after, diff = converge_present(c, vm_network.SPEC, dict(CONVERGE, vlan_id=31))
    assert changed is True and was is before
    assert vm_network.ready(after) and after["metadata"]["resourceVersion"] == "8"  # the wait's read
    assert (diff["before"]["spec"]["config"]["vlan"], diff["after"]["spec"]["config"]["vlan"]) == (30, 31)
