"""site.yml with a Talos cluster in the inventory: the storage role imports the image the
machines boot from, the capi role makes the lab's KeyPair and the cluster through Cluster API,
waited until ready; a second run changes nothing, and dropping a worker pool's replica count in
the inventory scales it."""
from __future__ import annotations

import pytest

from tests.integration.image_files import DISK_SHA512
from tests.integration.roles import copy_inventory, get, run_site
from tests.twin.tests.conftest import start_twin, stop_twin

pytestmark = [pytest.mark.twin, pytest.mark.integration]

TWIN_ARGS = ["--speed", "20"]
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl lab@ms02"
NS = "capi-platform"
CAPI = f"/apis/cluster.x-k8s.io/v1beta2/namespaces/{NS}"


def with_a_cluster(files, workers=2):
    def change(lab, hosts):
        lab["lab_ssh_authorized_keys"] = [PUBLIC_KEY]
        lab["lab_images"] = [{"name": "talos-1-11-nocloud", "display_name": "talos-v1.11.5-nocloud-amd64",
                              "url": f"{files}/disk.img", "checksum": DISK_SHA512}]
        lab["lab_clusters"] = [{
            "name": "platform", "namespace": NS, "kubernetes_version": "v1.33.4", "talos_version": "v1.11",
            "control_plane": {"replicas": 1, "image": "default/talos-1-11-nocloud", "networks": ["default/platform"]},
            "workers": [{"name": "workers", "replicas": workers, "cpu": 4, "memory": "8Gi"}],
            "wait_timeout": 300}]
    return change


def test_site_creates_the_inventorys_talos_cluster(twin, tmp_path, files):
    inventory = copy_inventory(tmp_path, with_a_cluster(files))
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc == 0 and recap["failed"] == 0, out

    keypair = get(twin, "/apis/harvesterhci.io/v1beta1/namespaces/default/keypairs/lab")
    assert keypair["spec"]["publicKey"] == PUBLIC_KEY
    image = get(twin, "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages/talos-1-11-nocloud")
    assert any(c["type"] == "Imported" and c["status"] == "True" for c in image["status"]["conditions"])
    cluster = get(twin, f"{CAPI}/clusters/platform")
    assert any(c["type"] == "Available" and c["status"] == "True" for c in cluster["status"]["conditions"]), cluster["status"]
    (pool,) = get(twin, f"{CAPI}/machinedeployments")["items"]
    assert pool["spec"]["replicas"] == 2 and pool["status"]["readyReplicas"] == 2
    kubeconfig = tmp_path / "kubeconfig" / f"{NS}-platform.kubeconfig"  # capi_kubeconfig_dir/<namespace>-<name>
    assert kubeconfig.stat().st_mode & 0o777 == 0o600 and "clusters:" in kubeconfig.read_text()

    rc, out, recap = run_site(twin, tmp_path, inventory=inventory)
    assert rc == 0 and recap["changed"] == 0, out

    smaller = copy_inventory(tmp_path / "smaller", with_a_cluster(files, workers=1))
    rc, out, recap = run_site(twin, tmp_path, inventory=smaller, tags=["capi"])
    assert rc == 0 and recap["changed"] == 1, out
    (pool,) = get(twin, f"{CAPI}/machinedeployments")["items"]
    assert pool["spec"]["replicas"] == 1 and pool["status"]["readyReplicas"] == 1


def test_a_cluster_without_an_ssh_key_fails_before_any_write(twin, tmp_path, files):
    def no_key(lab, hosts):
        with_a_cluster(files)(lab, hosts)
        lab["lab_ssh_authorized_keys"] = []
    inventory = copy_inventory(tmp_path, no_key)
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, inventory=inventory, tags=["capi"])
    assert rc != 0 and recap["failed"] == 1, out
    assert "there is no SSH public key for the KeyPair default/lab" in out and "Nothing was changed" in out
    assert [r for r in twin.requests_log(since) if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
            and not r["path"].startswith("/_twin/")] == []


def test_a_missing_provider_fails_naming_it_and_clusterctl_before_any_write(tmp_path, files):
    inventory = copy_inventory(tmp_path, with_a_cluster(files))
    twin = start_twin(tmp_path / "twin", extra=["--lab", str(inventory), "--without-provider", "caphv"])
    try:
        since = twin.last_seq()
        rc, out, recap = run_site(twin, tmp_path, inventory=inventory, tags=["capi"])
        writes = [r for r in twin.requests_log(since) if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
                  and not r["path"].startswith("/_twin/")]
    finally:
        stop_twin(twin)
    assert rc != 0 and recap["failed"] == 1, out
    assert ("the Harvester infrastructure provider (CAPHV) is missing: the API group infrastructure.cluster.x-k8s.io "
            "is not served") in out, out
    assert "Install it with: clusterctl init --infrastructure harvester." in out and "Nothing was changed" in out
    assert writes == []
