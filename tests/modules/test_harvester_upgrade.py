# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_upgrade in process (tests/modules/runner.py) against a twin process whose upgrade
controller walks an Upgrade through Harvester's phases and node states, and the twin's request log
says what reached the API: an upgrade to completion (the Version created from an ISO the test
serves, the server version moved, every phase and node state in the returned progress), a second run
without writes, an injected failure reported with its message and then retried, each pre-flight
blocker (a cordoned node, a degraded volume, an upgrade in progress, a pending cleanup) and all of
them at once with zero writes, a running upgrade followed instead of a second one, check mode
storing nothing, ``state: absent``, and bad input with no request."""

from __future__ import annotations

import json
import socket

import pytest

from tests.catalogue.harvester_upgrade import BAD_INPUTS
from tests.integration import image_files
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes
from tests.twin.tests.conftest import wait_for

pytestmark = [pytest.mark.twin]
TWIN_ARGS = ["--speed", "50"]  # the upgrade controller walks its phases and node states on the twin clock

MODULE = "harvester_upgrade"
NS = "harvester-system"
API = "/apis/harvesterhci.io/v1beta1"
VERSIONS = f"{API}/namespaces/{NS}/versions"
UPGRADES = f"{API}/namespaces/{NS}/upgrades"
SERVER_VERSION = f"{API}/settings/server-version"
UPGRADE_CONFIG = f"{API}/settings/upgrade-config"
VOLUMES = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes"
ROUTER_VOLUME = "pvc-0b6f1d2c-7a43-4e55-9b1e-3c8d2a7f4e10"
MERGE = {"Content-Type": "application/merge-patch+json"}
NODES = ["ms02-1", "ms02-2", "ms02-3"]
PHASES = ["PreparingLoggingInfra", "LoggingInfraPrepared", "PreparingRepo", "RepoPrepared", "PreparingNodes",
          "UpgradingSystemServices", "UpgradingNodes", "Succeeded"]
NODE_STEPS = ["Images preloading", "Images preloaded", "Pre-draining", "Pre-drained", "Post-draining", "Waiting Reboot",
              "Succeeded"]
FAILURE = {"reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def post(twin, path, body):
    r = twin.session().post(twin.url(path), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def to(files, **extra):
    """Upgrade to v1.9.0, creating its Version from the served ISO."""
    return {"version": "v1.9.0", "iso_url": f"{files}/disk.img", "iso_checksum": image_files.DISK_SHA512, **extra}


def make_version(twin, files, name="v1.9.0"):
    return post(twin, VERSIONS, {"apiVersion": "harvesterhci.io/v1beta1", "kind": "Version", "metadata": {"name": name},
                                 "spec": {"isoURL": f"{files}/disk.img"}})


def make_upgrade(twin, version):
    return post(twin, UPGRADES, {"apiVersion": "harvesterhci.io/v1beta1", "kind": "Upgrade",
                                 "metadata": {"generateName": "hvst-upgrade-"}, "spec": {"version": version}})


def server_version(twin):
    setting = get(twin, SERVER_VERSION)
    return setting.get("value") or setting["default"]


def phases(result):
    return [e["state"] for e in result["progress"] if "node" not in e]


def node_steps(result, node):
    return [e["state"] for e in result["progress"] if e.get("node") == node]


def environment(twin, **facts):
    twin.session().patch(twin.url("/_twin/environment"), json=facts).raise_for_status()


def patch(twin, path, body):
    twin.session().patch(twin.url(path), json=body, headers=MERGE).raise_for_status()


def pause(twin, node):
    """Harvester's manual node-upgrade mode: new Upgrades wait before upgrading `node`."""
    config = json.loads(get(twin, UPGRADE_CONFIG)["default"])
    config["nodeUpgradeOption"] = {"strategy": {"mode": "manual", "pauseNodes": [node]}}
    patch(twin, UPGRADE_CONFIG, {"value": json.dumps(config)})


def unpause(twin, name, node):
    patch(twin, f"{UPGRADES}/{name}", {"metadata": {"annotations": {"harvesterhci.io/node-upgrade-pause-map": json.dumps({node: "unpause"})}}})


def labels(twin, name):
    return get(twin, f"{UPGRADES}/{name}")["metadata"].get("labels") or {}


def node_state(twin, name, node):
    return ((get(twin, f"{UPGRADES}/{name}").get("status") or {}).get("nodeStatuses") or {}).get(node, {}).get("state")


