# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the pure parts of capi_cluster (module_utils/capi/): options (input checks), render (the object
set of one cluster) and status (what "reached" means per wait_for step, and the conditions
that end a wait early with their message)."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.capi import options as capi_spec
from ansible_collections.homelab.harvester.plugins.module_utils.capi import render as capi_render
from ansible_collections.homelab.harvester.plugins.module_utils.capi import status as capi_status
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError

PARAMS = {
    "name": "demo", "namespace": "capi-demo", "kubernetes_version": "1.33.4", "talos_version": "v1.11.5",
    "ssh_keypair": "default/lab", "target_namespace": None, "labels": {},
    "control_plane": {"replicas": 3, "cpu": 2, "memory": "4Gi", "disk_size": "20Gi", "image": "default/talos",
                      "networks": ["default/cluster"], "config_patches": []},
    "workers": [{"name": "workers", "replicas": 2, "cpu": 4, "memory": "8Gi", "config_patches": [
        {"op": "add", "path": "/machine/kubelet/extraArgs", "value": {"rotate-server-certificates": "true"}}]}],
    "cluster_network": {}, "load_balancer": {"ipam": "dhcp"}, "machine_ip_pool": None,
}


def params(**changes):
    p = copy.deepcopy(PARAMS)
    p.update(changes)
    return p


def objects(p=None):
    spec = capi_spec.check(p or params())
    return capi_render.ObjectSet(spec, capi_render.identity_secret(spec, '{"kind": "Config"}'))


def test_defaults_and_canonical_versions():
    spec = capi_spec.check(params())
    assert spec["kubernetes_version"] == "v1.33.4" and spec["talos_version"] == "v1.11"
    assert spec["target_namespace"] == "capi-demo"
    assert spec["cluster_network"] == {"pods_cidr": "10.244.0.0/16", "services_cidr": "10.96.0.0/12"}
    pool = spec["workers"][0]
    assert (pool["cpu"], pool["memory"], pool["image"], pool["networks"]) == (4, "8Gi", "default/talos", ["default/cluster"])


@pytest.mark.parametrize("change, message", [
    ({"kubernetes_version": "1.33"}, "kubernetes_version: '1.33' is not a Kubernetes version"),
    ({"talos_version": "latest"}, "talos_version: 'latest' is not a Talos version"),
    ({"control_plane": dict(PARAMS["control_plane"], replicas=2)}, "control_plane.replicas: 2 is even"),
    ({"control_plane": dict(PARAMS["control_plane"], memory="4 GB")}, "control_plane.memory: '4 GB' is not a Kubernetes quantity"),
    ({"control_plane": dict(PARAMS["control_plane"], image=None)}, "control_plane.image: is required"),
    ({"control_plane": dict(PARAMS["control_plane"], networks=[])}, "control_plane.networks: at least one"),
    ({"control_plane": dict(PARAMS["control_plane"], image="Default/Talos")}, "control_plane.image: 'Default/Talos' is not a Harvester"),
    ({"workers": [{"name": "w"}, {"name": "w"}]}, "workers[1].name: 'w' is given twice"),
    ({"workers": [{"name": "cp"}]}, "workers[0].name: 'cp' is the control plane's name suffix"),
    ({"workers": [{"name": "w", "replicas": -1}]}, "workers[0].replicas: -1 must be a whole number, at least 0"),
    ({"workers": [{"name": "w", "config_patches": [{"op": "merge", "path": "/x"}]}]}, "workers[0].config_patches[0].op: 'merge'"),
    ({"workers": [{"name": "w", "config_patches": [{"op": "add", "path": "machine"}]}]}, "workers[0].config_patches[0].path"),
    ({"cluster_network": {"pods_cidr": "10.96.0.0/16"}}, "cluster_network.services_cidr: 10.96.0.0/12 overlaps pods_cidr"),
    ({"cluster_network": {"pods_cidr": "fd00::/64"}}, "cluster_network.pods_cidr: 'fd00::/64' is not an IPv4 CIDR"),
    ({"load_balancer": {"ipam": "pool"}}, "load_balancer.pool.subnet: is required"),
    ({"load_balancer": {"ipam": "dhcp", "pool": {"subnet": "10.0.0.0/24"}}}, "load_balancer.pool: only with load_balancer.ipam pool"),
    ({"load_balancer": {"ipam": "pool", "pool": {"subnet": "10.10.40.0/24", "gateway": "10.10.41.1"}}},
     "load_balancer.pool.gateway: 10.10.41.1 is not inside"),
    ({"machine_ip_pool": {"subnet": "10.10.40.0/24", "gateway": "10.10.40.1", "range_start": "10.10.40.10",
                          "range_end": "10.10.40.13"}}, "machine_ip_pool: 10.10.40.10-10.10.40.13 holds 4 addresses; 6 are needed"),
    ({"machine_ip_pool": {"subnet": "10.10.40.0/24", "gateway": "10.10.40.1", "range_start": "10.10.40.20",
                          "range_end": "10.10.40.10"}}, "machine_ip_pool.range_end: 10.10.40.10 is before range_start"),
    ({"ssh_keypair": None}, "ssh_keypair: is required"),
    ({"name": "a-very-long-cluster-name-that-leaves-no-room-for-pool-names-xx"}, "name: 'a-very-long"),
])
def test_bad_input_names_the_option(change, message):
    with pytest.raises(ValidationError) as e:
        capi_spec.check(params(**change))
    assert str(e.value).startswith(message) or message in str(e.value), str(e.value)


