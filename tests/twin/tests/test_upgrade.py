"""Harvester's upgrade area in the twin (harvester-api.md §6): the Version and Upgrade webhooks,
and the Upgrade's walk through its state labels, conditions and per-node states to Succeeded or
Failed, with the post-upgrade cleanup, the upgrade image downloaded from the Version's ISO URL,
injected failures, manual node pausing and deletion. Black-box: kubectl, requests and the
kubernetes dynamic client's watch (which sees every transition)."""
from __future__ import annotations

import json
import socket
import time

import pytest

from tests.integration import image_files

from .conftest import read_or_none as get
from .conftest import status_of, wait_for

NS = "harvester-system"
API = "/apis/harvesterhci.io/v1beta1"
VERSIONS = f"{API}/namespaces/{NS}/versions"
UPGRADES = f"{API}/namespaces/{NS}/upgrades"
IMAGES = f"{API}/namespaces/{NS}/virtualmachineimages"
SETTINGS = f"{API}/settings"
NODES = "/api/v1/nodes"
VOLUMES = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes"
ROUTER_VOLUME = "pvc-0b6f1d2c-7a43-4e55-9b1e-3c8d2a7f4e10"
MERGE = {"Content-Type": "application/merge-patch+json"}
STATE = "harvesterhci.io/upgradeState"
CLEANUP = "harvesterhci.io/upgradeCleanup"
LATEST = "harvesterhci.io/latestUpgrade"
DENIED = 'admission webhook "validator.harvesterhci.io" denied the request: '
NODE_NAMES = ["ms02-1", "ms02-2", "ms02-3"]
PHASES = ["PreparingLoggingInfra", "LoggingInfraPrepared", "PreparingRepo", "RepoPrepared", "PreparingNodes",
          "UpgradingSystemServices", "UpgradingNodes", "Succeeded"]
NODE_STEPS = ["Images preloading", "Images preloaded", "Pre-draining", "Pre-drained", "Post-draining", "Waiting Reboot",
              "Succeeded"]


@pytest.fixture(scope="module")
def files():
    with image_files.serve() as url:
        yield url


# ------------------------------------------------------------------------------------ helpers
def version(name="v1.9.0", url="http://127.0.0.1:9/harvester.iso", **spec):
    return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "Version", "metadata": {"name": name},
            "spec": {"isoURL": url, **spec}}


def upgrade(annotations=None, **spec):
    meta = {"generateName": "hvst-upgrade-"}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "Upgrade", "metadata": meta, "spec": spec}


def post(twin, path, body):
    return twin.session().post(twin.url(path), json=body)


def patch(twin, path, body):
    r = twin.session().patch(twin.url(path), json=body, headers=MERGE)
    assert r.status_code == 200, r.text
    return r.json()


def start(twin, files, *, annotations=None, version_spec=None, **spec):
    """A Version v1.9.0 whose ISO the file server has (created once), then an Upgrade to it."""
    if get(twin, f"{VERSIONS}/v1.9.0") is None:
        body = version(url=f"{files}/disk.img", isoChecksum=image_files.DISK_SHA512, **(version_spec or {}))
        assert post(twin, VERSIONS, body).status_code == 201
    spec = spec or {"version": "v1.9.0"}
    r = post(twin, UPGRADES, upgrade(annotations, **spec))
    assert r.status_code == 201, r.text
    return r.json()


def labels(obj):
    return obj["metadata"].get("labels") or {}


def cond(obj, type_):
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


def node_states(obj):
    return {n: s.get("state") for n, s in ((obj.get("status") or {}).get("nodeStatuses") or {}).items()}


