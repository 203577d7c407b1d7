# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/storage_class.py: the input checks, the parameters and the
object built from the options, what counts as a change (only the parameters we write; empty
equals absent), the immutable parts by option name, and the flow that moves the default, on an
in-memory cluster that refuses a second default as Harvester does."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import reconcile, storage_class
from ansible_collections.homelab.harvester.plugins.module_utils.errors import Invalid
from ansible_collections.homelab.harvester.plugins.module_utils.reconcile import ImmutableFieldError
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError

DEFAULT = storage_class.ANNOTATION_DEFAULT
BASE = {"name": "lab-r2", "provisioner": "driver.longhorn.io", "replicas": None, "migratable": None,
        "stale_replica_timeout": None, "data_locality": None, "disk_selector": None, "node_selector": None,
        "parameters": None, "reclaim_policy": "Delete", "volume_binding_mode": "Immediate",
        "allow_volume_expansion": True, "description": None, "default": None, "state": "present", "recreate": False}
CHART_CLASS = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
               "metadata": {"name": "harvester-longhorn", "resourceVersion": "1",
                            "annotations": {DEFAULT: "true", storage_class.ANNOTATION_RESERVED: "true"}},
               "provisioner": "driver.longhorn.io", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
               "allowVolumeExpansion": True,
               "parameters": {"numberOfReplicas": "3", "staleReplicaTimeout": "30", "fromBackup": "", "baseImage": "",
                              "migratable": "true"}}


def params(**kw):
    return dict(BASE, **kw)


# --- input --------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, option, text", [
    ({"name": "Lab"}, "name", "'Lab' is not a valid name"),
    ({"replicas": 0}, "replicas", "0 is not in 1-20"),
    ({"replicas": True}, "replicas", "True is not in 1-20"),
    ({"stale_replica_timeout": -1}, "stale_replica_timeout", "-1 must be more than 0"),
    ({"data_locality": "strict-local"}, "data_locality", "strict-local is refused by Harvester"),
    ({"data_locality": "Best-Effort"}, "data_locality", "'Best-Effort' is not one of disabled, best-effort"),
    ({"disk_selector": [""]}, "disk_selector", "'' is not a Longhorn tag"),
    ({"node_selector": ["a\tb"]}, "node_selector", "is not a Longhorn tag"),
    ({"parameters": ["numberOfReplicas"]}, "parameters", "must be a dict of parameter name to value, got list"),
    ({"parameters": {"fsType": None}}, "parameters.fsType", "must be a string"),
    ({"parameters": {"x": {"y": "z"}}}, "parameters.x", "must be a string"),
    ({"migratable": False, "parameters": {"migratable": "true"}}, "parameters",
     "migratable is also set by the migratable option; give it one way"),
    ({"parameters": {"numberOfReplicas": 30}}, "parameters.numberOfReplicas", "30 is not in 1-20"),
    ({"parameters": {"dataLocality": "strict-local"}}, "parameters.dataLocality", "strict-local is refused"),
    ({"provisioner": "rbd.csi.ceph.com", "migratable": True}, "migratable", "is a Longhorn parameter"),
    ({"provisioner": "a/b/c"}, "provisioner", "'a/b/c' is not a valid provisioner name"),
    ({"provisioner": None}, "provisioner", "must not be empty"),
])
def test_check_refuses(changes, option, text):
    with pytest.raises(ValidationError) as err:
        storage_class.check(params(**changes))
    assert err.value.option == option and text in str(err.value), str(err.value)


def test_check_accepts_and_absent_needs_only_a_name():
    storage_class.check(params(replicas=20, data_locality="best-effort", disk_selector=["nvme", "tier/fast"],
                               parameters={"fromBackup": "", "encrypted": False}))
    storage_class.check(params(parameters={"numberOfReplicas": "1"}))
    storage_class.check(params(provisioner="rbd.csi.ceph.com", parameters={"pool": "vms"}))
    storage_class.check(params(provisioner="Driver.Longhorn.IO"))  # checked lower-cased, as the apiserver does
    storage_class.check(params(state="absent", replicas=0, provisioner=""))


# --- building -----------------------------------------------------------------------------
def test_longhorn_defaults_and_typed_options_as_text():
    assert storage_class.parameters(params()) == {"numberOfReplicas": "3", "staleReplicaTimeout": "30",
                                                  "migratable": "true"}
    got = storage_class.parameters(params(replicas=2, migratable=False, data_locality="best-effort",
                                          disk_selector=["nvme", "ssd"], node_selector=["rack1"],
                                          parameters={"staleReplicaTimeout": 60, "encrypted": True}))
    assert got == {"numberOfReplicas": "2", "staleReplicaTimeout": "60", "migratable": "false",
                   "dataLocality": "best-effort", "diskSelector": "nvme,ssd", "nodeSelector": "rack1",
                   "encrypted": "true"}


