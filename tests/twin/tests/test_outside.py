"""The twin and the world outside 127.0.0.1 (metal/nas.py, loopback_guard.py): the lab NAS's web
server answered from the `--nas` folder (image imports, the upgrade's ISO), its other ports closed,
every other host failing as an unreachable address or an unknown name does -- and the proof
that driving the image, ISO, backup-target, CAPHV and AMT paths with non-loopback addresses opens
no connection outside 127.0.0.1 (the guard in the twin process logs every refused attempt)."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

import pytest
import yaml

from tests.twin import __main__ as twin_main
from tests.twin import loopback_guard
from tests.twin.tests import capi_manifests as capi
from tests.twin.tests.conftest import ROOT, TEST_CRDS, wait_for

NS = "default"
IMAGES = f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachineimages"
SYSTEM_IMAGES = "/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/virtualmachineimages"
TALOS = b"talos nocloud image " * 4096
ISO = b"harvester iso " * 1000
RUFIO = TEST_CRDS.parent.parent / "crds" / "rufio"


@pytest.fixture(scope="module")
def nas(tmp_path_factory):
    root = tmp_path_factory.mktemp("nas")
    (root / "images" / "talos").mkdir(parents=True)
    (root / "images" / "talos" / "nocloud-amd64.raw").write_bytes(TALOS)
    (root / "harvester" / "v1.9.0").mkdir(parents=True)
    (root / "harvester" / "v1.9.0" / "harvester-v1.9.0-amd64.iso").write_bytes(ISO)
    return root


@pytest.fixture(scope="module")
def outside_twin(twins, nas):
    return twins.get([RUFIO], ["--lab", "inventory/lab", "--nas", str(nas), "--speed", "1000"])


@pytest.fixture
def twin(outside_twin):
    outside_twin.reset()
    return outside_twin


def image(name, url, **spec):
    return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"displayName": name, "sourceType": "download", "url": url, **spec}}


def cond(obj, type_):
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


def settled(twin, path):
    """The image once it is Imported or gave up."""
    def done():
        obj = twin.session().get(twin.url(path)).json()
        return obj if cond(obj, "Imported").get("status") == "True" or \
            cond(obj, "RetryLimitExceeded").get("status") == "True" else None
    return wait_for(done, f"{path} to settle", timeout=30)


def test_an_image_on_the_nas_is_imported_from_its_folder(twin):
    url = "http://10.10.10.20/images/talos/nocloud-amd64.raw"
    r = twin.session().post(twin.url(IMAGES), json=image("talos", url, checksum=hashlib.sha512(TALOS).hexdigest()))
    assert r.status_code == 201, r.text
    done = settled(twin, f"{IMAGES}/talos")
    assert cond(done, "Imported")["status"] == "True"
    assert done["status"]["size"] == len(TALOS) and done["status"]["progress"] == 100


@pytest.mark.parametrize("url,error", [
    ("http://10.10.10.20/images/missing.raw", "got 404 status code from http://10.10.10.20/images/missing.raw"),
    ("http://10.10.10.20/../etc/passwd", "got 404 status code from http://10.10.10.20/../etc/passwd"),
    ("http://10.10.10.20:8080/images/talos/nocloud-amd64.raw",
     'Head "http://10.10.10.20:8080/images/talos/nocloud-amd64.raw": dial tcp 10.10.10.20:8080: connect: '
     "connection refused"),
], ids=["missing", "outside-the-folder", "other-port"])
def test_what_the_nas_does_not_serve(twin, url, error):
    r = twin.session().post(twin.url(IMAGES), json=image("nothere", url, retry=0))
    assert r.status_code == 201, r.text
    done = settled(twin, f"{IMAGES}/nothere")
    assert cond(done, "Initialized")["message"] == f"failed due to error: {error}"


def test_the_upgrade_iso_comes_from_the_nas(twin):
    s = twin.session()
    url = "http://10.10.10.20/harvester/v1.9.0/harvester-v1.9.0-amd64.iso"
    r = s.post(twin.url("/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/versions"),
               json={"apiVersion": "harvesterhci.io/v1beta1", "kind": "Version", "metadata": {"name": "v1.9.0"},
                     "spec": {"isoURL": url, "isoChecksum": hashlib.sha512(ISO).hexdigest()}})
    assert r.status_code == 201, r.text
    r = s.post(twin.url("/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/upgrades"),
               json={"apiVersion": "harvesterhci.io/v1beta1", "kind": "Upgrade",
                     "metadata": {"generateName": "hvst-upgrade-"}, "spec": {"version": "v1.9.0"}})
    assert r.status_code == 201, r.text
    name = r.json()["metadata"]["name"]
    wait_for(lambda: s.get(twin.url(f"{SYSTEM_IMAGES}/{name}")).status_code == 200, "the upgrade image", timeout=30)
    done = settled(twin, f"{SYSTEM_IMAGES}/{name}")
    assert cond(done, "Imported")["status"] == "True" and done["spec"]["url"] == url
    assert done["status"]["size"] == len(ISO)


def test_no_path_opens_a_connection_outside_loopback(twin):
    """Image, ISO, backup target, CAPHV identity and AMT (Rufio) with non-loopback addresses: each
    fails as the real client would, and the twin's guard logged no connection attempt."""
    s = twin.session()
    log = twin.workdir / "twin.log"
    before = log.read_text()
    # images: an address nobody answers at, a name nobody resolves
    for name, url in (("by-ip", "http://192.0.2.10/disk.img"), ("by-name", "http://images.example.org/disk.img")):
        assert s.post(twin.url(IMAGES), json=image(name, url, retry=0)).status_code == 201
    assert cond(settled(twin, f"{IMAGES}/by-ip"), "Initialized")["message"] == (
        'failed due to error: Head "http://192.0.2.10/disk.img": dial tcp 192.0.2.10:80: i/o timeout '
        "(Client.Timeout exceeded while awaiting headers)")
    assert cond(settled(twin, f"{IMAGES}/by-name"), "Initialized")["message"] == (
        'failed due to error: Head "http://images.example.org/disk.img": dial tcp: lookup images.example.org on '
        "10.53.0.10:53: no such host")
    # the upgrade's ISO
    r = s.post(twin.url("/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/versions"),
               json={"apiVersion": "harvesterhci.io/v1beta1", "kind": "Version", "metadata": {"name": "v1.9.1"},
                     "spec": {"isoURL": "http://198.51.100.7/harvester-v1.9.1-amd64.iso"}})
    assert r.status_code == 201, r.text
    r = s.post(twin.url("/apis/harvesterhci.io/v1beta1/namespaces/harvester-system/upgrades"),
               json={"apiVersion": "harvesterhci.io/v1beta1", "kind": "Upgrade",
                     "metadata": {"generateName": "hvst-upgrade-"}, "spec": {"version": "v1.9.1"}})
    assert r.status_code == 201, r.text
    iso_image = f"{SYSTEM_IMAGES}/{r.json()['metadata']['name']}"
    wait_for(lambda: s.get(twin.url(iso_image)).status_code == 200, "the upgrade image", timeout=30)
    assert "dial tcp 198.51.100.7:80: i/o timeout" in cond(settled(twin, iso_image), "Initialized")["message"]
    # the backup target: the webhook's connection check answers from lab/backup-stores.yml
    value = json.dumps({"type": "nfs", "endpoint": "nfs://192.0.2.30:/volume1/backups"})
    r = s.patch(twin.url("/apis/harvesterhci.io/v1beta1/settings/backup-target"), json={"value": value},
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 422 and "failed to connect to backup target, reason: timeout after 8s" in r.json()["message"]
    # CAPHV's identity kubeconfig pointing at a server that is not this twin
    # AMT: a Rufio Machine whose BMC is not a node of the lab
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bmc", "namespace": NS},
              "stringData": {"username": "admin", "password": "x"}}
    assert s.post(twin.url(f"/api/v1/namespaces/{NS}/secrets"), json=secret).status_code == 201
    machine = {"apiVersion": "bmc.tinkerbell.org/v1alpha1", "kind": "Machine", "metadata": {"name": "far", "namespace": NS},
               "spec": {"connection": {"host": "203.0.113.9", "insecureTLS": True,
                                       "authSecretRef": {"name": "bmc", "namespace": NS},
                                       "providerOptions": {"intelAMT": {"port": 16993, "hostScheme": "https"}}}}}
    assert s.post(twin.url(f"/apis/bmc.tinkerbell.org/v1alpha1/namespaces/{NS}/machines"), json=machine).status_code == 201
    far = wait_for(lambda: cond(s.get(twin.url(f"/apis/bmc.tinkerbell.org/v1alpha1/namespaces/{NS}/machines/far")).json(),
                                "Contactable") or None, "the Machine's Contactable condition", timeout=30)
    assert far["status"] == "False" and "dial tcp 203.0.113.9:16993: i/o timeout" in far["message"]
    time.sleep(0.2)  # let the last log lines reach the file
    new = log.read_text()[len(before):]
    assert "loopback guard" not in new, new


