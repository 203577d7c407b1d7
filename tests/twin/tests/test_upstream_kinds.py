"""With the unmodified upstream CRDs loaded (../shared/reference/crds), kubectl and the dynamic
client create, get, list, watch, patch and delete the kinds the collection manages.

The same lifecycle also runs against the twin with only our own CRDs, so a fresh clone (no
../shared) still proves it."""
from __future__ import annotations

import json
import select
import subprocess
import time

import pytest
import yaml
from kubernetes.dynamic.exceptions import ConflictError, UnprocessibleEntityError

from .conftest import KUBECTL

NAD_CONFIG = json.dumps({"cniVersion": "0.3.1", "name": "platform", "type": "bridge", "bridge": "mgmt-br",
                         "promiscMode": True, "vlan": 30, "ipam": {}})

# (api_version, kind, plural.group, namespace, body, merge patch, field the patch changes)
OBJECTS = [
    ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition", "network-attachment-definitions.k8s.cni.cncf.io",
     "default", {"spec": {"config": NAD_CONFIG}},
     {"spec": {"config": NAD_CONFIG.replace('"vlan": 30', '"vlan": 31')}}, ("spec", "config")),
    ("network.harvesterhci.io/v1beta1", "VlanConfig", "vlanconfigs.network.harvesterhci.io", None,
     {"spec": {"clusterNetwork": "storage", "uplink": {"nics": ["enp2s0f0np0", "enp2s0f1np1"],
                                                       "bondOptions": {"mode": "802.3ad", "miimon": 100},
                                                       "linkAttributes": {"mtu": 9000}}}},
     {"spec": {"description": "LACP uplink"}}, ("spec", "description")),
    ("harvesterhci.io/v1beta1", "VirtualMachineImage", "virtualmachineimages.harvesterhci.io", "default",
     {"spec": {"displayName": "talos-1.11", "sourceType": "download",
               "url": "http://10.10.10.20/images/talos-1.11-nocloud-amd64.raw.xz"}},
     {"spec": {"description": "Talos"}}, ("spec", "description")),
    ("longhorn.io/v1beta2", "Setting", "settings.longhorn.io", "longhorn-system",
     {"value": '{"v1":"3","v2":"3"}'}, {"value": '{"v1":"2","v2":"2"}'}, ("value",)),
    ("cluster.x-k8s.io/v1beta2", "Cluster", "clusters.cluster.x-k8s.io", "default",
     # CAPI's webhook wants a ref; a paused Cluster would never finish deleting, so a label changes
     {"spec": {"clusterNetwork": {"pods": {"cidrBlocks": ["172.16.0.0/16"]}},
               "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "HarvesterCluster", "name": "x"}}},
     {"metadata": {"labels": {"tier": "lab"}}}, ("metadata", "labels", "tier")),
]
NAMES = {"Setting": "default-replica-count"}
# Longhorn creates every setting at start and refuses to delete them: the lifecycle of a setting
# is get, list, watch and patch; create answers AlreadyExists and delete is refused.
PREEXISTING = {"Setting"}


def _dig(obj, path):
    for p in path:
        obj = obj.get(p) if isinstance(obj, dict) else None
    return obj


def _ensure_prerequisites(twin, kind, ns):
    if ns and ns not in ("default",):
        twin.kubectl("create", "namespace", ns, check=False)
    if kind == "VlanConfig":  # Harvester refuses a VlanConfig whose cluster network is missing
        twin.kubectl("apply", "-f", "-", input=yaml.safe_dump(
            {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "ClusterNetwork", "metadata": {"name": "storage"}}))


def _lifecycle_kubectl(twin, api_version, kind, resource, ns, body, patch, field):
    name = NAMES.get(kind, f"k-{kind.lower()}")
    _ensure_prerequisites(twin, kind, ns)
    doc = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **body}
    nsargs = ["-n", ns] if ns else []
    out = twin.kubectl("apply", "-f", "-", *nsargs, input=yaml.safe_dump(doc)).stdout
    assert ("configured" if kind in PREEXISTING else "created") in out
    got = json.loads(twin.kubectl("get", resource, name, *nsargs, "-o", "json").stdout)
    assert got["metadata"]["name"] == name
    listed = twin.kubectl("get", resource, *nsargs, "-o", "name").stdout.split()
    assert any(line.endswith("/" + name) for line in listed)
    # watch in the background while we patch: kubectl get -w prints the change. A list watch, and the
    # patch only once the list is printed: a list's watch resumes from the list's resourceVersion
    # (a named object's would drop its first event, which may be the patch; test_kubectl_session.py)
    watcher = subprocess.Popen([KUBECTL, "--kubeconfig", str(twin.kubeconfig), "get", resource, *nsargs,
                                "--field-selector", f"metadata.name={name}", "-w", "-o", "json",
                                "--request-timeout=0"], stdout=subprocess.PIPE, text=True)
    try:
        first = ""
        assert select.select([watcher.stdout], [], [], 30)[0], "kubectl printed nothing in 30 s"
        first = watcher.stdout.readline()
        twin.kubectl("patch", resource, name, *nsargs, "--type", "merge", "-p", json.dumps(patch))
        time.sleep(0.5)
    finally:
        watcher.terminate()
        out = first + watcher.stdout.read()  # the same buffered reader as readline's
        watcher.wait(10)
    frames = [json.loads(f) for f in _json_frames(out)]
    assert len(frames) >= 2, out
    assert _dig(frames[-1], field) == _dig(patch, field)
    if kind in PREEXISTING:
        refused = twin.kubectl("delete", resource, name, *nsargs, check=False)
        assert refused.returncode != 0 and "can be modified but not deleted" in refused.stderr
        return
    twin.kubectl("delete", resource, name, *nsargs, "--wait", "--timeout=20s")
    assert twin.kubectl("get", resource, name, *nsargs, check=False).returncode != 0