def until(fn, what):
    return wait_for(fn, what, timeout=30)


def test_upgrade_to_completion_then_a_second_run_writes_nothing(twin, files):
    (done,), reqs = play(twin, [to(files)], diff=True)
    assert done["changed"] is True and not done.get("failed"), done
    assert done["state"] == "Succeeded" and done["version"] == "v1.9.0" and done["version_created"] is True
    assert done["previous_version"] == "v1.8.2" and done["server_version"] == "v1.9.0" == server_version(twin)
    assert done["name"].startswith("hvst-upgrade-") and done["upgrade"]["metadata"]["name"] == done["name"]
    assert done["node_statuses"] == {n: {"state": "Succeeded", "reason": "", "message": ""} for n in NODES}
    assert phases(done) == PHASES  # the watch sees every phase, however short
    for node in NODES:
        assert node_steps(done, node) == NODE_STEPS, node
    stamps = [e["time"] for e in done["progress"]]
    assert stamps == sorted(stamps) and all(s.endswith("Z") and "T" in s for s in stamps)
    # in the order the cluster went through them: every node's Succeeded before the overall one, which is last
    last_node = max(i for i, e in enumerate(done["progress"]) if e.get("node") and e.get("state") == "Succeeded")
    (overall,) = [i for i, e in enumerate(done["progress"]) if not e.get("node") and e.get("state") == "Succeeded"]
    assert last_node < overall == len(done["progress"]) - 1, [e["msg"] for e in done["progress"]]
    assert done["blockers"] == [] and done["cleanup"] in ("Pending", "Succeeded")
    assert done["diff"] == {"before": {"server_version": "v1.8.2"}, "after": {"server_version": "v1.9.0"}}
    assert [(r["method"], r["path"]) for r in writes(reqs)] == [("POST", VERSIONS), ("POST", UPGRADES)]
    version = get(twin, f"{VERSIONS}/v1.9.0")
    assert version["spec"] == {"isoURL": f"{files}/disk.img", "isoChecksum": image_files.DISK_SHA512}

    (again,), reqs = play(twin, [to(files)])
    assert again["changed"] is False and not again.get("failed"), again
    assert again["state"] == "Succeeded" and again["name"] == done["name"] and again["server_version"] == "v1.9.0"
    assert writes(reqs) == []


def test_an_injected_failure_fails_the_task_with_its_message_and_a_rerun_retries(twin, files):
    environment(twin, upgrade_failures={"ms02-2": FAILURE})
    (failed,), reqs = play(twin, [to(files, log_enabled=False)])
    assert failed.get("failed"), failed
    assert failed["msg"] == (f"upgrade {failed['name']} to v1.9.0 failed: NodesUpgraded: node ms02-2: "
                             "Job has reached the specified backoff limit")
    assert failed["state"] == "Failed" and failed["changed"] is True
    assert failed["node_statuses"]["ms02-2"] == {"state": "Failed", **FAILURE}
    assert failed["node_statuses"]["ms02-1"]["state"] == "Succeeded"
    assert phases(failed)[-2:] == ["UpgradingNodes", "Failed"] and "PreparingLoggingInfra" not in phases(failed)
    seen = f"upgrade {failed['name']}: node ms02-2 Failed ({FAILURE['reason']}: {FAILURE['message']})"
    assert {"msg": seen, "node": "ms02-2", "state": "Failed", **FAILURE} in [
        {k: v for k, v in e.items() if k != "time"} for e in failed["progress"]]
    assert failed["upgrade"]["spec"]["logEnabled"] is False
    assert [r["method"] for r in writes(reqs)] == ["POST", "POST"]
    # the system services were upgraded (server-version moved) but not every node: a rerun upgrades again
    assert server_version(twin) == "v1.9.0"
    environment(twin, upgrade_failures=None)
    # the module reports the failure the moment it happens; Harvester's post-upgrade cleanup of the
    # failed upgrade comes after, and until then it refuses the next one (the pre-flight says so)
    until(lambda: labels(twin, failed["name"]).get("harvesterhci.io/upgradeCleanup") == "Succeeded",
          "the failed upgrade's cleanup")
    (retried,), reqs = play(twin, [to(files)])
    assert retried["changed"] is True and retried["state"] == "Succeeded", retried
    assert retried["name"] != failed["name"] and retried["version_created"] is False
    assert [(r["method"], r["path"]) for r in writes(reqs)] == [("POST", UPGRADES)]


