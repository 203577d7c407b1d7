"""StorageClass admission: kube-apiserver's own update rules (parameters, provisioner and
reclaimPolicy forbidden, volumeBindingMode immutable; 422 with causes) and Harvester's
validator (one default at a time, no strict-local, encryption secrets, reserved classes and
classes images use cannot be deleted; 422 with the webhook's message), through kubectl, the
kubernetes dynamic client and plain HTTPS."""
from __future__ import annotations

import base64
import json

import pytest
from kubernetes.dynamic.exceptions import UnprocessibleEntityError

from .conftest import status_of

SCS = "/apis/storage.k8s.io/v1/storageclasses"
IMAGES = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages"
SECRETS = "/api/v1/namespaces/default/secrets"
MERGE = {"Content-Type": "application/merge-patch+json"}
DEFAULT = "storageclass.kubernetes.io/is-default-class"
RESERVED = "harvesterhci.io/is-reserved-storageclass"
DENIED = 'admission webhook "validator.harvesterhci.io" denied the request: '
PARAMS = {"numberOfReplicas": "2", "staleReplicaTimeout": "30", "migratable": "true"}


def sc(name, annotations=None, **fields):
    body = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": "driver.longhorn.io", "parameters": dict(PARAMS), **fields}
    if annotations:
        body["metadata"]["annotations"] = annotations
    return body


def create(twin, body, expect=201, query=None):
    r = twin.session().post(twin.url(SCS), json=body, params=query)
    assert r.status_code == expect, r.text
    return r.json()


def patch(twin, name, body, expect=200):
    r = twin.session().patch(twin.url(f"{SCS}/{name}"), data=json.dumps(body), headers=MERGE)
    assert r.status_code == expect, r.text
    return r.json()


def get(twin, name):
    r = twin.session().get(twin.url(f"{SCS}/{name}"))
    return r.json() if r.status_code == 200 else None


def refused_by_harvester(response, message, field=""):
    """werror.NewInvalidError as the apiserver relays it: 422 Invalid, one cause."""
    body = status_of(response)
    assert (body["code"], body["reason"]) == (422, "Invalid"), body
    assert body["message"] == DENIED + message, body
    cause = {"reason": "FieldValueInvalid", "message": message}
    if field:
        cause["field"] = field
    assert body["details"]["causes"] == [cause], body


def annotated(*pairs):
    return {"metadata": {"annotations": dict(pairs)}}


# ------------------------------------------------------------------------------- the seeded class
def test_seeded_default_class_is_the_charts(twin):
    seeded = json.loads(twin.kubectl("get", "storageclass", "harvester-longhorn", "-o", "json").stdout)
    annotations = seeded["metadata"]["annotations"]
    assert annotations[DEFAULT] == "true" and annotations[RESERVED] == "true"
    assert annotations["meta.helm.sh/release-name"] == "harvester"
    assert annotations["meta.helm.sh/release-namespace"] == "harvester-system"
    assert seeded["parameters"] == {"numberOfReplicas": "3", "staleReplicaTimeout": "30", "fromBackup": "",
                                    "baseImage": "", "migratable": "true"}
    assert (seeded["provisioner"], seeded["reclaimPolicy"], seeded["volumeBindingMode"]) == \
        ("driver.longhorn.io", "Delete", "Immediate")


# ------------------------------------------------------------------------------- kube-apiserver
def test_kubectl_sees_forbidden_parameter_update(twin):
    proc = twin.kubectl("patch", "storageclass", "harvester-longhorn", "--type", "merge",
                        "-p", '{"parameters":{"numberOfReplicas":"2"}}', check=False)
    assert proc.returncode != 0
    assert 'StorageClass "harvester-longhorn" is invalid' in proc.stderr
    assert "parameters: Forbidden: updates to parameters are forbidden." in proc.stderr
    assert get(twin, "harvester-longhorn")["parameters"]["numberOfReplicas"] == "3"


