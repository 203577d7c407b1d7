"""The Cluster API area: CAPI core, CAPHV and the Talos providers as the twin plays them. A whole
Talos cluster on "Harvester" (the twin itself) is created over HTTPS the way the capi_cluster
module writes it, then driven through scale, rollout, pause, deletion and the failure states;
the webhooks' refusals are checked with their codes and messages."""
from __future__ import annotations

import base64
import json

import pytest
import requests
import yaml

from . import capi_manifests as m
from .conftest import status_of, wait_for

MERGE = {"Content-Type": "application/merge-patch+json"}
HC_FINALIZER = "harvester.infrastructure.cluster.x-k8s.io/finalizer"
TCP_PATH = m.path(m.CP_V, "taloscontrolplanes", "demo-cp")
CLUSTER_PATH = m.path(m.CAPI_V, "clusters", "demo")
HC_PATH = m.path(m.INFRA_V, "harvesterclusters", "demo")
MD_PATH = m.path(m.CAPI_V, "machinedeployments", "demo-workers")
TIMEOUT = 15  # seconds of wall time; the whole cluster needs about 3 at --speed 10


# ------------------------------------------------------------------------------------ helpers
def get(twin, path: str) -> dict | None:
    r = twin.session().get(twin.url(path))
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return r.json()


def items(twin, api_version: str, plural: str, ns: str = m.NS) -> list[dict]:
    return get(twin, m.path(api_version, plural, ns=ns))["items"]


