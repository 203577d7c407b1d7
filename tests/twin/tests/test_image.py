"""The VirtualMachineImage area: Harvester's image webhooks (refusals with their codes and
messages, the mutator's defaults) and the vm-image-controller's lifecycle, with a real download
from an HTTP server this module starts on 127.0.0.1."""
from __future__ import annotations

import hashlib
import json
import random
import socket
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from .conftest import KUBECTL, status_of

IMAGES = "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages"
SCS = "/apis/storage.k8s.io/v1/storageclasses"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
MERGE = {"Content-Type": "application/merge-patch+json"}

DISK = random.Random(7).randbytes(320 * 1024)
DISK_SHA512 = hashlib.sha512(DISK).hexdigest()
QCOW2_VIRTUAL = 2 * 1024**3
# a qcow2 v3 header (magic, version, backing file offset/size, cluster bits, size) and some padding
QCOW2 = b"QFI\xfb" + struct.pack(">IQIIQ", 3, 0, 0, 16, QCOW2_VIRTUAL) + bytes(4096 - 32)
DEFAULT_PARAMS = {"numberOfReplicas": "3", "staleReplicaTimeout": "30", "migratable": "true"}


# ------------------------------------------------------------------------------------ the server
class _Files(BaseHTTPRequestHandler):
    """/disk.img (served slowly: about 1 s), /fast.img, /tiny.qcow2; anything else 404."""

    def _body(self) -> tuple[bytes, float] | None:
        return {"/disk.img": (DISK, 0.05), "/fast.img": (DISK, 0.0), "/tiny.qcow2": (QCOW2, 0.0)}.get(self.path)

    def _headers(self) -> bytes | None:
        found = self._body()
        if found is None:
            self.send_error(404)
            return None
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(found[0])))
        self.end_headers()
        return found

    def do_HEAD(self):  # noqa: N802 - http.server's naming
        self._headers()

    def do_GET(self):  # noqa: N802
        found = self._headers()
        if found is None:
            return
        body, pause = found
        step = 16 * 1024
        try:
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def files():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def https_files():
    """The same files over HTTPS, with a certificate from a CA the twin does not trust."""
    from tests.twin.tls import make_serving_cert
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.daemon_threads = True
    server.socket = make_serving_cert().ssl_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------ helpers
def image(name, display=None, url=None, source="download", annotations=None, **spec):
    body = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
            "metadata": {"name": name},
            "spec": {"displayName": name if display is None else display, "sourceType": source, **spec}}
    if url is not None:
        body["spec"]["url"] = url
    if annotations:
        body["metadata"]["annotations"] = annotations
    return body


def create(twin, body, expect=201):
    r = twin.session().post(twin.url(IMAGES), json=body)
    assert r.status_code == expect, r.text
    return r.json()


def cond(obj, type_):
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


def imported(obj):
    return cond(obj, "Imported").get("status") == "True"


def limit_exceeded(obj):
    return cond(obj, "RetryLimitExceeded").get("status") == "True"


def watch_until(twin, name, rv, done, timeout=30):
    """The objects of every event on image `name` after `rv`, until done(obj) (or a DELETED).

    Watches in short windows (timeoutSeconds=2), resuming from the last resourceVersion the way
    informers do, so no watch outlives the test by more than a moment on the twin's side."""
    objs = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        params = {"watch": "true", "resourceVersion": rv, "fieldSelector": f"metadata.name={name}",
                  "timeoutSeconds": "2"}
        with twin.session().get(twin.url(IMAGES), params=params, stream=True, timeout=(5, 10)) as r:
            assert r.status_code == 200, r.text
            for line in r.iter_lines():
                if not line:
                    continue
                event = json.loads(line)
                objs.append((event["type"], event["object"]))
                rv = event["object"]["metadata"]["resourceVersion"]
                if event["type"] == "DELETED" or done(event["object"]):
                    return objs
    raise AssertionError(f"watch ended before the condition: {[o.get('status') for _, o in objs][-3:]}")


def refused(response, code, message, reason=None):
    status = status_of(response)
    assert response.status_code == code, response.text
    assert status["message"] == message, status["message"]
    if reason:
        assert status["reason"] == reason
    return status


def denied(message):
    return f'admission webhook "validator.harvesterhci.io" denied the request: {message}'


def get(twin, path):
    return twin.session().get(twin.url(path))


def wait_gone(twin, path, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get(twin, path).status_code == 404:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} still there")


