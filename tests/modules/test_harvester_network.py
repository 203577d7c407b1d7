# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_network against a real twin process, called in process as its action plugin calls it
(tests/modules/runner.py), and the twin's request log (/_twin/requests) says what reached the
API: idempotence with zero writes, check mode with only dryRun=All writes, diff, absent, waiting
for the ready label, immutable fields and recreate, bad input with no request at all, webhook
refusals, AWX-style K8S_AUTH_* credentials. Through ansible-playbook: module_defaults
(tests/integration/test_action_group.py), both execution paths (test_parity.py); the upstream CRD
run is in tests/integration/test_upstream_crds.py."""

from __future__ import annotations

import json

import pytest

from tests.catalogue.harvester_network import BAD_INPUTS, REFUSALS
from tests.modules.runner import accepted_writes, assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_network"
NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get_nad(twin, name):
    r = twin.session().get(twin.url(f"{NADS}/{name}"))
    return r.json() if r.status_code == 200 else None


VLAN30 = {"name": "platform", "vlan_id": 30, "route": {"mode": "auto"}, "description": "Talos control planes"}


def test_create_then_unchanged_with_zero_writes(twin):
    (first,), reqs = play(twin, [VLAN30], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    labels = first["network"]["metadata"]["labels"]  # waited for the controller's labels
    assert labels["network.harvesterhci.io/ready"] == "true" and labels["network.harvesterhci.io/vlan-id"] == "30"
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["spec"]["config"] == {
        "cniVersion": "0.3.1", "name": "platform", "type": "bridge", "bridge": "mgmt-br", "promiscMode": True, "vlan": 30, "ipam": {}}
    assert [r["method"] for r in writes(reqs)] == ["POST"]
    live = get_nad(twin, "platform")
    assert live["spec"]["config"] == ('{"cniVersion":"0.3.1","name":"platform","type":"bridge","bridge":"mgmt-br",'
                                      '"promiscMode":true,"vlan":30,"ipam":{}}')
    assert live["metadata"]["annotations"]["field.cattle.io/description"] == "Talos control planes"

    (second,), reqs = play(twin, [VLAN30])
    assert second["changed"] is False, second
    assert writes(reqs) == []
    assert [r["method"] for r in reqs] == ["GET"]  # one read per object on a no-op run


def test_check_mode_reports_changes_and_stores_nothing(twin):
    (create,), reqs = play(twin, [VLAN30], check=True, diff=True)
    assert create["changed"] is True and not create.get("failed"), create
    assert writes(reqs) and stored_writes(reqs) == []
    assert get_nad(twin, "platform") is None
    assert create["diff"]["after"]["spec"]["config"]["vlan"] == 30

    play(twin, [VLAN30])
    (update, delete), reqs = play(twin, [dict(VLAN30, vlan_id=31), {"name": "platform", "state": "absent"}],
                                  check=True)
    assert update["changed"] is True and delete["changed"] is True
    assert [r["method"] for r in accepted_writes(reqs)] == ["PATCH", "DELETE"] and stored_writes(reqs) == []
    assert json.loads(get_nad(twin, "platform")["spec"]["config"])["vlan"] == 30


def test_check_mode_surfaces_the_webhooks_answer(twin):
    (result,), reqs = play(twin, [{"name": "lab-uplink", "state": "absent"}], check=True)
    assert result["failed"] and "denied the request" in result["msg"]
    assert stored_writes(reqs) == []


def test_diff_of_an_update_shows_only_managed_fields(twin):
    play(twin, [VLAN30])
    (result,), reqs = play(twin, [dict(VLAN30, vlan_id=31, description="")], diff=True)
    assert result["changed"] is True, result
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["spec"]["config"]["vlan"] == 30 and after["spec"]["config"]["vlan"] == 31
    assert before["metadata"]["annotations"]["field.cattle.io/description"] == "Talos control planes"
    assert "field.cattle.io/description" not in after["metadata"]["annotations"]
    assert "labels" not in before["metadata"] and "status" not in before  # server-owned, never shown
    [patch] = accepted_writes(reqs)
    assert patch["method"] == "PATCH"
    live = get_nad(twin, "platform")
    assert json.loads(live["spec"]["config"])["vlan"] == 31
    assert "field.cattle.io/description" not in live["metadata"]["annotations"]
    (again,), reqs = play(twin, [dict(VLAN30, vlan_id=31, description="")])
    assert again["changed"] is False and writes(reqs) == []


def test_state_absent_twice(twin):
    play(twin, [VLAN30])
    gone = {"name": "platform", "state": "absent"}
    (first, second), reqs = play(twin, [gone, gone], diff=True)
    assert first["changed"] is True and second["changed"] is False
    assert first["diff"]["before"]["spec"]["config"]["vlan"] == 30 and first["diff"]["after"] == {}
    assert [r["method"] for r in writes(reqs)] == ["DELETE"]
    assert get_nad(twin, "platform") is None  # waited for the finalizer


def test_immutable_change_refused_then_recreated(twin):
    cn = {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "ClusterNetwork", "metadata": {"name": "data"}}
    twin.session().post(twin.url("/apis/network.harvesterhci.io/v1beta1/clusternetworks"), json=cn).raise_for_status()
    play(twin, [{"name": "flat"}])
    moved = {"name": "flat", "cluster_network": "data", "wait": False}
    (refused, recreated), reqs = play(twin, [moved, dict(moved, recreate=True)])
    assert refused["failed"] and refused["field"] == "cluster_network"
    assert refused["msg"] == ("cluster_network of NetworkAttachmentDefinition default/flat cannot be changed in place "
                              "(mgmt -> data); set recreate=true to delete and create it again")
    assert recreated["changed"] is True and not recreated.get("failed"), recreated
    assert [r["method"] for r in writes(reqs)] == ["DELETE", "POST"]
    assert json.loads(get_nad(twin, "flat")["spec"]["config"])["bridge"] == "data-br"


def test_labels_are_set_changed_and_removed_key_by_key(twin):
    tagged = dict(VLAN30, labels={"app.kubernetes.io/managed-by": "homelab.harvester.vlans", "team": "platform"})
    (created,), dummy = play(twin, [tagged])
    labels = get_nad(twin, "platform")["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "homelab.harvester.vlans" and labels["team"] == "platform"
    assert labels["network.harvesterhci.io/ready"] == "true"  # the controller's labels stay

    (same, dropped), reqs = play(twin, [tagged, dict(VLAN30, labels={"team": None})], diff=True)
    assert same["changed"] is False
    assert dropped["changed"] is True
    assert dropped["diff"]["before"]["metadata"]["labels"] == {"team": "platform"}
    assert "labels" not in dropped["diff"]["after"]["metadata"]
    assert [r["method"] for r in writes(reqs)] == ["PATCH"]
    labels = get_nad(twin, "platform")["metadata"]["labels"]
    assert "team" not in labels and labels["app.kubernetes.io/managed-by"] == "homelab.harvester.vlans"


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)


def test_a_cluster_network_that_does_not_exist_is_refused_after_one_read_before_any_write(twin):
    results, reqs = play(twin, [args for args, message in REFUSALS])
    for (_args, message), result in zip(REFUSALS, results, strict=True):
        assert result["failed"] and message in result["msg"] and result["option"] == "cluster_network", result
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("GET", "/apis/network.harvesterhci.io/v1beta1/clusternetworks/nope")]


def test_webhook_refusal_is_one_clean_line(twin):
    (result,), reqs = play(twin, [{"name": "lab-uplink", "state": "absent"}])
    assert result["failed"]
    assert result["msg"] == (
        "DELETE network-attachment-definitions/default/lab-uplink: 500 InternalError: admission webhook "
        "\"validator.harvester-system.harvester-network-webhook\" denied the request: can't delete nad "
        "default/lab-uplink because it's still used by VM(s) default/lab-router which must be stopped at first")
    assert result["status"] == 500 and "\n" not in result["msg"]
    assert [r["method"] for r in writes(reqs)] == ["DELETE"]  # a webhook denial is not retried
    assert get_nad(twin, "lab-uplink") is not None


def test_awx_style_environment_credentials(twin, tmp_path):
    env = {"K8S_AUTH_HOST": twin.server, "K8S_AUTH_API_KEY": twin.token, "K8S_AUTH_VERIFY_SSL": "True",
           "K8S_AUTH_SSL_CA_CERT": str(twin.ca_file), "HOME": str(tmp_path)}  # no ~/.kube/config to fall back on
    (result,), dummy = play(twin, [{"name": "awx", "vlan_id": 40}], env=env, kubeconfig=False)
    assert result["changed"] is True and not result.get("failed"), result
    assert twin.token not in json.dumps(result)
