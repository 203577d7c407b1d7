# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module against a twin that serves the unmodified upstream CRDs from
../shared/reference/crds instead of our trimmed ones: what the modules write must be what the
real API server accepts. Each module: first run changed, second run changed=false with zero
writes, check mode stores nothing, and (where it exists) absent removes. Skipped as a whole on a
fresh clone, where ../shared is not there."""

from __future__ import annotations

import pytest

from tests.integration.image_files import DISK_SHA512
from tests.integration.playbooks import run_tasks, stored_writes, writes
from tests.integration.roles import VERIFY, run_site
from tests.modules.test_capi_cluster import cluster_args, harvester_objects
from tests.twin.tests.conftest import start_twin, stop_twin, upstream_crd_dirs

pytestmark = [pytest.mark.twin, pytest.mark.integration]


@pytest.fixture(scope="module")
def upstream_twin_process(tmp_path_factory):
    dirs = upstream_crd_dirs()
    if not dirs:
        pytest.skip("../shared/reference/crds is not here (a fresh clone): upstream CRD runs skipped")
    t = start_twin(tmp_path_factory.mktemp("modules-upstream"), dirs, extra=["--speed", "50"])
    yield t
    stop_twin(t)


@pytest.fixture
def upstream(upstream_twin_process):
    upstream_twin_process.reset()
    return upstream_twin_process


def present_twice_then_check_then_absent(twin, tmp_path, module, present, absent):
    (first, second), reqs, dummy = run_tasks(twin, tmp_path, module, [present, present])
    assert first["changed"] is True and not first.get("failed"), first
    assert second["changed"] is False and not second.get("failed"), second
    assert stored_writes(reqs), reqs
    (again,), reqs, dummy = run_tasks(twin, tmp_path, module, [present])
    assert again["changed"] is False and writes(reqs) == [], reqs
    if absent is None:
        return
    (checked,), reqs, dummy = run_tasks(twin, tmp_path, module, [absent], check=True)
    assert checked["changed"] is True and not checked.get("failed") and stored_writes(reqs) == [], (checked, reqs)
    (gone, gone_again), reqs, dummy = run_tasks(twin, tmp_path, module, [absent, absent])
    assert gone["changed"] is True and not gone.get("failed"), gone
    assert gone_again["changed"] is False and not gone_again.get("failed"), gone_again


def test_harvester_network(upstream, tmp_path):
    manual = {"name": "cluster", "vlan_id": 40, "route": {"mode": "manual", "cidr": "10.10.40.0/24", "gateway": "10.10.40.1"}}
    present_twice_then_check_then_absent(upstream, tmp_path, "homelab.harvester.harvester_network", manual,
                                         {"name": "cluster", "state": "absent"})


def test_harvester_network_labels_and_network_info(upstream, tmp_path):
    labelled = {"name": "platform", "vlan_id": 30, "labels": {"app.kubernetes.io/managed-by": "homelab.harvester.vlans"}}
    present_twice_then_check_then_absent(upstream, tmp_path, "homelab.harvester.harvester_network", labelled, None)
    (found,), reqs, dummy = run_tasks(upstream, tmp_path, "homelab.harvester.harvester_network_info",
                                      [{"label_selector": "app.kubernetes.io/managed-by=homelab.harvester.vlans"}])
    assert [(n["name"], n["vlan_id"]) for n in found["networks"]] == [("platform", 30)]


def test_site_then_verify(upstream, tmp_path):
    """The whole site (VM networks, settings, StorageClass, the storage network with the VMs stopped
    and started again) against the upstream CRDs, then verify.yml finds no drift."""
    rc, out, recap = run_site(upstream, tmp_path, extra_vars={"lab_storage_network_stop_vms": True})
    assert rc == 0 and recap["failed"] == 0 and recap.get("ignored", 0) == 0, out
    rc, out, recap = run_site(upstream, tmp_path, playbook=VERIFY)
    assert rc == 0 and "No drift" in out, out


def test_harvester_cluster_network(upstream, tmp_path):
    oob = {"name": "oob", "uplinks": [{"name": "oob-all", "nics": ["enp5s0"], "bond_mode": "active-backup", "mtu": 1500,
                                       "miimon": 100}], "wait_timeout": 30}
    present_twice_then_check_then_absent(upstream, tmp_path, "homelab.harvester.harvester_cluster_network", oob,
                                         {"name": "oob", "state": "absent"})


def test_harvester_image(upstream, tmp_path, files):
    talos = {"name": "talos-1.11", "display_name": "talos-v1.11.5", "url": f"{files}/disk.img", "checksum": DISK_SHA512,
             "description": "Talos nocloud", "labels": {"os": "talos"}, "wait_timeout": 60}
    present_twice_then_check_then_absent(upstream, tmp_path, "homelab.harvester.harvester_image", talos,
                                         {"name": "talos-1.11", "state": "absent"})


def test_harvester_setting(upstream, tmp_path):
    many = {"settings": {"overcommit-config": {"cpu": 1600, "memory": 150, "storage": 200}, "log-level": "debug",
                         "upgrade-checker-enabled": False}}
    present_twice_then_check_then_absent(upstream, tmp_path, "homelab.harvester.harvester_setting", many,
                                         {"settings": {"log-level": None, "overcommit-config": None}, "state": "absent"})


def test_longhorn_setting(upstream, tmp_path):
    many = {"settings": {"default-replica-count": 2, "replica-auto-balance": "best-effort",
                         "storage-minimal-available-percentage": 15, "upgrade-checker": False}}
    present_twice_then_check_then_absent(upstream, tmp_path, "homelab.harvester.longhorn_setting", many, None)


def test_harvester_node_info(upstream, tmp_path):
    (info,), reqs, dummy = run_tasks(upstream, tmp_path, "homelab.harvester.harvester_node_info", [{}])
    assert info["changed"] is False and not info.get("failed"), info
    assert [n["name"] for n in info["nodes"]] == ["ms02-1", "ms02-2", "ms02-3"]
    assert all(n["healthy"] for n in info["nodes"]), [n["problems"] for n in info["nodes"]]
    assert writes(reqs) == []


def test_capi_cluster(upstream, tmp_path):
    harvester_objects(upstream)
    args = cluster_args(upstream, workers=[{"name": "workers", "replicas": 2}])
    present_twice_then_check_then_absent(upstream, tmp_path, "homelab.harvester.capi_cluster", args,
                                         {"name": "demo", "namespace": args["namespace"], "state": "absent", "wait_timeout": 120})