def test_a_failure_before_the_nodes_leaves_the_version_and_names_the_condition(twin, files):
    environment(twin, upgrade_failures={"UpgradingSystemServices": "helm upgrade of the harvester chart timed out"})
    (failed,), dummy = play(twin, [to(files)])
    assert failed.get("failed") and failed["msg"].endswith(
        "failed: SystemServicesUpgraded: helm upgrade of the harvester chart timed out"), failed
    assert server_version(twin) == "v1.8.2" and failed["server_version"] == "v1.8.2"


def test_a_running_upgrade_is_followed_not_started_twice(twin, files):
    pause(twin, "ms02-3")
    make_version(twin, files)
    name = make_upgrade(twin, "v1.9.0")["metadata"]["name"]
    (followed,), reqs = play(twin, [{"version": "v1.9.0", "wait_timeout": 3}])
    assert followed.get("failed") and followed["name"] == name, followed
    assert followed["msg"].startswith(f"timed out after 3 s following upgrade {name}; last seen: state ")
    assert followed["progress"] and writes(reqs) == []
    until(lambda: node_state(twin, name, "ms02-3") == "Node-upgrade paused", "ms02-3 paused")
    unpause(twin, name, "ms02-3")
    (done,), reqs = play(twin, [{"version": "v1.9.0"}])
    assert done["changed"] is False and done["state"] == "Succeeded" and done["name"] == name, done
    assert writes(reqs) == [] and len(get(twin, UPGRADES)["items"]) == 1


def cordon(twin, files):
    twin.kubectl("cordon", "ms02-2")
    return ""


def degrade(twin, files):
    patch(twin, f"{VOLUMES}/{ROUTER_VOLUME}", {"spec": {"numberOfReplicas": 4}})  # no fourth node: it stays degraded
    until(lambda: (get(twin, f"{VOLUMES}/{ROUTER_VOLUME}")["status"] or {}).get("robustness") == "degraded", "degraded")
    return ""


def other_upgrade(twin, files):
    pause(twin, "ms02-1")  # it stays in progress
    make_version(twin, files, "v1.8.9")
    return make_upgrade(twin, "v1.8.9")["metadata"]["name"]


@pytest.mark.parametrize("blocker, expected", [
    (cordon, "node ms02-2 is cordoned (unschedulable)"),
    (degrade, f"Longhorn volume {ROUTER_VOLUME} (PVC default/"),
    (other_upgrade, "upgrade {} to v1.8.9 is in progress (state "),
])
def test_each_blocker_fails_before_any_write(twin, files, blocker, expected):
    expected = expected.format(blocker(twin, files))
    before = len(get(twin, UPGRADES)["items"])
    (refused,), reqs = play(twin, [to(files)])
    assert refused.get("failed"), refused
    assert refused["msg"].startswith("cannot upgrade to v1.9.0: ") and refused["msg"].endswith("; nothing was changed")
    assert len(refused["blockers"]) == 1 and refused["blockers"][0].startswith(expected), refused["blockers"]
    assert writes(reqs) == []
    assert get(twin, f"{VERSIONS}/v1.9.0") is None and len(get(twin, UPGRADES)["items"]) == before


def test_every_blocker_named_at_once_also_in_check_mode(twin, files):
    environment(twin, upgrade_failures={"cleanup": "the repo VM could not be deleted"})
    make_version(twin, files, "v1.8.9")
    old = make_upgrade(twin, "v1.8.9")["metadata"]["name"]
    until(lambda: labels(twin, old).get("harvesterhci.io/upgradeState") == "Succeeded", "the first upgrade done")
    cordon(twin, files)
    degrade(twin, files)
    for check in (False, True):
        (refused,), reqs = play(twin, [{"version": "v1.9.0"}], check=check)
        assert refused.get("failed"), refused
        assert refused["blockers"][:3] == [
            f"upgrade {old} waits for its post-upgrade cleanup (harvesterhci.io/upgradeCleanup=Pending)",
            "Version v1.9.0 does not exist in harvester-system; give iso_url (and iso_checksum) to create it",
            "node ms02-2 is cordoned (unschedulable)",
        ], refused["blockers"]
        assert len(refused["blockers"]) == 4
        assert refused["blockers"][3].startswith(f"Longhorn volume {ROUTER_VOLUME} (PVC default/")
        assert refused["blockers"][3].endswith(") is degraded")
        assert all(b in refused["msg"] for b in refused["blockers"])
        assert writes(reqs) == []


