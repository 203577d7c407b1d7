# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every task of every module's EXAMPLES passes that module's argument validation, as ansible-core
runs it before the module (the same ArgumentSpecValidator, spec and constraints): no removed or
misspelt option, no wrong choice or type, no missing required option, no conflicting pair. A value
that is a Jinja expression is known only when the play runs; it stands in here as a value of the
option's type. sanity's validate-modules only checks that EXAMPLES is YAML."""

from __future__ import annotations

import copy
import importlib
import pathlib

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

PACKAGE = "ansible_collections.homelab.harvester.plugins.modules"
MODULES = sorted(p.stem for p in pathlib.Path(importlib.import_module(PACKAGE).__path__[0]).glob("*.py")
                 if p.name != "__init__.py")
PREFIX = "homelab.harvester."
STAND_INS = {"int": 1, "float": 1.0, "bool": True, "list": [], "dict": {}, "path": "/tmp/x", "raw": "x", "str": "x"}


def stand_in(value, spec):
    """``value`` with each Jinja expression replaced by a value of its option's type."""
    if isinstance(value, str) and "{{" in value:
        return copy.deepcopy(STAND_INS.get((spec or {}).get("type", "str"), "x"))
    if isinstance(value, dict) and spec and "options" in spec:
        return {k: stand_in(v, spec["options"].get(k)) for k, v in value.items()}
    if isinstance(value, list) and spec and "options" in spec:
        return [stand_in(item, dict(spec, type="dict")) for item in value]
    return value


def tasks(module):
    """(name, args) of each task of the module's EXAMPLES that calls it (blocks opened)."""
    def walk(items):
        for item in items or []:
            yield from walk(item.get("block"))
            if f"{PREFIX}{module}" in item:
                yield item.get("name", "(unnamed)"), item[f"{PREFIX}{module}"] or {}
    return list(walk(yaml.safe_load(importlib.import_module(f"{PACKAGE}.{module}").EXAMPLES)))


@pytest.mark.parametrize("module", MODULES)
def test_every_example_task_passes_the_modules_argument_validation(module):
    definition = importlib.import_module(f"{PACKAGE}.{module}").DEFINITION
    found = tasks(module)
    assert found, f"{module}: no EXAMPLES task calls {PREFIX}{module}"
    for name, args in found:
        params = {k: stand_in(v, definition.argument_spec.get(k)) for k, v in args.items()}
        result = ArgumentSpecValidator(copy.deepcopy(definition.argument_spec), **definition.constraints).validate(params)
        assert not result.error_messages, f"{module} EXAMPLES {name!r}: {result.error_messages}"


def test_an_unknown_option_or_a_jinja_value_of_the_wrong_shape_is_caught():
    spec = {"a": {"type": "int"}, "b": {"type": "dict", "options": {"c": {"type": "bool"}}}}
    assert stand_in({"c": "{{ x }}"}, spec["b"]) == {"c": True}
    result = ArgumentSpecValidator(spec).validate({"a": stand_in("{{ n }}", spec["a"]), "z": 1})
    assert result.error_messages and "z" in result.error_messages[0]
