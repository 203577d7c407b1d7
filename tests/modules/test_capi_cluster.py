# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""capi_cluster in process (tests/modules/runner.py) against a twin process that plays Cluster API,
CAPHV and the Talos providers (and Harvester, for the pre-flight reads and the identity). A
3-control-plane, 2-worker Talos cluster is created and waited until ready, its kubeconfig written, a
re-run writes nothing, the workers scale to 3, a machine shape change rolls the workers onto a new
template and the old one is removed, the Kubernetes version moves control plane first, and deletion
goes Cluster first, identity Secret last. Check mode stores nothing; the failure states end the wait
with the condition's message; bad input and failed pre-flight checks write nothing."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import requests
import yaml

from ansible_collections.homelab.harvester.plugins.module_utils import vm_network
from tests.catalogue.capi_cluster import BAD_INPUTS
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]
TWIN_ARGS = ["--speed", "50"]  # the CAPI, CAPHV and Talos controllers roll machines on the twin clock

MODULE = "capi_cluster"
NS = "capi-demo"
CAPI = "/apis/cluster.x-k8s.io/v1beta2/namespaces/" + NS
INFRA = "/apis/infrastructure.cluster.x-k8s.io/v1beta1/namespaces/" + NS
TALOS = "/apis/controlplane.cluster.x-k8s.io/v1alpha3/namespaces/" + NS
BOOTSTRAP = "/apis/bootstrap.cluster.x-k8s.io/v1alpha3/namespaces/" + NS
SECRETS = f"/api/v1/namespaces/{NS}/secrets"
PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl lab@ms02")


def harvester_objects(twin):
    """What the pre-flight looks for on Harvester: a VM network with a route, an image, a KeyPair."""
    s = twin.session()
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
           "metadata": {"name": "cluster", "namespace": "default", "labels": {"network.harvesterhci.io/type": "L2VlanNetwork",
                                                                              "network.harvesterhci.io/clusternetwork": "mgmt",
                                                                              "network.harvesterhci.io/vlan-id": "40"},
                        "annotations": {vm_network.ANNOTATION_ROUTE: json.dumps(
                            {"mode": "manual", "cidr": "10.10.40.0/24", "gateway": "10.10.40.1"})}},
           "spec": {"config": vm_network.config("cluster", "mgmt", 40)}}
    image = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
             "metadata": {"name": "talos-1-11", "namespace": "default"},
             "spec": {"displayName": "talos-v1.11.5-nocloud", "sourceType": "upload"}}
    keypair = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "KeyPair", "metadata": {"name": "lab", "namespace": "default"},
               "spec": {"publicKey": PUBLIC_KEY}}
    for path, body in (("/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions", nad),
                       ("/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages", image),
                       ("/apis/harvesterhci.io/v1beta1/namespaces/default/keypairs", keypair)):
        r = s.post(twin.url(path), json=body)
        assert r.status_code in (201, 409), r.text


@pytest.fixture
def lab(twin):
    harvester_objects(twin)
    return twin


def cluster_args(twin, **over):
    args = {"name": "demo", "namespace": NS, "kubernetes_version": "v1.33.4", "talos_version": "v1.11",
            "control_plane": {"replicas": 3, "image": "default/talos-1-11", "networks": ["default/cluster"]},
            "workers": [{"name": "workers", "replicas": 2, "cpu": 4, "memory": "8Gi"}],
            "ssh_keypair": "default/lab", "harvester": {"kubeconfig": str(twin.kubeconfig)}, "wait_timeout": 120}
    args.update(over)
    return args


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get(twin, base, plural, name):
    r = twin.session().get(twin.url(f"{base}/{plural}/{name}"))
    return r.json() if r.status_code == 200 else None


def items(twin, base, plural, selector="cluster.x-k8s.io/cluster-name=demo"):
    r = twin.session().get(twin.url(f"{base}/{plural}"), params={"labelSelector": selector})
    return r.json()["items"] if r.status_code == 200 else []


def machines_by_role(twin):
    machines = items(twin, CAPI, "machines")
    cp = [m for m in machines if "cluster.x-k8s.io/control-plane" in m["metadata"].get("labels", {})]
    return cp, [m for m in machines if m not in cp]


