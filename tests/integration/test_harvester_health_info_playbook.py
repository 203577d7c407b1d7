# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/health.yml against the twin: a healthy lab reports no problem; a NIC taken down and a
faulted volume are named, fail the playbook (unless told not to), and the run only reads. The
module's own answers are in tests/modules/test_harvester_health_info.py."""

from __future__ import annotations

import json

import pytest

from tests.integration.playbooks import writes
from tests.integration.roles import ROOT, run_site

pytestmark = [pytest.mark.twin, pytest.mark.integration]

TWIN_ARGS = ["--speed", "20"]
HEALTH = ROOT / "playbooks" / "health.yml"
LINKMONITORS = "/apis/network.harvesterhci.io/v1beta1/linkmonitors"
REPLICAS = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/replicas"
DNS_VOLUME = "pvc-5e9a3c71-2d18-4b6f-8e04-9f1a7c3b2d21"


def merge_patch(twin, path, body):
    twin.session().patch(twin.url(path), data=json.dumps(body),
                         headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()


def break_the_lab(twin):
    """ms02-2 loses a bond NIC; every replica of lab-dns's volume fails (faulted)."""
    links = twin.session().get(twin.url(f"{LINKMONITORS}/nic")).json()["status"]["linkStatus"]
    links["ms02-2"] = [dict(e, state="down") if e["name"] == "enp2s0f1np1" else e for e in links["ms02-2"]]
    merge_patch(twin, f"{LINKMONITORS}/nic", {"status": {"linkStatus": links}})
    replicas = twin.session().get(twin.url(REPLICAS), params={"labelSelector": f"longhornvolume={DNS_VOLUME}"}).json()["items"]
    for replica in replicas:
        merge_patch(twin, f"{REPLICAS}/{replica['metadata']['name']}", {"spec": {"failedAt": "2026-12-02T10:00:00Z"}})


def test_playbook_names_the_problems_and_fails(twin, tmp_path):
    rc, out, recap = run_site(twin, tmp_path, playbook=HEALTH)
    assert rc == 0 and "no problems" in out, out
    assert "nodes: 3/3 Ready, 3 schedulable, 0 in maintenance, 3 without problems" in out

    break_the_lab(twin)
    since = twin.last_seq()
    rc, out, recap = run_site(twin, tmp_path, playbook=HEALTH)
    assert rc != 0 and recap["failed"] == 1, out
    assert "node ms02-2: NIC enp2s0f1np1 of bond mgmt-bo is down" in out
    assert f"volume {DNS_VOLUME} (PVC default/lab-dns-rootdisk) is faulted" in out
    assert writes([r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]) == []

    rc, out, recap = run_site(twin, tmp_path, playbook=HEALTH, extra_vars={"health_fail": False})
    assert rc == 0 and "problems:" in out, out