def cond(obj: dict | None, type_: str) -> dict:
    return next((c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


def patch(twin, path: str, body: dict) -> requests.Response:
    r = twin.session().patch(twin.url(path), data=json.dumps(body), headers=MERGE)
    assert r.status_code == 200, r.text
    return r


def create(twin, **kw) -> None:
    m.create_all(twin.session(), twin.server, m.object_set(twin.kubeconfig.read_text(), **kw))


def available(twin) -> dict:
    def check():
        c = get(twin, CLUSTER_PATH)
        return c if cond(c, "Available").get("status") == "True" else None
    return wait_for(check, "Cluster demo Available=True", timeout=TIMEOUT)


def machines(twin, *, control_plane: bool | None = None, alive: bool = True) -> list[dict]:
    out = []
    for mach in items(twin, m.CAPI_V, "machines"):
        is_cp = "cluster.x-k8s.io/control-plane" in mach["metadata"].get("labels", {})
        if control_plane is not None and is_cp != control_plane:
            continue
        if alive and mach["metadata"].get("deletionTimestamp"):
            continue
        out.append(mach)
    return out


def rv(twin) -> str:
    return get(twin, m.path("v1", "namespaces", "kube-system", ns=""))["metadata"]["resourceVersion"]


def history(twin, api_version: str, plural: str, since: str) -> list[dict]:
    """Every watch event of a kind since a resourceVersion (replayed by the watch cache)."""
    r = twin.session().get(twin.url(m.path(api_version, plural)),
                           params={"watch": "true", "resourceVersion": since, "timeoutSeconds": "1"}, timeout=10)
    r.raise_for_status()
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


def first_rv(events: list[dict], name: str, *, deleted: bool = False, deleting: bool = False) -> int:
    for ev in events:
        meta = ev["object"]["metadata"]
        if meta["name"] != name:
            continue
        if deleted and ev["type"] == "DELETED":
            return int(meta["resourceVersion"])
        if deleting and meta.get("deletionTimestamp"):
            return int(meta["resourceVersion"])
    raise AssertionError(f"no {'DELETED' if deleted else 'deletion'} event for {name}")


# ------------------------------------------------------------------------------------ happy path
def check_happy_path(twin) -> None:
    create(twin)
    cluster = available(twin)
    hc, tcp, md = get(twin, HC_PATH), get(twin, TCP_PATH), get(twin, MD_PATH)

    # infrastructure: LB placeholder, endpoint, ready, owner reference from the Cluster
    lb = get(twin, m.path("v1", "services", "capi-demo-demo-lb", ns="demo-vms"))
    ip = lb["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert hc["spec"]["controlPlaneEndpoint"] == {"host": ip, "port": 6443}
    assert hc["status"]["ready"] is True and hc["status"]["initialization"] == {"provisioned": True}
    for t in ("HarvesterConnectionReady", "TargetNamespaceReady", "LoadBalancerReady", "InfrastructureReady"):
        assert cond(hc, t)["status"] == "True", (t, hc["status"])
    assert HC_FINALIZER in hc["metadata"]["finalizers"]
    for dependent in (hc, tcp):
        assert {"apiVersion": m.CAPI_V, "kind": "Cluster", "name": "demo", "uid": cluster["metadata"]["uid"]} in \
            dependent["metadata"]["ownerReferences"]

    # the Cluster
    assert cluster["spec"]["controlPlaneEndpoint"] == {"host": ip, "port": 6443}
    assert cluster["status"]["phase"] == "Provisioned"
    assert cluster["status"]["initialization"] == {"infrastructureProvisioned": True, "controlPlaneInitialized": True}
    for t in ("InfrastructureReady", "ControlPlaneInitialized", "ControlPlaneAvailable", "WorkersAvailable"):
        assert cond(cluster, t)["status"] == "True", (t, cluster["status"]["conditions"])
    assert cluster["status"]["controlPlane"] == {"desiredReplicas": 3, "replicas": 3, "readyReplicas": 3,
                                                 "availableReplicas": 3, "upToDateReplicas": 3}
    assert cluster["status"]["workers"] == {"desiredReplicas": 2, "replicas": 2, "readyReplicas": 2,
                                            "availableReplicas": 2, "upToDateReplicas": 2}
    assert "cluster.cluster.x-k8s.io" in cluster["metadata"]["finalizers"]

    # the control plane
    st = tcp["status"]
    assert (st["initialized"], st["ready"], st["bootstrapped"], st["replicas"], st["readyReplicas"]) == (True, True, True, 3, 3)
    assert cond(tcp, "Ready")["status"] == "True" and cond(tcp, "Available")["status"] == "True"
    assert "talos.controlplane.cluster.x-k8s.io" in tcp["metadata"]["finalizers"]

    # the MachineDeployment (v1beta2 counters)
    assert {k: md["status"][k] for k in ("replicas", "readyReplicas", "availableReplicas", "upToDateReplicas", "phase")} == \
        {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "upToDateReplicas": 2, "phase": "Running"}
    assert (cond(md, "Available")["status"], cond(md, "MachinesReady")["status"], cond(md, "RollingOut")["status"]) == \
        ("True", "True", "False")

    # Machines, their HarvesterMachines and TalosConfigs
    hms = {o["metadata"]["name"]: o for o in items(twin, m.INFRA_V, "harvestermachines")}
    tcs = {o["metadata"]["name"]: o for o in items(twin, m.BOOT_V, "talosconfigs")}
    cps, workers = machines(twin, control_plane=True), machines(twin, control_plane=False)
    assert len(cps) == 3 and len(workers) == 2
    for mach in cps + workers:
        name, labels = mach["metadata"]["name"], mach["metadata"]["labels"]
        assert labels["cluster.x-k8s.io/cluster-name"] == "demo"
        assert mach["status"]["phase"] == "Running" and mach["status"]["nodeRef"] == {"name": name}
        assert mach["status"]["initialization"] == {"bootstrapDataSecretCreated": True, "infrastructureProvisioned": True}
        for t in ("Ready", "BootstrapConfigReady", "InfrastructureReady", "NodeReady"):
            assert cond(mach, t)["status"] == "True", (name, t)
        assert "machine.cluster.x-k8s.io" in mach["metadata"]["finalizers"]
        hm, tc = hms[mach["spec"]["infrastructureRef"]["name"]], tcs[mach["spec"]["bootstrap"]["configRef"]["name"]]
        assert mach["spec"]["providerID"] == hm["spec"]["providerID"] and hm["spec"]["providerID"].startswith("harvester://")
        assert hm["status"]["ready"] is True and hm["status"]["allocatedIPAddress"]
        for t in ("MachineCreated", "VMProvisioningReady", "VMRunning", "VMIPAllocated"):
            assert cond(hm, t)["status"] == "True", (name, t)
        assert {"type": "InternalIP", "address": hm["status"]["allocatedIPAddress"]} in mach["status"]["addresses"]
        for dependent in (hm, tc):
            owner = dependent["metadata"]["ownerReferences"][0]
            assert (owner["kind"], owner["name"], owner["uid"], owner.get("controller")) == \
                ("Machine", name, mach["metadata"]["uid"], True)
        assert hm["metadata"]["annotations"]["cluster.x-k8s.io/cloned-from-groupkind"] == \
            "HarvesterMachineTemplate.infrastructure.cluster.x-k8s.io"
        assert tc["status"]["ready"] is True and tc["status"]["dataSecretName"] == f"{name}-bootstrap-data"
        assert mach["spec"]["bootstrap"]["dataSecretName"] == f"{name}-bootstrap-data"
        data = get(twin, m.path("v1", "secrets", f"{name}-bootstrap-data"))
        assert data["type"] == "cluster.x-k8s.io/secret" and base64.b64decode(data["data"]["value"])
        if mach in cps:
            assert name.startswith("demo-cp-") and len(name) == len("demo-cp-") + 5
            assert mach["metadata"]["ownerReferences"][0]["kind"] == "TalosControlPlane"
            assert hm["metadata"]["annotations"]["cluster.x-k8s.io/cloned-from-name"] == "demo-cp-aaaa1111"
            assert "cluster.x-k8s.io/cloned-from-name" not in (tc["metadata"].get("annotations") or {})
            assert tc["spec"]["generateType"] == "controlplane"
        else:
            assert labels["cluster.x-k8s.io/deployment-name"] == "demo-workers"
            assert hm["metadata"]["annotations"]["cluster.x-k8s.io/cloned-from-name"] == "demo-workers-cccc3333"
            assert tc["metadata"]["annotations"] == {
                "cluster.x-k8s.io/cloned-from-name": "demo-workers-bbbb2222",
                "cluster.x-k8s.io/cloned-from-groupkind": "TalosConfigTemplate.bootstrap.cluster.x-k8s.io"}
            assert tc["spec"]["generateType"] == "worker"

    # the cluster's secrets
    kc = get(twin, m.path("v1", "secrets", "demo-kubeconfig"))
    assert kc["type"] == "cluster.x-k8s.io/secret" and kc["metadata"]["labels"] == {"cluster.x-k8s.io/cluster-name": "demo"}
    assert kc["metadata"]["ownerReferences"][0]["kind"] == "TalosControlPlane"
    assert kc["metadata"]["ownerReferences"][0]["uid"] == tcp["metadata"]["uid"]
    doc = yaml.safe_load(base64.b64decode(kc["data"]["value"]))
    assert doc["clusters"][0]["cluster"]["server"] == f"https://{ip}:6443"
    for suffix in ("ca", "talos", "talosconfig"):
        assert get(twin, m.path("v1", "secrets", f"demo-{suffix}")) is not None, suffix


def test_a_talos_cluster_becomes_available_with_the_whole_object_set(twin):
    check_happy_path(twin)


def test_the_controllers_writes_validate_against_the_upstream_crds(upstream_twin):
    check_happy_path(upstream_twin)


def test_kubectl_reads_the_cluster_and_its_machines(twin):
    create(twin)
    available(twin)
    out = twin.kubectl("get", "machines.cluster.x-k8s.io", "-n", m.NS, "-o", "json").stdout
    assert sorted(i["status"]["phase"] for i in json.loads(out)["items"]) == ["Running"] * 5


# ------------------------------------------------------------------------------------ scale and roll
def test_scaling_the_machine_deployment_adds_a_worker(twin):
    create(twin)
    available(twin)
    patch(twin, MD_PATH, {"spec": {"replicas": 3}})
    wait_for(lambda: (get(twin, MD_PATH)["status"].get("readyReplicas") == 3
                      and len([x for x in machines(twin, control_plane=False) if x["status"].get("phase") == "Running"]) == 3),
             "3 running workers", timeout=TIMEOUT)
    cluster = available(twin)
    assert cluster["status"]["workers"]["desiredReplicas"] == 3 and cluster["status"]["workers"]["readyReplicas"] == 3


def test_a_new_machine_template_rolls_the_workers_one_at_a_time(twin):
    create(twin)
    available(twin)
    old = {x["metadata"]["name"] for x in machines(twin, control_plane=False)}
    r = twin.session().post(twin.url(m.path(m.INFRA_V, "harvestermachinetemplates")),
                            json=m.machine_template("demo-workers-dddd4444", cpu=4))
    assert r.status_code == 201, r.text
    since = rv(twin)
    patch(twin, MD_PATH, {"spec": {"template": {"spec": {"infrastructureRef": {"name": "demo-workers-dddd4444"}}}}})

    def rolled():
        md = get(twin, MD_PATH)
        current = machines(twin, control_plane=False, alive=False)
        names = {x["metadata"]["name"] for x in current}
        return md["status"].get("upToDateReplicas") == 2 and md["status"].get("readyReplicas") == 2 \
            and len(current) == 2 and not names & old
    wait_for(rolled, "the workers replaced by machines from the new template", timeout=TIMEOUT)
    for hm in items(twin, m.INFRA_V, "harvestermachines"):
        if "cluster.x-k8s.io/deployment-name" in hm["metadata"]["labels"]:
            assert hm["metadata"]["annotations"]["cluster.x-k8s.io/cloned-from-name"] == "demo-workers-dddd4444"
            assert hm["spec"]["cpu"] == 4
    # maxSurge 1 / maxUnavailable 0: never more than 3 workers at once, never fewer than 2 running
    alive: dict[str, bool] = {n: True for n in old}
    peak = 2
    for ev in history(twin, m.CAPI_V, "machines", since):
        meta = ev["object"]["metadata"]
        if "cluster.x-k8s.io/control-plane" in meta.get("labels", {}):
            continue
        alive[meta["name"]] = ev["type"] != "DELETED" and not meta.get("deletionTimestamp")
        peak = max(peak, sum(alive.values()))
    assert peak == 3
    md = get(twin, MD_PATH)
    assert cond(md, "RollingOut")["status"] == "False" and cond(md, "MachinesUpToDate")["status"] == "True"


def test_a_new_kubernetes_version_rolls_the_control_plane(twin):
    create(twin, cp_replicas=1, workers=0)
    available(twin)
    old = machines(twin, control_plane=True)[0]["metadata"]["name"]
    patch(twin, TCP_PATH, {"spec": {"version": "v1.33.5"}})

    def rolled():
        cps = machines(twin, control_plane=True, alive=False)
        return len(cps) == 1 and cps[0]["metadata"]["name"] != old and cps[0]["spec"]["version"] == "v1.33.5" \
            and cps[0]["status"].get("phase") == "Running"
    wait_for(rolled, "the control plane machine replaced", timeout=TIMEOUT)
    tcp = get(twin, TCP_PATH)
    assert tcp["status"]["version"] == "v1.33.5" and cond(tcp, "MachinesSpecUpToDate")["status"] == "True"


# ------------------------------------------------------------------------------------ pause and delete
def test_a_paused_cluster_stops_reconciling_even_its_deletion(twin):
    create(twin)
    available(twin)
    patch(twin, CLUSTER_PATH, {"spec": {"paused": True}})
    wait_for(lambda: cond(get(twin, CLUSTER_PATH), "Paused").get("status") == "True", "Cluster Paused=True")
    wait_for(lambda: cond(get(twin, MD_PATH), "Paused").get("status") == "True", "MachineDeployment Paused=True")
    patch(twin, MD_PATH, {"spec": {"replicas": 3}})
    r = twin.session().delete(twin.url(CLUSTER_PATH))
    assert r.status_code == 200 and r.json()["metadata"]["deletionTimestamp"], r.text  # the finalizer keeps it
    # 2 s of wall time is 20 s of twin time: far more than a worker needs to appear
    with pytest.raises(AssertionError):
        wait_for(lambda: len(machines(twin, control_plane=False)) == 3 or get(twin, CLUSTER_PATH) is None
                 or get(twin, MD_PATH)["metadata"].get("deletionTimestamp"), "anything to move", timeout=2)
    assert get(twin, CLUSTER_PATH)["status"]["phase"] != "Deleting"
    patch(twin, CLUSTER_PATH, {"spec": {"paused": False}})
    wait_for(lambda: get(twin, CLUSTER_PATH) is None, "the unpaused Cluster deleted", timeout=TIMEOUT)


def test_deleting_the_cluster_removes_its_descendants_in_capi_order(twin):
    create(twin)
    available(twin)
    cps = [x["metadata"]["name"] for x in machines(twin, control_plane=True)]
    workers = [x["metadata"]["name"] for x in machines(twin, control_plane=False)]
    since = rv(twin)
    r = twin.session().delete(twin.url(CLUSTER_PATH))
    assert r.status_code == 200 and r.json()["metadata"]["deletionTimestamp"], r.text  # the finalizer keeps it
    wait_for(lambda: get(twin, CLUSTER_PATH) is None, "the Cluster gone", timeout=TIMEOUT)

    machine_events = history(twin, m.CAPI_V, "machines", since)
    md_gone = first_rv(history(twin, m.CAPI_V, "machinedeployments", since), "demo-workers", deleted=True)
    workers_gone = max(first_rv(machine_events, n, deleted=True) for n in workers)
    tcp_events = history(twin, m.CP_V, "taloscontrolplanes", since)
    tcp_deleting, tcp_gone = first_rv(tcp_events, "demo-cp", deleting=True), first_rv(tcp_events, "demo-cp", deleted=True)
    cps_gone = max(first_rv(machine_events, n, deleted=True) for n in cps)
    hc_events = history(twin, m.INFRA_V, "harvesterclusters", since)
    hc_deleting, hc_gone = first_rv(hc_events, "demo", deleting=True), first_rv(hc_events, "demo", deleted=True)
    cluster_gone = first_rv(history(twin, m.CAPI_V, "clusters", since), "demo", deleted=True)
    assert max(md_gone, workers_gone) < tcp_deleting < cps_gone < tcp_gone < hc_deleting < hc_gone < cluster_gone

    assert items(twin, m.CAPI_V, "machines") == [] and items(twin, m.INFRA_V, "harvestermachines") == []
    assert items(twin, m.BOOT_V, "talosconfigs") == []
    assert get(twin, m.path("v1", "services", "capi-demo-demo-lb", ns="demo-vms")) is None
    wait_for(lambda: get(twin, m.path("v1", "secrets", "demo-kubeconfig")) is None, "the kubeconfig Secret collected")
    # what the Cluster does not own stays: templates and the identity Secret
    assert get(twin, m.path(m.INFRA_V, "harvestermachinetemplates", "demo-cp-aaaa1111")) is not None
    assert get(twin, m.path("v1", "secrets", "demo-harvester-identity")) is not None


# ------------------------------------------------------------------------------------ failure states
def _kubeconfig_with(twin, *, token: str | None = None, server: str | None = None) -> str:
    doc = yaml.safe_load(twin.kubeconfig.read_text())
    if token is not None:
        doc["users"][0]["user"]["token"] = token
    if server is not None:
        doc["clusters"][0]["cluster"]["server"] = server
    return yaml.safe_dump(doc)


@pytest.mark.parametrize(("variant", "reason", "says"), [
    ("garbage", "HarvesterConnectionFailed", "invalid kubeconfig"),
    ("missing", "HarvesterConnectionFailed", 'secrets "demo-harvester-identity" not found'),
    ("token", "HarvesterAuthenticationFailed", "401"),
    ("server", "HarvesterAuthenticationFailed", "https://127.0.0.1:1"),
])
def test_a_bad_identity_kubeconfig_fails_the_harvester_connection(twin, variant, reason, says):
    text = {"garbage": "clusters: [this is: not a kubeconfig",
            "token": _kubeconfig_with(twin, token="wrong-token"),
            "server": _kubeconfig_with(twin, server="https://127.0.0.1:1")}.get(variant, twin.kubeconfig.read_text())
    items_ = m.object_set(text)
    if variant == "missing":
        items_ = [i for i in items_ if i[1]["kind"] != "Secret"]
    m.create_all(twin.session(), twin.server, items_)

    def failed():
        c = cond(get(twin, HC_PATH), "HarvesterConnectionReady")
        return c if c.get("status") == "False" else None
    c = wait_for(failed, "HarvesterConnectionReady=False", timeout=TIMEOUT)
    assert c["reason"] == reason and says in c["message"], c
    hc = get(twin, HC_PATH)
    assert not (hc.get("status") or {}).get("ready") and "controlPlaneEndpoint" not in hc["spec"]
    wait_for(lambda: cond(get(twin, CLUSTER_PATH), "InfrastructureReady").get("status") == "False", "Cluster InfrastructureReady=False")
    assert machines(twin) == []


def test_a_failed_identity_probe_is_tried_again(twin):
    """CAPHV reports an API server that answered its identity check with an error (here one 503)
    and requeues: the same identity, tried again, connects (only settled answers -- refused
    credentials, another cluster, a bad kubeconfig -- stand until the Secret changes)."""
    since = rv(twin)
    twin.fault(method="GET", path="namespaces/kube-system$", status=503, count=1)
    m.create_all(twin.session(), twin.server, m.object_set(twin.kubeconfig.read_text()))
    wait_for(lambda: cond(get(twin, HC_PATH), "HarvesterConnectionReady").get("status") == "True",
             "HarvesterConnectionReady=True after the retry", timeout=TIMEOUT)
    seen = [cond(ev["object"], "HarvesterConnectionReady") for ev in history(twin, m.INFRA_V, "harvesterclusters", since)]
    failed = [c for c in seen if c.get("status") == "False"]
    assert failed and "503" in failed[0]["message"] and failed[0]["reason"] == "HarvesterAuthenticationFailed", seen


def test_an_exhausted_vm_ip_pool_stops_the_next_machine(twin):
    hc = m.harvester_cluster(vm_pool={"rangeStart": "10.10.30.60", "rangeEnd": "10.10.30.60"})
    create(twin, hc=hc)

    def exhausted():
        for hm in items(twin, m.INFRA_V, "harvestermachines"):
            c = cond(hm, "VMIPAllocated")
            if c.get("status") == "False":
                return hm
        return None
    hm = wait_for(exhausted, "a HarvesterMachine with VMIPAllocated=False", timeout=TIMEOUT)
    c = cond(hm, "VMIPAllocated")
    assert c["reason"] == "VMIPPoolExhausted" and "10.10.30.60-10.10.30.60" in c["message"], c
    assert not hm["status"].get("ready")
    holders = [h for h in items(twin, m.INFRA_V, "harvestermachines") if h["status"].get("allocatedIPAddress")]
    assert [h["status"]["allocatedIPAddress"] for h in holders] == ["10.10.30.60"]
    assert cond(holders[0], "VMIPAllocated")["status"] == "True"


def test_a_missing_image_fails_vm_provisioning(twin):
    items_ = m.object_set(twin.kubeconfig.read_text())
    for _, body in items_:
        if body["kind"] == "HarvesterMachineTemplate" and body["metadata"]["name"] == "demo-cp-aaaa1111":
            body["spec"]["template"]["spec"]["volumes"][0]["imageName"] = "default/no-such-image"
    m.create_all(twin.session(), twin.server, items_)

    def failed():
        for hm in items(twin, m.INFRA_V, "harvestermachines"):
            if cond(hm, "VMProvisioningReady").get("status") == "False":
                return hm
        return None
    hm = wait_for(failed, "VMProvisioningReady=False", timeout=TIMEOUT)
    c = cond(hm, "VMProvisioningReady")
    assert c["reason"] == "VMProvisioningFailed" and "VirtualMachineImage default/no-such-image" in c["message"], c


@pytest.mark.parametrize("bad", [{"op": "merge", "path": "/machine/install"}, {"op": "add", "path": "machine/install", "value": 1}])
def test_an_invalid_config_patch_makes_the_control_plane_config_invalid(twin, bad):
    create(twin, tcp=m.talos_control_plane(patches=[bad]))

    def invalid():
        c = cond(get(twin, TCP_PATH), "Available")
        return c if c.get("reason") == "InvalidControlPlaneConfig" else None
    c = wait_for(invalid, "Available=False InvalidControlPlaneConfig", timeout=TIMEOUT)
    assert (c["status"], c["severity"]) == ("False", "Error") and "configPatches[0]" in c["message"], c
    wait_for(lambda: ((get(twin, CLUSTER_PATH).get("status") or {}).get("initialization") or {}).get("infrastructureProvisioned"),
             "the Cluster's infrastructure provisioned")
    with pytest.raises(AssertionError):  # 1 s of wall time is 10 s of twin time: no Machine comes
        wait_for(lambda: machines(twin), "a control plane Machine", timeout=1)


# ------------------------------------------------------------------------------------ admission
def _post(twin, collection: str, body: dict) -> requests.Response:
    return twin.session().post(twin.url(collection), json=body)


@pytest.fixture
def capi_ns(twin):
    r = _post(twin, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": m.NS}})
    assert r.status_code == 201, r.text
    return twin


def _refused(r: requests.Response, code: int, webhook: str, text: str) -> dict:
    assert r.status_code == code, r.text
    body = status_of(r)
    assert body["message"].startswith(f'admission webhook "{webhook}" denied the request: '), body["message"]
    assert text in body["message"], body["message"]
    return body


def test_cluster_webhook_refusals(capi_ns):
    twin, clusters = capi_ns, m.path(m.CAPI_V, "clusters")
    body = m.cluster_object("a" * 70)
    _refused(_post(twin, clusters, body), 422, "validation.cluster.cluster.x-k8s.io",
             f'Cluster.cluster.x-k8s.io "{"a" * 70}" is invalid: metadata.name: Invalid value')
    body = m.cluster_object()
    del body["spec"]["controlPlaneRef"], body["spec"]["infrastructureRef"]
    _refused(_post(twin, clusters, body), 422, "validation.cluster.cluster.x-k8s.io",
             "spec: Forbidden: one of spec.controlPlaneRef, spec.infrastructureRef or spec.topology must be set")
    body = m.cluster_object()
    body["spec"]["clusterNetwork"]["pods"]["cidrBlocks"] = ["10.244.0.0/33"]
    r = _refused(_post(twin, clusters, body), 422, "validation.cluster.cluster.x-k8s.io",
                 'spec.clusterNetwork.pods.cidrBlocks[0]: Invalid value: "10.244.0.0/33": invalid CIDR address: 10.244.0.0/33')
    assert r["details"]["causes"][0]["field"] == "spec.clusterNetwork.pods.cidrBlocks[0]"
    assert _post(twin, clusters, m.cluster_object()).status_code == 201
    r = twin.session().patch(twin.url(CLUSTER_PATH), data=json.dumps({"spec": {"infrastructureRef": None}}), headers=MERGE)
    _refused(r, 422, "validation.cluster.cluster.x-k8s.io", "spec.infrastructureRef: Forbidden: cannot be removed")


def test_machine_deployment_defaulting(capi_ns):
    twin = capi_ns
    body = m.machine_deployment()
    del body["spec"]["replicas"]
    body["spec"]["selector"] = {}
    body["spec"]["template"]["metadata"] = {}
    body["spec"]["template"]["spec"]["version"] = "1.33.4"
    r = _post(twin, m.path(m.CAPI_V, "machinedeployments"), body)
    assert r.status_code == 201, r.text
    spec = r.json()["spec"]
    assert spec["replicas"] == 1 and spec["template"]["spec"]["version"] == "v1.33.4"
    assert spec["rollout"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    want = {"cluster.x-k8s.io/cluster-name": "demo", "cluster.x-k8s.io/deployment-name": "demo-workers"}
    assert spec["selector"]["matchLabels"] == want and spec["template"]["metadata"]["labels"] == want
    assert r.json()["metadata"]["labels"] == {"cluster.x-k8s.io/cluster-name": "demo"}


@pytest.mark.parametrize(("change", "text"), [
    (lambda b: b["spec"]["template"]["metadata"]["labels"].__setitem__("cluster.x-k8s.io/deployment-name", "other"),
     'spec.template.metadata.labels: Forbidden: must match spec.selector '
     '"cluster.x-k8s.io/cluster-name=demo,cluster.x-k8s.io/deployment-name=demo-workers"'),
    (lambda b: b["spec"]["template"]["spec"].__setitem__("version", "1.33"),
     'spec.template.spec.version: Invalid value: "v1.33": must be a valid semantic version'),
    (lambda b: b["spec"]["template"]["spec"].__setitem__("clusterName", "other"),
     'spec.template.spec.clusterName: Invalid value: "other": must match spec.clusterName'),
])
def test_machine_deployment_validation(capi_ns, change, text):
    body = m.machine_deployment()
    change(body)
    _refused(_post(capi_ns, m.path(m.CAPI_V, "machinedeployments"), body), 422,
             "validation.machinedeployment.cluster.x-k8s.io", text)


def test_machine_deployment_cluster_name_is_immutable(capi_ns):
    twin = capi_ns
    assert _post(twin, m.path(m.CAPI_V, "machinedeployments"), m.machine_deployment()).status_code == 201
    r = twin.session().patch(twin.url(MD_PATH), data=json.dumps({"spec": {"clusterName": "other"}}), headers=MERGE)
    body = _refused(r, 422, "validation.machinedeployment.cluster.x-k8s.io", "spec.clusterName: Forbidden: field is immutable")
    assert body["reason"] == "Invalid"


def test_talos_control_plane_defaulting_and_rollout_strategy(capi_ns):
    twin = capi_ns
    body = m.talos_control_plane()
    del body["spec"]["replicas"]
    body["spec"]["version"] = "1.33.4"
    r = _post(twin, m.path(m.CP_V, "taloscontrolplanes"), body)
    assert r.status_code == 201, r.text
    spec = r.json()["spec"]
    assert (spec["replicas"], spec["version"], spec["infrastructureTemplate"]["namespace"]) == (1, "v1.33.4", m.NS)
    assert spec["rolloutStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
    body = m.talos_control_plane("other")
    body["spec"]["rolloutStrategy"] = {"type": "Recreate"}
    _refused(_post(twin, m.path(m.CP_V, "taloscontrolplanes"), body), 422,
             "validate.taloscontrolplane.controlplane.cluster.x-k8s.io",
             'spec.rolloutStrategy.type: Invalid value: "Recreate"')


def test_talos_config_template_and_config_specs_are_immutable(capi_ns):
    twin = capi_ns
    assert _post(twin, m.path(m.BOOT_V, "talosconfigtemplates"), m.talos_config_template("t1")).status_code == 201
    r = twin.session().patch(twin.url(m.path(m.BOOT_V, "talosconfigtemplates", "t1")),
                             data=json.dumps({"spec": {"template": {"spec": {"talosVersion": "v1.12"}}}}), headers=MERGE)
    body = _refused(r, 400, "vtalosconfigtemplate.cluster.x-k8s.io", "TalosConfigTemplate.Spec is immutable")
    assert body["reason"] == "BadRequest"
    tc = {"apiVersion": m.BOOT_V, "kind": "TalosConfig", "metadata": {"name": "c1"}, "spec": {"generateType": "worker"}}
    assert _post(twin, m.path(m.BOOT_V, "talosconfigs"), tc).status_code == 201
    r = twin.session().patch(twin.url(m.path(m.BOOT_V, "talosconfigs", "c1")),
                             data=json.dumps({"spec": {"generateType": "controlplane"}}), headers=MERGE)
    _refused(r, 400, "vtalosconfig.cluster.x-k8s.io", "TalosConfig.Spec is immutable")
    # metadata may change
    r = twin.session().patch(twin.url(m.path(m.BOOT_V, "talosconfigs", "c1")),
                             data=json.dumps({"metadata": {"labels": {"a": "b"}}}), headers=MERGE)
    assert r.status_code == 200, r.text


def test_harvester_cluster_webhook_joins_every_problem(capi_ns):
    hc = m.harvester_cluster()
    hc["spec"]["targetNamespace"] = ""
    hc["spec"]["vmNetworkConfig"] = {"gateway": "10.10.30.1", "subnetMask": "255.255.255.300"}
    _refused(_post(capi_ns, m.path(m.INFRA_V, "harvesterclusters"), hc), 403, "vharvestercluster.v1beta1.kb.io",
             "validation failed for HarvesterCluster capi-demo/demo: spec.targetNamespace is required; "
             "spec.vmNetworkConfig requires one of ipPoolRef, ipPoolRefs or ipPool; "
             'spec.vmNetworkConfig.subnetMask "255.255.255.300" is not a valid IP address')


def test_harvester_machine_webhook_requires_the_image_name(capi_ns):
    body = {"apiVersion": m.INFRA_V, "kind": "HarvesterMachine", "metadata": {"name": "hm1"},
            "spec": m.machine_template("x")["spec"]["template"]["spec"]}
    body["spec"]["volumes"] = [{"volumeType": "image", "volumeSize": "20Gi"}]
    _refused(_post(capi_ns, m.path(m.INFRA_V, "harvestermachines"), body), 403, "vharvestermachine.v1beta1.kb.io",
             "validation failed for HarvesterMachine capi-demo/hm1: spec.volumes[0].imageName is required when volumeType is 'image'")
