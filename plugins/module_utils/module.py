# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract every homelab.harvester module runs under, whichever way its task executes.

A module file declares what it is, once::

    def run(module):                       # the module's one function -> result dict
        ...
    DEFINITION = ModuleDefinition(ARGUMENT_SPEC, run, mutually_exclusive=[...])

    if __name__ == "__main__":
        run_module(DEFINITION)             # the AnsiballZ path: AnsibleModule, exit_json/fail_json

The in-process path (``plugins/plugin_utils/in_process.py``, used by the collection's action
plugin when the task runs on the controller) validates the same spec with ansible-core's
``ModuleArgumentSpecValidator`` and calls the same ``run`` through the same ``ModuleContext``.
So the things that make up the contract live here, once:

- ``ModuleContext``: what ``run(module)`` sees -- ``params``, ``check_mode``, ``diff_mode``,
  ``client`` (the one ``Client``, built on first use with ``dry_run=check_mode``, so input checks
  made before touching it never cause a request), ``warn``, ``hide`` (values no output may
  show), ``progress`` (what long waits report);
- ``ModuleContext.execute(run)``: the one result shape -- ``changed``, ``diff`` only under
  ``--diff``, ``progress`` when a wait reported any, and any ``HarvesterError`` turned into
  ``failed`` + ``msg`` + the error's fields (``e.as_dict()``) + ``exception``, its traceback as
  text. Each path hands ``exception`` on as ``AnsibleModule.fail_json`` does: only when the
  controller asks for tracebacks (ansible-core 2.19+: ``ANSIBLE_DISPLAY_TRACEBACK=error``;
  before 2.19 always, and the default callback prints it at ``-vvv``);
- the API's ``Warning`` headers become the task's warnings (the client calls ``warn``).
"""

from __future__ import annotations

import copy
import traceback

from ansible.module_utils.basic import AnsibleModule

from .client import Client, user_agent
from .connection import CONNECTION_ARGS, kubeconfig_secrets, resolve
from .errors import HarvesterError
from .progress import Progress

CONSTRAINTS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


class ModuleDefinition:
    """A module's argument spec (the connection options are added here, unless ``connection`` is
    false: a module that never talks to the API), the constraints AnsibleModule takes
    (``mutually_exclusive``, ``required_if``, ...) and its ``run``."""

    __slots__ = ("argument_spec", "run", "constraints")

    def __init__(self, argument_spec, run, connection=True, **constraints):
        unknown = set(constraints) - set(CONSTRAINTS)
        if unknown:
            raise TypeError(f"unknown module constraints: {', '.join(sorted(unknown))}")
        spec = dict(CONNECTION_ARGS) if connection else {}
        spec.update(argument_spec)
        self.argument_spec = spec
        self.run = run
        self.constraints = {k: v for k, v in constraints.items() if v}


class ModuleContext:
    """What ``run(module)`` is given. ``warn(text)`` shows a warning; ``no_log_values`` is the
    set the result is masked with (AnsibleModule's own on the module path); ``way`` says how the
    task runs (``module`` or ``in-process``), sent in the User-Agent so a server log tells them apart."""

    def __init__(self, params, *, check_mode=False, diff_mode=False, warn=None, no_log_values=None, progress=None,
                 way="module"):
        self.params = params
        self.way = way
        self.check_mode = bool(check_mode)
        self.diff_mode = bool(diff_mode)
        self._warn = warn
        self.no_log_values = set() if no_log_values is None else no_log_values
        self.progress = progress if progress is not None else Progress()
        self._connection = None
        self._client = None
        self.hide(kubeconfig_secrets(params.get("kubeconfig")))

    @property
    def client(self):
        if self._client is None:
            self._connection = resolve(self.params)
            self.hide(self._connection.secret_values())
            self._client = Client(self._connection, dry_run=self.check_mode, progress=self.progress,
                                  user_agent=user_agent(self.way), warn=self.warn)
        return self._client

    def warn(self, message):
        if self._warn is not None:
            self._warn(message)

    def hide(self, values):
        """Strings no output of this task may show (secrets the module learns while it runs)."""
        self.no_log_values.update(str(v) for v in values if v)

    def execute(self, run):
        """``run(self)`` -> the task result (see the module docstring)."""
        try:
            result = run(self)
        except HarvesterError as e:
            result = dict(e.as_dict(), failed=True, msg=str(e), exception=traceback_text(e))
        if self._connection is not None:  # an exec plugin may have produced a token since
            self.hide(self._connection.secret_values())
        diff = result.pop("diff", None)
        if self.diff_mode and diff is not None:
            result["diff"] = diff
        if self.progress.events:
            result["progress"] = list(self.progress.events)
        return result


def traceback_text(exception):
    """The traceback of ``exception`` as Python prints it (``exception`` of a failed result)."""
    return "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))


def run_module(definition):
    """The module path: AnsibleModule reads the arguments and writes the result."""
    # a copy, as in process: ansible-core fills suboption defaults into a dict option's default in place
    ansible = AnsibleModule(argument_spec=copy.deepcopy(definition.argument_spec), supports_check_mode=True,
                            **definition.constraints)
    context = ModuleContext(ansible.params, check_mode=ansible.check_mode, diff_mode=ansible._diff, warn=ansible.warn,
                            no_log_values=ansible.no_log_values)
    result = context.execute(definition.run)
    if result.pop("failed", False):
        ansible.fail_json(**result)  # keeps ``exception`` only when the controller asked for tracebacks
    ansible.exit_json(**result)
