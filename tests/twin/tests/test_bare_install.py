"""From bare metal to a cluster (`--bare --nas`): the API down until the create node is installed,
a node's PXE boot through the files the bootstrap role publishes (rendered here by
harvester_install_files' own code), harvester-installer's checks on its config, the install,
the node joining as the --lab seed describes it; a wrong token or server_url never joins."""
from __future__ import annotations

import json
import socket
from contextlib import contextmanager

import pytest
import requests

from tests.twin.tests.metal_support import INVENTORY, PASSWORD, Amt, api_answers, metal, power_request, render_nas, return_value, wait_step

HEADER = "# Managed by homelab.harvester (harvester_install_files): changes here are overwritten.\n"


@pytest.fixture(scope="module")
def nas(tmp_path_factory):
    return render_nas(tmp_path_factory.mktemp("nas"))


@pytest.fixture(scope="module")
def bare(twins, nas):
    return twins.get(extra=["--lab", str(INVENTORY), "--bare", "--amt-password", PASSWORD, "--nas", str(nas),
                            "--speed", "1000"])


@pytest.fixture
def twin(bare):
    bare.reset()
    return bare


@contextmanager
def restored(path):
    """Change or remove the NAS file `path` inside the block (its text is yielded); the text is
    written back afterwards."""
    text = path.read_text()
    try:
        yield text
    finally:
        path.write_text(text)


@pytest.fixture
def config(nas):
    """Edit a node's install config for one test (put back afterwards)."""
    saved = {}

    def edit(node, change):
        path = nas / "harvester" / f"{node}.yaml"
        saved.setdefault(path, path.read_text())
        doc = json.loads(saved[path].split("\n", 1)[1])
        change(doc)
        path.write_text(HEADER + json.dumps(doc, indent=2) + "\n")
    yield edit
    for path, text in saved.items():
        path.write_text(text)


def test_before_the_create_node_is_installed_the_api_does_not_answer(twin):
    with pytest.raises(requests.ConnectionError):
        twin.session().get(twin.url("/api/v1/nodes"), timeout=5)
    # nothing listens at the VIP (a reset would mean something took the connection)
    host, port = twin.server.removeprefix("https://").rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5).close()
    state = metal(twin)  # the hooks answer
    assert state["api_up"] is False and all(n["installed"] is None for n in state["nodes"].values())
    # the Tinkerbell cluster's API answers from the start, with the same token and CA
    tink = twin.workdir / "tinkerbell-kubeconfig"
    assert tink.exists()
    out = twin.kubectl("--kubeconfig", str(tink), "get", "namespaces", "-o", "name").stdout.split()
    assert "namespace/tink-system" in out and "namespace/harvester-system" not in out


def test_a_full_install_from_pxe_the_create_node_first(twin):
    Amt(twin, "ms02-1").pxe_power_on()
    steps = wait_step(twin, "ms02-1: installed (create), joined")
    assert steps == ["AMT ms02-1: power on (one-time PXE)", "ms02-1: PXE boot.ipxe -> ms02-1.ipxe -> ms02-1.yaml",
                     "ms02-1: installed (create), joined"]
    assert api_answers(twin)
    nodes = twin.kubectl("get", "nodes", "-o", "json")
    (node,) = json.loads(nodes.stdout)["items"]
    assert node["metadata"]["name"] == "ms02-1"
    assert {"type": "InternalIP", "address": "10.10.10.11"} in node["status"]["addresses"]
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == "true"
    s = twin.session()
    nic = s.get(twin.url("/apis/network.harvesterhci.io/v1beta1/linkmonitors/nic")).json()
    assert [e["name"] for e in nic["status"]["linkStatus"]["ms02-1"]] == ["enp2s0f0np0", "enp2s0f1np1", "enp5s0"]
    assert list(nic["status"]["linkStatus"]) == ["ms02-1"]
    mgmt = s.get(twin.url("/apis/network.harvesterhci.io/v1beta1/linkmonitors/mgmt")).json()
    assert [e["name"] for e in mgmt["status"]["linkStatus"]["ms02-1"]] == ["mgmt-bo", "mgmt-br"]
    lh = s.get(twin.url("/apis/longhorn.io/v1beta2/namespaces/longhorn-system/nodes/ms02-1"))
    assert lh.status_code == 200
    assert s.get(twin.url("/apis/kubevirt.io/v1/virtualmachines")).json()["items"] == []  # a fresh cluster
    assert Amt(twin, "ms02-1").power_state()[0] == 2  # the installed node is on
    for node_name in ("ms02-2", "ms02-3"):
        Amt(twin, node_name).pxe_power_on()
    wait_step(twin, "ms02-3: installed (join), joined")
    wait_step(twin, "ms02-2: installed (join), joined")
    names = twin.kubectl("get", "nodes", "-o", "name").stdout.split()
    assert names == ["node/ms02-1", "node/ms02-2", "node/ms02-3"]
    nic = s.get(twin.url("/apis/network.harvesterhci.io/v1beta1/linkmonitors/nic")).json()
    assert sorted(nic["status"]["linkStatus"]) == ["ms02-1", "ms02-2", "ms02-3"]


