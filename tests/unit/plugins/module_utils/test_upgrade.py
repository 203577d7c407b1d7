# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/upgrade.py: input checks, reading an Upgrade (state,
completion, Harvester's failure message, the target of an image upgrade), the progress record,
the watch answers, the pre-flight (every blocker at once, Harvester's rules for small clusters),
and the flow against a fake client: follow a running upgrade, nothing to do, retry after a
failure that already moved the server version, blockers before any write, check mode, the wait's
end on success, failure, deletion and timeout, and ``state: absent``."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import upgrade
from ansible_collections.homelab.harvester.plugins.module_utils.errors import Gone
from ansible_collections.homelab.harvester.plugins.module_utils.progress import Progress
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError
from tests.unit.fake_client import FakeClient, Seq

UPGRADES = "/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/upgrades"
VERSIONS = "/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/versions"
SETTING = "/apis/harvesterhci.io/v1beta1/settings/server-version"
NODES = "/api/v1/nodes"
VOLUMES = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes"
BACKUPS = "/apis/harvesterhci.io/v1beta1/virtualmachinebackups"
SHA = "a" * 128


def params(**kw):
    base = {"version": "v1.9.0", "image": None, "iso_url": None, "iso_checksum": None, "release_date": None,
            "log_enabled": True, "state": "present", "wait": True, "wait_timeout": 60}
    return dict(base, **kw)


def make_upgrade(name="hvst-upgrade-abcde", state=None, version="v1.9.0", image=None, completed=None, cleanup=None,
                 nodes=None, conditions=(), latest=True, rv="10", created="2026-11-20T10:00:00Z"):
    labels = {}
    if state:
        labels[upgrade.STATE] = state
    if cleanup:
        labels[upgrade.CLEANUP] = cleanup
    if latest:
        labels[upgrade.LATEST] = "true"
    conds = [dict(c) for c in conditions]
    if completed is not None:
        conds.insert(0, {"type": "Completed", "status": completed})
    spec = {"image": image} if image else {"version": version}
    status = {"conditions": conds}
    if nodes:
        status["nodeStatuses"] = {n: {"state": s} if isinstance(s, str) else s for n, s in nodes.items()}
    return {"metadata": {"name": name, "namespace": "harvester-system", "labels": labels, "resourceVersion": rv,
                         "creationTimestamp": created}, "spec": spec, "status": status}


def node(name, ready=True, unschedulable=False, maintenance=None):
    meta = {"name": name, "annotations": {}}
    if maintenance:
        meta["annotations"][upgrade.MAINTAIN_STATUS] = maintenance
    return {"metadata": meta, "spec": {"unschedulable": True} if unschedulable else {},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def volume(name, robustness="healthy", replicas=3, pvc=None):
    status = {"robustness": robustness}
    if pvc:
        status["kubernetesStatus"] = {"namespace": "default", "pvcName": pvc}
    return {"metadata": {"name": name}, "spec": {"numberOfReplicas": replicas}, "status": status}


def fake(server="v1.8.2", upgrades=(), version=None, nodes=None, volumes=(), backups=(), watches=(), reads=None,
         dry_run=False):
    """A cluster at ``server`` (the setting's real shape: settings.go's default, the running build's
    value) with these objects; ``version``: the Version v1.9.0; ``watches``: the answers of the
    watch windows in turn; ``reads``: {path: answers of its GETs in turn}."""
    nodes = [node(n) for n in ("ms02-1", "ms02-2", "ms02-3")] if nodes is None else nodes
    objects = {SETTING: {"default": "dev", "value": server}}
    objects.update(stored(UPGRADES, upgrades))
    objects.update(stored(NODES, nodes))
    objects.update(stored(VOLUMES, volumes))
    objects.update({f"/apis/harvesterhci.io/v1beta1/namespaces/{b['metadata']['namespace']}/virtualmachinebackups/"
                    f"{b['metadata']['name']}": b for b in backups})
    if version is not None:
        objects[f"{VERSIONS}/v1.9.0"] = version
    answers = {("get", path): Seq(found) for path, found in (reads or {}).items()}
    if watches:
        answers[("watch", UPGRADES)] = Seq(watches)
    return FakeClient(objects, dry_run=dry_run, answers=answers)


def stored(collection, objs):
    return {f"{collection}/{o['metadata']['name']}": o for o in objs}


def writes(client):
    return [(w.method, w.path) for w in client.writes()]


def watch_queries(client):
    return [c.query for c in client.calls if c.op == "watch"]


def events(*objs, kind="MODIFIED"):
    """The events of one watch window."""
    return [{"type": kind, "object": o} for o in objs]


class Clock:
    def __init__(self, step=1.0):
        self.t, self.step = 0.0, step

    def __call__(self):
        self.t += self.step
        return self.t


# --- input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, option, message", [
    ({"version": "V1.9"}, "version", "'V1.9' is not a valid name"),
    ({"version": None, "image": "iso"}, "image", "'iso' is not <namespace>/<name> of a VirtualMachineImage"),
    ({"version": None, "image": "a/b/c"}, "image", "'a/b/c' is not <namespace>/<name>"),
    ({"version": None, "image": "My/iso"}, "image namespace", "'My' is not a valid name"),
    ({"version": None, "image": "default/iso", "iso_url": "http://x/h.iso"}, "iso_url", "only with version"),
    ({"iso_url": "nas/h.iso"}, "iso_url", "is not an http:// or https:// URL"),
    ({"iso_url": "http://nas/h.iso", "iso_checksum": "xyz"}, "iso_checksum", "is not a sha512 checksum"),
    ({"iso_checksum": SHA}, "iso_checksum", "only with iso_url"),
    ({"release_date": "20260806"}, "release_date", "only with iso_url"),
    ({"iso_url": "http://nas/h.iso", "state": "absent"}, "iso_url", "only with state=present"),
    ({"wait_timeout": -1}, "wait_timeout", "-1 must be more than 0"),
])
def test_bad_input(kw, option, message):
    with pytest.raises(ValidationError) as e:
        upgrade.check(params(**kw))
    assert e.value.option == option and message in str(e.value)


