# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' rule that keeps playbooks/verify.yml's drift report complete: every task of a role that
may change the cluster (any homelab.harvester module but the read-only ``*_info`` ones, and the
refusals a role reports with an ignored ``fail``) registers ``<role>_<what>_result``. verify.yml finds
the results by that name, so a new task cannot be forgotten -- this test fails first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
VERIFY = ROOT / "playbooks" / "verify.yml"


def tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks(task.get(key))


def module_of(task):
    return next((k for k in task if k.startswith(("homelab.harvester.", "ansible.builtin."))), None)


def reporting(task):
    module = module_of(task) or ""
    if module.startswith("homelab.harvester."):
        return not module.endswith("_info")
    return module == "ansible.builtin.fail" and bool(task.get("ignore_errors"))


@pytest.mark.parametrize("role", ROLES)
def test_every_task_that_may_change_the_cluster_registers_a_result_for_the_drift_report(role):
    rule = re.compile(rf"^{role}_\w+_result$")
    found = []
    for path in sorted((ROOT / "roles" / role / "tasks").glob("*.yml")):
        for task in tasks(yaml.safe_load(path.read_text())):
            if reporting(task) and not rule.match(str(task.get("register", ""))):
                found.append(f"{path.name}: {task.get('name')}: register: {task.get('register')}")
    assert found == [], f"roles/{role}: these tasks must register {role}_<what>_result for verify.yml's drift report"


def test_verify_runs_every_role_and_finds_their_results_by_that_name():
    play = yaml.safe_load(VERIFY.read_text())[0]
    assert sorted(play["vars"]["verify_roles"]) == sorted(r for r in ROLES if r in play["vars"]["verify_roles"])
    assert set(play["vars"]["verify_roles"]) == {"bootstrap", "bonding", "vlans", "storage", "capi"}
    assert "_.+_result$" in play["vars"]["verify_result_names"]
    assert "drift_steps" in play["tasks"][1]["ansible.builtin.set_fact"]["verify_drift"]