def test_other_provisioners_get_only_their_parameters():
    p = params(provisioner="rbd.csi.ceph.com", parameters={"pool": "vms"})
    assert storage_class.parameters(p) == {"pool": "vms"}
    assert storage_class.parameter_options(p) == {"pool": "parameters.pool"}


def test_parameter_options_name_the_option_that_sets_each_key():
    p = params(replicas=2, parameters={"staleReplicaTimeout": "60", "fromBackup": ""})
    assert storage_class.parameter_options(p) == {"numberOfReplicas": "replicas",
                                                  "staleReplicaTimeout": "parameters.staleReplicaTimeout",
                                                  "migratable": "migratable", "fromBackup": "parameters.fromBackup"}


def test_desired_object():
    obj = storage_class.desired(params(description="two", reclaim_policy="Retain"), "true")
    assert obj == {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                   "metadata": {"name": "lab-r2", "annotations": {"field.cattle.io/description": "two", DEFAULT: "true"}},
                   "provisioner": "driver.longhorn.io",
                   "parameters": {"numberOfReplicas": "3", "staleReplicaTimeout": "30", "migratable": "true"},
                   "reclaimPolicy": "Retain", "volumeBindingMode": "Immediate", "allowVolumeExpansion": True}
    assert "annotations" not in storage_class.desired(params())["metadata"]


# --- comparison ---------------------------------------------------------------------------
def test_chart_class_extra_parameters_and_server_defaults_are_no_change():
    p = params(name="harvester-longhorn", default=True, parameters={"fromBackup": ""})
    want = storage_class.desired(p, "true")
    live = copy.deepcopy(CHART_CLASS)
    del live["parameters"]["fromBackup"]  # empty and absent are the same
    assert reconcile.immutable_changes(want, live, storage_class.immutable(p)) == []
    assert reconcile.differing(want, live, storage_class.fields(p)) == []


def test_immutable_parts_are_named_by_option_and_show_unset():
    p = params(name="harvester-longhorn", replicas=2, disk_selector=["nvme"], reclaim_policy="Retain")
    changes = reconcile.immutable_changes(storage_class.desired(p), CHART_CLASS, storage_class.immutable(p))
    assert changes == [("replicas", "3", "2"), ("disk_selector", "<unset>", "nvme"), ("reclaim_policy", "Delete", "Retain")]
    other = params(name="harvester-longhorn", provisioner="rbd.csi.ceph.com", volume_binding_mode="WaitForFirstConsumer")
    assert [c[0] for c in reconcile.immutable_changes(storage_class.desired(other), CHART_CLASS,
                                                      storage_class.immutable(other))] == [
        "provisioner", "volume_binding_mode"]


def test_managed_fields_follow_the_options_given():
    paths = [f.path for f in storage_class.fields(params())]
    assert ("metadata", "annotations", DEFAULT) not in paths and ("metadata", "annotations", "field.cattle.io/description") not in paths
    paths = [f.path for f in storage_class.fields(params(default=False, description=""))]
    assert ("metadata", "annotations", DEFAULT) in paths and ("metadata", "annotations", "field.cattle.io/description") in paths
    assert ("metadata", "annotations", DEFAULT) not in [f.path for f in storage_class.fields(params(default=True), False)]


def test_default_flag_reads_like_kubernetes():
    assert [storage_class.default_flag(v) for v in ("true", "false", None, "True", "yes")] == \
        ["true", "false", "false", "false", "false"]
    assert storage_class.is_default(CHART_CLASS)
    assert not storage_class.is_default({"metadata": {"name": "x"}})


# --- the flow, on an in-memory cluster ------------------------------------------------------
class Cluster:
    """StorageClasses in memory behind the Client methods the flow uses, refusing a second
    default class like Harvester's validator; ``dry_run`` writes are judged and not stored."""

    def __init__(self, *objs, dry_run=False):
        self.objs = {o["metadata"]["name"]: copy.deepcopy(o) for o in objs}
        self.dry_run = dry_run
        self.calls = []
        self.rv = 10

    def _name(self, path):
        return path.rpartition("/")[2]

    def _judge(self, obj):
        if storage_class.is_default(obj):
            for other in self.objs.values():
                if other["metadata"]["name"] != obj["metadata"]["name"] and storage_class.is_default(other):
                    raise Invalid(422, "Invalid", "denied", causes=[{"message": f"default storage class "
                                                                    f"{other['metadata']['name']} already exists"}])

    def _store(self, obj):
        if self.dry_run:
            return copy.deepcopy(obj)
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.objs[obj["metadata"]["name"]] = obj
        return copy.deepcopy(obj)

    def get(self, path, missing_ok=False):
        self.calls.append(("GET", self._name(path)))
        return copy.deepcopy(self.objs.get(self._name(path)))

    def list(self, path):
        self.calls.append(("LIST", ""))
        return [copy.deepcopy(o) for o in self.objs.values()]

    def create(self, path, body):
        self.calls.append(("POST", body["metadata"]["name"]))
        obj = copy.deepcopy(body)
        self._judge(obj)
        return self._store(obj)

    def merge_patch(self, path, patch):
        name = self._name(path)
        self.calls.append(("PATCH", name))
        obj = copy.deepcopy(self.objs[name])
        assert patch["metadata"].pop("resourceVersion") == obj["metadata"]["resourceVersion"]
        for key, value in patch.items():
            if key == "metadata":
                annotations = obj["metadata"].setdefault("annotations", {})
                for k, v in (value.get("annotations") or {}).items():
                    annotations.pop(k) if v is None else annotations.__setitem__(k, v)
            else:
                obj[key] = value
        self._judge(obj)
        return self._store(obj)

    def delete(self, path, missing_ok=False):
        self.calls.append(("DELETE", self._name(path)))
        if not self.dry_run:
            self.objs.pop(self._name(path), None)

    def writes(self):
        return [c for c in self.calls if c[0] in ("POST", "PATCH", "DELETE")]