def test_every_forbidden_update_in_one_status(twin):
    create(twin, sc("fast"))
    r = twin.session().patch(twin.url(f"{SCS}/fast"), headers=MERGE, data=json.dumps({
        "provisioner": "rbd.csi.ceph.com", "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer",
        "parameters": {"numberOfReplicas": "3"}}))
    body = status_of(r)
    assert (r.status_code, body["reason"]) == (422, "Invalid")
    assert body["message"] == (
        'StorageClass.storage.k8s.io "fast" is invalid: [parameters: Forbidden: updates to parameters are forbidden., '
        "provisioner: Forbidden: updates to provisioner are forbidden., "
        "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden., "
        'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable]')
    assert [(c["reason"], c["field"]) for c in body["details"]["causes"]] == [
        ("FieldValueForbidden", "parameters"), ("FieldValueForbidden", "provisioner"),
        ("FieldValueForbidden", "reclaimPolicy"), ("FieldValueInvalid", "volumeBindingMode")]
    assert (body["details"]["kind"], body["details"]["group"], body["details"]["name"]) == \
        ("StorageClass", "storage.k8s.io", "fast")


def test_dynamic_client_replace_of_binding_mode_is_422(twin):
    api = twin.dynamic().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass")
    live = api.create(body=sc("fast")).to_dict()
    live["volumeBindingMode"] = "WaitForFirstConsumer"
    with pytest.raises(UnprocessibleEntityError) as err:
        api.replace(body=live)
    body = json.loads(err.value.body)
    assert body["message"] == ('StorageClass.storage.k8s.io "fast" is invalid: volumeBindingMode: '
                               'Invalid value: "WaitForFirstConsumer": field is immutable')
    # a replace that leaves reclaimPolicy out gets the default back, and Delete is what is stored
    live = api.get(name="fast").to_dict()
    del live["reclaimPolicy"]
    assert api.replace(body=live).reclaimPolicy == "Delete"


def test_allowed_updates_pass(twin):
    api = twin.dynamic().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass")
    api.create(body=sc("fast", allowVolumeExpansion=True))
    changed = api.patch(name="fast", content_type="application/merge-patch+json", body={
        "metadata": {"annotations": {"field.cattle.io/description": "two replicas"}, "labels": {"tier": "fast"}},
        "allowVolumeExpansion": False, "mountOptions": ["discard"]})
    assert changed.metadata.annotations["field.cattle.io/description"] == "two replicas"
    assert changed.allowVolumeExpansion is False and changed.mountOptions == ["discard"]
    # the same parameters sent again are no update of them
    same = patch(twin, "fast", {"parameters": dict(PARAMS)})
    assert same["parameters"] == PARAMS


def test_create_validation_of_provisioner_and_parameter_keys(twin):
    r = twin.session().post(twin.url(SCS), json=sc("bad", provisioner="not a/valid/name"))
    body = status_of(r)
    assert r.status_code == 422 and body["message"].startswith(
        'StorageClass.storage.k8s.io "bad" is invalid: provisioner: Invalid value: "not a/valid/name": a qualified name')
    r = twin.session().post(twin.url(SCS), json=sc("bad", provisioner=""))
    assert status_of(r)["message"] == 'StorageClass.storage.k8s.io "bad" is invalid: provisioner: Required value'
    r = twin.session().post(twin.url(SCS), json=sc("bad", parameters={"": "x"}))
    assert status_of(r)["message"] == \
        'StorageClass.storage.k8s.io "bad" is invalid: parameters: Invalid value: "": field can not be empty.'
    # mixed case is checked lower-cased, as the apiserver does
    assert create(twin, sc("mixed", provisioner="Driver.Longhorn.IO"))["provisioner"] == "Driver.Longhorn.IO"