def storage_class(twin, name, params, provisioner="driver.longhorn.io"):
    r = twin.session().post(twin.url(SCS), json={
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
        "provisioner": provisioner, "parameters": params})
    assert r.status_code == 201, r.text


def pvc(twin, name, storage_class_name="harvester-longhorn", annotations=None):
    r = twin.session().post(twin.url(PVCS), json={
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"accessModes": ["ReadWriteMany"], "volumeMode": "Block", "storageClassName": storage_class_name,
                 "resources": {"requests": {"storage": "10Gi"}}}})
    assert r.status_code == 201, r.text


# ------------------------------------------------------------------------------------ mutator
def test_mutator_fills_backend_label_storage_class_and_parameters(twin, files):
    got = create(twin, image("ubuntu", url=files + "/fast.img"))
    assert got["spec"]["backend"] == "backingimage"
    assert got["metadata"]["labels"]["harvesterhci.io/imageDisplayName"] == "ubuntu"
    assert got["metadata"]["annotations"]["harvesterhci.io/storageClassName"] == "harvester-longhorn"
    assert got["spec"]["targetStorageClassName"] == "harvester-longhorn"
    assert got["spec"]["storageClassParameters"] == DEFAULT_PARAMS
    assert got["spec"]["retry"] == 3


def test_mutator_takes_allowed_parameters_from_the_target_storage_class(twin, files):
    storage_class(twin, "replica-2", {"numberOfReplicas": "2", "dataLocality": "best-effort", "migratable": "false",
                                      "diskSelector": "ssd", "fsType": "ext4"})
    got = create(twin, image("debian", url=files + "/fast.img", targetStorageClassName="replica-2",
                             storageClassParameters={"numberOfReplicas": "1"}))
    assert got["metadata"]["annotations"]["harvesterhci.io/storageClassName"] == "replica-2"
    assert got["spec"]["targetStorageClassName"] == "replica-2"
    # the template StorageClass wins over parameters sent; only the allowed keys are copied
    assert got["spec"]["storageClassParameters"] == {"numberOfReplicas": "2", "staleReplicaTimeout": "30",
                                                     "migratable": "true", "dataLocality": "best-effort",
                                                     "diskSelector": "ssd"}
    got = create(twin, image("alpine", url=files + "/fast.img",
                             annotations={"harvesterhci.io/storageClassName": "replica-2"}))
    assert got["spec"]["targetStorageClassName"] == "replica-2"


def test_mutator_refuses_a_missing_or_backing_image_template(twin, files):
    r = twin.session().post(twin.url(IMAGES), json=image(
        "x", url=files + "/fast.img", annotations={"harvesterhci.io/storageClassName": "nope"}))
    refused(r, 500, 'admission webhook "mutator.harvesterhci.io" denied the request: '
                    'storageclass.storage.k8s.io "nope" not found', "InternalError")
    storage_class(twin, "lh-image", {"backingImage": "vmi-1234"})
    r = twin.session().post(twin.url(IMAGES), json=image("x", url=files + "/fast.img",
                                                         targetStorageClassName="lh-image"))
    refused(r, 500, 'admission webhook "mutator.harvesterhci.io" denied the request: '
                    "can not use a backing image storageClass as the base storageClass template")


