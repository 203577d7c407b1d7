"""The network area: harvester-network-webhook's refusals and mutations, and what the network
controller's manager and agents do after a write (labels, VlanStatuses, bonds in LinkMonitors,
routes), seen through kubectl, the kubernetes dynamic client and plain HTTPS."""
from __future__ import annotations

import json
import subprocess
import time
import zlib

import pytest
import yaml

from .conftest import KUBECTL, status_of, wait_for
from .conftest import read_or_none as get

NET = "network.harvesterhci.io"
CN_PATH = f"/apis/{NET}/v1beta1/clusternetworks"
VC_PATH = f"/apis/{NET}/v1beta1/vlanconfigs"
VS_PATH = f"/apis/{NET}/v1beta1/vlanstatuses"
LM_PATH = f"/apis/{NET}/v1beta1/linkmonitors"
NAD_BASE = "/apis/k8s.cni.cncf.io/v1/namespaces/{ns}/network-attachment-definitions"
NAD_PATH = NAD_BASE.format(ns="default")
VMI_PATH = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
VM_PATH = "/apis/kubevirt.io/v1/namespaces/{ns}/virtualmachines"
DENIED = 'admission webhook "validator.harvester-system.harvester-network-webhook" denied the request: '
MUTATOR_DENIED = 'admission webhook "mutator.harvester-system.harvester-network-webhook" denied the request: '
NODES = ["ms02-1", "ms02-2", "ms02-3"]
TIMEOUT = 15


@pytest.fixture(params=["twin", "upstream_twin"])
def any_twin(request):
    """The twin with our trimmed CRDs and with the unmodified upstream ones."""
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------------------------------ helpers
def cn_body(name, **meta):
    return {"apiVersion": f"{NET}/v1beta1", "kind": "ClusterNetwork", "metadata": dict({"name": name}, **meta)}


def vc_body(name, cn="data", nics=("enp5s0",), mtu=None, selector=None, mode="active-backup"):
    uplink = {"nics": list(nics), "bondOptions": {"mode": mode}}
    if mtu is not None:
        uplink["linkAttributes"] = {"mtu": mtu}
    spec = {"clusterNetwork": cn, "uplink": uplink}
    if selector is not None:
        spec["nodeSelector"] = selector
    return {"apiVersion": f"{NET}/v1beta1", "kind": "VlanConfig", "metadata": {"name": name}, "spec": spec}


def nad_config(name, bridge="mgmt-br", vlan=None, **extra):
    conf = {"cniVersion": "0.3.1", "name": name, "type": "bridge", "bridge": bridge, "promiscMode": True}
    if vlan is not None:
        conf["vlan"] = vlan
    conf["ipam"] = {}
    conf.update(extra)
    return json.dumps(conf, separators=(",", ":"))


def nad_body(name, ns="default", config=None, labels=None, annotations=None, **conf):
    meta = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", "metadata": meta,
            "spec": {"config": config if config is not None else nad_config(name, **conf)}}


def vs_name(cn, node):
    joined = f"{cn}-{node}"
    return f"{joined}-{zlib.crc32(joined.encode()):08x}"


def refused(r, fragment, *, webhook=DENIED):
    """A harvester-network-webhook refusal: the webhook wraps its plain errors as InternalError."""
    body = status_of(r)
    assert r.status_code == 500 and body["reason"] == "InternalError", body
    assert body["message"].startswith(webhook), body["message"]
    assert fragment in body["message"], body["message"]
    return body["message"][len(webhook):]


def ok(r):
    assert r.status_code < 300, r.text
    return r.json()


def ready_of(obj):
    return next((c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c["type"] == "ready"), None)


def watch_until(api, predicate, *, resource_version, name=None, namespace=None, timeout=TIMEOUT):
    """Follow a dynamic-client watch from resource_version until predicate(type, obj) holds."""
    seen = []
    kw = {"namespace": namespace} if namespace else {}
    if name:
        kw["field_selector"] = f"metadata.name={name}"
    for event in api.watch(resource_version=resource_version, timeout=timeout, **kw):
        obj = event["object"]
        obj = obj.to_dict() if hasattr(obj, "to_dict") else obj
        seen.append((event["type"], obj))
        if predicate(event["type"], obj):
            return obj, seen
    raise AssertionError(f"watch ended without the transition; saw {[(t, o['metadata'].get('resourceVersion')) for t, o in seen]}")


def list_rv(twin, path):
    return twin.session().get(twin.url(path)).json()["metadata"]["resourceVersion"]


def set_nic(twin, node, nic, **fields):
    """Change the `nic` LinkMonitor as the hardware would (a NIC going down, another bond taking it)."""
    lm = get(twin, f"{LM_PATH}/nic")
    for entry in lm["status"]["linkStatus"][node]:
        if entry["name"] == nic:
            entry.update(fields)
    ok(twin.session().put(twin.url(f"{LM_PATH}/nic"), json=lm))


def nic(twin, node, name):
    return next(e for e in get(twin, f"{LM_PATH}/nic")["status"]["linkStatus"][node] if e["name"] == name)