# ------------------------------------------------------------------------------- Harvester: default
def test_second_default_refused_on_create_update_and_dry_run(twin):
    r = twin.session().post(twin.url(SCS), json=sc("fast", annotations={DEFAULT: "true"}))
    refused_by_harvester(r, "default storage class harvester-longhorn already exists, please reset it first before "
                            "set fast as default")
    r = twin.session().post(twin.url(SCS), json=sc("fast", annotations={DEFAULT: "true"}), params={"dryRun": "All"})
    assert r.status_code == 422
    create(twin, sc("fast"))
    proc = twin.kubectl("annotate", "storageclass", "fast", f"{DEFAULT}=true", check=False)
    assert proc.returncode != 0
    assert "default storage class harvester-longhorn already exists, please reset it first before set fast as default" \
        in proc.stderr
    # any value but "false" asks to be the default
    r = twin.session().patch(twin.url(f"{SCS}/fast"), headers=MERGE, data=json.dumps(annotated((DEFAULT, "yes"))))
    assert r.status_code == 422
    assert patch(twin, "fast", annotated((DEFAULT, "false")))["metadata"]["annotations"][DEFAULT] == "false"


def test_switching_the_default_by_unsetting_the_old_one_first(twin):
    create(twin, sc("fast"))
    twin.kubectl("annotate", "--overwrite", "storageclass", "harvester-longhorn", f"{DEFAULT}=false")
    twin.kubectl("annotate", "storageclass", "fast", f"{DEFAULT}=true")
    defaults = twin.kubectl("get", "storageclass", "-o", "jsonpath={range .items[*]}{.metadata.name}="
                            "{.metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class} {end}").stdout
    assert sorted(defaults.split()) == ["fast=true", "harvester-longhorn=false"]
    # the old default cannot come back while fast holds it
    r = twin.session().patch(twin.url(f"{SCS}/harvester-longhorn"), headers=MERGE,
                             data=json.dumps(annotated((DEFAULT, "true"))))
    refused_by_harvester(r, "default storage class fast already exists, please reset it first before set "
                            "harvester-longhorn as default")


# ------------------------------------------------------------------------------- Harvester: create
@pytest.mark.parametrize("locality, message", [
    ("strict-local", "storage class with strict-local data locality is not allowed"),
    ("nearby", 'storage class with invalid data locality nearby, valid values: "disabled", "best-effort"'),
])
def test_data_locality_refused(twin, locality, message):
    r = twin.session().post(twin.url(SCS), json=sc("local", parameters=dict(PARAMS, dataLocality=locality)))
    refused_by_harvester(r, message)
    assert get(twin, "local") is None


def test_data_locality_allowed_values(twin):
    for locality in ("disabled", "best-effort"):
        create(twin, sc(f"lh-{locality}", parameters=dict(PARAMS, dataLocality=locality)))


def crypto_secret(name, **overrides):
    data = {"CRYPTO_KEY_CIPHER": "aes-xts-plain64", "CRYPTO_KEY_HASH": "sha256", "CRYPTO_KEY_SIZE": "256",
            "CRYPTO_PBKDF": "argon2i", "CRYPTO_KEY_PROVIDER": "secret", "CRYPTO_KEY_VALUE": "s3cr3t"}
    data.update(overrides)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items() if v is not None}}


def encrypted_params(secret="luks", namespace="default", **extra):
    params = dict(PARAMS, encrypted="true")
    for kind in ("provisioner", "node-stage", "node-publish"):
        params[f"csi.storage.k8s.io/{kind}-secret-name"] = secret
        params[f"csi.storage.k8s.io/{kind}-secret-namespace"] = namespace
    params.update(extra)
    return params