def test_good_input_and_upper_case_checksums_are_accepted():
    upgrade.check(params(iso_url="https://nas/h.iso", iso_checksum=SHA.upper(), release_date="20260806"))
    upgrade.check(params(version=None, image="harvester-public/harvester-v1-9-0"))
    assert upgrade.version_object(params(iso_url="http://nas/h.iso", iso_checksum=" " + SHA.upper()))["spec"] == {
        "isoURL": "http://nas/h.iso", "isoChecksum": SHA}


def test_the_objects_written():
    assert upgrade.upgrade_object(params(log_enabled=False)) == {
        "apiVersion": "harvesterhci.io/v1beta1", "kind": "Upgrade",
        "metadata": {"generateName": "hvst-upgrade-", "namespace": "harvester-system"},
        "spec": {"version": "v1.9.0", "logEnabled": False}}
    assert upgrade.upgrade_object(params(version=None, image="default/iso"))["spec"] == {"image": "default/iso", "logEnabled": True}
    v = upgrade.version_object(params(iso_url="http://nas/h.iso", release_date="20260806"))
    assert v["metadata"] == {"name": "v1.9.0", "namespace": "harvester-system"}
    assert v["spec"] == {"isoURL": "http://nas/h.iso", "releaseDate": "20260806"}


# --- reading an Upgrade ---------------------------------------------------------------------
def test_completion_and_terminal_states():
    assert upgrade.completed(make_upgrade(state="UpgradingNodes", completed="Unknown")) is None
    assert upgrade.completed(make_upgrade(state="Succeeded", completed="True")) is True
    assert upgrade.completed(make_upgrade(state="Failed")) is False
    assert upgrade.is_terminal(make_upgrade(state="Failed")) and not upgrade.is_terminal(make_upgrade())


@pytest.mark.parametrize("conds, nodes, message", [
    ([{"type": "ImageReady", "status": "False", "reason": "x", "message": "the checksum does not match"}], None,
     "ImageReady: the checksum does not match"),
    ([{"type": "RepoReady", "status": "False", "reason": "RepoNotReady"}], None, "RepoReady: RepoNotReady"),
    ([{"type": "NodesUpgraded", "status": "False", "reason": "BackoffLimitExceeded", "message": "Job failed"}],
     {"ms02-1": "Succeeded", "ms02-2": {"state": "Failed", "message": "Job failed"}}, "NodesUpgraded: node ms02-2: Job failed"),
    ([{"type": "LogReady", "status": "False", "reason": "Disabled"}], {"ms02-3": {"state": "Failed", "reason": "Evicted"}},
     "node ms02-3: Evicted"),
    ([], None, "the upgrade failed without a message"),
])
def test_failure_is_harvesters_message(conds, nodes, message):
    assert upgrade.failure(make_upgrade(state="Failed", completed="False", conditions=conds, nodes=nodes)) == message


