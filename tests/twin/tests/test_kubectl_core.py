"""kubectl's typed commands on core kinds: they post protobuf, which the twin reads for the kinds
we serve, and get JSON back."""
from __future__ import annotations

import base64
import json


def test_kubectl_create_namespace_secret_configmap(twin):
    twin.kubectl("create", "namespace", "demo")
    twin.kubectl("create", "secret", "generic", "creds", "-n", "demo", "--from-literal=token=s3cret")
    twin.kubectl("create", "configmap", "conf", "-n", "demo", "--from-literal=mode=lab")
    ns = json.loads(twin.kubectl("get", "namespace", "demo", "-o", "json").stdout)
    assert ns["status"]["phase"] == "Active" and ns["spec"]["finalizers"] == ["kubernetes"]
    secret = json.loads(twin.kubectl("get", "secret", "creds", "-n", "demo", "-o", "json").stdout)
    assert secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["token"]) == b"s3cret"
    assert "generateName" not in secret["metadata"]
    conf = json.loads(twin.kubectl("get", "configmap", "conf", "-n", "demo", "-o", "json").stdout)
    assert conf["data"] == {"mode": "lab"}


def test_kubectl_delete_namespace_waits_for_its_contents(twin):
    twin.kubectl("create", "namespace", "gone")
    twin.kubectl("create", "configmap", "c", "-n", "gone", "--from-literal=a=b")
    twin.kubectl("delete", "namespace", "gone", "--wait", "--timeout=20s")
    assert twin.kubectl("get", "namespace", "gone", check=False).returncode != 0


def test_protobuf_of_an_unserved_kind_is_415(twin):
    # the protobuf envelope of a Pod: magic, then runtime.Unknown{typeMeta{apiVersion v1, kind Pod}}
    type_meta = b"\x0a\x02v1\x12\x03Pod"
    body = b"k8s\x00" + b"\x0a" + bytes([len(type_meta)]) + type_meta
    r = twin.session().post(twin.url("/api/v1/namespaces/default/configmaps"), data=body,
                            headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert r.status_code == 415


def test_kubectl_get_nodes_prints_status_and_roles(twin):
    lines = twin.kubectl("get", "nodes").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    rows = [line.split() for line in lines[1:]]
    assert [r[0] for r in rows] == ["ms02-1", "ms02-2", "ms02-3"]
    assert all(r[1] == "Ready" and r[2] == "control-plane,etcd,master" for r in rows)
    twin.kubectl("cordon", "ms02-2")
    cordoned = twin.kubectl("get", "node", "ms02-2").stdout.splitlines()[1].split()
    assert cordoned[1] == "Ready,SchedulingDisabled"
