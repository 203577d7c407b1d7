# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' meta/argument_specs.yml as documentation: a ``default`` there is a value of the
option's type, shown as is by ansible-doc and the docs site, never a Jinja expression. The real
defaults that come from the lab plan are computed in defaults/main.yml; the option's description
then says where the value comes from ("Defaults to ...")."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))


def templated(value):
    return isinstance(value, str) and "{{" in value


def spec_options(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return [(entry, name, option) for entry, spec in specs.items() for name, option in (spec.get("options") or {}).items()]


def description(option):
    text = option.get("description", "")
    return " ".join(text) if isinstance(text, list) else text


def test_there_are_roles_to_check():
    assert {"capi", "storage", "vlans", "bootstrap", "bonding"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_no_default_is_a_jinja_expression(role):
    found = [f"{entry}.{name}: {option['default']!r}" for entry, name, option in spec_options(role) if templated(option.get("default"))]
    assert found == [], f"roles/{role}/meta/argument_specs.yml gives Jinja as default (put it in defaults/main.yml)"


@pytest.mark.parametrize("role", ROLES)
def test_an_option_defaulted_by_an_expression_says_where_its_value_comes_from(role):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    silent = [f"{entry}.{name}" for entry, name, option in spec_options(role)
              if templated(defaults.get(name)) and "Defaults to" not in description(option)]
    assert silent == [], f"roles/{role}: these options take their default from an expression in defaults/main.yml " \
                         "but their description does not say where it comes from (Defaults to ...)"
