"""The Longhorn area of the twin, through real clients (kubectl, the kubernetes dynamic client,
requests): the seeded Longhorn objects, the setting webhooks' refusals (code, reason, cause and
message) and the controllers' transitions (setting applied, danger-zone settings pending while
volumes are attached, volumes degrading and healing, nodes cordoned)."""
from __future__ import annotations

import json
import time

import pytest

from ..admission.longhorn import DEFINITIONS
from .conftest import read as get
from .conftest import status_of, wait_for

NS = "longhorn-system"
SETTINGS = f"/apis/longhorn.io/v1beta2/namespaces/{NS}/settings"
VOLUMES = f"/apis/longhorn.io/v1beta2/namespaces/{NS}/volumes"
REPLICAS = f"/apis/longhorn.io/v1beta2/namespaces/{NS}/replicas"
VALIDATOR = 'admission webhook "validator.longhorn.io" denied the request: '
MUTATOR = 'admission webhook "mutator.longhorn.io" denied the request: '
ROUTER_VOLUME = "pvc-0b6f1d2c-7a43-4e55-9b1e-3c8d2a7f4e10"
DNS_VOLUME = "pvc-5e9a3c71-2d18-4b6f-8e04-9f1a7c3b2d21"
BUILDER_VOLUME = "pvc-c2d47e85-9f30-4a1b-b6c2-71e5d8a9f032"
MERGE = {"Content-Type": "application/merge-patch+json"}


# ---------------------------------------------------------------------------------------- helpers
def patch(twin, path, body, **params):
    return twin.session().patch(twin.url(path), params=params, data=json.dumps(body), headers=MERGE)


def setting(twin, name):
    return get(twin, f"{SETTINGS}/{name}")


def refused(response, code, message, field):
    """The response is the webhook's refusal: code, reason, the exact message and one cause."""
    body = status_of(response)
    assert response.status_code == code, body
    assert body["reason"] == {422: "Invalid"}[code], body
    assert body["message"] == message, body["message"]
    causes = body["details"]["causes"]
    assert len(causes) == 1 and causes[0]["field"] == field, causes
    return body


class Watch:
    """Watch one object with the dynamic client from now on: created before a change, so the
    transitions it causes are all seen. `until(want)` collects pick(obj) at every event (starting
    with the state at creation) until the values of `want` have appeared in that order, and
    returns the sequence of distinct values seen."""

    def __init__(self, twin, kind, name, pick):
        self.api = twin.dynamic().resources.get(api_version="longhorn.io/v1beta2", kind=kind)
        self.kind, self.name, self.pick = kind, name, pick
        current = self.api.get(name=name, namespace=NS).to_dict()
        self.rv = current["metadata"]["resourceVersion"]
        self.seen = [pick(current)]

    def until(self, want, timeout=20):
        deadline = time.monotonic() + timeout
        while not _subsequence(want, self.seen) and time.monotonic() < deadline:
            for event in self.api.watch(namespace=NS, field_selector=f"metadata.name={self.name}",
                                        resource_version=self.rv, timeout=max(1, int(deadline - time.monotonic()))):
                obj = event["raw_object"]
                self.rv = obj["metadata"]["resourceVersion"]
                value = self.pick(obj)
                if self.seen[-1] != value:
                    self.seen.append(value)
                if _subsequence(want, self.seen):
                    break
        assert _subsequence(want, self.seen), f"{self.kind} {self.name}: wanted {want} in order, saw {self.seen}"
        return self.seen


def watch_until(twin, kind, name, pick, want, timeout=20):
    """Watch from the current state (for transitions already under way or still to come)."""
    return Watch(twin, kind, name, pick).until(want, timeout)


def _subsequence(want, seen) -> bool:
    it = iter(seen)
    return all(any(w == s for s in it) for w in want)


def robustness(obj):
    return (obj.get("status") or {}).get("robustness")


def applied(obj):
    return (obj.get("status") or {}).get("applied")


def replicas_of(twin, volume):
    items = get(twin, f"{REPLICAS}?labelSelector=longhornvolume%3D{volume}")["items"]
    return sorted(items, key=lambda r: r["spec"]["nodeID"])


def stop_vm(twin, vm):
    """Stop a VM the way an operator does; the virt-controller then deletes its VMI."""
    twin.kubectl("patch", "vm", vm, "-n", "default", "--type", "merge", "-p", '{"spec":{"runStrategy":"Halted"}}')