def run_vmi(twin, name, network, node="ms02-1"):
    """A running VMI on `node` attached to the multus network `network`."""
    s = twin.session()
    body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
            "metadata": {"name": name, "namespace": "default", "labels": {"kubevirt.io/nodeName": node}},
            "spec": {"domain": {"devices": {"interfaces": [{"name": "nic", "bridge": {}}]}},
                     "networks": [{"name": "nic", "multus": {"networkName": network}}]}}
    created = ok(s.post(twin.url(VMI_PATH), json=body))
    created["status"] = {"phase": "Running", "nodeName": node}
    r = s.put(twin.url(f"{VMI_PATH}/{name}/status"), json=created)
    if r.status_code == 404:
        r = s.put(twin.url(f"{VMI_PATH}/{name}"), json=created)
    ok(r)


def data_network(twin, *, vc="data-all", mtu=None, nics=("enp5s0",), wait=True):
    """ClusterNetwork `data` with one VlanConfig over all nodes, its VlanStatuses ready."""
    s = twin.session()
    ok(s.post(twin.url(CN_PATH), json=cn_body("data")))
    ok(s.post(twin.url(VC_PATH), json=vc_body(vc, mtu=mtu, nics=nics)))
    if wait:
        wait_for(lambda: all((ready_of(get(twin, f"{VS_PATH}/{vs_name('data', n)}")) or {}).get("status") == "True"
                             for n in NODES), "data VlanStatuses ready")
        wait_for(lambda: (ready_of(get(twin, f"{CN_PATH}/data")) or {}).get("status") == "True", "data ready")


# ============================================================================ ClusterNetwork webhook
def test_cluster_network_name_over_12_characters_is_refused(any_twin):
    proc = any_twin.kubectl("apply", "-f", "-", check=False,
                            input=yaml.safe_dump(cn_body("much-too-long-name")))
    assert proc.returncode == 1
    assert "Error from server (InternalError)" in proc.stderr
    assert (DENIED + "can't create cluster network much-too-long-name because the length of the clusterNetwork "
            "name much-too-long-name is more than 12") in proc.stderr
    ok(any_twin.session().post(any_twin.url(CN_PATH), json=cn_body("twelve-chars")))  # 12 is fine


def test_mgmt_cluster_network_cannot_be_deleted(twin):
    r = twin.session().delete(twin.url(f"{CN_PATH}/mgmt"))
    assert refused(r, "") == "can't delete cluster network mgmt because it is not allowed"
    assert get(twin, f"{CN_PATH}/mgmt") is not None


def test_uplink_mtu_annotation_is_refused_on_create(twin):
    r = twin.session().post(twin.url(CN_PATH), json=cn_body("jumbo", annotations={f"{NET}/uplink-mtu": "9000"}))
    assert refused(r, "") == f"can't create cluster network jumbo because annotation {NET}/uplink-mtu can't be added"


def test_cluster_network_delete_is_refused_while_vlanconfigs_then_nads_use_it(twin):
    s = twin.session()
    data_network(twin, wait=False)
    r = s.delete(twin.url(f"{CN_PATH}/data"))
    assert refused(r, "") == ("can't delete cluster network data because vlanconfig(s) [data-all] under this "
                              "clusternetwork are still existing")
    ok(s.post(twin.url(NAD_PATH), json=nad_body("data-30", bridge="data-br", vlan=30)))
    ok(s.delete(twin.url(f"{VC_PATH}/data-all")))
    wait_for(lambda: get(twin, f"{VC_PATH}/data-all") is None, "the VlanConfig gone")
    wait_for(lambda: (get(twin, f"{NAD_PATH}/data-30")["metadata"].get("labels") or {}).get(f"{NET}/clusternetwork"),
             "the NAD labelled")
    r = s.delete(twin.url(f"{CN_PATH}/data"))
    assert refused(r, "") == ("can't delete cluster network data because nads(s) default/data-30 under this "
                              "clusternetwork are still existing")
    ok(s.delete(twin.url(f"{NAD_PATH}/data-30")))
    wait_for(lambda: get(twin, f"{NAD_PATH}/data-30") is None, "the NAD gone")
    ok(s.delete(twin.url(f"{CN_PATH}/data")))
    # the cn controller removes its finalizer and the LinkMonitor it made
    wait_for(lambda: get(twin, f"{CN_PATH}/data") is None and get(twin, f"{LM_PATH}/data") is None,
             "the ClusterNetwork and its LinkMonitor gone")


def test_cluster_network_mtu_must_agree_with_its_vlanconfigs(twin):
    data_network(twin, mtu=9000)
    r = twin.session().patch(twin.url(f"{CN_PATH}/data"), data=json.dumps(
        {"metadata": {"annotations": {f"{NET}/uplink-mtu": "1600"}}}),
        headers={"Content-Type": "application/merge-patch+json"})
    assert refused(r, "") == ("can't update cluster network data because clusternetwork has MTU 1600, but the "
                              "vlanconfigs data-all has another MTU 9000")


# ============================================================================ VlanConfig webhook
def test_vlanconfig_on_mgmt_is_refused(any_twin):
    proc = any_twin.kubectl("apply", "-f", "-", check=False, input=yaml.safe_dump(vc_body("on-mgmt", cn="mgmt")))
    assert proc.returncode == 1
    assert DENIED + "can't create vlanConfig on-mgmt because cluster network can't be mgmt" in proc.stderr