def history(twin, created, until, timeout=40):
    """Every version of the Upgrade from its creation until until(obj), through a watch."""
    api = twin.dynamic().resources.get(api_version="harvesterhci.io/v1beta1", kind="Upgrade")
    name, rv = created["metadata"]["name"], created["metadata"]["resourceVersion"]
    seen = [created]
    deadline = time.monotonic() + timeout
    while not until(seen[-1]):
        assert time.monotonic() < deadline, f"upgrade {name}: last seen {labels(seen[-1])} {node_states(seen[-1])}"
        for event in api.watch(namespace=NS, field_selector=f"metadata.name={name}", resource_version=rv,
                               timeout=max(1, int(deadline - time.monotonic()))):
            obj = event["raw_object"]
            rv = obj["metadata"]["resourceVersion"]
            seen.append(obj)
            if until(obj):
                break
    return seen


def distinct(values):
    out = []
    for v in values:
        if not out or out[-1] != v:
            out.append(v)
    return out


def cleaned(obj):
    return labels(obj).get(CLEANUP) == "Succeeded"


def finished(obj):
    return labels(obj).get(STATE) in ("Succeeded", "Failed")


def fail_with(twin, failures):
    r = twin.session().patch(twin.url("/_twin/environment"), json={"upgrade_failures": failures})
    r.raise_for_status()


def refusal(response, code):
    assert response.status_code == code, response.text
    return status_of(response)["message"].removeprefix(DENIED)


# ------------------------------------------------------------------------------------ the Version webhook
@pytest.mark.parametrize("spec, annotations, message", [
    ({"isoChecksum": "ABC"}, None, "invalid isoChecksum ABC"),
    ({"isoChecksum": image_files.DISK_SHA512.upper()}, None, f"invalid isoChecksum {image_files.DISK_SHA512.upper()}"),
    ({}, {"harvesterhci.io/skipGarbageCollectionThresholdCheck": "yes"},
     "invalid value yes for annotation harvesterhci.io/skipGarbageCollectionThresholdCheck"),
    ({}, {"harvesterhci.io/minCertsExpirationInDay": "seven"},
     "invalid value seven for annotation harvesterhci.io/minCertsExpirationInDay"),
    ({}, {"harvesterhci.io/minCertsExpirationInDay": "0"},
     "invalid value 0 for annotation harvesterhci.io/minCertsExpirationInDay, it should be greater than 0"),
])
def test_version_webhook_refusals(twin, spec, annotations, message):
    body = version(**spec)
    if annotations:
        body["metadata"]["annotations"] = annotations
    assert refusal(post(twin, VERSIONS, body), 400) == message


def test_version_with_a_lower_case_sha512_and_kubectl_columns(twin):
    body = version(isoChecksum=image_files.DISK_SHA512, releaseDate="20260806", minUpgradableVersion="v1.7.0")
    body["metadata"]["annotations"] = {"harvesterhci.io/skipGarbageCollectionThresholdCheck": "True"}
    assert post(twin, VERSIONS, body).status_code == 201
    out = twin.kubectl("get", "versions.harvesterhci.io", "-n", NS).stdout
    assert out.split("\n")[0].split() == ["NAME", "ISO-URL", "RELEASEDATE", "MINUPGRADABLEVERSION"]
    assert out.split("\n")[1].split()[:4] == ["v1.9.0", "http://127.0.0.1:9/harvester.iso", "20260806", "v1.7.0"]
    r = twin.session().put(twin.url(f"{VERSIONS}/v1.9.0"), json=dict(get(twin, f"{VERSIONS}/v1.9.0"),
                                                                        spec={"isoURL": "x", "isoChecksum": "x"}))
    assert refusal(r, 400) == "invalid isoChecksum x"  # checked on updates too


# ------------------------------------------------------------------------------------ the Upgrade webhook
def test_upgrade_needs_a_version_or_an_image_and_the_version_must_exist(twin):
    assert refusal(post(twin, UPGRADES, upgrade()), 400) == "version or image field are not specified."
    assert refusal(post(twin, UPGRADES, upgrade(version="v1.9.0")), 400) == "version v1.9.0 is not found"
    post(twin, f"{API}/namespaces/default/versions", version())
    assert refusal(post(twin, UPGRADES, upgrade(version="v1.9.0")), 400) == "version v1.9.0 is not found"  # other namespace