def stop_vms(twin):
    for vm in ("lab-router", "lab-dns"):
        stop_vm(twin, vm)


# ---------------------------------------------------------------------------------------- seed
def test_every_setting_is_seeded_with_its_default(twin):
    items = {s["metadata"]["name"]: s for s in get(twin, SETTINGS)["items"]}
    assert set(items) == set(DEFINITIONS)
    assert items["default-replica-count"]["value"] == '{"v1":"3","v2":"3"}'
    assert items["guaranteed-instance-manager-cpu"]["value"] == '{"v1":"12","v2":"12"}'
    assert items["disable-revision-counter"]["value"] == '{"v1":"true"}'
    assert items["data-engine-cpu-mask"]["value"] == '{"v2":"0x1"}'
    assert items["storage-over-provisioning-percentage"]["value"] == "100"
    # what Harvester's chart sets
    assert items["default-data-path"]["value"] == "/var/lib/harvester/defaultdisk"
    assert items["priority-class"]["value"] == "system-cluster-critical"
    assert items["concurrent-automatic-engine-upgrade-per-node-limit"]["value"] == "3"
    assert all(s["status"]["applied"] is True for s in items.values())


def test_kubectl_shows_the_lab_storage(twin):
    out = twin.kubectl("get", "volumes.longhorn.io", "-n", NS, "-o", "wide").stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows[ROUTER_VOLUME][1:4] == ["v1", "attached", "healthy"] and "ms02-1" in rows[ROUTER_VOLUME]
    assert rows[DNS_VOLUME][1:4] == ["v1", "attached", "healthy"] and "ms02-2" in rows[DNS_VOLUME]
    assert rows[BUILDER_VOLUME][1:4] == ["v1", "detached", "unknown"]
    nodes = twin.kubectl("get", "nodes.longhorn.io", "-n", NS).stdout.splitlines()
    assert [line.split()[:4] for line in nodes[1:]] == [[n, "True", "true", "True"] for n in ("ms02-1", "ms02-2", "ms02-3")]
    pvcs = json.loads(twin.kubectl("get", "pvc", "-n", "default", "-o", "json").stdout)["items"]
    bound = {p["metadata"]["name"]: (p["status"]["phase"], p["spec"]["volumeName"], p["spec"]["storageClassName"])
             for p in pvcs}
    assert bound["lab-router-rootdisk"] == ("Bound", ROUTER_VOLUME, "harvester-longhorn")
    assert bound["lab-builder-rootdisk"] == ("Bound", BUILDER_VOLUME, "harvester-longhorn")
    for volume in (ROUTER_VOLUME, DNS_VOLUME, BUILDER_VOLUME):
        reps = replicas_of(twin, volume)
        assert [r["spec"]["nodeID"] for r in reps] == ["ms02-1", "ms02-2", "ms02-3"]
        state = "stopped" if volume == BUILDER_VOLUME else "running"
        assert {r["status"]["currentState"] for r in reps} == {state}
    node = get(twin, f"/apis/longhorn.io/v1beta2/namespaces/{NS}/nodes/ms02-1")
    (disk,) = node["status"]["diskStatus"].values()
    assert disk["diskPath"] == "/var/lib/harvester/defaultdisk" and disk["storageMaximum"] > 1.7 * 1024 ** 4
    assert len(disk["scheduledReplica"]) == 3
    bt = get(twin, f"/apis/longhorn.io/v1beta2/namespaces/{NS}/backuptargets/default")
    assert bt["spec"]["backupTargetURL"] == "" and bt["status"]["available"] is False


# ---------------------------------------------------------------------------------------- settings: accepted
def test_kubectl_patch_expands_to_engines_and_is_applied(twin):
    out = twin.kubectl("-n", NS, "patch", "settings.longhorn.io", "default-replica-count", "--type", "merge",
                       "-p", '{"value":"2"}').stdout
    assert "patched" in out
    got = json.loads(twin.kubectl("-n", NS, "get", "lhs", "default-replica-count", "-o", "json").stdout)
    assert got["value"] == '{"v1":"2","v2":"2"}'
    assert watch_until(twin, "Setting", "default-replica-count", applied, [True])[-1] is True
    # only the engines a setting supports
    twin.kubectl("-n", NS, "patch", "lhs", "disable-revision-counter", "--type", "merge", "-p", '{"value":"False"}')
    assert setting(twin, "disable-revision-counter")["value"] == '{"v1":"false"}'