def test_caphv_does_not_dial_an_identity_server_outside_loopback(twin):
    """A HarvesterCluster whose identity kubeconfig names another server: the probe fails as an
    unreachable server does, without a connection (the log shows no guard refusal)."""
    s = twin.session()
    log = twin.workdir / "twin.log"
    before = log.read_text()
    kubeconfig = yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "h", "cluster": {"server": "https://10.10.10.5:6443", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "t"}}], "contexts": [{"name": "c", "context": {"cluster": "h", "user": "u"}}],
        "current-context": "c"})
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": capi.NS}}
    assert s.post(twin.url("/api/v1/namespaces"), json=ns).status_code == 201
    for path, body in [(capi.path("v1", "secrets"), capi.identity_secret(kubeconfig)),
                       (capi.path(capi.INFRA_V, "harvesterclusters"), capi.harvester_cluster()),
                       (capi.path(capi.CAPI_V, "clusters"), capi.cluster_object())]:
        r = s.post(twin.url(path), json=body)
        assert r.status_code == 201, r.text
    hc = capi.path(capi.INFRA_V, "harvesterclusters", capi.CLUSTER)
    failed = wait_for(lambda: next((c for c in (s.get(twin.url(hc)).json().get("status") or {}).get("conditions") or []
                                    if "failed to reach Harvester" in (c.get("message") or "")), None),
                      "the identity probe to fail", timeout=30)
    assert failed["message"].startswith("failed to reach Harvester at https://10.10.10.5:6443: ")
    time.sleep(0.2)
    assert "loopback guard" not in log.read_text()[len(before):]


