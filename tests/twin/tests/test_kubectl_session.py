"""The session an operator would have with kubectl against the twin, as issue 3 asks to see it:
a NAD gaining its labels, an image going from Importing to Imported (and failing with a wrong
checksum), a Longhorn setting `2` stored as per-engine JSON, a storage-network change refused
while VMs run. kubectl only (the image bytes come from a local HTTP server)."""
from __future__ import annotations

import json
import queue
import subprocess
import threading
import time

import yaml

from .conftest import KUBECTL
from .test_image import DISK_SHA512, files  # noqa: F401 - the module-scoped file server fixture


def watch_lines(twin, resource, name, *args, until, seconds=30):
    """Run `kubectl get RESOURCE --field-selector metadata.name=NAME -w` and return its output lines
    up to the first that satisfies until (read by a thread, so a silent kubectl cannot block the
    test past its deadline).

    A list, not `kubectl get RESOURCE NAME -w`: for one named object kubectl prints its GET, then
    watches from resourceVersion 0 and drops that watch's first event (get.go, "drop the initial
    watch event in the single resource case"), which is the object as it is by then. A change made
    between the two requests is never shown, on a real apiserver as on the twin. A list's watch
    starts at the list's resourceVersion and misses nothing."""
    proc = subprocess.Popen([KUBECTL, "--kubeconfig", str(twin.kubeconfig), "get", resource,
                             "--field-selector", f"metadata.name={name}", *args, "-w", "--request-timeout=0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: queue.Queue = queue.Queue()

    def read():
        for line in proc.stdout:
            out.put(line)
        out.put(None)  # kubectl ended
    threading.Thread(target=read, daemon=True).start()
    lines, deadline = [], time.monotonic() + seconds
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = out.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            lines.append(line.rstrip("\n"))
            if until(lines[-1]):
                return lines
    finally:
        proc.terminate()
        proc.wait(10)
    raise AssertionError("kubectl get -w never showed it; saw:\n" + "\n".join(lines))


def test_a_nad_gains_its_labels(twin):
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
           "metadata": {"name": "platform", "namespace": "default"},
           "spec": {"config": json.dumps({"cniVersion": "0.3.1", "name": "platform", "type": "bridge",
                                          "bridge": "mgmt-br", "promiscMode": True, "vlan": 30, "ipam": {}})}}
    twin.kubectl("apply", "-f", "-", input=yaml.safe_dump(nad))
    fmt = "custom-columns=NAME:.metadata.name,READY:.metadata.labels.network\\.harvesterhci\\.io/ready"
    watch_lines(twin, "net-attach-def", "platform", "-n", "default", "-o", fmt, until=lambda line: "true" in line)
    labels = json.loads(twin.kubectl("get", "net-attach-def", "platform", "-n", "default", "-o", "json").stdout
                        )["metadata"]["labels"]
    assert labels == {"network.harvesterhci.io/clusternetwork": "mgmt", "network.harvesterhci.io/type": "L2VlanNetwork",
                      "network.harvesterhci.io/vlan-id": "30", "network.harvesterhci.io/ready": "true"}


def _image(name, url, checksum=None, retry=None):
    spec = {"displayName": name, "sourceType": "download", "url": url}
    if checksum:
        spec["checksum"] = checksum
    if retry is not None:
        spec["retry"] = retry
    return yaml.safe_dump({"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
                           "metadata": {"name": name, "namespace": "default"}, "spec": spec})


def test_an_image_goes_from_importing_to_imported(twin, files):  # noqa: F811
    twin.kubectl("apply", "-f", "-", input=_image("talos", f"{files}/disk.img", DISK_SHA512))
    fmt = ("custom-columns=NAME:.metadata.name,"
           "IMPORTED:.status.conditions[?(@.type==\"Imported\")].reason,PROGRESS:.status.progress")
    lines = watch_lines(twin, "vmimage", "talos", "-n", "default", "-o", fmt,
                        until=lambda line: line.split()[1:2] == ["Imported"])
    assert any(line.split()[1:2] == ["Importing"] for line in lines), lines
    assert lines[-1].split()[2] == "100"


def test_an_image_with_a_wrong_checksum_fails(twin, files):  # noqa: F811
    twin.kubectl("apply", "-f", "-", input=_image("broken", f"{files}/fast.img", "0" * 128, retry=0))
    fmt = ("custom-columns=NAME:.metadata.name,"
           "LIMIT:.status.conditions[?(@.type==\"RetryLimitExceeded\")].status,FAILED:.status.failed")
    watch_lines(twin, "vmimage", "broken", "-n", "default", "-o", fmt, until=lambda line: line.split()[1:2] == ["True"])
    image = json.loads(twin.kubectl("get", "vmimage", "broken", "-n", "default", "-o", "json").stdout)
    imported = next(c for c in image["status"]["conditions"] if c["type"] == "Imported")
    assert imported["status"] == "False" and "checksum" in imported["message"]


def test_a_longhorn_setting_2_is_stored_per_engine(twin):
    twin.kubectl("-n", "longhorn-system", "patch", "settings.longhorn.io", "default-replica-count", "--type", "merge",
                 "-p", '{"value":"2"}')
    value = twin.kubectl("-n", "longhorn-system", "get", "settings.longhorn.io", "default-replica-count", "-o",
                         "jsonpath={.value}").stdout
    assert json.loads(value) == {"v1": "2", "v2": "2"}


def test_a_storage_network_change_is_refused_while_vms_run(twin):
    value = json.dumps({"vlan": 60, "clusterNetwork": "mgmt", "range": "10.10.60.0/24", "exclude": ["10.10.60.1/32"]})
    proc = twin.kubectl("patch", "settings.harvesterhci.io", "storage-network", "--type", "merge",
                        "-p", json.dumps({"value": value}), check=False)
    assert proc.returncode != 0
    assert "Please stop all VMs before configuring the storage-network setting" in proc.stderr