def test_dynamic_client_patch_normalises_values(twin):
    api = twin.dynamic().resources.get(api_version="longhorn.io/v1beta2", kind="Setting")
    cases = [("default-replica-count", "2", '{"v1":"2","v2":"2"}'),
             ("default-replica-count", '{"v1":"02","v2":"+3","v3":"9"}', '{"v1":"2","v2":"3"}'),
             ("guaranteed-instance-manager-cpu", "12.50", '{"v1":"12.5","v2":"12.5"}'),
             ("snapshot-data-integrity", "disabled", '{"v1":"disabled","v2":"disabled"}'),
             ("replica-soft-anti-affinity", "True", "True"),  # not engine-specific: stored verbatim
             ("storage-minimal-available-percentage", "10", "10")]
    for name, value, stored in cases:
        got = api.patch(name=name, namespace=NS, body={"value": value},
                        content_type="application/merge-patch+json")
        assert got.value == stored, (name, value, got.value)
    assert api.get(name="storage-minimal-available-percentage", namespace=NS).value == "10"


# ---------------------------------------------------------------------------------------- settings: refused
def test_out_of_range_is_refused_with_longhorns_message(twin):
    r = patch(twin, f"{SETTINGS}/default-replica-count", {"value": "25"})
    value = '{"v1":"25","v2":"25"}'
    refused(r, 422, VALIDATOR + f"failed to set the setting default-replica-count with invalid value {value}: "
            f"value {value} of settings default-replica-count is invalid: "
            "value 25 for data engine v1 should be less than or equal to 20\n"
            "value 25 for data engine v2 should be less than or equal to 20", "value")
    proc = twin.kubectl("-n", NS, "patch", "settings.longhorn.io", "default-replica-count", "--type", "merge",
                        "-p", '{"value":"25"}', check=False)
    assert proc.returncode == 1
    # kubectl prints a 422's causes (the webhook's own message, without the apiserver's prefix)
    assert proc.stderr.startswith("The request is invalid: value: failed to set the setting default-replica-count")
    assert "should be less than or equal to 20" in proc.stderr
    assert setting(twin, "default-replica-count")["value"] == '{"v1":"3","v2":"3"}'
    # one engine out of range, the other fine
    r = patch(twin, f"{SETTINGS}/default-replica-count", {"value": '{"v1":"0","v2":"3"}'})
    assert r.status_code == 422
    assert r.json()["message"].endswith("invalid: value 0 for data engine v1 should be larger than or equal to 1")


@pytest.mark.parametrize("name,value,detail", [
    ("default-replica-count", '{"v1":"2"}', "mismatched data engines for setting Default Replica Count"),
    ("log-level", "Loud", "value Loud is not a valid choice, available choices [Panic Fatal Error Warn Info Debug Trace]"),
    ("replica-auto-balance", "always", "value always is not a valid choice, available choices [disabled least-effort best-effort]"),
    ("storage-minimal-available-percentage", "101", "value 101 for data engine all should be less than or equal to 100"),
    ("storage-over-provisioning-percentage", "-1", "value -1 for data engine all should be larger than or equal to 0"),
    ("storage-minimal-available-percentage", "ten", "failed to parse value ten for setting Storage Minimal Available "
     'Percentage: failed to parse single int value ten: strconv.ParseInt: parsing "ten": invalid syntax'),
    ("upgrade-checker", "yes", "failed to parse value yes for setting Enable Upgrade Checker: failed to parse single "
     'bool value yes: strconv.ParseBool: parsing "yes": invalid syntax'),
    ("upgrade-checker", '{"v1":"true"}', "failed to parse value {\"v1\":\"true\"} for setting Enable Upgrade Checker: "
     "JSON-formatted value is not supported for non-data-engine-specific setting"),
    ("auto-salvage", "", "required setting auto-salvage shouldn't be empty"),
    ("default-backup-block-size", "4", "value 4 is not a valid choice, available choices [2 16]"),
    ("guaranteed-instance-manager-cpu", '{"v1":"41","v2":"10"}', "value 41 for data engine v1 should be less than or equal to 40"),
    ("taint-toleration", "key=value", "the value of taint-toleration is invalid: failed to parse toleration: nil: "
     "missing key/value and effect pair"),
    ("taint-toleration", "key=value:Sometimes", "the value of taint-toleration is invalid: failed to parse toleration: "
     "nil: invalid effect: Sometimes"),
    ("system-managed-components-node-selector", "role=storage", "the value of system-managed-components-node-selector "
     "is invalid: Error while unmarshal node selector: invalid label role=storage: should contain the separator ':'"),
    ("storage-network", "storage", "the value of storage-network is invalid: storage network must be in "
     "<namespace>/<name> format: storage"),
    ("snapshot-data-integrity-cronjob", "0 0 *", "invalid cron job format: 0 0 *: expected exactly 5 fields, "
     "found 3: [0 0 *]"),
    ("orphan-resource-auto-deletion", "instance;pods", "the value of orphan-resource-auto-deletion is invalid: "
     "invalid orphan resource types: pods"),
])
def test_invalid_values_are_refused(twin, name, value, detail):
    r = patch(twin, f"{SETTINGS}/{name}", {"value": value})
    stored = twin.session().get(twin.url(f"{SETTINGS}/{name}")).json()["value"]
    shown = value
    if DEFINITIONS[name].des and not value.startswith("{"):
        shown = json.dumps({e: value for e in DEFINITIONS[name].engines}, separators=(",", ":"))
    refused(r, 422, VALIDATOR + f"failed to set the setting {name} with invalid value {shown}: "
            f"value {shown} of settings {name} is invalid: {detail}", "value")
    assert stored != value