GUARD_PROBE = """
import logging, socket, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(message)s")
from tests.twin import loopback_guard
loopback_guard.install()
for address in [("192.0.2.1", 80), ("10.10.10.20", 80), ("127.0.0.1", 9)]:
    s = socket.socket()
    try:
        s.connect(address)
    except PermissionError as e:
        print("refused", address[0], e)
    except OSError as e:
        print("dialled", address[0], type(e).__name__)
    finally:
        s.close()
"""


def test_the_guard_refuses_and_logs_every_connection_outside_loopback():
    proc = subprocess.run([sys.executable, "-c", GUARD_PROBE], capture_output=True, text=True, timeout=30,
                          cwd=ROOT)
    lines = proc.stdout.splitlines()
    assert ("twin.loopback_guard loopback guard: refused a connection to 192.0.2.1:80 "
            "(the twin connects to 127.0.0.1 only)") in lines
    assert any(line.startswith("refused 192.0.2.1 ") for line in lines)
    assert any(line.startswith("refused 10.10.10.20 ") for line in lines)
    assert "dialled 127.0.0.1 ConnectionRefusedError" in lines  # loopback goes through


def test_the_twin_installs_the_guard_before_anything_else(monkeypatch):
    calls = []
    monkeypatch.setattr(loopback_guard, "install", lambda: calls.append("install"))
    with pytest.raises(SystemExit):
        twin_main.main(["--port", "x"])  # stops at argument parsing, after the guard is in
    assert calls == ["install"]


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.5.6.7", True), ("::1", True),
                                           ("localhost", True), ("::ffff:127.0.0.1", True), ("10.10.10.20", False),
                                           ("192.0.2.1", False), ("example.org", False), ("::", False)])
def test_what_counts_as_loopback(host, loopback):
    assert loopback_guard.is_loopback(host) is loopback
