# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/health.py: what each part of the report makes of an API
object, which states are problems, and one list request per kind (on a mock client)."""

from __future__ import annotations

from ansible_collections.homelab.harvester.plugins.module_utils import health, kinds
from ansible_collections.homelab.harvester.plugins.module_utils.errors import NotFound


def vol(name, state, robustness, pvc=None):
    status = {"state": state, "robustness": robustness, "currentNodeID": "ms02-1" if state == "attached" else ""}
    if pvc:
        status["kubernetesStatus"] = {"namespace": "default", "pvcName": pvc}
    return {"metadata": {"name": name}, "spec": {"numberOfReplicas": 3, "size": "1024"}, "status": status}


def test_volume_problems():
    assert health.volume_problems(health.volume(vol("a", "attached", "healthy"))) == []
    assert health.volume_problems(health.volume(vol("b", "detached", "unknown"))) == []
    assert health.volume_problems(health.volume(vol("c", "attached", "degraded", pvc="vm-disk"))) == [
        "volume c (PVC default/vm-disk) is degraded"]
    assert health.volume_problems(health.volume(vol("d", "detached", "faulted"))) == ["volume d is faulted"]
    assert health.volume_problems(health.volume(vol("e", "attached", "unknown"))) == ["volume e is attached but unknown"]
    assert health.volume(vol("b", "detached", "unknown"))["node"] is None


def test_settings_are_masked_and_not_configured_is_a_problem():
    backup = {"metadata": {"name": "backup-target"}, "default": "",
              "value": '{"type":"s3","accessKeyId":"AKIA","secretAccessKey":"SECRET","bucketName":"b"}',
              "status": {"conditions": [{"type": "configured", "status": "False", "message": "cannot reach the bucket"}]}}
    info = health.setting(backup)
    assert "SECRET" not in info["value"] and "SECRET" not in info["effective"]
    assert health.setting_problems(info) == ["setting backup-target is not applied: cannot reach the bucket"]
    version = health.setting({"metadata": {"name": "server-version"}, "default": "dev", "value": "v1.8.2"})
    assert version["effective"] == "v1.8.2" and health.setting_problems(version) == []


def test_image_failure_and_progress():
    failed = {"metadata": {"name": "talos", "namespace": "default"}, "spec": {"displayName": "talos"},
              "status": {"progress": 40, "conditions": [
                  {"type": "RetryLimitExceeded", "status": "True", "message": "too many"},
                  {"type": "Imported", "status": "False", "message": "checksum mismatch"}]}}
    info = health.image_info(failed)
    assert (info["imported"], info["progress"], info["failure"]) == (False, 40, "checksum mismatch")
    assert health.image_problems(info) == ["image default/talos failed: checksum mismatch"]


def test_upgrade_states():
    def up(state, message=None):
        conds = [{"type": "Completed", "status": "False", "message": message}] if message else []
        return health.upgrade({"metadata": {"name": "hvst-upgrade-x", "labels": {health.LABEL_UPGRADE_STATE: state}},
                               "spec": {"version": "v1.8.3"}, "status": {"conditions": conds}})
    assert health.upgrade_problems(up("Succeeded")) == []
    assert health.upgrade_problems(up("UpgradingNodes")) == ["upgrade hvst-upgrade-x to v1.8.3 is in progress (UpgradingNodes)"]
    assert health.upgrade_problems(up("Failed", "node ms02-2 failed")) == [
        "upgrade hvst-upgrade-x to v1.8.3 failed: node ms02-2 failed"]
    assert health.upgrade_problems(health.upgrade(None)) == []


def test_cluster_states():
    def cl(available, paused=False, message=None):
        return health.cluster({"metadata": {"name": "platform", "namespace": "capi"}, "spec": {"paused": paused},
                               "status": {"phase": "Provisioned", "conditions": [
                                   {"type": "Available", "status": available, "message": message}]}})
    assert health.cluster_problems(cl("True")) == []
    assert health.cluster_problems(cl("True", paused=True)) == ["cluster capi/platform is paused"]
    assert health.cluster_problems(cl("False", message="1 of 3 machines ready")) == [
        "cluster capi/platform is not available (phase Provisioned): 1 of 3 machines ready"]


class Client:
    """Answers list requests from a path -> items map; a path it does not know is a 404."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def list(self, path, label_selector=None):
        self.calls.append(path)
        if path not in self.answers:
            raise NotFound(404, "NotFound", "not found", path=path, method="GET")
        return self.answers[path]


def test_gather_reads_one_list_per_kind_and_tolerates_a_missing_kind():
    client = Client({kinds.LONGHORN_VOLUME.path(kinds.LONGHORN_NAMESPACE): [vol("a", "attached", "degraded")],
                     kinds.HARVESTER_SETTING.path(): [], kinds.VM_IMAGE.path(): [],
                     kinds.UPGRADE.path(kinds.HARVESTER_NAMESPACE): []})
    report, problems = health.gather(client, ["volumes", "settings", "images", "upgrade", "clusters"])
    assert problems == ["volume a is degraded"]
    assert report["clusters"] == [] and report["upgrade"] is None  # Cluster API not installed here: no problem
    assert len(client.calls) == len(set(client.calls)) == 5


def test_longhorn_scheduling_disabled_on_every_node_is_one_more_problem():
    def info(allow):
        return {"name": "n", "longhorn": {"allow_scheduling": allow}}
    assert health.scheduling_problems([info(False), info(False)]) == [
        "Longhorn: scheduling is disabled on every node (2): no volume can get a new replica"]
    assert health.scheduling_problems([info(False), info(True)]) == []
    assert health.scheduling_problems([{"name": "n", "longhorn": None}]) == []