@pytest.mark.parametrize("name,value,detail", [
    ("default-replica-count", "abc", 'failed to parse single int value abc: strconv.ParseInt: parsing "abc": invalid syntax'),
    ("default-replica-count", '{"v1":"x","v2":"3"}',
     'failed to parse int value x for data engine v1: strconv.ParseInt: parsing "x": invalid syntax'),
    ("default-replica-count", '{"v1":3,"v2":3}', 'failed to parse JSON-formatted value {"v1":3,"v2":3}: '
     "json: cannot unmarshal number into Go value of type string"),
    ("fast-replica-rebuild-enabled", "maybe", 'failed to parse single bool value maybe: strconv.ParseBool: parsing "maybe": invalid syntax'),
])
def test_unparsable_engine_values_are_refused_by_the_mutator(twin, name, value, detail):
    r = patch(twin, f"{SETTINGS}/{name}", {"value": value})
    refused(r, 422, MUTATOR + f"failed to get valid value for setting {name}: {detail}", "value")


def test_unknown_names_known_names_deletes_and_read_only(twin):
    s = twin.session()
    body = {"apiVersion": "longhorn.io/v1beta2", "kind": "Setting", "metadata": {"name": "backup-target"},
            "value": "nfs://10.10.10.20:/volume1/harvester-backups"}
    refused(s.post(twin.url(SETTINGS), json=body), 422, MUTATOR + "setting backup-target does not exist", "metadata.name")
    known = dict(body, metadata={"name": "default-replica-count"}, value="3")
    r = s.post(twin.url(SETTINGS), json=known)
    assert r.status_code == 409 and status_of(r)["reason"] == "AlreadyExists"
    refused(s.delete(twin.url(f"{SETTINGS}/default-replica-count")), 422,
            VALIDATOR + "setting default-replica-count can be modified but not deleted", "metadata.name")
    proc = twin.kubectl("-n", NS, "delete", "lhs", "storage-network", check=False)
    assert proc.returncode == 1 and "setting storage-network can be modified but not deleted" in proc.stderr
    refused(patch(twin, f"{SETTINGS}/crd-api-version", {"value": "longhorn.io/v1beta3"}), 422,
            VALIDATOR + "setting crd-api-version is read-only", "metadata.name")
    refused(patch(twin, f"{SETTINGS}/current-longhorn-version", {"metadata": {"labels": {"a": "b"}}}), 422,
            VALIDATOR + "setting current-longhorn-version is read-only", "metadata.name")
    # the manager's own updates carry its annotation
    r = patch(twin, f"{SETTINGS}/latest-longhorn-version",
              {"metadata": {"annotations": {"longhorn.io/update-setting-from-longhorn": ""}}, "value": "v1.12.2"})
    assert r.status_code == 200 and r.json()["value"] == "v1.12.2"
    # dry run goes through the webhooks too
    r = patch(twin, f"{SETTINGS}/default-replica-count", {"value": "25"}, dryRun="All")
    assert r.status_code == 422
    r = patch(twin, f"{SETTINGS}/default-replica-count", {"value": "4"}, dryRun="All")
    assert r.status_code == 200 and r.json()["value"] == '{"v1":"4","v2":"4"}'
    assert setting(twin, "default-replica-count")["value"] == '{"v1":"3","v2":"3"}'