def test_a_join_node_waits_for_the_cluster_then_joins(twin):
    Amt(twin, "ms02-2").pxe_power_on()
    wait_step(twin, "ms02-2: installed (join), not joining: rancherd: waiting for https://10.10.10.5:443")
    assert not api_answers(twin)
    Amt(twin, "ms02-1").pxe_power_on()
    steps = wait_step(twin, "ms02-2: installed (join), joined")
    assert steps.index("ms02-1: installed (create), joined") < steps.index("ms02-2: installed (join), joined")


@pytest.mark.parametrize("change,reason", [
    (lambda c: c.update(token="not-the-cluster-token"),
     "rancherd: the cluster at https://10.10.10.5:443 refuses the join token"),
    (lambda c: c.update(server_url="https://10.10.10.6:443"),
     "rancherd: no Harvester cluster answers at https://10.10.10.6:443 (the cluster's VIP is 10.10.10.5)"),
], ids=["token", "server_url"])
def test_a_join_with_the_wrong_token_or_server_url_never_joins(twin, config, change, reason):
    config("ms02-3", change)
    Amt(twin, "ms02-1").pxe_power_on()
    wait_step(twin, "ms02-1: installed (create), joined")
    Amt(twin, "ms02-3").pxe_power_on()
    steps = wait_step(twin, f"ms02-3: installed (join), not joining: {reason}")
    wait_step(twin, "AMT ms02-3")
    assert not any("ms02-3: installed (join), joined" in s for s in steps)
    assert "ms02-3" not in twin.kubectl("get", "nodes", "-o", "name").stdout
    assert metal(twin)["nodes"]["ms02-3"]["installed"] == {"mode": "join", "hostname": "ms02-3"}


@pytest.mark.parametrize("node,change,message", [
    ("ms02-1", lambda c: c.update(scheme_version=2),
     "Invalid configuration: Unsupported Harvester Scheme Version 2, please use new config and refer "
     "https://docs.harvesterhci.io/v1.1/install/harvester-configuration/"),
    ("ms02-1", lambda c: c["install"].update(mode="replace"), "Invalid configuration: unknown mode: replace"),
    ("ms02-1", lambda c: c.pop("token"), "Invalid configuration: token not specified"),
    ("ms02-1", lambda c: c["install"].pop("vip"), "Invalid configuration:  is not a valid IP address"),
    ("ms02-2", lambda c: c.pop("server_url"), "Invalid configuration: ServerURL can't empty in join mode"),
    ("ms02-1", lambda c: c["install"]["management_interface"].update(
        interfaces=[{"hwAddr": "58:47:ca:7b:09:a0"}]),
     "no interface matching hardware address 58:47:ca:7b:09:a0 found"),
    ("ms02-1", lambda c: c["install"]["management_interface"].update(interfaces=[]),
     "Invalid configuration: networks is deprecated, please use management_interface"),
    ("ms02-1", lambda c: c["install"].update(device="/dev/sda"),
     "Invalid configuration: lstat /dev/sda: no such file or directory"),
    ("ms02-1", lambda c: c["install"].pop("device"), "Invalid configuration: no device specified"),
], ids=["scheme", "mode", "token", "vip", "server_url", "hwaddr", "no-interface", "device", "no-device"])
def test_a_config_the_installer_refuses_leaves_the_node_in_the_installer(twin, config, node, change, message):
    config(node, change)
    Amt(twin, node).pxe_power_on()
    steps = wait_step(twin, f"{node}: installer: ")
    line = next(s for s in steps if s.startswith(f"{node}: installer: "))
    assert line.startswith(f"{node}: installer: {message}"), line
    assert metal(twin)["nodes"][node]["installed"] is None
    assert metal(twin)["nodes"][node]["stage"] == "stuck"
    assert not api_answers(twin)