def test_failure_of_completed_itself_carries_the_error_in_its_reason():
    u = make_upgrade(state="Failed")
    u["status"]["conditions"] = [{"type": "Completed", "status": "False", "reason": 'versions.harvesterhci.io "v1.9.0" not found'}]
    assert upgrade.failure(u) == 'Completed: versions.harvesterhci.io "v1.9.0" not found'


def test_target_and_matching():
    by_image = make_upgrade(image="default/iso")
    assert upgrade.target_of(by_image) == ""
    by_image["status"]["repoInfo"] = "release:\n  harvester: v1.9.0\n  os: Harvester v1.9.0\n"
    assert upgrade.target_of(by_image) == "v1.9.0"
    assert upgrade.matches(by_image, params(version=None, image="default/iso"))
    assert not upgrade.matches(by_image, params())
    assert upgrade.matches(make_upgrade(), params()) and not upgrade.matches(make_upgrade(version="v1.9.1"), params())


def test_summary_and_node_statuses():
    u = make_upgrade(state="UpgradingNodes", nodes={"ms02-2": "Pre-draining", "ms02-1": "Succeeded"})
    assert upgrade.summary(u) == "state UpgradingNodes; nodes: ms02-1 Succeeded, ms02-2 Pre-draining"
    assert upgrade.summary(make_upgrade()) == "state <not set yet>"
    assert upgrade.node_statuses(u)["ms02-2"] == {"state": "Pre-draining", "reason": "", "message": ""}


def test_progress_records_each_new_phase_and_node_state_once():
    times = iter([60, 60, 180, 180])
    p = Progress(now=lambda: next(times))
    upgrade.report(p, make_upgrade())  # no state yet: nothing
    upgrade.report(p, make_upgrade(state="PreparingNodes", nodes={"ms02-1": "Images preloading"}))
    upgrade.report(p, make_upgrade(state="PreparingNodes", nodes={"ms02-1": "Images preloading"}))
    upgrade.report(p, make_upgrade(state="Failed", nodes={"ms02-1": {"state": "Failed", "reason": "R", "message": "M"}}))
    name = "upgrade hvst-upgrade-abcde"
    assert p.events == [
        {"time": "1970-01-01T00:01:00Z", "msg": f"{name}: PreparingNodes", "state": "PreparingNodes"},
        {"time": "1970-01-01T00:01:00Z", "msg": f"{name}: node ms02-1 Images preloading", "node": "ms02-1",
         "state": "Images preloading"},
        # the end comes after the node states seen with it: Harvester finishes the nodes first
        {"time": "1970-01-01T00:03:00Z", "msg": f"{name}: node ms02-1 Failed (R: M)", "node": "ms02-1", "state": "Failed",
         "reason": "R", "message": "M"},
        {"time": "1970-01-01T00:03:00Z", "msg": f"{name}: Failed", "state": "Failed"},
    ]


def test_preflight_names_every_blocker():
    upgrades = [make_upgrade("hvst-upgrade-run", state="UpgradingNodes", version="v1.8.9", nodes={"ms02-1": "Pre-draining"}),
                make_upgrade("hvst-upgrade-old", state="Succeeded", cleanup="Pending", version="v1.8.8")]
    client = fake(
        upgrades=upgrades,
        nodes=[node("ms02-1", ready=False), node("ms02-2", unschedulable=True),
               node("ms02-3", unschedulable=True, maintenance="completed")],
        volumes=[volume("pvc-a", "degraded", pvc="router-disk"), volume("pvc-b", "healthy", replicas=1), volume("pvc-c")],
        backups=[{"metadata": {"name": "nightly", "namespace": "default"}, "status": {"readyToUse": False}},
                 {"metadata": {"name": "broken", "namespace": "default"}, "status": {"error": {"message": "x"}}},
                 {"metadata": {"name": "done", "namespace": "default"}, "status": {"readyToUse": True}}])
    blockers, version = upgrade.preflight(client, params(), upgrades, "v1.8.2")
    assert version is None
    assert blockers == [
        "upgrade hvst-upgrade-run to v1.8.9 is in progress (state UpgradingNodes; nodes: ms02-1 Pre-draining)",
        "upgrade hvst-upgrade-old waits for its post-upgrade cleanup (harvesterhci.io/upgradeCleanup=Pending)",
        "Version v1.9.0 does not exist in harvester-system; give iso_url (and iso_checksum) to create it",
        "node ms02-1 is not Ready",
        "node ms02-2 is cordoned (unschedulable)",
        "node ms02-3 is in maintenance mode (maintain-status completed)",
        "Longhorn volume pvc-a (PVC default/router-disk) is degraded",
        "Longhorn volume pvc-b has a single replica",
        "VirtualMachineBackup default/nightly is in progress",
    ]
    assert client.writes() == []