def test_value_must_be_a_string(twin):
    r = patch(twin, f"{SETTINGS}/default-replica-count", {"value": 2})
    body = status_of(r)
    assert r.status_code == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "value"
    assert "admission webhook" not in body["message"]


def test_cross_setting_and_volume_rules(twin):
    r = patch(twin, f"{SETTINGS}/disable-snapshot-purge", {"value": "true"})
    refused(r, 422, VALIDATOR + "failed to set the setting disable-snapshot-purge with invalid value true: cannot set "
            "disable-snapshot-purge setting to true when auto-cleanup-system-generated-snapshot setting is true", "value")
    assert patch(twin, f"{SETTINGS}/auto-cleanup-system-generated-snapshot", {"value": "false"}).status_code == 200
    assert patch(twin, f"{SETTINGS}/disable-snapshot-purge", {"value": "true"}).status_code == 200
    r = patch(twin, f"{SETTINGS}/v1-data-engine", {"value": "false"})
    refused(r, 422, VALIDATOR + "failed to set the setting v1-data-engine with invalid value false: cannot apply "
            "v1-data-engine setting to Longhorn workloads when there are attached v1 volumes", "value")
    r = patch(twin, f"{SETTINGS}/v2-data-engine", {"value": "true"})
    refused(r, 422, VALIDATOR + "failed to set the setting v2-data-engine with invalid value true: failed to get "
            "hugepages-2Mi capacity for node ms02-1", "value")
    r = patch(twin, f"{SETTINGS}/snapshot-max-count", {"value": "1"})
    refused(r, 422, VALIDATOR + "failed to set the setting snapshot-max-count with invalid value 1: "
            "snapshot-max-count should be between 2 and 250", "value")


# ---------------------------------------------------------------------------------------- applied
def test_danger_zone_setting_waits_for_detached_volumes(twin):
    r = patch(twin, f"{SETTINGS}/taint-toleration", {"value": "dedicated=storage:NoSchedule"})
    assert r.status_code == 200, r.text
    assert watch_until(twin, "Setting", "taint-toleration", applied, [False])[-1] is False
    time.sleep(1.0)  # several syncs later: still pending while lab-router and lab-dns run
    assert setting(twin, "taint-toleration")["status"]["applied"] is False
    assert setting(twin, "default-replica-count")["status"]["applied"] is True
    watches = [Watch(twin, "Volume", v, lambda o: o["status"]["state"]) for v in (ROUTER_VOLUME, DNS_VOLUME)]
    stop_vms(twin)
    for w in watches:
        assert w.until(["attached", "detached"])
    assert watch_until(twin, "Setting", "taint-toleration", applied, [True])[-1] is True


@pytest.mark.parametrize(("name", "value"), [
    ("system-managed-components-node-selector", "storage:true"),
    ("priority-class", "system-node-critical"),
    ("storage-network", "harvester-system/storagenetwork-abcde"),
    ("endpoint-network-for-rwx-volume", "harvester-system/rwxnetwork-abcde"),  # the lab's volumes are RWX
])
def test_every_danger_zone_setting_stays_pending_while_volumes_are_attached(twin, name, value):
    watch = Watch(twin, "Setting", name, applied)
    r = patch(twin, f"{SETTINGS}/{name}", {"value": value})
    assert r.status_code == 200, r.text
    assert watch.until([True, False]) == [True, False]
    time.sleep(1.0)  # several syncs later
    assert setting(twin, name)["status"]["applied"] is False and setting(twin, name)["value"] == value


def test_danger_zone_setting_is_applied_at_once_when_all_detached(twin):
    stop_vms(twin)
    wait_for(lambda: all(get(twin, f"{VOLUMES}/{v}")["status"]["state"] == "detached" for v in (ROUTER_VOLUME, DNS_VOLUME)),
             timeout=30)
    out = twin.kubectl("-n", NS, "patch", "lhs", "storage-network", "--type", "merge",
                       "-p", '{"value":"harvester-system/storagenetwork-abcde"}').stdout
    assert "patched" in out
    assert watch_until(twin, "Setting", "storage-network", applied, [True])[-1] is True
    assert setting(twin, "storage-network")["status"]["applied"] is True


