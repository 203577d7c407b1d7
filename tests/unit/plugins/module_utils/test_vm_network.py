# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/vm_network.py: the config the UI writes, the route
annotation, normalisation and the immutable parts."""

from __future__ import annotations

import json

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import vm_network
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError

BASE = {"name": "platform", "namespace": "default", "cluster_network": "mgmt", "vlan_id": None, "route": None,
        "description": None, "wait_timeout": 120}


def test_config_as_the_ui_writes_it():
    assert vm_network.config("platform", "mgmt", 30) == \
        '{"cniVersion":"0.3.1","name":"platform","type":"bridge","bridge":"mgmt-br","promiscMode":true,"vlan":30,"ipam":{}}'
    untagged = vm_network.config("flat", "data")
    assert '"vlan"' not in untagged and '"mtu"' not in untagged and json.loads(untagged)["bridge"] == "data-br"


def test_route_annotation():
    assert vm_network.route_annotation({"mode": "auto", "cidr": None, "gateway": None, "dhcp_server": None}) == '{"mode":"auto"}'
    manual = {"mode": "manual", "cidr": "10.10.40.0/24", "gateway": "10.10.40.1", "dhcp_server": "10.10.40.2"}
    assert json.loads(vm_network.route_annotation(manual)) == \
        {"mode": "manual", "serverIPAddr": "10.10.40.2", "cidr": "10.10.40.0/24", "gateway": "10.10.40.1"}
    assert vm_network.route_annotation(None) is None


def test_desired_object():
    obj = vm_network.desired(dict(BASE, vlan_id=30, description="VLAN 30"))
    assert obj["apiVersion"] == "k8s.cni.cncf.io/v1" and obj["kind"] == "NetworkAttachmentDefinition"
    assert obj["metadata"] == {"name": "platform", "namespace": "default",
                               "annotations": {"field.cattle.io/description": "VLAN 30"}}
    assert "labels" not in obj["metadata"]  # the controller's


def test_normalise_config_ignores_mtu_vlan0_order_and_spacing():
    ui = vm_network.config("platform", "mgmt")
    server = '{ "ipam": {}, "mtu": 9000, "vlan": 0, "promiscMode": true, "bridge": "mgmt-br", "type": "bridge",' \
             ' "name": "platform", "cniVersion": "0.3.1" }'
    assert vm_network.normalise_config(ui) == vm_network.normalise_config(server)
    assert vm_network.normalise_config("not json") == "not json"


def test_update_carries_the_live_mtu():
    desired = vm_network.config("platform", "mgmt", 31)
    assert json.loads(vm_network.config_to_write(desired, '{"mtu":9000,"vlan":30}'))["mtu"] == 9000
    assert vm_network.config_to_write(desired, '{"vlan":30}') == desired


@pytest.mark.parametrize("live", [
    '{"mode":"auto","cidr":"10.10.30.0/24","gateway":"10.10.30.1","connectivity":"true"}',
    '{"mode":"auto","connectivity":"DHCP failed","outdated":true}',
    '{"mode":"auto","serverIPAddr":""}',
])
def test_auto_route_ignores_what_the_controller_learns(live):
    assert vm_network.normalise_route(live) == vm_network.normalise_route('{"mode":"auto"}') == {"mode": "auto"}


def test_manual_route_compares_cidr_and_gateway():
    a = '{"mode":"manual","cidr":"10.10.40.0/24","gateway":"10.10.40.1","connectivity":"ping failed"}'
    assert vm_network.normalise_route(a) == {"mode": "manual", "cidr": "10.10.40.0/24", "gateway": "10.10.40.1"}
    assert vm_network.normalise_route(a) != vm_network.normalise_route('{"mode":"manual","cidr":"10.10.40.0/24","gateway":"10.10.40.254"}')


def test_immutable_parts():
    obj = vm_network.desired(dict(BASE, cluster_network="storage"))
    assert vm_network.cluster_network_of(obj) == "storage"
    assert vm_network.cni_type(obj) == "bridge"
    assert set(vm_network.immutable(BASE)) == {"type", "cluster_network"}


def test_fields_follow_the_given_options():
    assert vm_network.fields(BASE) == [vm_network.CONFIG]
    assert vm_network.fields(dict(BASE, description="", route={"mode": "auto"})) == \
        [vm_network.CONFIG, vm_network.ROUTE, vm_network.DESCRIPTION]


def test_readiness():
    assert vm_network.ready({"metadata": {"labels": {vm_network.LABEL_READY: "true"}}})
    assert not vm_network.ready({"metadata": {"labels": {vm_network.LABEL_READY: "false"}}})
    assert vm_network.summary({"metadata": {}}) == \
        "labels network.harvesterhci.io/ready=<unset>, network.harvesterhci.io/type=<unset>"


@pytest.mark.parametrize("changes, message", [
    ({"vlan_id": 5000}, "vlan_id: 5000 is not in 1-4094"),
    ({"namespace": "Default"}, "namespace: 'Default' is not a valid name"),
    ({"cluster_network": "averylongname"}, "cluster_network: 'averylongname' is 13 characters, at most 12 are allowed"),
    ({"route": {"mode": "auto"}}, "route: needs vlan_id"),
    ({"wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_check(changes, message):
    with pytest.raises(ValidationError) as e:
        vm_network.check(dict(BASE, **changes))
    assert str(e.value).startswith(message)


def test_labels_are_managed_key_by_key():
    params = dict(BASE, labels={"app.kubernetes.io/managed-by": "homelab.harvester.vlans", "old": None})
    obj = vm_network.desired(params)
    assert obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "homelab.harvester.vlans"}
    paths = [f.path for f in vm_network.fields(params)]
    assert ("metadata", "labels", "app.kubernetes.io/managed-by") in paths and ("metadata", "labels", "old") in paths
    assert ("metadata", "labels", vm_network.LABEL_READY) not in paths  # the controller's labels are never compared


@pytest.mark.parametrize("labels, message", [
    ({vm_network.LABEL_READY: "true"}, "labels: network.harvesterhci.io/ready is set by Harvester's network controller"),
    ({"bad key!": "x"}, "labels: 'bad key!' is not a valid label key"),
    ({"team": "a b"}, "labels.team: 'a b' is not a valid label value"),
    (["team"], "labels: must be a dict of label key to value"),
])
def test_bad_labels(labels, message):
    with pytest.raises(ValidationError) as e:
        vm_network.check(dict(BASE, labels=labels))
    assert str(e.value).startswith(message)


LIVE = {
    "metadata": {"name": "platform", "namespace": "default",
                 "labels": {vm_network.LABEL_READY: "true", vm_network.LABEL_TYPE: "L2VlanNetwork"},
                 "annotations": {vm_network.ANNOTATION_ROUTE: '{"mode":"manual","cidr":"10.10.30.0/24","gateway":"10.10.30.1"}',
                                 vm_network.ANNOTATION_DESCRIPTION: "VMs"}},
    "spec": {"config": '{"cniVersion":"0.3.1","name":"platform","type":"bridge","bridge":"mgmt-br","vlan":30,"mtu":1500,"ipam":{}}'},
}


def test_describe_reads_a_nad_back_in_the_modules_terms():
    assert vm_network.describe(LIVE) == {
        "name": "platform", "namespace": "default", "cluster_network": "mgmt", "vlan_id": 30, "type": "L2VlanNetwork",
        "ready": True, "route": {"mode": "manual", "cidr": "10.10.30.0/24", "gateway": "10.10.30.1"},
        "description": "VMs", "labels": LIVE["metadata"]["labels"], "deleting": False}
    untagged = vm_network.describe({"metadata": {"name": "flat", "namespace": "x"}, "spec": {"config": "not json"}})
    assert (untagged["vlan_id"], untagged["cluster_network"], untagged["route"], untagged["ready"]) == (None, None, None, False)


class ListingClient:
    def __init__(self, items):
        self.items, self.calls = items, []

    def list(self, path, label_selector=None, field_selector=None):
        self.calls.append((path, label_selector, field_selector))
        return self.items


def test_list_networks_is_one_request_sorted_and_filtered():
    other = {"metadata": {"name": "a", "namespace": "default"},
             "spec": {"config": '{"type":"bridge","bridge":"storage-br","vlan":7}'}}
    client = ListingClient([LIVE, other])
    found = vm_network.list_networks(client, {"namespace": "default", "label_selector": "x=y", "name": None,
                                              "cluster_network": None})
    assert [n["name"] for n in found] == ["a", "platform"]
    assert client.calls == [("/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions", "x=y", None)]
    on_mgmt = vm_network.list_networks(ListingClient([LIVE, other]), {"namespace": "", "name": "platform",
                                                                      "label_selector": None, "cluster_network": "mgmt"})
    assert [n["name"] for n in on_mgmt] == ["platform"]


def test_list_networks_every_namespace_and_by_name():
    client = ListingClient([])
    vm_network.list_networks(client, {"namespace": None, "name": "platform", "label_selector": None, "cluster_network": None})
    assert client.calls == [("/apis/k8s.cni.cncf.io/v1/network-attachment-definitions", None, "metadata.name=platform")]
    with pytest.raises(ValidationError):
        vm_network.check_info({"namespace": "Bad_NS", "name": None, "label_selector": None, "cluster_network": None})
    with pytest.raises(ValidationError):
        vm_network.check_info({"namespace": None, "name": "Bad_Name"})


def test_a_blank_label_selector_is_refused_as_harvester_image_info_refuses_it():
    # a blank selector would list every network, which is not what a templated selector that
    # came out empty meant
    with pytest.raises(ValidationError, match="^label_selector: must not be empty .leave it out to list every network.$"):
        vm_network.check_info({"namespace": "default", "name": None, "label_selector": " ", "cluster_network": None})