def test_encryption_checks(twin):
    s = twin.session()
    refused_by_harvester(s.post(twin.url(SCS), json=sc("enc", parameters=dict(PARAMS, encrypted="yes"))),
                         "invalid value for `encrypted`", "spec.parameters")
    refused_by_harvester(s.post(twin.url(SCS), json=sc("enc", parameters=dict(PARAMS, encrypted="true"))),
                         "storage class must contain csi.storage.k8s.io/provisioner-secret-name, "
                         "csi.storage.k8s.io/provisioner-secret-namespace, csi.storage.k8s.io/node-stage-secret-name, "
                         "csi.storage.k8s.io/node-stage-secret-namespace, csi.storage.k8s.io/node-publish-secret-name, "
                         "csi.storage.k8s.io/node-publish-secret-namespace", "spec.parameters")
    mixed = encrypted_params(**{"csi.storage.k8s.io/node-stage-secret-name": "other"})
    refused_by_harvester(s.post(twin.url(SCS), json=sc("enc", parameters=mixed)),
                         "secret names and namespaces in csi.storage.k8s.io/node-stage-secret-name and "
                         "csi.storage.k8s.io/node-stage-secret-namespace are different from others")
    refused_by_harvester(s.post(twin.url(SCS), json=sc("enc", parameters=encrypted_params())),
                         "secret default/luks not found")
    assert s.post(twin.url(SECRETS), json=crypto_secret("luks", CRYPTO_KEY_HASH="md5")).status_code == 201
    refused_by_harvester(s.post(twin.url(SCS), json=sc("enc", parameters=encrypted_params())),
                         "secret default/luks is not a valid encryption secret, invalid field: CRYPTO_KEY_HASH")
    assert s.post(twin.url(SECRETS), json=crypto_secret("nokey", CRYPTO_KEY_VALUE=None)).status_code == 201
    refused_by_harvester(s.post(twin.url(SCS), json=sc("enc", parameters=encrypted_params("nokey"))),
                         "secret default/nokey is not a valid encryption secret, missing field: CRYPTO_KEY_VALUE")
    assert s.post(twin.url(SECRETS), json=crypto_secret("good")).status_code == 201
    create(twin, sc("enc", parameters=encrypted_params("good")))
    create(twin, sc("plain", parameters=dict(PARAMS, encrypted="false")))


# ------------------------------------------------------------------------------- Harvester: delete
def test_reserved_class_cannot_be_deleted(twin):
    proc = twin.kubectl("delete", "storageclass", "harvester-longhorn", check=False)
    assert proc.returncode != 0
    assert "storage class harvester-longhorn is reserved by Harvester and can't be deleted" in proc.stderr
    r = twin.session().delete(twin.url(f"{SCS}/harvester-longhorn"), params={"dryRun": "All"})
    refused_by_harvester(r, "storage class harvester-longhorn is reserved by Harvester and can't be deleted")
    # any class can be reserved by the annotation
    create(twin, sc("kept", annotations={RESERVED: "true"}))
    refused_by_harvester(twin.session().delete(twin.url(f"{SCS}/kept")),
                         "storage class kept is reserved by Harvester and can't be deleted")
    assert get(twin, "harvester-longhorn") is not None and get(twin, "kept") is not None


def test_legacy_harvester_longhorn_is_reserved_by_its_helm_release(twin):
    # without the annotation, the chart's Helm release still reserves it ...
    patch(twin, "harvester-longhorn", annotated((RESERVED, None)))
    refused_by_harvester(twin.session().delete(twin.url(f"{SCS}/harvester-longhorn")),
                         "storage class harvester-longhorn is reserved by Harvester and can't be deleted")
    # ... and the annotation "false" lifts it
    patch(twin, "harvester-longhorn", annotated((RESERVED, "false")))
    twin.kubectl("delete", "storageclass", "harvester-longhorn")
    assert get(twin, "harvester-longhorn") is None


def test_class_images_use_cannot_be_deleted(twin):
    create(twin, sc("fast"))
    for name in ("talos", "debian"):
        body = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage", "metadata": {"name": name},
                "spec": {"displayName": name, "sourceType": "upload", "targetStorageClassName": "fast"}}
        r = twin.session().post(twin.url(IMAGES), json=body)
        assert r.status_code == 201, r.text
        assert r.json()["metadata"]["annotations"]["harvesterhci.io/storageClassName"] == "fast"
    r = twin.session().delete(twin.url(f"{SCS}/fast"))
    refused_by_harvester(r, "storage class fast is used by virtual machine images: [debian talos]")
    for name in ("talos", "debian"):
        twin.kubectl("delete", "virtualmachineimage", name, "--wait=true")
    twin.kubectl("delete", "storageclass", "fast")
    assert get(twin, "fast") is None