def _json_frames(text):
    """kubectl -w -o json prints one pretty JSON document per event."""
    decoder, pos, text = json.JSONDecoder(), 0, text.strip()
    while pos < len(text):
        obj, end = decoder.raw_decode(text, pos)
        yield json.dumps(obj)
        while end < len(text) and text[end].isspace():
            end += 1
        pos = end


def _lifecycle_dynamic(twin, api_version, kind, ns, body, patch, field):
    client = twin.dynamic()
    api = client.resources.get(api_version=api_version, kind=kind)
    name = NAMES.get(kind, f"d-{kind.lower()}")
    _ensure_prerequisites(twin, kind, ns)
    kw = {"namespace": ns} if ns else {}
    rv = api.get(**kw).metadata.resourceVersion
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **body}
    if kind in PREEXISTING:
        with pytest.raises(ConflictError):
            api.create(body=body, **kw)
        uid = api.get(name=name, **kw).metadata.uid
    else:
        uid = api.create(body=body, **kw).metadata.uid
    assert api.get(name=name, **kw).metadata.uid == uid
    assert name in [i.metadata.name for i in api.get(**kw).items]
    patched = api.patch(name=name, body=patch, content_type="application/merge-patch+json", **kw)
    assert _dig(patched.to_dict(), field) == _dig(patch, field)
    if kind in PREEXISTING:
        with pytest.raises(UnprocessibleEntityError):
            api.delete(name=name, **kw)
        expected_last = "MODIFIED"
    else:
        api.delete(name=name, **kw)  # controllers' finalizers make this two-step: wait for DELETED
        expected_last = "DELETED"
    seen = []
    for event in api.watch(resource_version=rv, timeout=10, **kw):
        if event["object"].metadata.name != name:
            continue
        seen.append((event["type"], _dig(event["raw_object"], field)))
        if event["type"] == expected_last and (expected_last == "DELETED" or seen[-1][1] == _dig(patch, field)):
            break
    types = [t for t, _ in seen]
    assert types[-1] == expected_last, seen
    assert (_dig(patch, field)) in [v for t, v in seen if t == "MODIFIED"], seen
    if kind not in PREEXISTING:
        assert types[0] == "ADDED", seen


@pytest.mark.parametrize("case", OBJECTS, ids=[o[1] for o in OBJECTS])
def test_kubectl_lifecycle_upstream_crds(upstream_twin, case):
    api_version, kind, resource, ns, body, patch, field = case
    _lifecycle_kubectl(upstream_twin, api_version, kind, resource, ns, body, patch, field)


@pytest.mark.parametrize("case", OBJECTS, ids=[o[1] for o in OBJECTS])
def test_dynamic_client_lifecycle_upstream_crds(upstream_twin, case):
    api_version, kind, _, ns, body, patch, field = case
    _lifecycle_dynamic(upstream_twin, api_version, kind, ns, body, patch, field)


@pytest.mark.parametrize("case", OBJECTS, ids=[o[1] for o in OBJECTS])
def test_kubectl_lifecycle_our_crds(twin, case):
    api_version, kind, resource, ns, body, patch, field = case
    _lifecycle_kubectl(twin, api_version, kind, resource, ns, body, patch, field)


