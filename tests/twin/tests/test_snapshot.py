"""/_twin/snapshot and /_twin/restore: a test that needs a converged lab restores it instead of
converging again. Restore brings back every object as it was (and removes what came after), keeps
resourceVersions going up, clears faults and the request log, and the controllers act on the
restored objects as on any others."""
from __future__ import annotations

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