def test_check_mode_stores_nothing(twin, files):
    (predicted,), reqs = play(twin, [to(files)], check=True, diff=True)
    assert predicted["changed"] is True and predicted["version_created"] is True and not predicted.get("failed"), predicted
    assert predicted["upgrade"]["metadata"]["generateName"] == "hvst-upgrade-" and predicted["progress"] == []
    assert predicted["diff"] == {"before": {"server_version": "v1.8.2"}, "after": {"server_version": "v1.9.0"}}
    assert [(r["method"], r["path"]) for r in writes(reqs)] == [("POST", VERSIONS)]  # no Version stored: no Upgrade dry run
    assert stored_writes(reqs) == [] and get(twin, f"{VERSIONS}/v1.9.0") is None

    make_version(twin, files)
    (predicted,), reqs = play(twin, [{"version": "v1.9.0"}], check=True)
    assert predicted["changed"] is True and predicted["version_created"] is False, predicted
    assert predicted["name"].startswith("hvst-upgrade-")  # the dry-run answer, named by the server
    assert [(r["method"], r["path"]) for r in writes(reqs)] == [("POST", UPGRADES)] and stored_writes(reqs) == []
    assert get(twin, UPGRADES)["items"] == [] and server_version(twin) == "v1.8.2"


def test_a_different_existing_version_is_a_blocker(twin, files):
    make_version(twin, files)
    (refused,), reqs = play(twin, [to(files, iso_url=f"{files}/other.img")])
    assert refused.get("failed") and refused["blockers"] == [
        f"Version v1.9.0 exists with isoURL {files}/disk.img, not {files}/other.img (this module does not change Versions)",
        "Version v1.9.0 exists with another isoChecksum (this module does not change Versions)"]
    assert writes(reqs) == []


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_without_wait_and_then_absent_cancels_an_upgrade_stuck_on_its_iso(twin, files):
    """An ISO URL that does not answer: Harvester's image fails to initialize and the upgrade waits
    for it (ImageReady Unknown) until it is deleted."""
    stuck = {"version": "v1.9.0", "iso_url": f"http://127.0.0.1:{closed_port()}/harvester.iso", "wait": False}
    (started, removed, again), reqs = play(twin, [stuck, {"version": "v1.9.0", "state": "absent"},
                                                  {"version": "v1.9.0", "state": "absent"}], diff=True)
    assert started["changed"] is True and started["state"] in ("", "PreparingLoggingInfra"), started
    assert removed["changed"] is True and removed["deleted"] == [started["name"]], removed
    assert removed["diff"] == {"before": {"upgrades": [started["name"]]}, "after": {"upgrades": []}}
    assert again["changed"] is False and again["deleted"] == []
    assert [r["method"] for r in writes(reqs)] == ["POST", "POST", "DELETE"]
    assert get(twin, UPGRADES)["items"] == []


def test_absent_is_refused_by_harvester_while_nodes_upgrade(twin, files):
    pause(twin, "ms02-1")
    make_version(twin, files)
    name = make_upgrade(twin, "v1.9.0")["metadata"]["name"]
    until(lambda: labels(twin, name).get("harvesterhci.io/upgradeState") == "UpgradingNodes", "the node upgrade")
    (refused,), reqs = play(twin, [{"version": "v1.9.0", "state": "absent"}])
    assert refused.get("failed") and refused["msg"].endswith(
        "400 BadRequest: admission webhook \"validator.harvesterhci.io\" denied the request: node upgrade is in "
        "progressing, please wait for it to be provisioned"), refused
    assert get(twin, f"{UPGRADES}/{name}") is not None


def test_an_upgrade_from_an_image(twin, files):
    post(twin, f"{API}/namespaces/default/virtualmachineimages", {
        "apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
        "metadata": {"name": "harvester-iso", "namespace": "default"},
        "spec": {"displayName": "harvester-v1.9.0-amd64.iso", "sourceType": "download", "url": f"{files}/other.img"}})
    (done, again), reqs = play(twin, [{"image": "default/harvester-iso"}, {"image": "default/harvester-iso"}])
    assert done["changed"] is True and done["state"] == "Succeeded", done
    assert done["version"] == "v1.9.0" and done["upgrade"]["spec"] == {"image": "default/harvester-iso", "logEnabled": True}
    assert again["changed"] is False, again
    assert [r["path"] for r in writes(reqs)] == [UPGRADES]


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)
