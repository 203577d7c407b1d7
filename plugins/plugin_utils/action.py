# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin of every module of this collection (``plugins/action/<module>.py`` import
it): one runner, two paths.

Every task of this collection talks to an HTTPS API, so none needs to run on a managed host;
yet a module pays for an AnsiballZ payload, a new Python process and module_utils compiled from
a zip on every task (~0.4 s here, against ~15 ms of work for a no-op). So when the task's
connection is ``local`` (``connection: local``, ``ansible_connection: ansible.builtin.local``,
``delegate_to: localhost`` resolving to it), the module's ``run()`` is called inside this
worker process (``in_process.py``), where the HTTPS connection also stays open for every loop
item. Otherwise the ordinary module path runs, unchanged:

- ``homelab_harvester_in_process: false`` (a variable) or ``HOMELAB_HARVESTER_IN_PROCESS=false``
  (the controller's environment) -- the variable wins when both are set;
- ``async`` tasks (the async wrapper needs a module process);
- ``become`` (the module must run as the other user);
- any other connection (the module runs on that host, with that host's Python).

In process, the module uses the controller's Python (``ansible_playbook_python``), not
``ansible_python_interpreter``.
"""

from __future__ import annotations

import os

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.homelab.harvester.plugins.module_utils.progress import Progress
from ansible_collections.homelab.harvester.plugins.plugin_utils import in_process

SWITCH_VAR = "homelab_harvester_in_process"
SWITCH_ENV = "HOMELAB_HARVESTER_IN_PROCESS"

display = Display()


class InWorkerAction(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        task_env = {}
        self._compute_environment_string(task_env)
        reason = self.module_path_reason(task_vars, task_env)
        if reason:
            display.vvv(f"{self._task.action}: runs as a module ({reason})", host=task_vars.get("inventory_hostname"))
            return merge_hash(result, self._as_module(task_vars))
        return merge_hash(result, self._in_process(task_vars, task_env))

    def module_path_reason(self, task_vars, task_env):
        """Why this task must take the module path, or ``None`` when it can run in process."""
        if self._switch(task_vars, task_env) is False:
            return f"{SWITCH_VAR} or {SWITCH_ENV} is false"
        if self._task.async_val:
            return "async"
        transport = getattr(self._connection, "transport", None)
        if transport != "local":
            return f"connection {transport}"
        if self._play_context.become:
            return "become"
        return None

    def _switch(self, task_vars, task_env):
        """The variable if set, else the environment (the task's over the controller's), else ``None``."""
        if SWITCH_VAR in task_vars:
            return boolean(self._templar.template(task_vars[SWITCH_VAR]), strict=False)
        value = task_env.get(SWITCH_ENV, os.environ.get(SWITCH_ENV))
        return None if value is None else boolean(value, strict=False)

    def _as_module(self, task_vars):
        """What ``ansible.builtin.normal`` does."""
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = self._execute_module(task_vars=task_vars, wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _in_process(self, task_vars, task_env):
        host = task_vars.get("inventory_hostname", "localhost")
        progress = Progress(sink=lambda event: display.display(f"[{host}] {event['time']} {event['msg']}"))
        result = in_process.run(self._task.action, self._task.args, check_mode=self._task.check_mode, diff=self._task.diff,
                                warn=display.warning, deprecate=_deprecate, progress=progress, task_env=task_env)
        return as_module_result(result)


def as_module_result(result):
    """A failure as the module path hands it on: ``_execute_module`` marks a module's failure as
    the module's (the task then reads "Module failed: ..."), not as this action plugin's."""
    if result.get("failed"):
        try:
            from ansible._internal._errors._captured import AnsibleModuleCapturedError
        except ImportError:  # before ansible-core 2.19 nothing is marked
            return result
        AnsibleModuleCapturedError.normalize_result_exception(result)
    return result


def _deprecate(msg, version=None, date=None, collection_name=None):
    display.deprecated(msg, version=version, date=date, collection_name=collection_name)