def test_vlanconfig_needs_an_existing_cluster_network(twin):
    r = twin.session().post(twin.url(VC_PATH), json=vc_body("orphan", cn="nowhere"))
    assert refused(r, "") == ('can\'t create vlanConfig orphan because it refers to a none-existing cluster network '
                              'nowhere or error clusternetworks.network.harvesterhci.io "nowhere" not found')


@pytest.mark.parametrize("mtu", [100, 575, 9001])
def test_vlanconfig_mtu_out_of_range_is_refused(twin, mtu):
    s = twin.session()
    ok(s.post(twin.url(CN_PATH), json=cn_body("data")))
    r = s.post(twin.url(VC_PATH), json=vc_body("bad-mtu", mtu=mtu))
    assert refused(r, "") == f"can't create vlanConfig bad-mtu because the MTU {mtu} is out of range [0, 576..9000]"


def test_vlanconfigs_of_one_cluster_network_share_one_mtu(twin):
    s = twin.session()
    ok(s.post(twin.url(CN_PATH), json=cn_body("data")))
    ok(s.post(twin.url(VC_PATH), json=vc_body("vc-1", mtu=0, selector={"kubernetes.io/hostname": "ms02-1"})))
    # 0 means the default 1500: equal
    ok(s.post(twin.url(VC_PATH), json=vc_body("vc-2", mtu=1500, selector={"kubernetes.io/hostname": "ms02-2"})))
    r = s.post(twin.url(VC_PATH), json=vc_body("vc-3", mtu=9000, selector={"kubernetes.io/hostname": "ms02-3"}))
    assert refused(r, "") == ("can't create vlanConfig vc-3 because the vlanconfig vc-3 MTU 9000 is different with "
                              "another vlanconfig vc-1 MTU 0, all vlanconfigs on one clusternetwork need to have "
                              "same MTU")


def test_overlapping_vlanconfigs_are_refused(twin):
    data_network(twin)
    r = twin.session().post(twin.url(VC_PATH), json=vc_body("second", selector={"kubernetes.io/hostname": "ms02-1"}))
    assert refused(r, "") == "can't create vlanConfig second because it overlaps with other vlanconfigs matching node(s) [ms02-1]"
    # another cluster network may use the same node
    ok(twin.session().post(twin.url(CN_PATH), json=cn_body("other")))
    ok(twin.session().post(twin.url(VC_PATH), json=vc_body("elsewhere", cn="other", nics=[],
                                                          selector={"kubernetes.io/hostname": "ms02-1"})))


