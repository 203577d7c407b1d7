"""openAPIV3Schema validation seen from a client: one request per schema feature, answered the
way the apiserver answers it (422 Invalid with the field path, or accepted and stored)."""
from __future__ import annotations

import base64

import pytest

from .conftest import status_of

SERVICES = "/api/v1/namespaces/default/services"
VC = "/apis/network.harvesterhci.io/v1beta1/vlanconfigs"
HC = "/apis/infrastructure.cluster.x-k8s.io/v1beta1/namespaces/default/harvesterclusters"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"


def service(name, port, target):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": target}]}}


def causes(response):
    assert response.status_code == 422, response.text
    return {c["field"]: c["message"] for c in status_of(response)["details"]["causes"]}


@pytest.mark.parametrize("target", [8080, "http"])
def test_int_or_string_accepts_both(twin, target):
    r = twin.session().post(twin.url(SERVICES), json=service("ios", 80, target))
    assert r.status_code == 201 and r.json()["spec"]["ports"][0]["targetPort"] == target
    assert r.json()["spec"]["ports"][0]["protocol"] == "TCP"  # default inside a list item


def test_int_or_string_refuses_other_types(twin):
    found = causes(twin.session().post(twin.url(SERVICES), json=service("ios", 80, True)))
    assert "spec.ports[0].targetPort" in found or any("targetPort" in f for f in found)


def test_maximum(twin):
    found = causes(twin.session().post(twin.url(SERVICES), json=service("big", 70000, 80)))
    assert found["spec.ports[0].port"] == ("Invalid value: 70000: spec.ports[0].port in body should be less than "
                                           "or equal to 65535")


def test_format_byte(twin):
    body = {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "VlanConfig", "metadata": {"name": "mac"},
            "spec": {"clusterNetwork": "cn1", "uplink": {"nics": ["a"],
                                                         "linkAttributes": {"hardwareAddr": "aa:bb:cc:dd:ee:ff"}}}}
    found = causes(twin.session().post(twin.url(VC), params={"dryRun": "All"}, json=body))
    assert found["spec.uplink.linkAttributes.hardwareAddr"].startswith(
        'Invalid value: "aa:bb:cc:dd:ee:ff": spec.uplink.linkAttributes.hardwareAddr in body must be of type byte')
    body["spec"]["uplink"]["linkAttributes"]["hardwareAddr"] = base64.b64encode(bytes.fromhex("aabbccddeeff")).decode()
    r = twin.session().post(twin.url(VC), params={"dryRun": "All"}, json=body)
    assert r.status_code != 422 or "hardwareAddr" not in r.text


def test_nullable_keeps_null_and_other_nulls_are_dropped(twin):
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "nul", "namespace": "default"},
          "spec": {"runStrategy": "Halted", "dataVolumeTemplates": None,
                   "template": {"metadata": None, "spec": {"domain": {"memory": {"guest": "1Gi"}, "devices": {}}}}}}
    r = twin.session().post(twin.url(VMS), json=vm)
    assert r.status_code == 201, r.text
    spec = r.json()["spec"]
    assert spec["template"]["metadata"] is None  # nullable: true
    assert "dataVolumeTemplates" not in spec  # not nullable: the apiserver drops the null


def test_preserve_unknown_fields_keeps_what_it_covers_and_prunes_the_rest(twin):
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "keep", "namespace": "default"},
          "spec": {"runStrategy": "Halted", "bogus": 1,
                   "template": {"metadata": {"labels": {"a": "b"}, "custom": {"nested": [1, 2]}},
                                "spec": {"domain": {"memory": {"guest": "1Gi"}, "devices": {}}}}}}
    r = twin.session().post(twin.url(VMS), json=vm)
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["template"]["metadata"]["custom"] == {"nested": [1, 2]}
    assert "bogus" not in r.json()["spec"]


def harvester_cluster(name):
    return {"apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1", "kind": "HarvesterCluster",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"targetNamespace": "default", "identitySecret": {"name": "hv-identity", "namespace": "default"},
                     "loadBalancerConfig": {"ipamType": "dhcp"}}}


def test_pattern_max_length_and_date_time_on_status(twin):
    s = twin.session()
    created = s.post(twin.url(HC), json=harvester_cluster("hc"))
    assert created.status_code == 201, created.text

    def put_status(condition):
        # re-read first: the CAPHV controller may have written the object since (a stale
        # resourceVersion would answer 409 before validation)
        obj = s.get(twin.url(HC + "/hc")).json()
        obj["status"] = {"conditions": [condition]}
        return causes(s.put(twin.url(HC + "/hc/status"), json=obj))

    bad = {"type": "Ready", "status": "True", "reason": "not valid!", "message": "x", "lastTransitionTime": "yesterday"}
    found = put_status(bad)
    assert "should match" in found["status.conditions[0].reason"]
    assert "must be of type date-time" in found["status.conditions[0].lastTransitionTime"]
    found = put_status(dict(bad, reason="AllGood", lastTransitionTime="2026-11-25T10:00:00Z", type="x" * 400))
    assert "Too long" in found["status.conditions[0].type"]


def test_required_nested_field(twin):
    body = harvester_cluster("noid")
    del body["spec"]["identitySecret"]
    found = causes(twin.session().post(twin.url(HC), json=body))
    assert found["spec.identitySecret"] == "Required value"


@pytest.mark.parametrize(("endpoint", "field", "message"), [
    ({"host": "10.10.10.100", "port": 0}, "spec.controlPlaneEndpoint.port",
     "Invalid value: 0: spec.controlPlaneEndpoint.port in body should be greater than or equal to 1"),
    ({"host": "", "port": 6443}, "spec.controlPlaneEndpoint.host",
     'Invalid value: "": spec.controlPlaneEndpoint.host in body should be at least 1 chars long'),
    ({"host": "10.10.10.100", "port": "6443"}, "spec.controlPlaneEndpoint.port",
     'Invalid value: "string": spec.controlPlaneEndpoint.port in body must be of type integer: "string"'),  # a string skips the format check
], ids=["minimum", "minLength", "type"])
def test_minimum_min_length_and_type_over_http(twin, endpoint, field, message):
    body = harvester_cluster("bounds")
    body["spec"]["controlPlaneEndpoint"] = endpoint
    found = causes(twin.session().post(twin.url(HC), params={"dryRun": "All"}, json=body))
    assert found == {field: message}


def test_enum_over_http_lists_the_supported_values(twin):
    body = harvester_cluster("lb")
    body["spec"]["loadBalancerConfig"]["ipamType"] = "static"
    found = causes(twin.session().post(twin.url(HC), params={"dryRun": "All"}, json=body))
    assert found == {"spec.loadBalancerConfig.ipamType": 'Unsupported value: "static": supported values: "dhcp", "pool"'}
