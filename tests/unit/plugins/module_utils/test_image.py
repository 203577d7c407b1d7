# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/image.py: input checks, the desired object, what counts as
drift (the mutator's defaults never do), the immutable parts, readiness and failure."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import image, reconcile
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError

SHA = "ab" * 64
BASE = {"name": "talos-1.11", "namespace": "default", "display_name": None, "source_type": "download",
        "url": "http://files.lab/disk.img", "checksum": SHA, "storage_class": None, "description": "Talos",
        "labels": {"os": "talos"}, "state": "present", "recreate": False, "wait": True, "wait_timeout": 600}


def params(**kw):
    return dict(BASE, **kw)


def live_from(desired, **status):
    """What the twin/Harvester stores for ``desired``: the mutator's defaults and a status."""
    obj = {"apiVersion": desired["apiVersion"], "kind": desired["kind"],
           "metadata": dict(desired["metadata"], uid="u1", resourceVersion="7",
                            finalizers=["wrangler.cattle.io/vm-image-controller"]),
           "spec": dict(desired["spec"], backend="backingimage", targetStorageClassName="harvester-longhorn",
                        storageClassParameters={"numberOfReplicas": "3", "staleReplicaTimeout": "30",
                                                "migratable": "true"}),
           "status": status}
    meta = obj["metadata"]
    meta["labels"] = dict(meta.get("labels") or {}, **{image.LABEL_DISPLAY_NAME: desired["spec"]["displayName"]})
    meta["annotations"] = dict(meta.get("annotations") or {}, **{image.ANNOTATION_STORAGE_CLASS: "harvester-longhorn"})
    return obj


def test_desired_object():
    d = image.desired(params())
    assert d["metadata"] == {"name": "talos-1.11", "namespace": "default", "labels": {"os": "talos"}}
    assert d["spec"] == {"displayName": "talos-1.11", "sourceType": "download", "url": "http://files.lab/disk.img",
                         "checksum": SHA, "description": "Talos"}
    up = image.desired(params(source_type="upload", url=None, checksum=None, display_name="Win", storage_class="sc2",
                              labels=None, description=None))
    assert up["spec"] == {"displayName": "Win", "sourceType": "upload"}
    assert up["metadata"]["annotations"] == {image.ANNOTATION_STORAGE_CLASS: "sc2"}


def test_mutator_defaults_are_not_drift():
    p = params()
    d = image.desired(p)
    assert reconcile.differing(d, live_from(d), image.fields(p)) == []
    assert reconcile.immutable_changes(d, live_from(d), image.immutable(p)) == []
    view = reconcile.managed_view(live_from(d), image.fields(p))
    assert view["metadata"] == {"labels": {"os": "talos"}} and "backend" not in view["spec"]


def test_given_fields_only_are_managed():
    p = params(checksum=None, description=None, labels=None)
    assert image.fields(p) == list(image.BASE_FIELDS)
    live = live_from(image.desired(params()))
    assert reconcile.differing(image.desired(p), live, image.fields(p)) == []  # omitted: left alone
    removed = params(description="", labels={"os": None})
    todo = reconcile.differing(image.desired(removed), live, image.fields(removed))
    assert [f.path for f in todo] == [("spec", "description"), ("metadata", "labels", "os")]
    patch = reconcile.merge_patch(image.desired(removed), live, todo)
    assert patch["spec"] == {"description": None} and patch["metadata"]["labels"] == {"os": None}


def test_immutable_parts():
    p = params()
    live = live_from(image.desired(p))
    moved = image.desired(params(url="http://files.lab/v2.img", display_name="talos"))
    assert [c[0] for c in reconcile.immutable_changes(moved, live, image.immutable(p))] == ["url", "display_name"]
    other_sc = params(storage_class="two-replicas")
    assert reconcile.immutable_changes(image.desired(other_sc), live, image.immutable(other_sc)) == [
        ("storage_class", "harvester-longhorn", "two-replicas")]
    same_sc = params(storage_class="harvester-longhorn")
    assert reconcile.immutable_changes(image.desired(same_sc), live, image.immutable(same_sc)) == []
    upload = params(source_type="upload", url=None, checksum=None)
    assert [c[0] for c in reconcile.immutable_changes(image.desired(upload), live, image.immutable(upload))] == [
        "source_type", "url"]


def cond(type_, status, reason="", message=""):
    return {"type": type_, "status": status, "reason": reason, "message": message}


def test_readiness_failure_and_summary():
    d = image.desired(params())
    importing = live_from(d, progress=42, conditions=[cond("Initialized", "True", "Initialized"),
                                                      cond("Imported", "Unknown", "Importing")])
    assert not image.is_imported(importing) and image.is_initialized(importing) and image.failed(importing) is None
    assert image.summary(importing) == ("progress 42%; conditions Initialized=True (Initialized), "
                                        "Imported=Unknown (Importing)")
    done = live_from(d, progress=100, conditions=[cond("Imported", "True", "Imported")])
    assert image.is_imported(done) and image.ready(done) and not image.ready(importing)
    assert image.goal(params()) == "imported" and image.goal(params(source_type="upload")) == "initialized"
    upload_params = params(source_type="upload", url=None, checksum=None)
    receiving = live_from(image.desired(upload_params), conditions=[cond("Initialized", "True", "Initialized")])
    assert image.ready(receiving)  # an upload image is ready for its bytes once initialized
    msg = "retry attempted 3/3 failed due to error: the expected checksum x doesn't match"
    failed = live_from(d, progress=100, failed=4, conditions=[cond("Imported", "False", "Importing", msg),
                                                              cond("RetryLimitExceeded", "True", "", msg)])
    assert image.failed(failed) == msg
    assert "failed 4 time(s)" in image.summary(failed) and "last error: " + msg in image.summary(failed)
    retrying = live_from(d, failed=1, conditions=[cond("RetryLimitExceeded", "False", "", "failed due to error: x")])
    assert image.failed(retrying) is None
    upload = live_from(d, conditions=[cond("Imported", "False", "UploadFailed", "broken pipe")])
    assert image.failed(upload) == "broken pipe"
    assert image.summary(live_from(d)) == "progress 0%; conditions <none yet>"


@pytest.mark.parametrize("overrides, message", [
    ({"name": "Talos"}, "name: 'Talos' is not a valid name"),
    ({"name": "a" * 254}, "is 254 characters, at most 253 are allowed"),
    ({"namespace": "a.b"}, "namespace: 'a.b' is not a valid name"),
    ({"url": None}, "url: is required when source_type is download"),
    ({"url": "file:///tmp/disk.img"}, "is not an http:// or https:// URL"),
    ({"url": "http://files lab/disk.img"}, "contains spaces or control characters"),
    ({"url": "https://:8080/x"}, "has no host"),
    ({"source_type": "upload", "checksum": None}, "url: only with source_type download"),
    ({"source_type": "upload", "url": None}, "checksum: only with source_type download"),
    ({"checksum": "g" * 128}, "is not a sha512 checksum"),
    ({"checksum": "a" * 64}, "is not a sha512 checksum"),
    ({"display_name": "-talos"}, "display_name: '-talos' is not a valid label value"),
    ({"display_name": "x" * 64}, "display_name: '" + "x" * 64 + "' is 64 characters"),
    ({"name": "a" * 64}, "display_name: '" + "a" * 64 + "' is 64 characters"),
    ({"display_name": ""}, "display_name: must not be empty"),
    ({"storage_class": "Two_Replicas"}, "storage_class: 'Two_Replicas' is not a valid name"),
    ({"labels": {"bad key!": "x"}}, "labels: 'bad key!' is not a valid label key"),
    ({"labels": {"-x.io/os": "x"}}, "labels: '-x.io/os' has an invalid prefix"),
    ({"labels": {"os": "a b"}}, "labels.os: 'a b' is not a valid label value"),
    ({"labels": {image.LABEL_DISPLAY_NAME: "x"}}, "is set by Harvester from display_name"),
    ({"wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_bad_input(overrides, message):
    with pytest.raises(ValidationError) as e:
        image.check(params(**overrides))
    assert message in str(e.value)


def test_good_input_and_absent_needs_only_a_name():
    image.check(params())
    image.check(params(name="ubuntu-24.04", display_name="Ubuntu_24.04", labels={"example.com/os": "ubuntu", "x": None},
                       url="https://user@files.lab:8443/noble.img?x=1", checksum=None))
    image.check(params(source_type="upload", url=None, checksum=None))
    image.check(params(state="absent", url=None, checksum="bad", display_name="not a label"))