def test_a_config_that_is_not_yaml_or_not_there(twin, nas):
    path = nas / "harvester" / "ms02-1.yaml"
    with restored(path):
        path.write_text("install: [mode: create\n")
        Amt(twin, "ms02-1").pxe_power_on()
        line = next(s for s in wait_step(twin, "ms02-1: installer: ") if "installer:" in s)
        assert line.startswith("ms02-1: installer: fail to load config: failed to unmarshal yaml: ")
        twin.reset()
        path.unlink()
        Amt(twin, "ms02-1").pxe_power_on()
        steps = wait_step(twin, "ms02-1: installer: fail to fetch config")
        url = "http://10.10.10.20/harvester/ms02-1.yaml"
        assert (f"ms02-1: installer: got 404 status code from {url}, body: 404 page not found\n "
                "(retrying every 10s, 30 times)") in steps


def test_a_missing_boot_file_stops_ipxe(twin, nas):
    kernel = nas / "harvester" / "v1.8.2" / "harvester-v1.8.2-vmlinuz-amd64"
    kernel.rename(kernel.with_suffix(".away"))
    try:
        Amt(twin, "ms02-2").pxe_power_on()
        steps = wait_step(twin, "ms02-2: iPXE: ")
    finally:
        kernel.with_suffix(".away").rename(kernel)
    line = next(s for s in steps if s.startswith("ms02-2: iPXE: "))
    assert "http://10.10.10.20/harvester/v1.8.2/harvester-v1.8.2-vmlinuz-amd64... Not found" in line


def test_a_start_without_one_time_pxe_boots_the_empty_disk(twin):
    amt = Amt(twin, "ms02-1")
    assert return_value(amt.post(power_request(2))) == 0
    assert wait_step(twin, "ms02-1: boot from disk: no operating system")
    assert not api_answers(twin)


def test_reset_and_snapshot_bring_the_bare_metal_back(twin):
    twin.snapshot("bare")
    Amt(twin, "ms02-1").pxe_power_on()
    wait_step(twin, "ms02-1: installed (create), joined")
    twin.snapshot("one-node")
    twin.restore("bare")
    assert not api_answers(twin) and metal(twin)["nodes"]["ms02-1"]["installed"] is None
    twin.restore("one-node")
    assert api_answers(twin)
    assert twin.kubectl("get", "nodes", "-o", "name").stdout.split() == ["node/ms02-1"]
    twin.reset()
    assert not api_answers(twin)
    assert metal(twin)["steps"] == []


def test_a_script_ipxe_cannot_run_or_without_the_nodes_mac(twin, nas):
    boot = nas / "harvester" / "boot.ipxe"
    with restored(boot) as text:
        boot.write_text("echo not a script\n")
        Amt(twin, "ms02-1").pxe_power_on()
        steps = wait_step(twin, "ms02-1: iPXE: ")
        assert "ms02-1: iPXE: Could not boot http://10.10.10.20/harvester/boot.ipxe: Exec format error" in steps
        boot.write_text("\n".join(line for line in text.splitlines() if "ms02-3.ipxe" not in line) + "\n")
        Amt(twin, "ms02-3").pxe_power_on()
        steps = wait_step(twin, "ms02-3: iPXE: ")
        assert "ms02-3: iPXE: No Harvester node has the OOB MAC 58:47:ca:7b:03:b0." in steps