def flag(cluster, name):
    return cluster.objs[name]["metadata"].get("annotations", {}).get(DEFAULT)


def test_taking_the_default_demotes_the_old_one_first():
    cluster = Cluster(CHART_CLASS)
    result = storage_class.ensure(cluster, params(name="lab-default", default=True))
    assert cluster.writes() == [("POST", "lab-default"), ("PATCH", "harvester-longhorn"), ("PATCH", "lab-default")]
    assert (flag(cluster, "harvester-longhorn"), flag(cluster, "lab-default")) == ("false", "true")
    assert result["changed"] is True and result["previous_default"] == "harvester-longhorn"
    ours, theirs = result["diff"]
    assert ours["before"] == {} and ours["after"]["metadata"]["annotations"] == {DEFAULT: "true"}
    assert theirs["after"] == {"metadata": {"name": "harvester-longhorn", "annotations": {DEFAULT: "false"}}}
    assert result["storage_class"]["metadata"]["annotations"][DEFAULT] == "true"

    cluster.calls.clear()
    again = storage_class.ensure(cluster, params(name="lab-default", default=True))
    assert again["changed"] is False and again["previous_default"] is None and cluster.writes() == []


def test_check_mode_predicts_the_promotion_instead_of_sending_it():
    cluster = Cluster(CHART_CLASS, dry_run=True)
    result = storage_class.ensure(cluster, params(name="lab-default", default=True))
    assert cluster.writes() == [("POST", "lab-default"), ("PATCH", "harvester-longhorn")]
    assert list(cluster.objs) == ["harvester-longhorn"] and flag(cluster, "harvester-longhorn") == "true"
    assert result["changed"] is True and result["storage_class"]["metadata"]["annotations"][DEFAULT] == "true"


def test_no_other_default_writes_the_flag_with_the_create():
    chart = copy.deepcopy(CHART_CLASS)
    chart["metadata"]["annotations"][DEFAULT] = "false"
    cluster = Cluster(chart)
    result = storage_class.ensure(cluster, params(name="lab-default", default=True))
    assert cluster.writes() == [("POST", "lab-default")] and flag(cluster, "lab-default") == "true"
    assert result["previous_default"] is None and isinstance(result["diff"], dict)


def test_recreate_keeps_the_default_flag_when_default_is_not_given():
    cluster = Cluster(dict(CHART_CLASS, metadata={"name": "lab", "resourceVersion": "1", "annotations": {DEFAULT: "true"}}))
    result = storage_class.ensure(cluster, params(name="lab", replicas=2, recreate=True))
    assert cluster.writes() == [("DELETE", "lab"), ("POST", "lab")]
    assert flag(cluster, "lab") == "true" and cluster.objs["lab"]["parameters"]["numberOfReplicas"] == "2"
    assert result["diff"]["before"]["parameters"]["numberOfReplicas"] == "3"
    assert result["diff"]["after"]["parameters"]["numberOfReplicas"] == "2"


def test_immutable_change_without_recreate_names_the_option_and_writes_nothing():
    cluster = Cluster(CHART_CLASS)
    with pytest.raises(ImmutableFieldError) as err:
        storage_class.ensure(cluster, params(name="harvester-longhorn", replicas=2))
    assert err.value.field == "replicas" and cluster.writes() == []


def test_absent_deletes_and_reports_the_managed_fields():
    cluster = Cluster(CHART_CLASS)
    result = storage_class.ensure(cluster, params(name="harvester-longhorn", state="absent"))
    assert cluster.writes() == [("DELETE", "harvester-longhorn")]
    assert result["changed"] is True and result["diff"]["before"]["parameters"]["fromBackup"] == ""
    assert result["diff"]["after"] == {}
