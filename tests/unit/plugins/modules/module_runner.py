# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module the AnsiballZ way (``run_module(DEFINITION)``) in-process for unit tests: module arguments through
``patch_module_args`` (ansible-core 2.19), the ``Client`` class replaced by a mock, and
exit_json/fail_json turned into an exception whose result the test reads (with the module's
warnings under ``warnings``)."""

from __future__ import annotations

from unittest.mock import Mock, patch

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.homelab.harvester.plugins.module_utils import module as module_base
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client

CONNECTION = {"host": "https://harvester.example:6443", "api_key": "s3cr3t-token-value"}


class Exit(Exception):
    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind, self.result = kind, result


def run(module, args, client=None, check_mode=False, diff=False):
    """Run ``module`` (a module file of the collection) with ``args`` (plus CONNECTION for a module that talks to the API); returns
    (kind "exit"|"fail", result, the mocked Client class, whose call says how the client was built)."""
    fake_client = client or Mock(spec=Client)

    def build(*args, **kwargs):  # the real Client keeps the task's progress reporter and check mode
        fake_client.progress = kwargs.get("progress")
        fake_client.dry_run = kwargs.get("dry_run", False)
        return fake_client

    client_class = Mock(side_effect=build)
    warnings = []

    def exit_json(self, **result):
        raise Exit("exit", dict(result, warnings=warnings))

    def fail_json(self, msg, **result):
        raise Exit("fail", dict(result, msg=msg))

    extra = {"_ansible_check_mode": check_mode, "_ansible_diff": diff,
             "_ansible_module_name": "homelab.harvester." + module.__name__.rpartition(".")[2]}
    connection = CONNECTION if "api_key" in module.DEFINITION.argument_spec else {}
    with patch_module_args(dict(connection, **args, **extra)), \
            patch.object(module_base, "Client", client_class), \
            patch.object(module_base.AnsibleModule, "exit_json", exit_json), \
            patch.object(module_base.AnsibleModule, "fail_json", fail_json), \
            patch.object(module_base.AnsibleModule, "warn", lambda self, w: warnings.append(w)):
        with pytest.raises(Exit) as e:
            module_base.run_module(module.DEFINITION)
    return e.value.kind, e.value.result, client_class
