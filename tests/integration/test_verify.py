"""playbooks/verify.yml: the site in check mode with diff, a drift report per object, a non-zero
exit when anything differs, and never a stored write. Most tests start from the converged lab
(tests/integration/conftest.py: converged once, restored per test)."""
from __future__ import annotations

import json

import pytest

from tests.integration.playbooks import stored_writes
from tests.integration.roles import NAD_PATH, VERIFY, run_site

# one worker runs the whole file, so the lab converges once (conftest.py: converged_lab)
pytestmark = [pytest.mark.twin, pytest.mark.integration, pytest.mark.xdist_group("test_verify")]

TWIN_ARGS = ["--speed", "20"]
LONGHORN_SETTINGS = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings"
SETTINGS = "/apis/harvesterhci.io/v1beta1/settings"
STORAGE_CLASSES = "/apis/storage.k8s.io/v1/storageclasses"


def verify(twin, tmp_path):
    """verify.yml; returns (exit status, output, the report's lines, API requests of the run)."""
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, playbook=VERIFY)
    requests = [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]
    report = out.partition("TASK [Report the drift]")[2].partition("TASK [")[0]
    return rc, out, report, requests


def merge_patch(twin, path, body):
    twin.session().patch(twin.url(path), data=json.dumps(body),
                         headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()


def test_no_drift_after_converge(converged, tmp_path):
    rc, out, report, requests = verify(converged, tmp_path)
    assert rc == 0, out
    assert "No drift: the cluster matches the inventory." in report, out
    assert requests and stored_writes(requests) == []


def test_changes_behind_its_back_are_reported_per_object_and_fail_the_run(converged, tmp_path):
    twin = converged
    platform = twin.session().get(twin.url(f"{NAD_PATH}/platform")).json()
    config = json.loads(platform["spec"]["config"])
    config["vlan"] = 33
    merge_patch(twin, f"{NAD_PATH}/platform", {"spec": {"config": json.dumps(config)}})
    merge_patch(twin, f"{LONGHORN_SETTINGS}/default-replica-count", {"value": "2"})
    merge_patch(twin, f"{SETTINGS}/ntp-servers", {"value": json.dumps({"ntpServers": ["10.10.10.99"]})})
    (tmp_path / "pxe" / "ms02-2.ipxe").write_text("#!ipxe\necho tampered\n")

    rc, out, report, requests = verify(twin, tmp_path)
    assert rc != 0, out
    assert "vlans: platform: spec.config.vlan: 33 -> 30" in report
    assert "storage: default-replica-count: v1: 2 -> 3" in report
    assert 'bootstrap: ntp-servers: ntpServers: [\\"10.10.10.99\\"] -> [\\"10.10.10.1\\"]' in report
    assert "bootstrap: ms02-2.ipxe: content differs" in report
    assert "difference(s) between the cluster and the inventory" in out
    assert stored_writes(requests) == []
    assert "tampered" in (tmp_path / "pxe" / "ms02-2.ipxe").read_text(), "check mode must not rewrite the file"
    assert json.loads(twin.session().get(twin.url(f"{NAD_PATH}/platform")).json()["spec"]["config"])["vlan"] == 33


def test_a_refused_change_and_a_dropped_network_count_as_drift(twin, tmp_path):
    rc, out, recap = run_site(twin, tmp_path)  # VMs run: storage-network refused, said clearly, and left alone
    assert rc == 0 and recap["failed"] == 0 and recap["ignored"] == 1, out
    assert "storage-network (VLAN 60, 10.10.60.0/24) NOT applied" in out
    assert not twin.session().get(twin.url(f"{SETTINGS}/storage-network")).json().get("value")
    merge_patch(twin, f"{NAD_PATH}/platform", {"metadata": {"labels": {"app.kubernetes.io/managed-by": "someone-else"}}})
    rc, out, report, requests = verify(twin, tmp_path)
    assert rc != 0
    assert "storage: storage-network-refusal: not as planned:" in report
    assert "refuses to change it while VMs run (default/lab-dns, default/lab-router)" in report
    assert "vlans: platform: metadata.labels.app.kubernetes.io/managed-by: someone-else -> homelab.harvester.vlans" in report
    assert stored_writes(requests) == []


def test_the_token_and_the_install_configs_stay_out_of_the_report(converged, tmp_path):
    (tmp_path / "pxe" / "ms02-1.yaml").write_text("token: tampered-9f2c\n")
    rc, out, report, dummy = verify(converged, tmp_path)
    assert rc != 0
    assert "bootstrap: ms02-1.yaml: content differs" in report
    assert "CHANGE-ME-cluster-join-token" not in out and "tampered-9f2c" not in out


def test_storage_class_drift_is_reported(converged, tmp_path):
    """The StorageClass result was missing from verify's hand-kept list: a changed description (a
    mutable part) was "No drift". Now every <role>_..._result the roles register reports."""
    twin = converged
    merge_patch(twin, f"{STORAGE_CLASSES}/lab-longhorn", {"metadata": {"annotations": {
        "field.cattle.io/description": "changed behind its back"}}})
    rc, out, report, requests = verify(twin, tmp_path)
    assert rc != 0, out
    assert ("storage: StorageClass lab-longhorn: metadata.annotations.field.cattle.io/description: "
            "changed behind its back -> ") in report, report
    assert stored_writes(requests) == []


IMAGES = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages"


def test_an_image_dropped_from_the_library_is_drift_then_removed(converged, tmp_path, files):
    twin = converged
    library = {"lab_images": [{"name": "talos", "url": f"{files}/disk.img"}]}
    rc, out, recap = run_site(twin, tmp_path, tags=["storage"], extra_vars=library)
    assert rc == 0 and recap["failed"] == 0, out
    assert twin.session().get(twin.url(f"{IMAGES}/talos")).json()["metadata"]["labels"][
        "app.kubernetes.io/managed-by"] == "homelab.harvester.storage"

    rc, out, report, requests = verify(twin, tmp_path)  # lab_images is [] again
    assert rc != 0, out
    assert f"storage: default/talos: spec.url: {files}/disk.img -> (absent)" in report, report
    assert stored_writes(requests) == []

    rc, out, recap = run_site(twin, tmp_path, tags=["storage"])
    assert rc == 0 and recap["failed"] == 0, out
    assert twin.session().get(twin.url(f"{IMAGES}/talos")).status_code == 404
    rc, out, report, requests = verify(twin, tmp_path)
    assert rc == 0 and "No drift" in report, out


def test_a_cluster_mtu_other_than_lab_bond_mtu_is_drift(converged, tmp_path):
    """lab_bond.mtu went only into the install configs: the cluster's MTU was never compared."""
    lab_bond = {"mode": "802.3ad", "miimon": 100, "xmit_hash_policy": "layer3+4", "lacp_rate": "fast", "mtu": 9000}
    since = converged.last_seq()
    rc, out, recap = run_site(converged, tmp_path, playbook=VERIFY, extra_vars={"lab_bond": lab_bond})
    report = out.partition("TASK [Report the drift]")[2].partition("TASK [")[0]
    assert rc != 0, out
    assert ("bonding: bonding-mtu: not as planned: cluster network mgmt runs MTU 1500, the inventory says "
            "lab_bond.mtu 9000") in report, report
    assert stored_writes([r for r in converged.requests_log(since) if not r["path"].startswith("/_twin/")]) == []
