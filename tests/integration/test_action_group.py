# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`module_defaults: {group/homelab.harvester.harvester: ...}` gives every module of the
collection its connection, with no K8S_AUTH_* variable and no ~/.kube/config to fall back on;
and every module under plugins/modules is in that group."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.integration.playbooks import ROOT, run_tasks

pytestmark = [pytest.mark.twin, pytest.mark.integration]

# one harmless task per module: each must reach the API through the group's defaults alone
TASKS = {
    "harvester_network": {"name": "grouped", "vlan_id": 40},
    "harvester_cluster_network": {"name": "grouped", "state": "absent"},
    "harvester_image": {"name": "grouped", "state": "absent"},
    "harvester_keypair": {"name": "grouped", "state": "absent"},
    "harvester_setting": {"name": "log-level", "value": "debug"},
    "longhorn_setting": {"name": "log-level", "value": "Debug"},
    "harvester_node_info": {"name": "ms02-1"},
    "harvester_health_info": {"sections": ["settings"]},
    "harvester_network_info": {"label_selector": "app.kubernetes.io/managed-by=nobody"},
    "harvester_storage_class": {"name": "grouped", "state": "absent"},
    "harvester_vm_power": {"name": "lab-builder", "state": "stopped"},
    "capi_cluster": {"name": "grouped", "state": "absent"},
}


def test_every_module_is_in_the_action_group():
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["harvester"]
    assert sorted(group) == modules
    assert sorted(TASKS) == modules  # a new module gets a task below too


@pytest.mark.parametrize("module", sorted(TASKS))
def test_module_defaults_give_the_connection(twin, tmp_path, module):
    keys = {"module_defaults": {"group/homelab.harvester.harvester": {
        "host": twin.server, "api_key": twin.token, "ca_cert": str(twin.ca_file)}}}
    env = {"HOME": str(tmp_path)}  # no ~/.kube/config
    (result,), reqs, dummy = run_tasks(twin, tmp_path, f"homelab.harvester.{module}", [TASKS[module]],
                                       play_keys=keys, env=env, kubeconfig=False)
    assert not result.get("failed"), result
    assert reqs and all(r["status"] != 401 for r in reqs), reqs
    assert twin.token not in Path(tmp_path / "results.json").read_text()