# ---------------------------------------------------------------------------------------- volumes
def test_volume_degrades_when_a_replica_fails_and_heals(twin):
    failing = replicas_of(twin, ROUTER_VOLUME)[2]
    watch = Watch(twin, "Volume", ROUTER_VOLUME, robustness)
    r = patch(twin, f"{REPLICAS}/{failing['metadata']['name']}", {"spec": {"failedAt": "2026-11-02T10:00:00Z"}})
    assert r.status_code == 200
    assert watch.until(["healthy", "degraded", "healthy"], timeout=30) == ["healthy", "degraded", "healthy"]
    vol = get(twin, f"{VOLUMES}/{ROUTER_VOLUME}")
    assert vol["status"]["lastDegradedAt"]
    reps = replicas_of(twin, ROUTER_VOLUME)
    assert failing["metadata"]["name"] not in [x["metadata"]["name"] for x in reps]  # cleaned up after the rebuild
    assert len(reps) == 3 and {x["spec"]["nodeID"] for x in reps} == {"ms02-1", "ms02-2", "ms02-3"}
    assert all(x["spec"]["healthyAt"] and x["status"]["currentState"] == "running" for x in reps)
    node = get(twin, f"/apis/longhorn.io/v1beta2/namespaces/{NS}/nodes/ms02-3")
    (disk,) = node["status"]["diskStatus"].values()
    assert {x["metadata"]["name"] for x in reps if x["spec"]["nodeID"] == "ms02-3"} <= set(disk["scheduledReplica"])


def test_volume_degrades_when_a_replica_is_deleted_and_heals(twin):
    gone = replicas_of(twin, DNS_VOLUME)[0]["metadata"]["name"]
    watch = Watch(twin, "Volume", DNS_VOLUME, robustness)
    twin.kubectl("-n", NS, "delete", "replicas.longhorn.io", gone, "--wait", "--timeout=20s")
    assert watch.until(["healthy", "degraded", "healthy"], timeout=30) == ["healthy", "degraded", "healthy"]
    assert len(replicas_of(twin, DNS_VOLUME)) == 3


def test_replica_in_error_state_is_marked_failed(twin):
    rep = replicas_of(twin, ROUTER_VOLUME)[0]["metadata"]["name"]
    r = patch(twin, f"{REPLICAS}/{rep}/status", {"status": {"currentState": "error"}})
    assert r.status_code == 200
    assert watch_until(twin, "Volume", ROUTER_VOLUME, robustness, ["degraded"])


def test_all_replicas_failed_is_faulted(twin):
    for rep in replicas_of(twin, DNS_VOLUME):
        patch(twin, f"{REPLICAS}/{rep['metadata']['name']}", {"spec": {"failedAt": "2026-11-02T10:00:00Z"}})
    assert watch_until(twin, "Volume", DNS_VOLUME, robustness, ["faulted"])


def test_stopping_a_vm_detaches_its_volume(twin):
    watch = Watch(twin, "Volume", ROUTER_VOLUME,
                  lambda o: (o["status"]["state"], o["status"]["robustness"], o["status"]["currentNodeID"]))
    stop_vm(twin, "lab-router")
    assert watch.until([("detached", "unknown", "")]) == [("attached", "healthy", "ms02-1"), ("detached", "unknown", "")]
    wait_for(lambda: {r["status"]["currentState"] for r in replicas_of(twin, ROUTER_VOLUME)} == {"stopped"})
    assert get(twin, f"{VOLUMES}/{DNS_VOLUME}")["status"]["state"] == "attached"


def test_starting_a_vm_attaches_its_volume_on_its_node(twin):
    watch = Watch(twin, "Volume", BUILDER_VOLUME, lambda o: (o["status"]["state"], o["status"]["robustness"]))
    twin.kubectl("patch", "vm", "lab-builder", "-n", "default", "--type", "merge", "-p", '{"spec":{"runStrategy":"Always"}}')
    assert watch.until([("attached", "healthy")], timeout=30) == [("detached", "unknown"), ("attached", "healthy")]
    vmi = json.loads(twin.kubectl("get", "vmi", "lab-builder", "-n", "default", "-o", "json").stdout)
    vol = get(twin, f"{VOLUMES}/{BUILDER_VOLUME}")
    assert vol["status"]["currentNodeID"] == vmi["status"]["nodeName"] != ""
    assert vol["status"]["kubernetesStatus"]["workloadsStatus"][0]["workloadName"] == "lab-builder"
    wait_for(lambda: {r["status"]["currentState"] for r in replicas_of(twin, BUILDER_VOLUME)} == {"running"})