def test_create_wait_ready_write_kubeconfig_then_unchanged(lab, tmp_path):
    dest = tmp_path / "demo.kubeconfig"
    (first,), reqs = play(lab, [cluster_args(lab, kubeconfig_dest=str(dest))], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert first["cluster"]["available"] is True and first["cluster"]["control_plane"]["ready_replicas"] == 3
    assert first["cluster"]["workers"]["demo-workers"]["ready_replicas"] == 2
    assert first["kubeconfig_written"] is True
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600 and "clusters" in dest.read_text()
    kinds_written = [c["kind"] for c in first["changes"]]
    assert kinds_written == ["Namespace", "Secret", "HarvesterCluster", "HarvesterMachineTemplate", "HarvesterMachineTemplate",
                             "TalosConfigTemplate", "TalosControlPlane", "Cluster", "MachineDeployment"]
    identity = first["diff"]["after"]["Secret/demo-harvester-identity"]["data"]["kubeconfig"]
    assert identity.startswith("sha256:") and lab.token not in json.dumps(first)

    cluster = get(lab, CAPI, "clusters", "demo")
    assert cluster["spec"]["controlPlaneEndpoint"]["host"]
    assert cluster["status"]["initialization"]["infrastructureProvisioned"] is True
    cp, workers = machines_by_role(lab)
    assert len(cp) == 3 and len(workers) == 2
    templates = {t["metadata"]["name"] for t in items(lab, INFRA, "harvestermachinetemplates", "homelab.harvester/cluster=demo")}
    clones = items(lab, INFRA, "harvestermachines")
    assert len(clones) == 5
    assert {c["metadata"]["annotations"]["cluster.x-k8s.io/cloned-from-name"] for c in clones} <= templates
    kubeconfig = get(lab, f"/api/v1/namespaces/{NS}", "secrets", "demo-kubeconfig")
    assert kubeconfig["type"] == "cluster.x-k8s.io/secret"

    (second,), reqs = play(lab, [cluster_args(lab, kubeconfig_dest=str(dest))])
    assert second["changed"] is False and second["changes"] == [] and not second.get("failed"), second
    assert second["kubeconfig_written"] is False
    assert writes(reqs) == []


def test_check_mode_stores_nothing(lab):
    (result,), reqs = play(lab, [cluster_args(lab)], check=True, diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert stored_writes(reqs) == []
    assert get(lab, CAPI, "clusters", "demo") is None
    assert "Cluster/demo" in result["diff"]["after"] and result["cluster"] is None


def test_scale_workers_then_roll_a_new_machine_shape(lab):
    play(lab, [cluster_args(lab)])
    (scaled,), reqs = play(lab, [cluster_args(lab, workers=[{"name": "workers", "replicas": 3, "cpu": 4, "memory": "8Gi"}])])
    assert scaled["changed"] is True and not scaled.get("failed"), scaled
    assert [(c["kind"], c["action"]) for c in scaled["changes"]] == [("MachineDeployment", "update")]
    assert len(machines_by_role(lab)[1]) == 3

    old = {t["metadata"]["name"] for t in items(lab, INFRA, "harvestermachinetemplates", "homelab.harvester/role=workers")}
    bigger = cluster_args(lab, workers=[{"name": "workers", "replicas": 3, "cpu": 4, "memory": "16Gi"}])
    (rolled,), reqs = play(lab, [bigger])
    assert rolled["changed"] is True and not rolled.get("failed"), rolled
    actions = [(c["kind"], c["action"]) for c in rolled["changes"]]
    assert actions == [("HarvesterMachineTemplate", "create"), ("MachineDeployment", "update"), ("HarvesterMachineTemplate", "delete")]
    new = {t["metadata"]["name"] for t in items(lab, INFRA, "harvestermachinetemplates", "homelab.harvester/role=workers")}
    assert len(new) == 1 and not new & old
    workers = [m for m in items(lab, INFRA, "harvestermachines")
               if m["metadata"]["annotations"]["cluster.x-k8s.io/cloned-from-name"] in new]
    assert len(workers) == 3 and all(m["spec"]["memory"] == "16Gi" for m in workers)


def test_version_bump_moves_the_control_plane_first(lab):
    play(lab, [cluster_args(lab)])
    (bumped,), reqs = play(lab, [cluster_args(lab, kubernetes_version="v1.34.1")])
    assert bumped["changed"] is True and not bumped.get("failed"), bumped
    assert [c["kind"] for c in bumped["changes"]] == ["TalosControlPlane", "MachineDeployment"]
    patches = [r for r in writes(reqs) if r["method"] == "PATCH"]
    assert [p["path"].split("/")[-2] for p in patches] == ["taloscontrolplanes", "machinedeployments"]
    assert bumped["cluster"]["control_plane"]["version"] == "v1.34.1"
    md = get(lab, CAPI, "machinedeployments", "demo-workers")
    assert md["spec"]["template"]["spec"]["version"] == "v1.34.1"


def test_delete_cluster_first_identity_secret_last(lab):
    play(lab, [cluster_args(lab)])
    (gone, again), reqs = play(lab, [{"name": "demo", "namespace": NS, "state": "absent", "wait_timeout": 120},
                                     {"name": "demo", "namespace": NS, "state": "absent"}])
    assert gone["changed"] is True and not gone.get("failed"), gone
    assert again["changed"] is False and not again.get("failed"), again
    deletes = [r["path"] for r in writes(reqs) if r["method"] == "DELETE"]
    assert deletes[0] == f"{CAPI}/clusters/demo" and deletes[-1] == f"{SECRETS}/demo-harvester-identity"
    assert get(lab, CAPI, "clusters", "demo") is None and items(lab, CAPI, "machines") == []
    assert items(lab, INFRA, "harvestermachinetemplates", "homelab.harvester/cluster=demo") == []
    assert items(lab, BOOTSTRAP, "talosconfigtemplates", "homelab.harvester/cluster=demo") == []


@pytest.fixture
def short_hold(monkeypatch):
    """A failure condition ends the wait after 1 s here, not 15: how long it must hold is
    test_wait.py's; these tests are about which condition ends the wait, with what message."""
    from ansible_collections.homelab.harvester.plugins.module_utils.capi import status
    monkeypatch.setattr(status, "STUCK_AFTER", 1.0)


@pytest.mark.usefixtures("short_hold")
def test_bad_identity_fails_with_the_condition_message(lab):
    s = lab.session()
    kubeconfig = yaml.safe_load(lab.kubeconfig.read_text())
    kubeconfig["users"][0]["user"]["token"] = "not-the-token"
    s.post(lab.url("/api/v1/namespaces"), json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    encoded = base64.b64encode(json.dumps(kubeconfig).encode()).decode()
    s.post(lab.url(SECRETS), json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "stale-identity"}, "data": {"kubeconfig": encoded}})
    args = cluster_args(lab, identity_secret="stale-identity", preflight=False)
    del args["harvester"]
    (result,), reqs = play(lab, [args])
    assert result["failed"], result
    assert "HarvesterConnectionReady is False (HarvesterAuthenticationFailed)" in result["msg"], result["msg"]
    assert "timed out" not in result["msg"]


@pytest.mark.usefixtures("short_hold")
def test_exhausted_machine_ip_pool_fails_with_the_condition_message(lab):
    # Harvester's pool already handed out all but four of the range's addresses to other VMs
    taken = [f"10.10.40.{i}" for i in range(100, 112) if i not in (100, 101, 102, 103)]
    lab.session().patch(lab.url("/_twin/environment"), json={"harvester_ips_in_use": taken}).raise_for_status()
    pool = {"subnet": "10.10.40.0/24", "gateway": "10.10.40.1", "range_start": "10.10.40.100", "range_end": "10.10.40.111"}
    (result,), reqs = play(lab, [cluster_args(lab, machine_ip_pool=pool)])
    assert result["failed"], result
    assert "VMIPAllocated is False (VMIPPoolExhausted)" in result["msg"] and "exhausted" in result["msg"], result["msg"]
    assert "timed out" not in result["msg"]


@pytest.mark.usefixtures("short_hold")
def test_talos_config_patch_outside_the_machine_config_fails_with_the_condition_message(lab):
    typo = {"op": "add", "path": "/machines/kubelet/extraArgs", "value": {"rotate-server-certificates": "true"}}
    args = cluster_args(lab, control_plane={"replicas": 1, "image": "default/talos-1-11", "networks": ["default/cluster"],
                                            "config_patches": [typo]})
    (result,), reqs = play(lab, [args])
    assert result["failed"], result
    assert "Available is False (InvalidControlPlaneConfig)" in result["msg"], result["msg"]
    assert 'doc is missing path: "/machines/kubelet"' in result["msg"], result["msg"]


def test_guest_storage_through_a_cluster_resource_set(lab, tmp_path):
    manifests = tmp_path / "harvester-csi-driver.yaml"
    manifests.write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: harvester-csi-driver, namespace: kube-system}\n")
    args = cluster_args(lab, storage={"csi_manifests": str(manifests)}, wait_for="infrastructure")
    (first,), reqs = play(lab, [args])
    assert first["changed"] is True and not first.get("failed"), first
    order = [f"{c['kind']}/{c['name']}" for c in first["changes"]]
    for name in ("Harvester ServiceAccount/demo-csi", "Harvester RoleBinding/demo-csi", "Harvester Secret/demo-csi-token",
                 "Secret/demo-harvester-cloud-config", "ConfigMap/demo-harvester-csi", "ClusterResourceSet/demo-harvester-csi"):
        assert name in order, order
    assert order.index("ClusterResourceSet/demo-harvester-csi") < order.index("Cluster/demo")

    s = lab.session()
    binding = s.get(lab.url(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/rolebindings/demo-csi")).json()
    assert binding["roleRef"]["name"] == "harvesterhci.io:csi-driver"
    crs = s.get(lab.url(f"/apis/addons.cluster.x-k8s.io/v1beta2/namespaces/{NS}/clusterresourcesets/demo-harvester-csi")).json()
    assert crs["spec"]["clusterSelector"] == {"matchLabels": {"homelab.harvester/cluster": "demo"}}
    assert crs["spec"]["resources"] == [{"kind": "Secret", "name": "demo-harvester-cloud-config"},
                                        {"kind": "ConfigMap", "name": "demo-harvester-csi"}]
    assert "homelab.harvester/cluster" in get(lab, CAPI, "clusters", "demo")["metadata"]["labels"]
    resource_set = s.get(lab.url(f"{SECRETS}/demo-harvester-cloud-config")).json()
    assert resource_set["type"] == "addons.cluster.x-k8s.io/resource-set"
    guest_secret = json.loads(base64.b64decode(resource_set["data"]["cloud-config.yaml"]))
    assert (guest_secret["metadata"]["namespace"], guest_secret["metadata"]["name"]) == ("kube-system", "cloud-config")
    cloud_config = json.loads(guest_secret["stringData"]["cloud-config"])
    assert cloud_config["contexts"][0]["context"]["namespace"] == NS
    token = cloud_config["users"][0]["user"]["token"]
    probe = requests.get(lab.url("/api/v1/namespaces"), headers={"Authorization": f"Bearer {token}"}, verify=str(lab.ca_file))
    assert probe.status_code == 200  # the ServiceAccount's token really authenticates to Harvester
    assert token not in json.dumps(first)

    (second,), reqs = play(lab, [args])
    assert second["changed"] is False and writes(reqs) == [], (second, writes(reqs))

    (gone,), reqs = play(lab, [{"name": "demo", "namespace": NS, "state": "absent", "wait_timeout": 120}])
    assert gone["changed"] is True and not gone.get("failed"), gone
    for path in (f"/api/v1/namespaces/{NS}/serviceaccounts/demo-csi", f"{SECRETS}/demo-harvester-cloud-config",
                 f"/api/v1/namespaces/{NS}/configmaps/demo-harvester-csi",
                 f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/rolebindings/demo-csi"):
        assert s.get(lab.url(path)).status_code == 404, path


def test_paused_cluster_is_reported_not_waited_on_and_not_deleted(lab):
    play(lab, [cluster_args(lab, wait_for="infrastructure")])
    r = lab.session().patch(lab.url(f"{CAPI}/clusters/demo"), data=json.dumps({"spec": {"paused": True}}),
                            headers={"Content-Type": "application/merge-patch+json"})
    r.raise_for_status()
    scaled = cluster_args(lab, workers=[{"name": "workers", "replicas": 3, "cpu": 4, "memory": "8Gi"}], wait_timeout=5)
    (result,), reqs = play(lab, [scaled])
    assert result["changed"] is True and not result.get("failed"), result  # applied, not waited on (5 s would time out)
    assert result["cluster"]["paused"] is True
    assert any("is paused" in w for w in result.get("warnings", [])), result.get("warnings")
    (gone,), reqs = play(lab, [{"name": "demo", "namespace": NS, "state": "absent"}])
    assert gone["failed"] and "is paused" in gone["msg"] and "spec.paused to false" in gone["msg"], gone
    assert writes(reqs) == []


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)


def test_preflight_names_every_missing_harvester_object_and_writes_nothing(twin):
    args = cluster_args(twin, control_plane={"image": "default/nope", "networks": ["default/cluster", "default/gone"]},
                        ssh_keypair="default/nobody",
                        load_balancer={"ipam": "pool", "pool": {"subnet": "10.10.50.0/24", "gateway": "10.10.50.1"}})
    harvester_objects(twin)
    (result,), reqs = play(twin, [args])
    assert result["failed"], result
    assert result["msg"].startswith("pre-flight on Harvester failed: ")
    for needle in ("image default/nope not found", "VM network default/gone not found", "KeyPair default/nobody not found",
                   "load_balancer.pool.subnet 10.10.50.0/24 is not inside VM network default/cluster's subnet 10.10.40.0/24"):
        assert needle in result["msg"], result["msg"]
    assert writes(reqs) == []