def test_object_set_in_dependency_order_with_the_crd_field_names():
    o = objects()
    assert o.identity["metadata"]["name"] == "demo-harvester-identity"
    assert json.loads(base64.b64decode(o.identity["data"]["kubeconfig"])) == {"kind": "Config"}
    hc = o.harvester_cluster["spec"]
    assert hc == {"targetNamespace": "capi-demo", "identitySecret": {"namespace": "capi-demo", "name": "demo-harvester-identity"},
                  "loadBalancerConfig": {"ipamType": "dhcp"}}
    tcp = o.control_plane["spec"]
    assert tcp["controlPlaneConfig"] == {"controlplane": {"generateType": "controlplane", "talosVersion": "v1.11"}}
    assert tcp["infrastructureTemplate"]["name"] == o.cp_template["metadata"]["name"]
    cluster = o.cluster
    assert cluster["apiVersion"] == "cluster.x-k8s.io/v1beta2"
    assert cluster["spec"]["controlPlaneRef"] == {"apiGroup": "controlplane.cluster.x-k8s.io", "kind": "TalosControlPlane", "name": "demo-cp"}
    assert cluster["spec"]["infrastructureRef"] == {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "HarvesterCluster", "name": "demo"}
    template, config, deployment = (o.pools[0][k] for k in ("template", "config", "deployment"))
    assert config["spec"]["template"]["spec"]["generateType"] == "worker"
    md = deployment["spec"]
    assert md["selector"]["matchLabels"] == md["template"]["metadata"]["labels"]
    assert md["template"]["spec"]["bootstrap"]["configRef"]["name"] == config["metadata"]["name"]
    assert md["template"]["spec"]["infrastructureRef"]["name"] == template["metadata"]["name"]
    for obj in [o.identity, o.harvester_cluster, o.control_plane, o.cluster] + [t for k, t in o.templates]:
        assert obj["metadata"]["labels"][capi_render.LABEL] == "demo"


def test_template_names_follow_their_content():
    first = objects()
    again = objects()
    assert [t["metadata"]["name"] for k, t in first.templates] == [t["metadata"]["name"] for k, t in again.templates]
    bigger = params(workers=[dict(PARAMS["workers"][0], memory="16Gi")])
    changed = objects(bigger)
    assert changed.cp_template["metadata"]["name"] == first.cp_template["metadata"]["name"]
    assert changed.pools[0]["template"]["metadata"]["name"] != first.pools[0]["template"]["metadata"]["name"]  # machine template rotates
    assert changed.pools[0]["config"]["metadata"]["name"] == first.pools[0]["config"]["metadata"]["name"]  # Talos config does not
    scaled = objects(params(workers=[dict(PARAMS["workers"][0], replicas=3)]))
    assert [t["metadata"]["name"] for k, t in scaled.templates] == [t["metadata"]["name"] for k, t in first.templates]


def test_pools_render_address_pools():
    lb = {"ipam": "pool", "pool": {"subnet": "10.10.40.0/24", "gateway": "10.10.40.1", "range_start": "10.10.40.200",
                                   "range_end": "10.10.40.201"}}
    machine_pool = {"subnet": "10.10.40.0/24", "gateway": "10.10.40.1", "range_start": "10.10.40.100", "range_end": "10.10.40.120",
                    "dns_servers": ["10.10.10.1"]}
    o = objects(params(load_balancer=lb, machine_ip_pool=machine_pool))
    spec = o.harvester_cluster["spec"]
    assert spec["loadBalancerConfig"]["ipPool"] == {"vmNetwork": "default/cluster", "subnet": "10.10.40.0/24", "gateway": "10.10.40.1",
                                                    "rangeStart": "10.10.40.200", "rangeEnd": "10.10.40.201"}
    assert spec["vmNetworkConfig"]["subnetMask"] == "255.255.255.0" and spec["vmNetworkConfig"]["dnsServers"] == ["10.10.10.1"]