def test_vlanconfig_mutator_adds_cluster_network_label_and_matched_nodes(twin):
    s = twin.session()
    ok(s.post(twin.url(CN_PATH), json=cn_body("data")))
    # a witness node is never matched
    ok(s.post(twin.url("/api/v1/nodes"), json={"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "witness-1", "labels": {"node-role.harvesterhci.io/witness": "true", "rack": "a"}}}))
    ok(s.patch(twin.url("/api/v1/nodes/ms02-2"), data=json.dumps({"metadata": {"labels": {"rack": "a"}}}),
               headers={"Content-Type": "application/merge-patch+json"}))
    everywhere = ok(s.post(twin.url(VC_PATH), json=vc_body("all", nics=[])))
    assert everywhere["metadata"]["labels"][f"{NET}/clusternetwork"] == "data"
    assert json.loads(everywhere["metadata"]["annotations"][f"{NET}/matched-nodes"]) == NODES
    ok(s.post(twin.url(CN_PATH), json=cn_body("rack")))
    rack = ok(s.post(twin.url(VC_PATH), json=vc_body("rack-a", cn="rack", nics=[], selector={"rack": "a"})))
    assert rack["metadata"]["annotations"][f"{NET}/matched-nodes"] == '["ms02-2"]'


def test_vlanconfig_update_and_delete_are_refused_while_vms_run_on_its_nodes(twin):
    s = twin.session()
    data_network(twin)
    ok(s.post(twin.url(NAD_PATH), json=nad_body("data-30", bridge="data-br", vlan=30)))
    wait_for(lambda: (get(twin, f"{NAD_PATH}/data-30")["metadata"].get("labels") or {}).get(f"{NET}/clusternetwork"),
             "the NAD labelled")
    run_vmi(twin, "web", "default/data-30", node="ms02-2")
    vc = get(twin, f"{VC_PATH}/data-all")
    vc["spec"]["uplink"]["nics"] = ["enp5s0", "enp2s0f1np1"]
    r = s.put(twin.url(f"{VC_PATH}/data-all"), json=vc)
    assert refused(r, "") == "can't update vlanConfig data-all because it is blocked by VM(s) default/web which must be stopped at first"
    # narrowing the selector affects only the nodes it drops: ms02-2 stays, so this is allowed
    ok(s.patch(twin.url(f"{VC_PATH}/data-all"), data=json.dumps(
        {"spec": {"nodeSelector": {"kubernetes.io/hostname": "ms02-2"}}}),
        headers={"Content-Type": "application/merge-patch+json"}))
    r = s.delete(twin.url(f"{VC_PATH}/data-all"))
    assert refused(r, "") == "can't delete vlanConfig data-all because it is blocked by VM(s) default/web which must be stopped at first"
    ok(s.delete(twin.url(f"{VMI_PATH}/web")))
    wait_for(lambda: get(twin, f"{VMI_PATH}/web") is None, "the VMI gone")
    ok(s.delete(twin.url(f"{VC_PATH}/data-all")))


# ============================================================================ NAD webhook
def test_nad_config_must_be_json(twin):
    r = twin.session().post(twin.url(NAD_PATH), json=nad_body("broken", config="{not json"))
    assert refused(r, "", webhook=MUTATOR_DENIED) == ("can't create nad default/broken because failed to unmarshal "
                                                      "nad default/broken config {not json invalid character 'n' "
                                                      "looking for beginning of value")


def test_nad_type_and_bridge_are_immutable(twin):
    s = twin.session()
    ok(s.post(twin.url(CN_PATH), json=cn_body("other")))
    ok(s.post(twin.url(NAD_PATH), json=nad_body("fixed", vlan=31)))
    live = get(twin, f"{NAD_PATH}/fixed")
    live["spec"]["config"] = nad_config("fixed", bridge="other-br", vlan=31)
    r = s.put(twin.url(f"{NAD_PATH}/fixed"), json=live)
    assert refused(r, "") == "can't update nad default/fixed because nad bridge name can't be changed from mgmt-br to other-br"
    live = get(twin, f"{NAD_PATH}/fixed")
    live["spec"]["config"] = json.dumps({"cniVersion": "0.3.1", "name": "fixed", "type": "kube-ovn",
                                         "provider": "fixed.default.ovn"})
    r = s.put(twin.url(f"{NAD_PATH}/fixed"), json=live)
    assert refused(r, "") == "can't update nad default/fixed because nad cannot be updated from network type bridge to network type kube-ovn"


def test_nad_cluster_network_label_must_match_the_bridge(twin):
    ok(twin.session().post(twin.url(CN_PATH), json=cn_body("data")))
    r = twin.session().post(twin.url(NAD_PATH), json=nad_body("liar", labels={f"{NET}/clusternetwork": "data"}))
    assert refused(r, "") == "can't create nad default/liar because the nad label data does not match bridge name mgmt"


def test_nad_bridge_needs_an_existing_cluster_network(twin):
    r = twin.session().post(twin.url(NAD_PATH), json=nad_body("lost", bridge="nowhere-br"))
    assert refused(r, "", webhook=MUTATOR_DENIED) == \
        'can\'t create nad default/lost because clusternetworks.network.harvesterhci.io "nowhere" not found'
    r = twin.session().post(twin.url(NAD_PATH), json=nad_body("odd", bridge="mgmt"))
    assert refused(r, "", webhook=MUTATOR_DENIED) == \
        "can't create nad default/odd because the bridge name mgmt does not include suffix -br"


def test_nad_mtu_is_injected_and_must_match_the_cluster_network(twin):
    s = twin.session()
    data_network(twin, mtu=9000)
    wait_for(lambda: get(twin, f"{CN_PATH}/data")["metadata"].get("annotations", {}).get(f"{NET}/uplink-mtu") == "9000",
             "the uplink-mtu annotation")
    created = ok(s.post(twin.url(NAD_PATH), json=nad_body("jumbo", bridge="data-br", vlan=30)))
    assert created["spec"]["config"] == nad_config("jumbo", bridge="data-br", vlan=30)[:-1] + ',"mtu":9000}'
    # 1500 on mgmt: nothing injected
    plain = ok(s.post(twin.url(NAD_PATH), json=nad_body("plain", vlan=31)))
    assert "mtu" not in json.loads(plain["spec"]["config"])
    plain["spec"]["config"] = nad_config("plain", vlan=31, mtu=9000)
    r = s.put(twin.url(f"{NAD_PATH}/plain"), json=get(twin, f"{NAD_PATH}/plain") | {"spec": plain["spec"]})
    assert refused(r, "") == "can't update nad default/plain because nad MTU 9000 does not match cluster network MTU 1500"


@pytest.mark.parametrize(("conf", "message"), [
    ({"vlan": 4095}, "vlan 4095 is out of range [0 .. 4094]"),
    ({"vlan": -1}, "vlan -1 is out of range [0 .. 4094]"),
    ({"vlan": 30, "vlanTrunk": [{"id": 40}]}, "vlan can only be 0 when vlanTrunk is set"),
    ({"vlan": 0, "vlanTrunk": [{"minID": 0, "maxID": 20}]}, "incorrect trunk minID parameter 0"),
    ({"vlan": 0, "vlanTrunk": [{"minID": 20, "maxID": 4095}]}, "incorrect trunk maxID parameter 4095"),
    ({"vlan": 0, "vlanTrunk": [{"minID": 20, "maxID": 10}]}, "minID 20 is greater than maxID 10 in trunk parameter"),
    ({"vlan": 0, "vlanTrunk": [{"id": 4095}]}, "incorrect trunk id parameter 4095"),
    ({"vlan": 0, "vlanTrunk": [{"maxID": 10}]}, "minID and maxID should be configured simultaneously, minID is missing"),
])
def test_nad_vlan_ids_are_checked(twin, conf, message):
    r = twin.session().post(twin.url(NAD_PATH), json=nad_body("vlans", **conf))
    assert refused(r, "") == f"can't create nad default/vlans because {message}"


@pytest.mark.parametrize(("route", "message"), [
    ('{"mode":"dhcp"}', "unknown mode dhcp"),
    ('{"mode":"manual","cidr":"10.10.30.0/24"}', "the gateway  is invalid"),
    ('{"mode":"manual","cidr":"0.0.0.0/0","gateway":"10.10.30.1"}', "the CIDR 0.0.0.0/0 is invalid"),
    ('{"mode":"manual","cidr":"10.10.30.1","gateway":"10.10.30.1"}', "the CIDR 10.10.30.1 is invalid"),
    ('{"mode":"manual","cidr":"10.10.30.0/24","gateway":"10.10.30.300"}', "the gateway 10.10.30.300 is invalid"),
    ('{"mode":', 'unmarshal {"mode": faield, error: unexpected end of JSON input'),
])
def test_nad_route_annotation_is_checked(twin, route, message):
    r = twin.session().post(twin.url(NAD_PATH), json=nad_body("routed", vlan=30,
                                                              annotations={f"{NET}/route": route}))
    assert refused(r, "") == f"can't create nad default/routed because {message}"


def test_manual_route_with_a_valid_cidr_and_gateway_is_accepted(twin):
    ok(twin.session().post(twin.url(NAD_PATH), json=nad_body("manual", vlan=30, annotations={
        f"{NET}/route": '{"mode":"manual","cidr":"10.10.30.0/24","gateway":"10.10.30.1"}'})))


def test_nad_config_change_is_refused_while_a_running_vm_uses_it(twin):
    live = get(twin, f"{NAD_PATH}/lab-uplink")
    live["spec"]["config"] = nad_config("lab-uplink", vlan=10)
    r = twin.session().put(twin.url(f"{NAD_PATH}/lab-uplink"), json=live)
    assert refused(r, "") == ("can't update nad default/lab-uplink because it's still used by VM(s) "
                              "default/lab-router which must be stopped at first")
    # labels and annotations are not the config: allowed
    ok(twin.session().patch(twin.url(f"{NAD_PATH}/lab-uplink"), data='{"metadata":{"annotations":{"a":"b"}}}',
                            headers={"Content-Type": "application/merge-patch+json"}))


def test_nad_delete_is_refused_while_vmis_or_vms_use_it(twin):
    s = twin.session()
    r = s.delete(twin.url(f"{NAD_PATH}/lab-uplink"))
    assert refused(r, "") == ("can't delete nad default/lab-uplink because it's still used by VM(s) "
                              "default/lab-router which must be stopped at first")
    # lab-router stops (as an operator stops it); the VM objects still list the NAD
    ok(s.patch(twin.url(VM_PATH.format(ns="default") + "/lab-router"), data='{"spec":{"runStrategy":"Halted"}}',
               headers={"Content-Type": "application/merge-patch+json"}))
    wait_for(lambda: get(twin, f"{VMI_PATH}/lab-router") is None, "the VMI gone")
    r = s.delete(twin.url(f"{NAD_PATH}/lab-uplink"))
    assert refused(r, "") == ("can't delete nad default/lab-uplink because it's still used by VM(s) "
                              "default/lab-builder, default/lab-router which must remove the related networks and "
                              "interfaces")


def test_a_bare_network_name_means_the_default_namespace(twin):
    s = twin.session()
    ok(s.post(twin.url("/api/v1/namespaces"), json={"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": "team"}}))
    ok(s.post(twin.url(NAD_PATH), json=nad_body("shared", vlan=40)))
    ok(s.post(twin.url(NAD_BASE.format(ns="team")), json=nad_body("shared", ns="team", vlan=40)))
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "app", "namespace": "team"},
          "spec": {"runStrategy": "Halted", "template": {"spec": {
              "domain": {"memory": {"guest": "1Gi"}, "devices": {"interfaces": [{"name": "n", "bridge": {}}]}},
              "networks": [{"name": "n", "multus": {"networkName": "shared"}}]}}}}
    ok(s.post(twin.url(VM_PATH.format(ns="team")), json=vm))
    r = s.delete(twin.url(f"{NAD_PATH}/shared"))
    assert refused(r, "") == ("can't delete nad default/shared because it's still used by VM(s) team/app which "
                              "must remove the related networks and interfaces")
    ok(s.delete(twin.url(NAD_BASE.format(ns="team") + "/shared")))