def test_an_upgrade_in_progress_refuses_the_next_one_with_409(twin, files):
    first = start(twin, files)
    r = post(twin, UPGRADES, upgrade(version="v1.9.0"))
    assert refusal(r, 409) == f'cannot proceed until previous upgrade "{first["metadata"]["name"]}" completes'
    assert status_of(r)["reason"] == "Conflict"
    # even with skipWebhook: only the resource checks are skipped
    r = post(twin, UPGRADES, upgrade({"harvesterhci.io/skipWebhook": "true"}, version="v1.9.0"))
    assert r.status_code == 409, r.text


def test_a_pending_cleanup_refuses_the_next_one(twin, files):
    fail_with(twin, {"cleanup": "the repo VM could not be deleted"})
    first = start(twin, files)
    done = history(twin, first, finished)[-1]
    assert labels(done)[STATE] == "Succeeded" and labels(done)[CLEANUP] == "Pending"
    time.sleep(1.0)  # the cleanup has been tried (and failed) by now
    assert labels(get(twin, f"{UPGRADES}/{first['metadata']['name']}"))[CLEANUP] == "Pending"
    r = post(twin, UPGRADES, upgrade(version="v1.9.0"))
    assert refusal(r, 409) == f'cannot proceed until previous upgrade "{first["metadata"]["name"]}" cleanup completes'


def test_a_cordoned_node_refuses_the_upgrade(twin):
    post(twin, VERSIONS, version())
    twin.kubectl("cordon", "ms02-2")
    r = twin.kubectl("create", "-n", NS, "-f", "-", input=json.dumps(upgrade(version="v1.9.0")), check=False)
    assert r.returncode != 0
    assert "node ms02-2 is unschedulable, please wait for it to be schedulable" in r.stderr
    assert get(twin, UPGRADES)["items"] == []


def test_a_node_that_is_not_ready_refuses_the_upgrade(twin):
    post(twin, VERSIONS, version())
    node = get(twin, f"{NODES}/ms02-3")
    for c in node["status"]["conditions"]:
        if c["type"] == "Ready":
            c.update(status="False", reason="KubeletNotReady")
    assert twin.session().put(twin.url(f"{NODES}/ms02-3/status"), json=node).status_code == 200
    assert refusal(post(twin, UPGRADES, upgrade(version="v1.9.0")), 400) == \
        "node ms02-3 is not ready, please wait for it to be ready"


def test_a_degraded_volume_refuses_the_upgrade_unless_the_webhook_is_skipped(twin, files):
    patch(twin, f"{VOLUMES}/{ROUTER_VOLUME}", {"spec": {"numberOfReplicas": 4}})  # no fourth node: stays degraded
    wait_for(lambda: (get(twin, f"{VOLUMES}/{ROUTER_VOLUME}")["status"] or {}).get("robustness") == "degraded", "degraded")
    post(twin, VERSIONS, version(url=f"{files}/disk.img"))
    assert refusal(post(twin, UPGRADES, upgrade(version="v1.9.0")), 400) == \
        "there are degraded volumes, please check all volumes are healthy"
    assert post(twin, UPGRADES, upgrade({"harvesterhci.io/skipWebhook": "TRUE"}, version="v1.9.0")).status_code == 201


