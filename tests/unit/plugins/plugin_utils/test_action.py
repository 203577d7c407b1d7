# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/plugin_utils/action.py: when a task runs in the worker and when it falls back to the
module path (the switch as a variable or an environment variable, async, another connection,
become). The playbook-level proof of both paths is in tests/integration/test_execution_paths.py."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.plugin_utils.action import SWITCH_ENV, SWITCH_VAR, InWorkerAction


def action(transport="local", async_val=0, become=False):
    task = Mock(async_val=async_val)
    templar = Mock()
    templar.template.side_effect = lambda value: value
    return InWorkerAction(task, Mock(transport=transport), Mock(become=become), Mock(), templar, Mock())


@pytest.mark.parametrize("kwargs, task_vars, task_env, reason", [
    ({}, {}, {}, None),
    ({}, {SWITCH_VAR: True}, {}, None),
    ({}, {SWITCH_VAR: False}, {}, f"{SWITCH_VAR} or {SWITCH_ENV} is false"),
    ({}, {SWITCH_VAR: "no"}, {}, f"{SWITCH_VAR} or {SWITCH_ENV} is false"),
    ({}, {}, {SWITCH_ENV: "false"}, f"{SWITCH_VAR} or {SWITCH_ENV} is false"),
    ({}, {SWITCH_VAR: True}, {SWITCH_ENV: "false"}, None),  # the variable wins
    ({"async_val": 30}, {}, {}, "async"),
    ({"transport": "ssh"}, {}, {}, "connection ssh"),
    ({"become": True}, {}, {}, "become"),
])
def test_when_a_task_runs_in_the_worker(kwargs, task_vars, task_env, reason, monkeypatch):
    monkeypatch.delenv(SWITCH_ENV, raising=False)
    assert action(**kwargs).module_path_reason(task_vars, task_env) == reason


def test_the_controller_environment_switch_applies_when_the_task_sets_none(monkeypatch):
    monkeypatch.setenv(SWITCH_ENV, "0")
    assert action().module_path_reason({}, {}) == f"{SWITCH_VAR} or {SWITCH_ENV} is false"
    assert action().module_path_reason({}, {SWITCH_ENV: "1"}) is None
