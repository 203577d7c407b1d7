"""/_twin/snapshot and /_twin/restore: a test that needs a converged lab restores it instead of
converging again. Restore brings back every object as it was (and removes what came after), adds
each again with a new resourceVersion (the counter keeps going up), clears faults and the request
log, and the controllers act on the restored objects as on any others. The twin's reset restores
the seed the same way."""
from __future__ import annotations

import json

from .conftest import wait_for

NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"


def nad(name, vlan):
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"config": f'{{"cniVersion":"0.3.1","name":"{name}","type":"bridge","bridge":"mgmt-br","vlan":{vlan}}}'}}


def test_restore_brings_back_the_snapshot_and_nothing_else(twin):
    s = twin.session()
    s.post(twin.url(NADS), json=nad("kept", 30)).raise_for_status()
    created = wait_for(lambda: (s.get(twin.url(f"{NADS}/kept")).json()["metadata"].get("labels") or {})
                       .get("network.harvesterhci.io/ready"), "the controller's ready label")
    assert created == "true"
    answer = s.post(twin.url("/_twin/snapshot"), params={"name": "converged"})
    assert answer.status_code == 201 and answer.json()["objects"] > 10
    before = s.get(twin.url(f"{NADS}/kept")).json()

    s.delete(twin.url(f"{NADS}/kept")).raise_for_status()
    s.post(twin.url(NADS), json=nad("later", 40)).raise_for_status()
    rv_then = int(s.get(twin.url(NADS)).json()["metadata"]["resourceVersion"])
    twin.fault(method="GET", path="nothing-matches-this", status=503)

    twin.restore("converged")
    wait_for(lambda: s.get(twin.url(f"{NADS}/kept")).status_code == 200, "the restored network")
    assert s.get(twin.url(f"{NADS}/kept")).json()["spec"] == before["spec"]
    assert s.get(twin.url(f"{NADS}/later")).status_code == 404
    assert s.get(twin.url("/_twin/faults")).json() == []
    assert [r["path"] for r in twin.requests_log()][:1] == [f"{NADS}/kept"]  # the log began again

    # the counter never goes back, and the controllers work on the restored lab
    s.post(twin.url(NADS), json=nad("after", 50)).raise_for_status()
    after = s.get(twin.url(f"{NADS}/after")).json()
    assert int(after["metadata"]["resourceVersion"]) > rv_then
    wait_for(lambda: (s.get(twin.url(f"{NADS}/after")).json()["metadata"].get("labels") or {})
             .get("network.harvesterhci.io/ready") == "true", "the controller's label on a new network")


def test_restore_of_an_unknown_snapshot_is_404_and_changes_nothing(twin):
    s = twin.session()
    s.post(twin.url(NADS), json=nad("stays", 30)).raise_for_status()
    answer = s.post(twin.url("/_twin/restore"), params={"name": "never-taken"})
    assert answer.status_code == 404 and answer.json() == {"error": "no snapshot 'never-taken'"}
    assert s.get(twin.url(f"{NADS}/stays")).status_code == 200


def test_restored_objects_are_added_again_with_new_versions_and_a_watch_from_one_replays(twin):
    """As seeding writes them: each restored object gets a resourceVersion past everything before
    the restore, and the watch history holds its ADDED event, so a client watching from a
    restored object's version (a reflector resuming, kubernetes' watch helpers) gets what came
    after it, not 410 Gone. tests/twin/tests/test_longhorn.py's volume watches do that after every
    reset, which restores the seed."""
    s = twin.session()
    s.post(twin.url(NADS), json=nad("kept", 30)).raise_for_status()
    s.post(twin.url("/_twin/snapshot"), params={"name": "two"}).raise_for_status()
    s.post(twin.url(NADS), json=nad("later", 40)).raise_for_status()
    rv_then = int(s.get(twin.url(NADS)).json()["metadata"]["resourceVersion"])

    twin.restore("two")
    kept = s.get(twin.url(f"{NADS}/kept")).json()
    assert int(kept["metadata"]["resourceVersion"]) > rv_then
    s.patch(twin.url(f"{NADS}/kept"), data='{"metadata":{"labels":{"seen":"yes"}}}',
            headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    with s.get(twin.url(NADS), params={"watch": "true", "resourceVersion": kept["metadata"]["resourceVersion"],
                                       "fieldSelector": "metadata.name=kept"}, stream=True, timeout=10) as r:
        assert r.status_code == 200
        first = json.loads(next(line for line in r.iter_lines() if line))
    assert first["type"] == "MODIFIED" and first["object"]["metadata"]["labels"]["seen"] == "yes"