# ------------------------------------------------------------------------------------ refusals on create
def test_display_name_required_unique_and_a_label_value(twin, files):
    s = twin.session()
    r = s.post(twin.url(IMAGES), json=image("a", display="", url=files + "/fast.img"))
    status = refused(r, 422, denied("displayName is required"), "Invalid")
    assert status["details"]["causes"] == [{"reason": "FieldValueInvalid", "message": "displayName is required",
                                            "field": "spec.displayName"}]
    create(twin, image("first", display="Ubuntu-24.04", url=files + "/fast.img"))
    r = s.post(twin.url(IMAGES), json=image("second", display="Ubuntu-24.04", url=files + "/fast.img"))
    refused(r, 409, denied("A resource with the same name exists"), "Conflict")
    # the same display name in another namespace is fine
    r = s.post(twin.url("/apis/harvesterhci.io/v1beta1/namespaces/harvester-public/virtualmachineimages"),
               json=image("second", display="Ubuntu-24.04", url=files + "/fast.img"))
    assert r.status_code == 201, r.text
    # the mutator copies the display name into the label: the apiserver refuses invalid values (#11464)
    r = s.post(twin.url(IMAGES), json=image("spaced", display="Ubuntu 24.04 LTS", url=files + "/fast.img"))
    status = refused(r, 422, 'VirtualMachineImage.harvesterhci.io "spaced" is invalid: metadata.labels: '
                             'Invalid value: "Ubuntu 24.04 LTS": a valid label must be an empty string or consist of '
                             "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                             "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                             "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
    r = s.post(twin.url(IMAGES), json=image("long", display="x" * 64, url=files + "/fast.img"))
    refused(r, 422, f'VirtualMachineImage.harvesterhci.io "long" is invalid: metadata.labels: Invalid value: '
                    f'"{"x" * 64}": must be no more than 63 characters')


@pytest.mark.parametrize(("spec", "message", "field"), [
    ({"sourceType": "download"}, "url is required", "spec.url"),
    ({"sourceType": "restore"}, "url is required", "spec.url"),
    ({"sourceType": "upload", "url": "http://x/y.img"}, 'url should be empty when image source type is "upload"',
     "spec.url"),
    ({"sourceType": "export-from-volume", "url": "http://x/y.img", "pvcNamespace": "default", "pvcName": "d"},
     'url should be empty when image source type is "export-from-volume"', "spec.url"),
    ({"sourceType": "clone", "url": "http://x/y.img"}, 'url should be empty when image source type is "clone"',
     "spec.url"),
    ({"sourceType": "export-from-volume"},
     'pvcNamespace is required when image source type is "export-from-volume"', "spec.pvcNamespace"),
    ({"sourceType": "export-from-volume", "pvcNamespace": "default"},
     'pvcName is required when image source type is "export-from-volume"', "spec.pvcName"),
    ({"sourceType": "export-from-volume", "pvcNamespace": "default", "pvcName": "gone"},
     'failed to get pvc default/gone, error: persistentvolumeclaim "gone" not found', None),
    ({"sourceType": "clone"}, 'sourceParameters is required when image source type is "clone"',
     "spec.sourceParameters"),
    ({"sourceType": "clone", "securityParameters": {"cryptoOperation": "encrypt", "sourceImageName": "none",
                                                    "sourceImageNamespace": "default"}},
     "source image default/none not found", "spec.securityParameters.sourceImageName"),
    ({"sourceType": "upload", "targetStorageClassName": "harvester-longhorn", "annotations": "other"},
     "storageClassName should keep the consistency", "spec.targetStorageClassName"),
], ids=["download-url", "restore-url", "upload-url", "export-url", "clone-url", "pvc-namespace", "pvc-name", "pvc-missing", "clone-params",
        "clone-source", "sc-consistency"])
def test_create_refusals(twin, spec, message, field):
    spec = dict(spec)
    annotations = None
    if spec.pop("annotations", None):
        storage_class(twin, "other", {"numberOfReplicas": "1"})
        annotations = {"harvesterhci.io/storageClassName": "other"}
    r = twin.session().post(twin.url(IMAGES), json=image("img", annotations=annotations, **spec))
    status = refused(r, 422, denied(message), "Invalid")
    cause = {"reason": "FieldValueInvalid", "message": message}
    if field:
        cause["field"] = field
    assert status["details"]["causes"] == [cause]


# ------------------------------------------------------------------------------------ refusals on update
def test_immutable_fields(twin, files):
    s = twin.session()
    storage_class(twin, "other", {"numberOfReplicas": "1"})
    create(twin, image("img", url=files + "/fast.img"))
    url = twin.url(IMAGES + "/img")
    cases = [
        ({"spec": {"displayName": "renamed"}}, "displayName cannot be modified", "spec.displayName"),
        ({"spec": {"url": files + "/disk.img"}}, "url cannot be modified", "spec.url"),
        ({"spec": {"sourceType": "upload"}}, "sourceType cannot be modified", "spec.sourceType"),
        ({"spec": {"storageClassParameters": {"numberOfReplicas": "1"}}},
         "storageClassParameters of the VM Image cannot be modified", "spec.storageClassParameters"),
        ({"spec": {"targetStorageClassName": "other"}}, "storageClassName cannot be modified",
         "spec.targetStorageClassName"),
        ({"metadata": {"annotations": {"harvesterhci.io/storageClassName": "other"}}},
         "storageClassName cannot be modified", "metadata.annotations[harvesterhci.io/storageClassName]"),
        ({"spec": {"securityParameters": {"cryptoOperation": "encrypt", "sourceImageName": "a",
                                          "sourceImageNamespace": "default"}}},
         "securityParameters cannot be modified", "spec.securityParameters"),
    ]
    for patch, message, field in cases:
        r = s.patch(url, data=json.dumps(patch), headers=MERGE)
        status = refused(r, 422, denied(message), "Invalid")
        assert status["details"]["causes"][0]["field"] == field
    r = s.patch(url, data=json.dumps({"spec": {"description": "Ubuntu 24.04 cloud image"}}), headers=MERGE)
    assert r.status_code == 200, r.text
    # the label follows the display name on every write
    r = s.patch(url, data=json.dumps({"metadata": {"labels": {"harvesterhci.io/imageDisplayName": "x"}}}),
                headers=MERGE)
    assert r.json()["metadata"]["labels"]["harvesterhci.io/imageDisplayName"] == "img"


def test_pvc_of_an_exported_image_is_immutable(twin):
    pvc(twin, "vm-disk-0")
    pvc(twin, "vm-disk-1")
    create(twin, image("exported", source="export-from-volume", pvcName="vm-disk-0", pvcNamespace="default"))
    r = twin.session().patch(twin.url(IMAGES + "/exported"), data='{"spec":{"pvcName":"vm-disk-1"}}', headers=MERGE)
    refused(r, 422, denied("pvcName cannot be modified"), "Invalid")


# ------------------------------------------------------------------------------------ the lifecycle
def test_download_is_watched_from_initialized_through_progress_to_imported(twin, files):
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    created = create(twin, image("noble", url=files + "/disk.img", checksum=DISK_SHA512))
    uid = created["metadata"]["uid"]
    events = watch_until(twin, "noble", rv, imported)
    objs = [o for _, o in events]
    assert [t for t, _ in events][0] == "ADDED"
    assert "wrangler.cattle.io/vm-image-controller" in objs[1]["metadata"]["finalizers"]
    initialized = next(o for o in objs if cond(o, "Initialized").get("status") == "True")
    assert cond(initialized, "Initialized")["reason"] == "Initialized"
    assert cond(initialized, "Imported")["status"] == "Unknown"
    assert cond(initialized, "Imported")["reason"] == "Importing"
    assert initialized["status"]["progress"] == 0
    assert initialized["status"]["storageClassName"] == f"lh-{uid}"
    assert initialized["status"]["appliedUrl"] == files + "/disk.img"
    assert initialized["status"]["size"] == len(DISK)  # the HEAD's Content-Length
    progress = [o["status"].get("progress", 0) for o in objs if o.get("status")]
    assert progress == sorted(progress)
    middle = [p for p in progress if 0 < p < 100]
    assert middle and max(middle) <= 99
    done = objs[-1]
    assert done["status"]["progress"] == 100
    assert done["status"]["size"] == len(DISK) and done["status"]["virtualSize"] == len(DISK)
    assert cond(done, "Imported")["reason"] == "Imported"
    assert cond(done, "RetryLimitExceeded")["status"] == "False"
    assert "failed" not in done["status"] or done["status"]["failed"] == 0
    assert len(objs) <= 14, f"{len(objs)} writes for one import"
    # the image's StorageClass, as Harvester creates it
    sc = get(twin, f"{SCS}/lh-{uid}").json()
    assert sc["provisioner"] == "driver.longhorn.io"
    assert sc["parameters"] == {"backingImage": f"vmi-{uid}", **DEFAULT_PARAMS}
    assert sc["reclaimPolicy"] == "Delete" and sc["volumeBindingMode"] == "Immediate"
    assert sc["allowVolumeExpansion"] is True
    # deleting the image removes the StorageClass, then the finalizer goes
    r = twin.session().delete(twin.url(IMAGES + "/noble"))
    assert r.status_code == 200 and r.json()["metadata"]["deletionTimestamp"]  # waits on the finalizer
    wait_gone(twin, IMAGES + "/noble")
    assert get(twin, f"{SCS}/lh-{uid}").status_code == 404


def test_qcow2_virtual_size_comes_from_the_header(twin, files):
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    create(twin, image("talos", url=files + "/tiny.qcow2"))
    done = watch_until(twin, "talos", rv, imported)[-1][1]
    assert done["status"]["size"] == len(QCOW2)
    assert done["status"]["virtualSize"] == QCOW2_VIRTUAL


def test_wrong_checksum_fails_retries_then_exceeds_the_limit(twin, files):
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    created = create(twin, image("bad", url=files + "/fast.img", checksum="0" * 128, retry=1))
    objs = [o for _, o in watch_until(twin, "bad", rv, limit_exceeded)]
    reason = (f"failed to process sync file: the expected checksum {'0' * 128} doesn't match the file actual "
              f"checksum {DISK_SHA512}")
    first = next(o for o in objs if o.get("status", {}).get("failed") == 1)
    assert cond(first, "RetryLimitExceeded")["status"] == "False"
    assert cond(first, "RetryLimitExceeded")["message"] == f"failed due to error: {reason}"
    assert first["status"]["lastFailedTime"]
    # initialized again after the backoff, then the second failure exceeds spec.retry
    after = objs[objs.index(first) + 1:]
    assert any(cond(o, "Imported").get("status") == "Unknown" and o["status"].get("failed") == 1 for o in after)
    last = objs[-1]
    assert last["status"]["failed"] == 2
    message = f"retry attempted 1/1 failed due to error: {reason}"
    assert cond(last, "RetryLimitExceeded")["message"] == message
    assert cond(last, "Imported")["status"] == "False" and cond(last, "Imported")["message"] == message
    assert last["status"]["progress"] == 100  # Longhorn's figure: wait on Imported, never on progress
    # nothing more happens, and the StorageClass of the last attempt stays until the image goes
    time.sleep(1.5)
    assert get(twin, IMAGES + "/bad").json()["metadata"]["resourceVersion"] == last["metadata"]["resourceVersion"]
    uid = created["metadata"]["uid"]
    assert get(twin, f"{SCS}/lh-{uid}").status_code == 200
    twin.session().delete(twin.url(IMAGES + "/bad"))
    wait_gone(twin, IMAGES + "/bad")
    assert get(twin, f"{SCS}/lh-{uid}").status_code == 404


@pytest.mark.parametrize("case", ["refused", "scheme", "404", "environment"])
def test_unreachable_source_fails_initialization(twin, files, case):
    port = _closed_port()
    url = {"refused": f"http://127.0.0.1:{port}/disk.img", "scheme": "file:///etc/hostname",
           "404": files + "/missing.img", "environment": "http://10.10.10.20/images/talos.raw"}[case]
    error = {"refused": f'Head "{url}": dial tcp 127.0.0.1:{port}: connect: connection refused',
             "scheme": f'Head "{url}": unsupported protocol scheme "file"',
             "404": f"got 404 status code from {url}",
             "environment": f'Head "{url}": dial tcp 10.10.10.20:80: i/o timeout '
                            "(Client.Timeout exceeded while awaiting headers)"}[case]
    if case == "environment":
        r = twin.session().patch(twin.url("/_twin/environment"), json={"unreachable": ["http://10.10.10.20/"]})
        assert r.status_code == 200
    retry = 1 if case == "refused" else 0
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    create(twin, image("nowhere", url=url, retry=retry))
    objs = [o for _, o in watch_until(twin, "nowhere", rv, limit_exceeded)]
    last = objs[-1]
    message = f"failed due to error: {error}"
    if retry:
        message = f"retry attempted 1/1 {message}"
        assert [o["status"].get("failed") for o in objs if o.get("status", {}).get("failed")][0] == 1
    assert last["status"]["failed"] == retry + 1
    assert cond(last, "Initialized")["status"] == "False"
    assert cond(last, "Initialized")["message"] == message
    assert cond(last, "RetryLimitExceeded")["message"] == message
    assert last["status"]["appliedUrl"] == url
    assert "storageClassName" not in last["status"]


def test_https_source_is_verified_like_harvester_does(twin, https_files):
    url = https_files + "/fast.img"
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    create(twin, image("tls", url=url, retry=0))
    last = watch_until(twin, "tls", rv, limit_exceeded)[-1][1]
    assert cond(last, "Initialized")["message"] == (
        f'failed due to error: Head "{url}": tls: failed to verify certificate: x509: certificate signed by '
        "unknown authority")


def test_upload_waits_for_its_data(twin):
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    create(twin, image("uploaded", source="upload"))
    obj = watch_until(twin, "uploaded", rv, lambda o: cond(o, "Initialized").get("status") == "True")[-1][1]
    assert cond(obj, "Imported")["status"] == "Unknown" and obj["status"]["progress"] == 0
    assert get(twin, f"{SCS}/{obj['status']['storageClassName']}").status_code == 200
    time.sleep(1)
    later = get(twin, IMAGES + "/uploaded").json()
    assert later["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_delete_refused_while_a_volume_uses_the_image(twin, files):
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    create(twin, image("base", display="base-image", url=files + "/fast.img"))
    done = watch_until(twin, "base", rv, imported)[-1][1]
    sc = done["status"]["storageClassName"]
    pvc(twin, "vm1-disk-0", sc, {"harvesterhci.io/imageId": "default/base"})
    r = twin.session().delete(twin.url(IMAGES + "/base"))
    refused(r, 422, denied("Cannot delete image default/base-image: being used by volume default/vm1-disk-0"))
    assert twin.session().delete(twin.url(PVCS + "/vm1-disk-0")).status_code == 200
    assert twin.session().delete(twin.url(IMAGES + "/base")).json()["metadata"]["deletionTimestamp"]
    wait_gone(twin, IMAGES + "/base")
    wait_gone(twin, f"{SCS}/{sc}")


# ------------------------------------------------------------------------------------ kubectl
def test_kubectl_session(twin, files):
    doc = image("cirros", display="cirros-0.6.2", url=files + "/disk.img")
    watcher = subprocess.Popen([KUBECTL, "--kubeconfig", str(twin.kubeconfig), "get", "vmimage", "-w",
                                "--request-timeout=0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        out = twin.kubectl("apply", "-f", "-", input=yaml.safe_dump(doc)).stdout
        assert "virtualmachineimage.harvesterhci.io/cirros created" in out
        twin.kubectl("wait", "--for=condition=Imported", "vmimage/cirros", "--timeout=30s")
        time.sleep(0.3)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=10)
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines[0][:5] == ["NAME", "BACKEND", "DISPLAY-NAME", "SIZE", "VIRTUALSIZE"], out
    rows = [row for row in lines[1:] if row[0] == "cirros"]
    assert len(rows) >= 3, out
    assert rows[0][:3] == ["cirros", "backingimage", "cirros-0.6.2"]
    assert rows[-1][3:5] == [str(len(DISK)), str(len(DISK))], out
    got = json.loads(twin.kubectl("get", "vmimages", "cirros", "-o", "json").stdout)
    sc = got["status"]["storageClassName"]
    assert twin.kubectl("get", "storageclass", sc, "-o", "name").stdout.strip() == f"storageclass.storage.k8s.io/{sc}"
    dup = twin.kubectl("create", "-f", "-", input=yaml.safe_dump(image("cirros2", display="cirros-0.6.2",
                                                                       url=files + "/disk.img")), check=False)
    assert dup.returncode != 0
    assert 'admission webhook "validator.harvesterhci.io" denied the request: A resource with the same name exists' \
        in dup.stderr
    twin.kubectl("delete", "vmimage", "cirros", "--wait", "--timeout=20s")
    assert twin.kubectl("get", "storageclass", sc, check=False).returncode != 0


# ------------------------------------------------------------------------------------ upstream CRDs
def test_upstream_crd_mutator_and_lifecycle(upstream_twin, files):
    twin = upstream_twin
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    got = create(twin, image("jammy", url=files + "/disk.img", checksum=DISK_SHA512))
    assert got["spec"]["backend"] == "backingimage" and got["spec"]["retry"] == 3
    assert got["spec"]["storageClassParameters"] == DEFAULT_PARAMS
    assert got["metadata"]["labels"]["harvesterhci.io/imageDisplayName"] == "jammy"
    objs = [o for _, o in watch_until(twin, "jammy", rv, imported)]
    assert any(0 < o.get("status", {}).get("progress", 0) < 100 for o in objs)
    assert objs[-1]["status"]["size"] == len(DISK)
    r = twin.session().post(twin.url(IMAGES), json=image("jammy2", display="jammy", url=files + "/disk.img"))
    refused(r, 409, denied("A resource with the same name exists"), "Conflict")
    r = twin.session().patch(twin.url(IMAGES + "/jammy"), data='{"spec":{"url":"http://elsewhere/x.img"}}',
                             headers=MERGE)
    refused(r, 422, denied("url cannot be modified"), "Invalid")


def test_upstream_crd_checksum_failure(upstream_twin, files):
    twin = upstream_twin
    rv = get(twin, IMAGES).json()["metadata"]["resourceVersion"]
    create(twin, image("broken", url=files + "/fast.img", checksum="f" * 128, retry=0))
    last = watch_until(twin, "broken", rv, limit_exceeded)[-1][1]
    assert last["status"]["failed"] == 1
    assert cond(last, "Imported")["status"] == "False"
    assert "doesn't match the file actual checksum" in cond(last, "Imported")["message"]