def test_preflight_follows_harvesters_rules_for_small_clusters():
    client = fake(nodes=[node("solo")], volumes=[volume("pvc-a", "degraded"), volume("pvc-b", replicas=1)],
                  version={"spec": {"isoURL": "http://nas/h.iso"}})
    assert upgrade.preflight(client, params(), [], "v1.8.2")[0] == []  # one node: neither rule applies
    for gone in ("ms02-1", "ms02-2", "ms02-3", "solo"):
        client.objects.pop(f"{NODES}/{gone}", None)
    client.objects.update(stored(NODES, [node("a"), node("b")]))
    assert upgrade.preflight(client, params(), [], "v1.8.2")[0] == ["Longhorn volume pvc-b has a single replica"]


@pytest.mark.parametrize("kw, version, current, expected", [
    ({}, None, "v1.8.2", ["Version v1.9.0 does not exist in harvester-system; give iso_url (and iso_checksum) to create it"]),
    ({"iso_url": "http://nas/h.iso"}, None, "v1.8.2", []),
    ({"iso_url": "http://nas/other.iso"}, {"spec": {"isoURL": "http://nas/h.iso"}}, "v1.8.2",
     ["Version v1.9.0 exists with isoURL http://nas/h.iso, not http://nas/other.iso (this module does not change Versions)"]),
    ({"iso_url": "http://nas/h.iso", "iso_checksum": SHA.upper()}, {"spec": {"isoURL": "http://nas/h.iso", "isoChecksum": SHA}},
     "v1.8.2", []),
    ({"iso_url": "http://nas/h.iso", "iso_checksum": SHA}, {"spec": {"isoURL": "http://nas/h.iso"}}, "v1.8.2",
     ["Version v1.9.0 exists with another isoChecksum (this module does not change Versions)"]),
    ({}, {"spec": {"isoURL": "x"}}, "v1.10.0", ["v1.9.0 is older than the running v1.10.0; Harvester refuses downgrades"]),
    ({}, {"spec": {"isoURL": "x", "minUpgradableVersion": "v1.8.5"}}, "v1.8.2",
     ["The current version v1.8.2 is less than the minimum upgradable version v1.8.5."]),
    ({}, {"spec": {"isoURL": "x", "minUpgradableVersion": "v1.8.2"}}, "v1.8.2", []),
])
def test_version_blockers(kw, version, current, expected):
    assert upgrade.version_blockers(params(**kw), version, current) == expected


def test_an_image_upgrade_needs_the_image():
    client = fake()
    blockers, dummy = upgrade.preflight(client, params(version=None, image="default/iso"), [], "v1.8.2")
    assert blockers == ["VirtualMachineImage default/iso does not exist"]


# --- following ---------------------------------------------------------------------------------
def test_follow_watches_from_the_resource_version_and_records_every_state():
    created = make_upgrade(rv="20")
    steps = [make_upgrade(state=s, rv=str(21 + i)) for i, s in enumerate(["PreparingLoggingInfra", "LoggingInfraPrepared"])]
    done = make_upgrade(state="Succeeded", completed="True", rv="30", nodes={"ms02-1": "Succeeded"})
    client = fake(watches=[None, events(*steps), events(done)])
    p = client.progress
    assert upgrade.follow(client, created, 60, clock=Clock()) == done
    queries = watch_queries(client)
    assert [q["resourceVersion"] for q in queries] == ["20", "20", "22"]
    assert all(q["fieldSelector"] == "metadata.name=hvst-upgrade-abcde" for q in queries)
    assert all(q["timeoutSeconds"] == upgrade.WATCH_WINDOW for q in queries)
    assert [e["state"] for e in p.events] == ["PreparingLoggingInfra", "LoggingInfraPrepared", "Succeeded", "Succeeded"]
    assert [e.get("node") for e in p.events][-2:] == ["ms02-1", None]  # the last node, then the end