# --- capi_status -----------------------------------------------------------------------------
SPEC = capi_spec.check(params())


def cond(type_name, status, reason="", message=""):
    return {"type": type_name, "status": status, "reason": reason, "message": message}


def state(**over):
    base = {
        "spec": SPEC, "paused": False, "machines": [],
        "infra": {"metadata": {"name": "demo"}, "spec": {"controlPlaneEndpoint": {"host": "10.10.40.200", "port": 6443}},
                  "status": {"ready": True, "conditions": [cond("HarvesterConnectionReady", "True")]}},
        "cluster": {"metadata": {"name": "demo"}, "status": {"phase": "Provisioned", "initialization": {
            "infrastructureProvisioned": True, "controlPlaneInitialized": True}, "conditions": [cond("Available", "True")]}},
        "control_plane": {"metadata": {"name": "demo-cp"},
                          "status": {"initialized": True, "replicas": 3, "readyReplicas": 3, "version": "v1.33.4"}},
        "kubeconfig": {"metadata": {"name": "demo-kubeconfig"}},
        "deployments": [{"metadata": {"name": "demo-workers"}, "status": {"replicas": 2, "readyReplicas": 2, "upToDateReplicas": 2}}],
    }
    base.update(over)
    return copy.deepcopy(base)


def test_each_step_needs_its_own_evidence():
    assert all(capi_status.reached(state(), step) for step in capi_status.STEPS)
    no_endpoint = state(infra={"metadata": {"name": "demo"}, "spec": {}, "status": {"ready": True}})
    assert not capi_status.reached(no_endpoint, "infrastructure")
    no_secret = state(kubeconfig=None)
    assert capi_status.reached(no_secret, "infrastructure") and not capi_status.reached(no_secret, "control_plane")
    rolling = state(deployments=[{"metadata": {"name": "demo-workers"}, "status": {"replicas": 2, "readyReplicas": 2, "upToDateReplicas": 1}}])
    assert capi_status.reached(rolling, "control_plane") and not capi_status.reached(rolling, "ready")
    cp_short = state(control_plane={"metadata": {"name": "demo-cp"}, "status": {"initialized": True, "replicas": 3, "readyReplicas": 2}})
    assert not capi_status.reached(cp_short, "ready")
    not_available = state()
    not_available["cluster"]["status"]["conditions"] = [cond("Available", "False", "WorkersNotAvailable")]
    assert not capi_status.reached(not_available, "ready")


def test_provisioned_phase_alone_is_not_done():
    s = state(control_plane={"metadata": {"name": "demo-cp"}, "status": {}}, kubeconfig=None, deployments=[])
    assert s["cluster"]["status"]["phase"] == "Provisioned"
    assert not capi_status.reached(s, "control_plane") and not capi_status.reached(s, "ready")


def test_failure_conditions_end_the_wait_with_their_message():
    bad_identity = state()
    bad_identity["infra"]["status"]["conditions"] = [cond("HarvesterConnectionReady", "False", "HarvesterAuthenticationFailed", "Unauthorized")]
    assert capi_status.failure(bad_identity) == ("HarvesterCluster demo: HarvesterConnectionReady is False "
                                                 "(HarvesterAuthenticationFailed): Unauthorized")
    exhausted = state(machines=[{"metadata": {"name": "demo-cp-abc"}, "status": {"conditions": [
        cond("VMIPAllocated", "False", "VMIPPoolExhausted", "no free IP in pool demo")]}}])
    assert "VMIPPoolExhausted" in capi_status.failure(exhausted) and "no free IP" in capi_status.failure(exhausted)
    talos = state()
    talos["control_plane"]["status"]["conditions"] = [cond("Available", "False", "InvalidControlPlaneConfig", "bad patch")]
    assert "InvalidControlPlaneConfig" in capi_status.failure(talos)
    waiting = state()
    waiting["control_plane"]["status"]["conditions"] = [cond("Available", "False", "WaitingForTalosBoot")]
    assert capi_status.failure(waiting) is None
    undecided = state()
    undecided["infra"]["status"]["conditions"] = [cond("HarvesterConnectionReady", "False", "")]
    assert capi_status.failure(undecided) is None


def test_summary_names_the_kubeconfig_secret_but_carries_no_secret():
    s = capi_status.summary(state())
    assert s["kubeconfig_secret"] == "demo-kubeconfig" and s["available"] is True
    assert s["workers"] == {"demo-workers": {"replicas": 2, "ready_replicas": 2, "up_to_date_replicas": 2}}
    assert "control plane initialized True (3/3 ready)" in capi_status.describe(state())
