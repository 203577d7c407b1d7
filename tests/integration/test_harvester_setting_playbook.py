# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_setting through ansible-playbook: the S3 keys of a backup-target value never reach
what ansible-playbook prints, neither its diff nor, at -vvv, the task's result and arguments
(the module hides them; the rest of its behaviour is in tests/modules/test_harvester_setting.py)."""

from __future__ import annotations

import json

import pytest

from tests.integration.playbooks import run_tasks
from tests.modules.test_harvester_setting import S3

pytestmark = [pytest.mark.twin, pytest.mark.integration]


def test_backup_target_s3_keys_stay_out_of_the_printed_output(twin, tmp_path):
    (result,), dummy, stdout = run_tasks(twin, tmp_path, "homelab.harvester.harvester_setting",
                                         [{"name": "backup-target", "value": S3}], diff=True,
                                         env={"ANSIBLE_VERBOSITY": "3"})
    assert result["changed"] is True and not result.get("failed"), result
    assert "backup-target" in stdout and "********" in stdout  # the diff was printed, masked
    assert "\"module_args\"" in stdout  # and, at -vvv, the arguments
    text = json.dumps(result) + stdout
    assert S3["secretAccessKey"] not in text and S3["accessKeyId"] not in text