def test_follow_reads_the_object_again_when_the_resource_version_is_too_old():
    path = f"{UPGRADES}/hvst-upgrade-abcde"
    done = make_upgrade(state="Failed", completed="False", rv="90")
    client = fake(watches=[Gone(410, "Expired", "too old"), [{"type": "ERROR", "object": {"code": 410}}], events(done)],
                  reads={path: [make_upgrade(state="PreparingRepo", rv="50"), make_upgrade(state="PreparingNodes", rv="60")]})
    assert upgrade.follow(client, make_upgrade(rv="1"), 60, clock=Clock()) == done
    assert [q["resourceVersion"] for q in watch_queries(client)] == ["1", "50", "60"]
    assert [e["state"] for e in client.progress.events] == ["PreparingRepo", "PreparingNodes", "Failed"]


def test_follow_fails_when_the_upgrade_is_deleted_or_the_time_is_up():
    client = fake(watches=[events(make_upgrade(), kind="DELETED")])
    with pytest.raises(upgrade.UpgradeFailed, match="upgrade hvst-upgrade-abcde was deleted while it was followed"):
        upgrade.follow(client, make_upgrade(), 60, clock=Clock())
    client = fake(watches=[None] * 10)
    with pytest.raises(upgrade.UpgradeFailed) as e:
        upgrade.follow(client, make_upgrade(state="UpgradingNodes"), 3, clock=Clock())
    assert str(e.value) == "timed out after 3 s following upgrade hvst-upgrade-abcde; last seen: state UpgradingNodes"
    assert e.value.as_dict()["progress"] == [{"time": "1970-01-01T00:00:00Z", "msg": "upgrade hvst-upgrade-abcde: UpgradingNodes",
                                              "state": "UpgradingNodes"}]


# --- the flow ---------------------------------------------------------------------------------
def succeeded(name="hvst-upgrade-x1y2z"):
    return make_upgrade(name, state="Succeeded", completed="True", cleanup="Pending", rv="99",
                        nodes={n: "Succeeded" for n in ("ms02-1", "ms02-2", "ms02-3")})


def test_start_creates_the_version_then_the_upgrade_and_follows_it():
    client = fake(server="v1.8.2", watches=[events(succeeded())])
    result = upgrade.run(client, params(iso_url="http://nas/h.iso"), clock=Clock())
    assert [w.path for w in client.writes()] == [VERSIONS, UPGRADES]
    assert client.writes()[1].body["metadata"] == {"generateName": "hvst-upgrade-", "namespace": "harvester-system"}
    assert result["changed"] is True and result["state"] == "Succeeded" and result["version_created"] is True
    assert result["name"] == "hvst-upgrade-x1y2z" and result["cleanup"] == "Pending" and result["blockers"] == []
    assert result["diff"] == {"before": {"server_version": "v1.8.2"}, "after": {"server_version": "v1.8.2"}}


def test_a_running_upgrade_to_the_version_is_followed_without_a_write():
    running = make_upgrade("hvst-upgrade-old", state="PreparingRepo")
    client = fake(upgrades=[running], watches=[events(succeeded("hvst-upgrade-old"))])
    result = upgrade.run(client, params(), clock=Clock())
    assert result["changed"] is False and result["name"] == "hvst-upgrade-old" and result["state"] == "Succeeded"
    assert client.writes() == []


def test_already_on_the_version_is_unchanged_with_nothing_but_two_reads():
    client = fake(server="v1.9.0", upgrades=[succeeded("hvst-upgrade-done")])
    result = upgrade.run(client, params())
    assert result["changed"] is False and result["name"] == "hvst-upgrade-done" and result["server_version"] == "v1.9.0"
    assert [(c.op, c.path) for c in client.calls] == [("get", SETTING), ("list", UPGRADES)]
    result = upgrade.run(fake(server="v1.9.0"), params())  # installed at that version: no Upgrade at all
    assert result["changed"] is False and result["upgrade"] is None and result["state"] == ""


def test_a_failed_upgrade_that_moved_the_server_version_is_retried():
    failed = make_upgrade("hvst-upgrade-failed", state="Failed", completed="False", cleanup="Succeeded")
    client = fake(server="v1.9.0", upgrades=[failed], version={"spec": {"isoURL": "http://nas/h.iso"}},
                  watches=[events(succeeded())])
    result = upgrade.run(client, params(), clock=Clock())
    assert result["changed"] is True and [w.path for w in client.writes()] == [UPGRADES]


def test_blockers_fail_before_any_write():
    client = fake(nodes=[node("ms02-1", unschedulable=True)])
    with pytest.raises(upgrade.PreflightFailed) as e:
        upgrade.run(client, params())
    assert str(e.value) == ("cannot upgrade to v1.9.0: Version v1.9.0 does not exist in harvester-system; give iso_url (and "
                            "iso_checksum) to create it; node ms02-1 is cordoned (unschedulable); nothing was changed")
    assert e.value.as_dict() == {"blockers": e.value.blockers} and len(e.value.blockers) == 2
    assert client.writes() == []