def test_deleting_a_volume_removes_its_replicas(twin):
    twin.kubectl("-n", NS, "delete", "volumes.longhorn.io", BUILDER_VOLUME, "--wait", "--timeout=20s")
    wait_for(lambda: replicas_of(twin, BUILDER_VOLUME) == [])


# ---------------------------------------------------------------------------------------- nodes
def test_cordoned_node_is_not_schedulable(twin):
    def schedulable(o):
        c = next(c for c in o["status"]["conditions"] if c["type"] == "Schedulable")
        return c["status"], c["reason"]
    watch = Watch(twin, "Node", "ms02-2", schedulable)
    twin.kubectl("cordon", "ms02-2")
    assert watch.until([("False", "KubernetesNodeCordoned")]) == [("True", ""), ("False", "KubernetesNodeCordoned")]
    node = get(twin, f"/apis/longhorn.io/v1beta2/namespaces/{NS}/nodes/ms02-2")
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Schedulable")["message"] == "Node ms02-2 is cordoned"
    out = twin.kubectl("get", "nodes.longhorn.io", "-n", NS, "ms02-2").stdout.splitlines()[1].split()
    assert out[:4] == ["ms02-2", "True", "true", "False"]
    twin.kubectl("uncordon", "ms02-2")
    assert watch_until(twin, "Node", "ms02-2", schedulable, [("True", "")])


def test_not_ready_kubernetes_node(twin):
    r = twin.session().patch(
        twin.url("/api/v1/nodes/ms02-3/status"), headers={"Content-Type": "application/strategic-merge-patch+json"},
        data=json.dumps({"status": {"conditions": [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                                                    "message": "Kubelet stopped posting node status."}]}}))
    assert r.status_code == 200, r.text

    def ready(o):
        c = next(c for c in o["status"]["conditions"] if c["type"] == "Ready")
        return c["status"], c["reason"]
    assert watch_until(twin, "Node", "ms02-3", ready, [("False", "KubernetesNodeNotReady")])


def test_backup_target_becomes_available(twin):
    r = patch(twin, f"/apis/longhorn.io/v1beta2/namespaces/{NS}/backuptargets/default",
              {"spec": {"backupTargetURL": "nfs://10.10.10.20:/volume1/harvester-backups"}})
    assert r.status_code == 200
    assert watch_until(twin, "BackupTarget", "default", lambda o: o["status"]["available"], [True])


# ---------------------------------------------------------------------------------------- upstream CRDs
def test_upstream_crds_setting_update_and_refusal(upstream_twin):
    """The two Longhorn lines of ../shared/checks/twin-smoke.sh, against the unmodified CRDs."""
    t = upstream_twin
    t.kubectl("-n", NS, "patch", "settings.longhorn.io", "default-replica-count", "--type", "merge", "-p", '{"value":"2"}')
    assert setting(t, "default-replica-count")["value"] == '{"v1":"2","v2":"2"}'
    assert watch_until(t, "Setting", "default-replica-count", applied, [True])
    proc = t.kubectl("-n", NS, "patch", "settings.longhorn.io", "default-replica-count", "--type", "merge",
                     "-p", '{"value":"25"}', check=False)
    assert proc.returncode == 1 and "value 25 for data engine v1 should be less than or equal to 20" in proc.stderr


def test_upstream_crds_volume_heals(upstream_twin):
    t = upstream_twin
    failing = replicas_of(t, ROUTER_VOLUME)[1]["metadata"]["name"]
    patch(t, f"{REPLICAS}/{failing}", {"spec": {"failedAt": "2026-11-02T10:00:00Z"}}).raise_for_status()
    assert watch_until(t, "Volume", ROUTER_VOLUME, robustness, ["degraded", "healthy"], timeout=30)


def test_upstream_crds_danger_zone_pending(upstream_twin):
    t = upstream_twin
    patch(t, f"{SETTINGS}/system-managed-components-node-selector", {"value": "storage:true"}).raise_for_status()
    assert watch_until(t, "Setting", "system-managed-components-node-selector", applied, [False])
