# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module of this collection run inside the ansible-playbook worker, under the same contract as
the module path (``module_utils/module.py``): the module's ``DEFINITION`` validated by
ansible-core's ``ArgumentSpecValidator``, its ``run`` called through the same ``ModuleContext``,
and the result shaped the way ``AnsibleModule.exit_json``/``fail_json`` shape it:

- arguments: the same spec, constraints, defaults, ``K8S_AUTH_*`` fallbacks (read from the
  task's environment), aliases and their warnings, and the same messages, including
  ``Unsupported parameters for (<module>) module: ...``;
- the result: ``invocation.module_args`` (the validated arguments), every value of a ``no_log``
  option and every secret the module hid masked by ``remove_values``, booleans and ``None``
  kept as they were; then a JSON round trip, as the module's stdout would be;
- warnings (the module's own and the API's ``Warning`` headers) go to the display, which the
  task executor collects into the task's ``warnings`` just as it collects a module's;
- a failure's ``exception`` (its traceback) kept only when the controller asks for tracebacks,
  as ``AnsibleModule.fail_json`` keeps it (ansible-core 2.19+: ``ANSIBLE_DISPLAY_TRACEBACK``;
  before 2.19 always, shown at ``-vvv``).

Only code the action plugin uses lives here (``plugin_utils``), never code a module ships with.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
import os
import traceback

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.homelab.harvester.plugins.module_utils.module import ModuleContext

MODULES = "ansible_collections.homelab.harvester.plugins.modules."


def definition(module_name):
    """The ``DEFINITION`` of a module of this collection, by its short or full name."""
    short = module_name.rpartition(".")[2]
    return importlib.import_module(MODULES + short).DEFINITION


@contextlib.contextmanager
def environment(extra):
    """The task's ``environment:`` on top of the worker's own, while the module runs (its
    ``K8S_AUTH_*`` fallbacks, ``KUBECONFIG``, ``HOME`` are read from ``os.environ``). The worker
    process runs this one task, one loop item at a time, so nobody else sees the change."""
    if not extra:
        yield
        return
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update({str(k): str(v) for k, v in extra.items()})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(module_name, args, *, check_mode=False, diff=False, warn=None, deprecate=None, progress=None, task_env=None):
    """The result the module would have returned for ``args`` (the task's arguments after
    ``module_defaults``). ``warn(text)`` and ``deprecate(msg, version, date, collection_name)``
    show a warning or deprecation; ``progress`` is a ``progress.Progress``."""
    spec = definition(module_name)
    with environment(task_env):
        params = _plain(args)
        # a copy: ansible-core fills suboption defaults into a dict option's default in place, and
        # this worker keeps the module loaded for the next loop item (a module process does not)
        validator = ArgumentSpecValidator(copy.deepcopy(spec.argument_spec), **spec.constraints)
        validation = validator.validate(params)
        # AnsibleModule's order: merge the validated values, collect no_log values, then report
        params.update(validation.validated_parameters)
        no_log_values = set(validation._no_log_values)
        for item in validation._deprecations:
            if deprecate is not None:
                deprecate(item["msg"], item.get("version"), item.get("date"), item.get("collection_name"))
        for item in validation._warnings:
            if warn is not None:
                warn(f"Both option {item['option']} and its alias {item['alias']} are set.")
        if validation.error_messages:
            msg = validation.errors.msg
            if isinstance(validation.errors.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({module_name}) module: {msg}"
            return _formatted({"failed": True, "msg": msg}, params, no_log_values)
        context = ModuleContext(params, check_mode=check_mode, diff_mode=diff, warn=warn, no_log_values=no_log_values,
                                progress=progress, way="in-process")
        try:
            result = context.execute(spec.run)
        except Exception as e:  # a bug, not a refusal: reported as a module process reports its crash
            return unexpected(e)
    if "exception" in result and not tracebacks_shown():
        del result["exception"]
    return _formatted(result, params, context.no_log_values)


def tracebacks_shown():
    """Whether a failure carries its traceback, as ``AnsibleModule.fail_json`` decides it: from
    ansible-core 2.19 on when the controller's ``DISPLAY_TRACEBACK`` includes errors, before it
    always (the default callback prints ``exception`` at ``-vvv``)."""
    try:
        from ansible.module_utils._internal import _traceback
        from ansible.utils import display  # noqa: F401  (installs the controller's DISPLAY_TRACEBACK reading)
    except ImportError:
        return True
    return _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR)


def unexpected(exception):
    """The result AnsiballZ gives for an exception a module did not handle: ``failed`` and the
    exception's summary (its traceback only when tracebacks are on), no ``msg``."""
    try:
        from ansible.module_utils._internal import _errors, _messages, _traceback
    except ImportError:  # before ansible-core 2.19: the message, and the traceback shown at -vvv
        return {"failed": True, "msg": f"{type(exception).__name__}: {exception}",
                "exception": "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))}
    enabled = _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR)
    return {"failed": True, "exception": _messages.ErrorSummary(event=_errors.EventFactory.from_exception(exception, enabled))}


def _formatted(result, params, no_log_values):
    """``AnsibleModule._return_formatted``: invocation, then no_log masking that keeps booleans
    and ``None``; then the JSON round trip the module's output takes."""
    result.setdefault("invocation", {"module_args": params})
    preserved = {k: v for k, v in result.items() if v is None or isinstance(v, bool)}
    result = remove_values(result, no_log_values)
    result.update(preserved)
    return json.loads(json.dumps(result))


def _plain(value):
    """The task's arguments as a module receives them: encoded the way ansible-core encodes a
    module's arguments (its ``legacy`` serialization profile: vaulted and tagged values become
    their plain values, dates strings), then decoded as plain JSON types."""
    return json.loads(json.dumps(value, cls=_argument_encoder()))


def _argument_encoder():
    try:
        from ansible.module_utils.common.json import Direction, get_module_encoder
    except ImportError:  # before ansible-core 2.19
        return json.JSONEncoder
    return get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE)