def test_check_mode_without_the_version_sends_only_the_version_create():
    client = fake(dry_run=True)
    result = upgrade.run(client, params(iso_url="http://nas/h.iso"))
    assert [w.path for w in client.writes()] == [VERSIONS] and client.writes()[0].dry_run is True
    assert result["changed"] is True and result["name"] == "" and result["upgrade"]["metadata"]["generateName"] == "hvst-upgrade-"
    assert result["diff"] == {"before": {"server_version": "v1.8.2"}, "after": {"server_version": "v1.9.0"}}
    assert not watch_queries(client) and f"{VERSIONS}/v1.9.0" not in client.objects


def test_check_mode_with_the_version_dry_runs_the_upgrade_and_does_not_wait():
    client = fake(version={"spec": {"isoURL": "http://nas/h.iso"}}, dry_run=True)
    result = upgrade.run(client, params())
    assert [w.path for w in client.writes()] == [UPGRADES] and result["name"] == "hvst-upgrade-x1y2z"
    assert result["progress"] == [] and result["server_version"] == "v1.8.2"


def test_without_wait_the_created_upgrade_is_returned():
    client = fake(version={"spec": {"isoURL": "http://nas/h.iso"}})
    result = upgrade.run(client, params(wait=False))
    assert result["changed"] is True and result["state"] == "" and not watch_queries(client)


def test_a_failed_upgrade_fails_with_the_condition_message_and_what_was_seen():
    failed = make_upgrade("hvst-upgrade-x1y2z", state="Failed", completed="False", rv="40",
                          conditions=[{"type": "SystemServicesUpgraded", "status": "False", "reason": "BackoffLimitExceeded",
                                       "message": "Job has reached the specified backoff limit"}])
    client = fake(version={"spec": {"isoURL": "http://nas/h.iso"}}, watches=[events(failed)])
    with pytest.raises(upgrade.UpgradeFailed) as e:
        upgrade.run(client, params(), clock=Clock())
    assert str(e.value) == ("upgrade hvst-upgrade-x1y2z to v1.9.0 failed: SystemServicesUpgraded: "
                            "Job has reached the specified backoff limit")
    result = e.value.as_dict()
    assert result["changed"] is True and result["state"] == "Failed" and "diff" not in result
    assert result["progress"] == [{"time": "1970-01-01T00:00:00Z", "msg": "upgrade hvst-upgrade-x1y2z: Failed", "state": "Failed"}]


def test_image_upgrades_are_unchanged_once_the_latest_succeeded():
    done = succeeded("hvst-upgrade-img")
    done["spec"] = {"image": "default/iso"}
    client = fake(upgrades=[done])
    result = upgrade.run(client, params(version=None, image="default/iso"))
    assert result["changed"] is False and result["name"] == "hvst-upgrade-img" and client.writes() == []


def test_absent_deletes_the_upgrades_of_the_version_and_waits_for_them():
    path = f"{UPGRADES}/hvst-upgrade-a"
    client = fake(upgrades=[make_upgrade("hvst-upgrade-a"), make_upgrade("hvst-upgrade-b", version="v1.9.1")],
                  reads={path: [make_upgrade("hvst-upgrade-a"), None]})
    result = upgrade.run(client, params(state="absent"), clock=Clock(0.1), sleep=lambda s: None)
    assert result == {"changed": True, "deleted": ["hvst-upgrade-a"],
                      "diff": {"before": {"upgrades": ["hvst-upgrade-a"]}, "after": {"upgrades": []}}}
    assert writes(client) == [("DELETE", path)] and path not in client.objects
    client = fake()
    assert upgrade.run(client, params(state="absent"))["changed"] is False and client.writes() == []


def test_a_timeout_after_the_create_still_reports_the_change():
    client = fake(version={"spec": {"isoURL": "http://nas/h.iso"}}, watches=[None] * 10)
    with pytest.raises(upgrade.UpgradeFailed) as e:
        upgrade.run(client, params(wait_timeout=2), clock=Clock())
    assert e.value.as_dict()["changed"] is True and e.value.as_dict()["name"] == "hvst-upgrade-x1y2z"
    assert str(e.value).startswith("timed out after 2 s following upgrade hvst-upgrade-x1y2z")