def test_a_backup_in_progress_refuses_the_upgrade(twin):
    post(twin, VERSIONS, version())
    # a backup to the NFS target moves 80 GiB of lab-builder's disk: in progress for about a clock
    # second, far longer than the next two requests take
    patch(twin, f"{SETTINGS}/backup-target", {"value": '{"type":"nfs","endpoint":"nfs://10.10.10.20:/volume1/harvester-backups"}'})
    backup = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineBackup",
              "metadata": {"name": "nightly", "namespace": "default"},
              "spec": {"type": "backup", "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "lab-builder"}}}
    r = post(twin, f"{API}/namespaces/default/virtualmachinebackups", backup)
    assert r.status_code == 201, r.text
    assert refusal(post(twin, UPGRADES, upgrade(version="v1.9.0")), 400) == \
        "please wait until all vmbackups are stopped, for example default/nightly is under processing"
    assert not (get(twin, f"{API}/namespaces/default/virtualmachinebackups/nightly").get("status") or {}).get("readyToUse")


def test_a_single_replica_volume_refuses_the_upgrade(twin):
    post(twin, VERSIONS, version())
    patch(twin, f"{VOLUMES}/{ROUTER_VOLUME}", {"spec": {"numberOfReplicas": 1}})
    r = post(twin, UPGRADES, upgrade(version="v1.9.0"))
    assert refusal(r, 422).startswith("Following PVCs with single-replica volume, even the volume is detached, upgrade may "
                                      "have potential data integrity concerns: default/")
    r = post(twin, UPGRADES, upgrade({"harvesterhci.io/skipSingleReplicaDetachedVol": "true"}, version="v1.9.0"))
    assert refusal(r, 422).startswith("Following PVCs with active single-replica volume")  # the router's volume is attached


# ------------------------------------------------------------------------------------ the progression
def test_upgrade_walks_every_state_node_by_node_to_succeeded_and_cleans_up(twin, files):
    before_nodes = {n: get(twin, f"{NODES}/{n}") for n in NODE_NAMES}
    created = start(twin, files)
    name = created["metadata"]["name"]
    assert name.startswith("hvst-upgrade-")
    seen = history(twin, created, cleaned)
    assert distinct(labels(o).get(STATE) for o in seen)[1:] == PHASES  # [0]: as created, no label yet
    for node in NODE_NAMES:
        assert distinct(node_states(o).get(node) for o in seen if node_states(o).get(node)) == NODE_STEPS, node
    busy = {"Pre-draining", "Pre-drained", "Post-draining", "Waiting Reboot"}
    assert all(sum(s in busy for s in node_states(o).values()) <= 1 for o in seen)  # one node at a time
    done = seen[-1]
    assert labels(done)[LATEST] == "true" and [labels(o).get(CLEANUP) for o in seen if labels(o).get(CLEANUP)][0] == "Pending"
    assert done["status"]["previousVersion"] == "v1.8.2"
    assert done["status"]["imageID"] == f"{NS}/{name}"
    assert "harvester: v1.9.0" in done["status"]["repoInfo"] and "singleNode" not in done["status"]
    assert [c["type"] for c in done["status"]["conditions"]] == [
        "Completed", "LogReady", "ImageReady", "RepoReady", "NodesPrepared", "SystemServicesUpgraded", "NodesUpgraded"]
    assert all(c["status"] == "True" for c in done["status"]["conditions"])
    assert done["metadata"]["finalizers"] == ["wrangler.cattle.io/harvester-upgrade-controller"]
    # the server version moved when the system services were upgraded
    version = get(twin, f"{SETTINGS}/server-version")
    assert (version["default"], version["value"]) == ("dev", "v1.9.0")
    nodes_done = next(o for o in seen if cond(o, "SystemServicesUpgraded").get("status") == "True")
    assert all(s == "Images preloaded" for s in node_states(nodes_done).values())
    for n in NODE_NAMES:
        node = get(twin, f"{NODES}/{n}")
        assert node["status"]["nodeInfo"]["osImage"] == "Harvester v1.9.0"
        assert before_nodes[n]["status"]["nodeInfo"]["osImage"] == "Harvester v1.8.2"
        assert not node["spec"].get("unschedulable") and "harvesterhci.io/pendingOSImage" not in node["metadata"]["annotations"]
    assert get(twin, f"{IMAGES}/{name}") is None  # the cleanup removed the upgrade image


def test_the_upgrade_image_is_made_from_the_version_and_downloaded(twin, files):
    created = start(twin, files)
    name = created["metadata"]["name"]
    img = wait_for(lambda: get(twin, f"{IMAGES}/{name}"), "the upgrade image")
    assert img["metadata"]["labels"]["harvesterhci.io/upgrade"] == name
    assert img["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
    assert img["spec"]["url"] == f"{files}/disk.img" and img["spec"]["checksum"] == image_files.DISK_SHA512
    assert img["spec"]["displayName"] == f"{name}-v1.9.0" and img["spec"]["sourceType"] == "download"
    seen = history(twin, created, lambda o: cond(o, "ImageReady").get("status") == "True")
    assert distinct(cond(o, "ImageReady").get("status") for o in seen) == [None, "Unknown", "True"]
    assert cond(get(twin, f"{IMAGES}/{name}"), "Imported")["status"] == "True"


def test_a_node_cordoned_while_it_is_drained(twin, files):
    created = start(twin, files)
    api = twin.dynamic().resources.get(api_version="v1", kind="Node")
    nodes = get(twin, NODES)
    assert not any(n["spec"].get("unschedulable") for n in nodes["items"])
    seen = history(twin, created, finished)
    cordons = []
    for event in api.watch(field_selector="metadata.name=ms02-2", resource_version=nodes["metadata"]["resourceVersion"], timeout=1):
        cordons.append(bool(event["raw_object"]["spec"].get("unschedulable")))
    assert distinct(cordons) == [True, False]
    # cordoned from Pre-drained until the reboot: the upgrade shows those states in between
    assert "Pre-drained" in {node_states(o).get("ms02-2") for o in seen}


def test_log_disabled_is_logready_false_disabled(twin, files):
    created = start(twin, files, version="v1.9.0", logEnabled=False)
    seen = history(twin, created, lambda o: cond(o, "ImageReady"))
    first = next(o for o in seen if labels(o).get(STATE))
    assert labels(first)[STATE] == "LoggingInfraPrepared"
    assert cond(first, "LogReady") | {"lastTransitionTime": "", "lastUpdateTime": ""} == {
        "type": "LogReady", "status": "False", "reason": "Disabled",
        "message": "Upgrade observability is administratively disabled", "lastTransitionTime": "", "lastUpdateTime": ""}


def test_latest_upgrade_label_moves_to_the_newest(twin, files):
    first = start(twin, files)
    history(twin, first, cleaned)
    second = start(twin, files)
    history(twin, second, lambda o: labels(o).get(LATEST) == "true")
    assert LATEST not in labels(get(twin, f"{UPGRADES}/{first['metadata']['name']}"))


def test_an_upgrade_from_an_uploaded_image(twin, files):
    body = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
            "metadata": {"name": "harvester-v1-9-0-iso", "namespace": "default"},
            "spec": {"displayName": "harvester-v1.9.0-amd64.iso", "sourceType": "download", "url": f"{files}/other.img"}}
    assert post(twin, f"{API}/namespaces/default/virtualmachineimages", body).status_code == 201
    r = post(twin, UPGRADES, upgrade(image="default/harvester-v1-9-0-iso"))
    assert r.status_code == 201, r.text
    done = history(twin, r.json(), finished)[-1]
    assert labels(done)[STATE] == "Succeeded"
    assert done["status"]["imageID"] == "default/harvester-v1-9-0-iso"
    img = get(twin, f"{API}/namespaces/default/virtualmachineimages/harvester-v1-9-0-iso")
    assert img["metadata"]["labels"]["harvesterhci.io/upgrade"] == done["metadata"]["name"]
    assert get(twin, f"{SETTINGS}/server-version")["value"] == "v1.9.0"  # the release the ISO's name says


def test_manual_node_pausing(twin, files):
    config = json.loads(get(twin, f"{SETTINGS}/upgrade-config")["default"])
    config["nodeUpgradeOption"] = {"strategy": {"mode": "manual", "pauseNodes": ["ms02-2"]}}
    patch(twin, f"{SETTINGS}/upgrade-config", {"value": json.dumps(config)})
    created = start(twin, files)
    assert json.loads(created["metadata"]["annotations"]["harvesterhci.io/node-upgrade-pause-map"]) == {"ms02-2": "pause"}
    name = created["metadata"]["name"]
    seen = history(twin, created, lambda o: node_states(o).get("ms02-2") == "Node-upgrade paused")
    time.sleep(1.0)
    paused = get(twin, f"{UPGRADES}/{name}")
    assert node_states(paused) == {"ms02-1": "Succeeded", "ms02-2": "Node-upgrade paused", "ms02-3": "Images preloaded"}
    patch(twin, f"{UPGRADES}/{name}", {"metadata": {"annotations": {"harvesterhci.io/node-upgrade-pause-map": '{"ms02-2":"unpause"}'}}})
    seen = history(twin, seen[-1], finished)
    assert labels(seen[-1])[STATE] == "Succeeded"


def test_preload_skip_marks_every_node_preloaded_at_once(twin, files):
    config = json.loads(get(twin, f"{SETTINGS}/upgrade-config")["default"])
    config["imagePreloadOption"] = {"strategy": {"type": "skip"}}
    patch(twin, f"{SETTINGS}/upgrade-config", {"value": json.dumps(config)})
    created = start(twin, files)
    seen = history(twin, created, lambda o: labels(o).get(STATE) == "UpgradingSystemServices")
    assert "Images preloading" not in {s for o in seen for s in node_states(o).values()}


# ------------------------------------------------------------------------------------ failures
@pytest.mark.parametrize("key, failed, condition", [
    ("PreparingRepo", "PreparingRepo", "RepoReady"),
    ("PreparingNodes", "PreparingNodes", "NodesUpgraded"),
    ("UpgradingSystemServices", "UpgradingSystemServices", "SystemServicesUpgraded"),
    ("ms02-2", "UpgradingNodes", "NodesUpgraded"),
])
def test_injected_failures_fail_the_upgrade_with_their_message(twin, files, key, failed, condition):
    fail_with(twin, {key: {"reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}})
    created = start(twin, files)
    seen = history(twin, created, cleaned)
    states = distinct(labels(o).get(STATE) for o in seen)
    assert states[-2:] == [failed, "Failed"]
    done = seen[-1]
    c = cond(done, condition)
    assert (c["status"], c["reason"], c["message"]) == ("False", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert cond(done, "Completed")["status"] == "False"
    server = get(twin, f"{SETTINGS}/server-version")["value"]
    assert server == ("v1.9.0" if failed == "UpgradingNodes" else "v1.8.2")
    if key == "ms02-2":
        assert node_states(done) == {"ms02-1": "Succeeded", "ms02-2": "Failed", "ms02-3": "Images preloaded"}
        assert done["status"]["nodeStatuses"]["ms02-2"]["message"] == "Job has reached the specified backoff limit"
        assert not get(twin, f"{NODES}/ms02-2")["spec"].get("unschedulable")  # it failed before the drain
    if key == "PreparingNodes":
        assert node_states(done) == {"ms02-1": "Failed"}
    # a failed upgrade does not block the next one once cleaned up
    fail_with(twin, {})
    assert post(twin, UPGRADES, upgrade(version="v1.9.0")).status_code == 201


def test_a_plain_message_gets_the_default_reason(twin, files):
    fail_with(twin, {"UpgradingSystemServices": "helm upgrade of harvester timed out"})
    done = history(twin, start(twin, files), finished)[-1]
    c = cond(done, "SystemServicesUpgraded")
    assert (c["reason"], c["message"]) == ("BackoffLimitExceeded", "helm upgrade of harvester timed out")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_iso_with_another_checksum_fails_the_image(twin, files):
    wrong = "0" * 128
    assert post(twin, VERSIONS, version(url=f"{files}/disk.img", isoChecksum=wrong)).status_code == 201
    r = post(twin, UPGRADES, upgrade(version="v1.9.0"))
    done = history(twin, r.json(), finished, timeout=60)[-1]
    assert labels(done)[STATE] == "Failed"
    c = cond(done, "ImageReady")
    assert c["status"] == "False" and c["message"].startswith("retry attempted 3/3 failed due to error: ")
    assert f"the expected checksum {wrong} doesn't match the file actual checksum {image_files.DISK_SHA512}" in c["message"]


def test_an_iso_url_that_does_not_answer_leaves_the_image_not_ready(twin):
    """Harvester's upgrade image handler only follows the image's Imported condition; a URL whose
    HEAD fails fails Initialized, so the upgrade waits with ImageReady Unknown."""
    url = f"http://127.0.0.1:{closed_port()}/harvester.iso"
    assert post(twin, VERSIONS, version(url=url)).status_code == 201
    r = post(twin, UPGRADES, upgrade(version="v1.9.0"))
    name = r.json()["metadata"]["name"]
    wait_for(lambda: cond(get(twin, f"{IMAGES}/{name}") or {}, "RetryLimitExceeded").get("status") == "True",
             "the image to give up", timeout=30)
    live = get(twin, f"{UPGRADES}/{name}")
    assert cond(live, "ImageReady")["status"] == "Unknown" and labels(live)[STATE] == "LoggingInfraPrepared"


def test_minimum_upgradable_version_is_checked_after_the_repo(twin, files):
    created = start(twin, files, version_spec={"minUpgradableVersion": "v1.8.5"})
    done = history(twin, created, finished)[-1]
    assert labels(done)[STATE] == "Failed"
    assert cond(done, "RepoReady")["status"] == "True"
    assert cond(done, "Completed")["reason"] == "The current version v1.8.2 is less than the minimum upgradable version v1.8.5."


def test_a_version_deleted_after_admission_fails_the_upgrade(twin, files):
    start(twin, files)
    history(twin, get(twin, UPGRADES)["items"][0], cleaned)
    twin.kubectl("delete", "versions.harvesterhci.io", "v1.9.0", "-n", NS)
    assert post(twin, VERSIONS, version("v1.9.1", url=f"{files}/disk.img")).status_code == 201
    r = post(twin, UPGRADES, upgrade({"harvesterhci.io/skipWebhook": "true"}, version="v1.9.1"))
    assert twin.session().delete(twin.url(f"{VERSIONS}/v1.9.1")).status_code == 200  # before the image step
    done = history(twin, r.json(), finished)[-1]
    assert cond(done, "Completed")["reason"] == 'versions.harvesterhci.io "v1.9.1" not found'


# ------------------------------------------------------------------------------------ deletion
def test_deleting_a_running_upgrade_cleans_up(twin, files):
    created = start(twin, files)
    name = created["metadata"]["name"]
    history(twin, created, lambda o: labels(o).get(STATE) == "PreparingNodes")
    assert get(twin, f"{IMAGES}/{name}") is not None
    twin.kubectl("delete", "upgrades.harvesterhci.io", name, "-n", NS, "--wait", "--timeout=20s")
    assert get(twin, f"{UPGRADES}/{name}") is None
    wait_for(lambda: get(twin, f"{IMAGES}/{name}") is None, "the upgrade image deleted")


def test_deleting_during_the_node_upgrade_is_refused_unless_the_webhook_is_skipped(twin, files):
    created = start(twin, files)
    name = created["metadata"]["name"]
    history(twin, created, lambda o: node_states(o).get("ms02-1") == "Pre-drained")
    r = twin.session().delete(twin.url(f"{UPGRADES}/{name}"))
    assert refusal(r, 400) == "node upgrade is in progressing, please wait for it to be provisioned"
    patch(twin, f"{UPGRADES}/{name}", {"metadata": {"annotations": {"harvesterhci.io/skipWebhook": "true"}}})
    twin.kubectl("delete", "upgrades.harvesterhci.io", name, "-n", NS, "--wait", "--timeout=20s")
    node = get(twin, f"{NODES}/ms02-1")
    assert not node["spec"].get("unschedulable")  # the cordon of the interrupted node is lifted