# ============================================================================ NAD controller
def test_nad_gains_finalizer_and_labels_seen_through_kubectl_watch(any_twin):
    twin = any_twin
    watcher = subprocess.Popen([KUBECTL, "--kubeconfig", str(twin.kubeconfig), "get", "net-attach-def", "-n",
                                "default", "-w", "--request-timeout=0", "-o",
                                'jsonpath={.metadata.name} {.metadata.labels}{"\\n"}'],
                               stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        twin.kubectl("apply", "-f", "-", input=yaml.safe_dump(nad_body("platform", vlan=30)))
        lines = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = watcher.stdout.readline()
            if line.startswith("platform "):
                lines.append(line)
                if f"{NET}/vlan-id" in line:
                    break
    finally:
        watcher.kill()
        watcher.wait()
    assert lines[0].strip() == "platform", lines  # created without labels
    labels = json.loads(lines[-1].split(" ", 1)[1])
    assert labels == {f"{NET}/clusternetwork": "mgmt", f"{NET}/type": "L2VlanNetwork", f"{NET}/vlan-id": "30",
                      f"{NET}/ready": "true"}
    got = json.loads(twin.kubectl("get", "net-attach-def", "platform", "-n", "default", "-o", "json").stdout)
    assert got["metadata"]["finalizers"] == ["wrangler.cattle.io/harvester-network-manager-nad-controller"]


@pytest.mark.parametrize(("config", "kind"), [
    (nad_config("u"), "UntaggedNetwork"),
    (nad_config("u", vlan=0), "UntaggedNetwork"),
    (nad_config("u", vlan=0, vlanTrunk=[{"minID": 10, "maxID": 20}, {"id": 30}]), "L2VlanTrunkNetwork"),
    (json.dumps({"cniVersion": "0.3.1", "name": "u", "type": "kube-ovn", "provider": "u.default.ovn",
                 "server_socket": "/run/openvswitch/kube-ovn-daemon.sock"}), "OverlayNetwork"),
])
def test_nad_type_labels(twin, config, kind):
    ok(twin.session().post(twin.url(NAD_PATH), json=nad_body("u", config=config)))
    labels = wait_for(lambda: (get(twin, f"{NAD_PATH}/u")["metadata"].get("labels") or {}).get(f"{NET}/type") and
                      get(twin, f"{NAD_PATH}/u")["metadata"]["labels"], "type label")
    assert labels[f"{NET}/type"] == kind and labels[f"{NET}/clusternetwork"] == "mgmt"
    assert f"{NET}/vlan-id" not in labels and labels[f"{NET}/ready"] == "true"


def test_nad_ready_label_follows_the_cluster_network(twin):
    s = twin.session()
    api = twin.dynamic().resources.get(api_version="k8s.cni.cncf.io/v1", kind="NetworkAttachmentDefinition")
    ok(s.post(twin.url(CN_PATH), json=cn_body("data")))
    ok(s.post(twin.url(NAD_PATH), json=nad_body("data-40", bridge="data-br", vlan=40)))
    wait_for(lambda: (get(twin, f"{NAD_PATH}/data-40")["metadata"].get("labels") or {}).get(f"{NET}/ready") == "false",
             "ready=false on a cluster network without uplinks")
    rv = list_rv(twin, NAD_PATH)
    ok(s.post(twin.url(VC_PATH), json=vc_body("data-all")))
    obj, _ = watch_until(api, lambda t, o: (o["metadata"].get("labels") or {}).get(f"{NET}/ready") == "true",
                         resource_version=rv, name="data-40", namespace="default")
    rv = obj["metadata"]["resourceVersion"]
    ok(s.delete(twin.url(f"{VC_PATH}/data-all")))
    watch_until(api, lambda t, o: (o["metadata"].get("labels") or {}).get(f"{NET}/ready") == "false",
                resource_version=rv, name="data-40", namespace="default")


def test_auto_route_is_filled_from_dhcp_then_pinged(twin):
    api = twin.dynamic().resources.get(api_version="k8s.cni.cncf.io/v1", kind="NetworkAttachmentDefinition")
    rv = list_rv(twin, NAD_PATH)
    ok(twin.session().post(twin.url(NAD_PATH), json=nad_body("platform", vlan=30,
                                                             annotations={f"{NET}/route": '{"mode":"auto"}'})))

    def route(o):
        return json.loads((o["metadata"].get("annotations") or {}).get(f"{NET}/route") or "{}")
    _, seen = watch_until(api, lambda t, o: route(o).get("connectivity"), resource_version=rv, name="platform",
                          namespace="default")
    routes = [route(o) for _, o in seen]
    assert {"mode": "auto"} in routes
    assert {"mode": "auto", "cidr": "10.10.30.0/24", "gateway": "10.10.30.1"} in routes  # DHCP answered
    assert routes[-1] == {"mode": "auto", "cidr": "10.10.30.0/24", "gateway": "10.10.30.1", "connectivity": "true"}


def test_auto_route_without_a_dhcp_answer_fails(twin):
    ok(twin.session().post(twin.url(NAD_PATH), json=nad_body("dark", vlan=50,
                                                             annotations={f"{NET}/route": '{"mode":"auto"}'})))
    route = wait_for(lambda: json.loads(get(twin, f"{NAD_PATH}/dark")["metadata"]["annotations"][f"{NET}/route"])
                     .get("connectivity") and
                     json.loads(get(twin, f"{NAD_PATH}/dark")["metadata"]["annotations"][f"{NET}/route"]), "route")
    assert route == {"mode": "auto", "connectivity": "DHCP failed"}


def test_vlan_change_marks_an_auto_route_outdated_and_dhcp_runs_again(twin):
    ok(twin.session().post(twin.url(NAD_PATH), json=nad_body("moving", vlan=30,
                                                             annotations={f"{NET}/route": '{"mode":"auto"}'})))

    def route():
        return json.loads(get(twin, f"{NAD_PATH}/moving")["metadata"]["annotations"][f"{NET}/route"])
    wait_for(lambda: route().get("connectivity") == "true", "VLAN 30 route")
    live = get(twin, f"{NAD_PATH}/moving")
    live["spec"]["config"] = nad_config("moving", vlan=40)
    updated = ok(twin.session().put(twin.url(f"{NAD_PATH}/moving"), json=live))
    assert json.loads(updated["metadata"]["annotations"][f"{NET}/route"])["outdated"] is True
    wait_for(lambda: route() == {"mode": "auto", "cidr": "10.10.40.0/24", "gateway": "10.10.40.1",
                                 "connectivity": "true"}, "VLAN 40 route")


# ============================================================================ VlanConfig controllers
def test_vlanconfig_builds_bonds_vlanstatuses_and_labels(any_twin):
    twin = any_twin
    s = twin.session()
    vs_api = twin.dynamic().resources.get(api_version=f"{NET}/v1beta1", kind="VlanStatus")
    rv = list_rv(twin, VS_PATH)
    ok(s.post(twin.url(CN_PATH), json=cn_body("data")))
    vc = ok(s.post(twin.url(VC_PATH), json=vc_body("data-all", mtu=9000)))
    seen = {}
    for node in NODES:
        obj, _ = watch_until(vs_api, lambda t, o: (ready_of(o) or {}).get("status") == "True",
                             resource_version=rv, name=vs_name("data", node))
        seen[node] = obj
    for node, vs in seen.items():
        assert vs["metadata"]["labels"] == {f"{NET}/clusternetwork": "data", f"{NET}/vlanconfig": "data-all",
                                            f"{NET}/node": node}
        assert vs["metadata"]["ownerReferences"][0]["uid"] == vc["metadata"]["uid"]
        assert vs["status"]["clusterNetwork"] == "data" and vs["status"]["linkMonitor"] == "data"
        assert vs["status"]["node"] == node and vs["status"]["vlanConfig"] == "data-all"
    # the manager: cluster network ready, annotated; LinkMonitor data reporting the bond and bridge
    cn = wait_for(lambda: (ready_of(get(twin, f"{CN_PATH}/data")) or {}).get("status") == "True" and
                  get(twin, f"{CN_PATH}/data"), "data ready")
    assert cn["metadata"]["annotations"][f"{NET}/uplink-mtu"] == "9000"
    assert cn["metadata"]["annotations"][f"{NET}/mtu-source-vc"] == "data-all"
    assert cn["metadata"]["finalizers"] == ["wrangler.cattle.io/harvester-network-manager-cn-controller"]
    lm = wait_for(lambda: ((get(twin, f"{LM_PATH}/data") or {}).get("status") or {}).get("linkStatus", {}).get("ms02-3")
                  and get(twin, f"{LM_PATH}/data"), "LinkMonitor data")
    assert lm["spec"]["targetLinkRule"] == {"nameRule": "data(-br|-bo)"}
    bond, bridge = lm["status"]["linkStatus"]["ms02-1"]
    assert (bond["name"], bond["type"], bond["state"], bond["masterIndex"]) == ("data-bo", "bond", "up", bridge["index"])
    assert (bridge["name"], bridge["type"]) == ("data-br", "bridge")
    assert nic(twin, "ms02-1", "enp5s0")["masterIndex"] == bond["index"]
    assert bond["index"] not in (2, 3, 4, 10, 11)
    for node in NODES:
        labels = get(twin, f"/api/v1/nodes/{node}")["metadata"]["labels"]
        assert labels[f"{NET}/data"] == "true" and labels[f"{NET}/vlanconfig"] == "data-all"
    vc = get(twin, f"{VC_PATH}/data-all")
    assert sorted(vc["metadata"]["finalizers"]) == ["wrangler.cattle.io/harvester-network-manager-vlanconfig-controller",
                                                    "wrangler.cattle.io/harvester-network-vlanconfig-controller"]
    assert get(twin, f"{VS_PATH}/{vs_name('data', 'ms02-1')}")["metadata"]["finalizers"] == [
        "wrangler.cattle.io/harvester-network-manager-vlanconfig-controller"]

    # delete: statuses, labels and bonds go, NICs released, cluster network not ready
    rv = list_rv(twin, CN_PATH)
    ok(s.delete(twin.url(f"{VC_PATH}/data-all")))
    cn_api = twin.dynamic().resources.get(api_version=f"{NET}/v1beta1", kind="ClusterNetwork")
    watch_until(cn_api, lambda t, o: (ready_of(o) or {}).get("status") == "False", resource_version=rv, name="data")
    wait_for(lambda: get(twin, f"{VC_PATH}/data-all") is None, "the VlanConfig gone")
    assert twin.session().get(twin.url(VS_PATH)).json()["items"] == []
    assert nic(twin, "ms02-1", "enp5s0")["masterIndex"] == 0
    assert nic(twin, "ms02-1", "enp2s0f0np0")["masterIndex"] == 10  # mgmt's NICs untouched
    for node in NODES:
        labels = get(twin, f"/api/v1/nodes/{node}")["metadata"]["labels"]
        assert f"{NET}/data" not in labels and f"{NET}/vlanconfig" not in labels
    assert not (get(twin, f"{LM_PATH}/data").get("status") or {}).get("linkStatus")
    annotations = get(twin, f"{CN_PATH}/data")["metadata"].get("annotations") or {}
    assert f"{NET}/uplink-mtu" not in annotations  # no VlanConfig left to take the MTU from


def test_bond_fails_on_an_enslaved_or_missing_nic_and_recovers_when_the_nic_is_free(twin):
    s = twin.session()
    ok(s.post(twin.url(CN_PATH), json=cn_body("data")))
    ok(s.post(twin.url(VC_PATH), json=vc_body("taken", nics=["enp2s0f0np0"],
                                              selector={"kubernetes.io/hostname": "ms02-1"})))
    vs = wait_for(lambda: ready_of(get(twin, f"{VS_PATH}/{vs_name('data', 'ms02-1')}")) and
                  get(twin, f"{VS_PATH}/{vs_name('data', 'ms02-1')}"), "VlanStatus")
    assert ready_of(vs)["status"] == "False"
    assert ready_of(vs)["message"] == "enp2s0f0np0 has been enslaved by the link with index 10"
    # the manager does not look at the VlanStatus's own condition
    wait_for(lambda: (ready_of(get(twin, f"{CN_PATH}/data")) or {}).get("status") == "True", "data ready")
    assert f"{NET}/data" not in get(twin, "/api/v1/nodes/ms02-1")["metadata"]["labels"]

    ok(s.post(twin.url(CN_PATH), json=cn_body("ghost")))
    ok(s.post(twin.url(VC_PATH), json=vc_body("ghost", cn="ghost", nics=["enp9s0"],
                                              selector={"kubernetes.io/hostname": "ms02-2"})))
    ghost = wait_for(lambda: ready_of(get(twin, f"{VS_PATH}/{vs_name('ghost', 'ms02-2')}")), "ghost VlanStatus")
    assert ghost == ready_of(get(twin, f"{VS_PATH}/{vs_name('ghost', 'ms02-2')}"))
    assert ghost["status"] == "False" and ghost["message"] == "get link enp9s0 failed, error: Link not found"

    # another bond holds enp5s0 on ms02-3; when the hardware lets it go, the agent retries
    set_nic(twin, "ms02-3", "enp5s0", masterIndex=42)
    ok(s.post(twin.url(CN_PATH), json=cn_body("late")))
    ok(s.post(twin.url(VC_PATH), json=vc_body("late", cn="late", selector={"kubernetes.io/hostname": "ms02-3"})))
    name = f"{VS_PATH}/{vs_name('late', 'ms02-3')}"
    wait_for(lambda: (ready_of(get(twin, name)) or {}).get("message") == "enp5s0 has been enslaved by the link with index 42",
             "late fails")
    vs_api = twin.dynamic().resources.get(api_version=f"{NET}/v1beta1", kind="VlanStatus")
    rv = list_rv(twin, VS_PATH)
    set_nic(twin, "ms02-3", "enp5s0", masterIndex=0)
    watch_until(vs_api, lambda t, o: (ready_of(o) or {}).get("status") == "True", resource_version=rv,
                name=vs_name("late", "ms02-3"))
    assert nic(twin, "ms02-3", "enp5s0")["masterIndex"] not in (0, 42)


def test_a_nic_going_down_takes_the_bond_down_in_the_link_monitor(twin):
    data_network(twin)
    wait_for(lambda: ((get(twin, f"{LM_PATH}/data") or {}).get("status") or {}).get("linkStatus", {}).get("ms02-2"),
             "LinkMonitor data")
    lm_api = twin.dynamic().resources.get(api_version=f"{NET}/v1beta1", kind="LinkMonitor")
    rv = list_rv(twin, LM_PATH)
    set_nic(twin, "ms02-2", "enp5s0", state="down")

    def state(o, node):
        return [e["state"] for e in ((o.get("status") or {}).get("linkStatus") or {}).get(node) or []]
    obj, _ = watch_until(lm_api, lambda t, o: state(o, "ms02-2") == ["down", "down"], resource_version=rv, name="data")
    assert state(obj, "ms02-1") == ["up", "up"]
    assert nic(twin, "ms02-2", "enp5s0")["state"] == "down"  # the agent never touches the hardware's state
    vs = get(twin, f"{VS_PATH}/{vs_name('data', 'ms02-2')}")
    assert ready_of(vs)["status"] == "True"


def test_narrowing_the_selector_tears_down_the_dropped_nodes(twin):
    data_network(twin)
    ok(twin.session().patch(twin.url(f"{VC_PATH}/data-all"), data=json.dumps(
        {"spec": {"nodeSelector": {"kubernetes.io/hostname": "ms02-1"}}}),
        headers={"Content-Type": "application/merge-patch+json"}))
    assert json.loads(get(twin, f"{VC_PATH}/data-all")["metadata"]["annotations"][f"{NET}/matched-nodes"]) == ["ms02-1"]
    wait_for(lambda: [v["metadata"]["name"] for v in twin.session().get(twin.url(VS_PATH)).json()["items"]]
             == [vs_name("data", "ms02-1")], "only ms02-1 left")
    assert nic(twin, "ms02-2", "enp5s0")["masterIndex"] == 0
    assert f"{NET}/data" not in get(twin, "/api/v1/nodes/ms02-2")["metadata"]["labels"]
    wait_for(lambda: sorted(get(twin, f"{LM_PATH}/data")["status"]["linkStatus"]) == ["ms02-1"], "bond only on ms02-1")


def test_nad_config_that_is_not_a_string_is_refused_by_the_mutator_not_a_crash(twin):
    body = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": "numeric", "namespace": "default"}, "spec": {"config": 5}}
    r = twin.session().post(twin.url("/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"),
                            json=body)
    assert r.status_code == 500
    assert r.json()["message"].endswith("json: cannot unmarshal number into Go struct field "
                                        "NetworkAttachmentDefinitionSpec.spec.config of type string")