def test_every_upstream_crd_is_served(upstream_twin):
    from .conftest import upstream_crd_dirs
    expected = set()
    for folder in upstream_crd_dirs():
        for path in folder.glob("*.yaml"):
            for doc in yaml.safe_load_all(path.read_text()):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    expected.add(f"{doc['spec']['names']['plural']}.{doc['spec']['group']}")
    served = set(upstream_twin.kubectl("api-resources", "-o", "name").stdout.split())
    assert expected <= served, sorted(expected - served)


def test_every_served_version_of_every_upstream_crd_lists(upstream_twin):
    """Each version an upstream CRD serves answers a list of its kind, in that version, and
    discovery names the kind under it; unserved versions are not routed."""
    from .conftest import upstream_crd_dirs
    s = upstream_twin.session()
    checked = 0
    for folder in upstream_crd_dirs():
        for path in sorted(folder.glob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                group, plural, kind = spec["group"], spec["names"]["plural"], spec["names"]["kind"]
                for version in spec["versions"]:
                    r = s.get(upstream_twin.url(f"/apis/{group}/{version['name']}/{plural}"))
                    if not version.get("served", True):
                        assert r.status_code == 404, (path.name, version["name"])
                        continue
                    assert r.status_code == 200, (path.name, version["name"], r.text)
                    listed = r.json()
                    assert listed["kind"] == spec["names"].get("listKind", kind + "List"), path.name
                    assert listed["apiVersion"] == f"{group}/{version['name']}", path.name
                    resources = s.get(upstream_twin.url(f"/apis/{group}/{version['name']}")).json()["resources"]
                    assert any(r["name"] == plural and r["kind"] == kind for r in resources), path.name
                    checked += 1
    assert checked >= 70


def test_upstream_schema_replaces_ours(upstream_twin):
    """A field upstream has but our trimmed CRD leaves out must survive with upstream's CRDs."""
    s = upstream_twin.session()
    body = {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "LinkMonitor", "metadata": {"name": "lm"},
            "spec": {"targetLinkRule": {"typeRule": "bond", "nameRule": ".*-bo"}}}
    r = s.post(upstream_twin.url("/apis/network.harvesterhci.io/v1beta1/linkmonitors"), json=body)
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["targetLinkRule"] == {"typeRule": "bond", "nameRule": ".*-bo"}


def test_kubectl_apply_is_idempotent_and_reports_unchanged(twin):
    doc = yaml.safe_dump({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                          "metadata": {"name": "idem", "namespace": "default"}, "spec": {"config": NAD_CONFIG}})
    assert "created" in twin.kubectl("apply", "-f", "-", input=doc).stdout
    assert "unchanged" in twin.kubectl("apply", "-f", "-", input=doc).stdout
    assert "configured" in twin.kubectl("apply", "-f", "-", input=doc.replace("platform", "platform2")).stdout


def test_kubectl_server_side_dry_run_stores_nothing(twin):
    twin.kubectl("create", "namespace", "dry", "--dry-run=server")
    assert twin.kubectl("get", "namespace", "dry", check=False).returncode != 0


def test_kubectl_get_prints_printer_columns(twin):
    _ensure_prerequisites(twin, "VlanConfig", None)
    doc = yaml.safe_dump({"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "VlanConfig",
                          "metadata": {"name": "cols"},
                          "spec": {"clusterNetwork": "storage", "description": "bond of two",
                                   "uplink": {"nics": ["a", "b"]}}})
    twin.kubectl("apply", "-f", "-", input=doc)
    out = twin.kubectl("get", "vlanconfigs", "cols").stdout
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["NAME", "CLUSTERNETWORK", "DESCRIPTION"]
    assert row.split()[:2] == ["cols", "storage"]


def test_kubectl_delete_wait_waits_for_finalizers(twin):
    doc = yaml.safe_dump({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                          "metadata": {"name": "held", "namespace": "default", "finalizers": ["test.io/hold"]},
                          "spec": {"config": NAD_CONFIG}})
    twin.kubectl("apply", "-f", "-", input=doc)
    proc = subprocess.Popen([KUBECTL, "--kubeconfig", str(twin.kubeconfig), "delete",
                             "network-attachment-definitions.k8s.cni.cncf.io", "held", "-n", "default", "--wait",
                             "--timeout=20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert proc.poll() is None  # still waiting on the finalizer
    twin.kubectl("patch", "network-attachment-definitions.k8s.cni.cncf.io", "held", "-n", "default", "--type",
                 "json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "deleted" in out
