# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`module_defaults: {group/homelab.harvester.harvester: ...}` gives every module of the
collection its connection, with no K8S_AUTH_* variable and no ~/.kube/config to fall back on;
and every module under plugins/modules that talks to the API is in that group (the modules that
take no API connection, harvester_install_files and amt_power, must not be: the group's connection
defaults would be unsupported parameters to them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.homelab.harvester.plugins.plugin_utils import in_process
from tests.integration.playbooks import ROOT, run_tasks

pytestmark = [pytest.mark.twin, pytest.mark.integration]

# one harmless task per module: each must reach the API through the group's defaults alone
TASKS = {
    "harvester_network": {"name": "grouped", "vlan_id": 40},
    "harvester_cluster_network": {"name": "grouped", "state": "absent"},
    "harvester_image": {"name": "grouped", "state": "absent"},
    "harvester_image_info": {"name": "grouped"},
    "harvester_keypair": {"name": "grouped", "state": "absent"},
    "harvester_setting": {"name": "log-level", "value": "debug"},
    "longhorn_setting": {"name": "log-level", "value": "Debug"},
    "harvester_node_info": {"name": "ms02-1"},
    "harvester_health_info": {"sections": ["settings"]},
    "harvester_network_info": {"label_selector": "app.kubernetes.io/managed-by=nobody"},
    "harvester_storage_class": {"name": "grouped", "state": "absent"},
    "harvester_storage_network": {"state": "absent"},  # disabled in the seeded lab: nothing to do
    "harvester_vm_power": {"name": "lab-builder", "state": "stopped"},
    "capi_cluster": {"name": "grouped", "state": "absent"},
    "capi_provider_info": {},
    "tinkerbell_machine": {"name": "grouped", "state": "absent"},
    "rufio_job": {"name": "grouped", "state": "absent"},
    "harvester_node": {"name": "ms02-1", "cordon": False},
    "harvester_upgrade": {"version": "v1.8.2"},
    "harvester_vm_backup": {"name": "grouped", "state": "absent"},
    "harvester_vm_backup_info": {},
    "harvester_vm_info": {"name": "lab-router"},
    "harvester_vm_restore": {"name": "grouped", "backup": "nope", "vm": "lab-router"},
}
# A restore has no harmless run: it refuses a backup that does not exist, which it can only know by
# asking the API -- so this answer proves the connection as well as a success would.
REFUSALS = {"harvester_vm_restore": "backup: VirtualMachineBackup default/nope not found"}


def assert_reached_the_api(module, result):
    """The harmless task succeeded, or (REFUSALS) failed with the answer only the API could give."""
    if module in REFUSALS:
        assert result.get("failed") and result["msg"] == REFUSALS[module], result
    else:
        assert not result.get("failed"), result


def api_modules():
    """The modules under plugins/modules whose argument spec has the connection options."""
    names = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    return [n for n in names if "api_key" in in_process.definition(n).argument_spec]


def test_every_api_module_is_in_the_action_group():
    modules = api_modules()
    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["harvester"]
    assert sorted(group) == modules and "harvester_network" in modules
    assert "harvester_install_files" not in modules and "amt_power" not in modules
    assert sorted(TASKS) == modules  # a new module gets a task below too


def test_module_defaults_give_every_module_the_connection(twin, tmp_path):
    """One playbook, one harmless task per module, the connection only in the group's defaults."""
    keys = {"module_defaults": {"group/homelab.harvester.harvester": {
        "host": twin.server, "api_key": twin.token, "ca_cert": str(twin.ca_file)}}}
    env = {"HOME": str(tmp_path)}  # no ~/.kube/config
    modules = sorted(TASKS)
    results, reqs, dummy = run_tasks(twin, tmp_path, None, [{f"homelab.harvester.{m}": TASKS[m]} for m in modules],
                                     play_keys=keys, env=env, kubeconfig=False)
    for module, result in zip(modules, results, strict=True):
        assert_reached_the_api(module, result)
    assert {r["agent"] for r in reqs} == {"homelab.harvester (ansible; in-process)"}
    assert reqs and all(r["status"] != 401 for r in reqs), reqs
    assert twin.token not in Path(tmp_path / "results.json").read_text()
