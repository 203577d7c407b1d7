# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From bare metal to Ready nodes, against the twin's bare-metal mode (the twin's `--bare`
starts with no node installed and the API at the VIP closed, one simulated AMT endpoint per node of
`--lab` written to amt-endpoints.yml next to its kubeconfig, the NAS played from `--nas DIR`, a node
booted with one-time PXE fetching boot.ipxe, its script and its install config, and joining after
the install delay). Through AMT and through Tinkerbell (Rufio's Job against the same simulated AMT),
each followed by a second run that touches no node's power."""

from __future__ import annotations

import pytest
import yaml

from tests.integration import lab_nas
from tests.integration.playbooks import ROOT
from tests.integration.roles import LAB_INVENTORY, get, run_site
from tests.modules.tinkerbell_twin import CRD_DIRS
from tests.twin.tests.conftest import start_twin, stop_twin

pytestmark = [pytest.mark.twin, pytest.mark.integration, pytest.mark.slow]

PLAYBOOK = ROOT / "playbooks" / "bootstrap.yml"
NODES = ["ms02-1", "ms02-2", "ms02-3"]
FAST = {"bootstrap_wait_delay": 2, "bootstrap_wait_retries": 150, "bootstrap_publish_dir": str(lab_nas.NAS_DIR / "harvester")}
JOBS = "/apis/bmc.tinkerbell.org/v1alpha1/namespaces/default/jobs"


@pytest.fixture
def bare(tmp_path, request):
    crds = getattr(request, "param", [])
    lab_nas.extra_vars(LAB_INVENTORY)  # the release files on the NAS
    args = ["--bare", "--lab", str(LAB_INVENTORY), "--nas", str(lab_nas.NAS_DIR), "--speed", "20"]
    twin = start_twin(tmp_path / "twin", crds, args)
    endpoints = yaml.safe_load((tmp_path / "twin" / "amt-endpoints.yml").read_text())
    yield twin, endpoints
    stop_twin(twin)


def log_lines(twin):
    return (twin.workdir / "twin.log").read_text().splitlines()


def ready(twin):
    return sorted(n["metadata"]["name"] for n in get(twin, "/api/v1/nodes")["items"]
                  if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]))


def first_line(lines, text):
    return next(i for i, line in enumerate(lines) if text in line)


def test_from_bare_metal_through_amt_then_nothing_powered_again(bare, tmp_path):
    twin, endpoints = bare
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOK, tags=["bootstrap"], extra_vars={**FAST, **endpoints})
    assert rc == 0 and recap["failed"] == 0, out
    assert ready(twin) == NODES
    lines = log_lines(twin)
    for node in NODES:
        assert any(f"AMT {node}: power on (one-time PXE)" in line for line in lines), lines
        assert any(f"{node}: PXE boot.ipxe -> {node}.ipxe -> {node}.yaml" in line for line in lines), lines
    assert any("ms02-1: installed (create), joined" in line for line in lines), lines
    # the joins are powered only once the create node brought the API up
    created = first_line(lines, "ms02-1: installed (create), joined")
    assert all(first_line(lines, f"AMT {node}: power on") > created for node in ("ms02-2", "ms02-3"))

    amt_lines = sum("AMT " in line and "power" in line for line in lines)
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOK, tags=["bootstrap"], extra_vars={**FAST, **endpoints})
    assert rc == 0 and recap["changed"] == 0, out
    assert sum("AMT " in line and "power" in line for line in log_lines(twin)) == amt_lines


@pytest.mark.parametrize("bare", [CRD_DIRS], indirect=True)
def test_from_bare_metal_through_tinkerbell_then_nothing_changes(bare, tmp_path):
    """With Tinkerbell's and Rufio's upstream CRDs when the checkout has them (else the twin's trimmed
    copies); the Tinkerbell cluster's API is the twin's second listener, up while Harvester's is not."""
    twin, endpoints = bare
    tink = {**FAST, **endpoints, "bootstrap_provisioner": "tinkerbell", "bootstrap_tinkerbell_namespace": "default",
            "bootstrap_tinkerbell_kubeconfig": str(twin.workdir / "tinkerbell-kubeconfig")}
    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOK, tags=["bootstrap"], extra_vars=tink)
    assert rc == 0 and recap["failed"] == 0, out
    assert ready(twin) == NODES
    jobs = {j["metadata"]["name"]: j for j in get(twin, JOBS)["items"]}
    assert sorted(jobs) == [f"{n}-install" for n in NODES]
    for job in jobs.values():
        assert any(c["type"] == "Completed" and c["status"] == "True" for c in job["status"]["conditions"]), job
    for kind in ("tinkerbell.org/v1alpha1/namespaces/default/hardware", "bmc.tinkerbell.org/v1alpha1/namespaces/default/machines"):
        assert sorted(o["metadata"]["name"] for o in get(twin, f"/apis/{kind}")["items"]) == NODES

    rc, out, recap = run_site(twin, tmp_path, playbook=PLAYBOOK, tags=["bootstrap"], extra_vars=tink)
    assert rc == 0 and recap["changed"] == 0, out
