# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared option groups are written once: each doc fragment agrees with its spec constant
(plugins/module_utils/option_groups.py), every module's documentation as ansible-doc renders it
(its own options merged with its fragments') agrees with its argument spec, a module lists a
group's fragment exactly when its spec holds that group, and capi_cluster's ``harvester``
suboptions are the connection options."""

from __future__ import annotations

import importlib
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.homelab.harvester.plugins.module_utils import option_groups
from ansible_collections.homelab.harvester.plugins.module_utils.capi.options import HARVESTER_OPTIONS
from ansible_collections.homelab.harvester.plugins.module_utils.connection import CONNECTION_ARGS

PACKAGE = "ansible_collections.homelab.harvester.plugins"
MODULES = pathlib.Path(importlib.import_module(f"{PACKAGE}.modules").__path__[0])
COLLECTIONS = MODULES.parents[4]  # .collections/ansible_collections/homelab/harvester/plugins/modules
GROUPS = {
    "state": option_groups.STATE_ARGS,
    "wait": option_groups.wait_args(60),
    "namespace": option_groups.NAMESPACE_ARGS,
    "labels": option_groups.LABELS_ARGS,
    "description": option_groups.DESCRIPTION_ARGS,
    "info_filters": option_groups.INFO_FILTER_ARGS,
    "listing": option_groups.LISTING_ARGS,
}
KEYS = ("type", "default", "choices", "elements")


def fragment(group):
    return yaml.safe_load(importlib.import_module(f"{PACKAGE}.doc_fragments.{group}").ModuleDocFragment.DOCUMENTATION)["options"]


@pytest.fixture(scope="module")
def rendered():
    """Every module's documentation with its fragments merged, from ansible-doc itself (one run)."""
    names = sorted(p.stem for p in MODULES.glob("*.py") if p.name != "__init__.py")
    out = subprocess.run([sys.executable, "-m", "ansible.cli.doc", "-t", "module", "--json",
                          *(f"homelab.harvester.{n}" for n in names)], capture_output=True, text=True, check=True,
                         env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS.resolve())))
    return {name.rsplit(".", 1)[-1]: entry["doc"] for name, entry in json.loads(out.stdout).items()}


def parts(fragment_name):
    """The fragments a listed one stands for: homelab.harvester.api[.VARIANT] is its PARTS; listing is
    info_filters with a name."""
    name = fragment_name.removeprefix("homelab.harvester.")
    if name == "listing":
        return ("listing", "info_filters")
    base, dot, var = name.partition(".")
    if base == "api":
        api = importlib.import_module(f"{PACKAGE}.doc_fragments.api")
        return api.PARTS[(var or "documentation").upper()]
    return (name,)


def spec_of(name):
    return importlib.import_module(f"{PACKAGE}.modules.{name}").DEFINITION.argument_spec


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_each_fragment_documents_its_spec_constant(group):
    docs = fragment(group)
    assert set(docs) == set(GROUPS[group]), group
    for option, spec in GROUPS[group].items():
        if (group, option) == ("wait", "wait_timeout"):
            assert "default" not in docs[option], "each module documents its own wait_timeout default"
            continue
        assert {k: docs[option].get(k) for k in KEYS} == {k: spec.get(k) for k in KEYS}, (group, option)


def test_wait_args_takes_the_modules_timeout():
    assert option_groups.wait_args(7200)["wait_timeout"] == {"type": "int", "default": 7200}


def agree(docs, spec, where):
    assert set(docs) == set(spec), where
    for option, entry in spec.items():
        doc = docs[option]
        assert doc.get("description"), f"{where}.{option} has no description"
        for key in KEYS:
            assert doc.get(key) == entry.get(key), (f"{where}.{option}", key, doc.get(key), entry.get(key))
        assert sorted(doc.get("aliases") or []) == sorted(entry.get("aliases") or []), f"{where}.{option}"
        if "options" in entry:
            agree(doc.get("suboptions") or {}, entry["options"], f"{where}.{option}")


def test_every_modules_rendered_docs_agree_with_its_argument_spec(rendered):
    assert len(rendered) > 20
    for name, doc in rendered.items():
        agree(doc["options"], spec_of(name), name)


def test_a_module_lists_a_groups_fragment_exactly_when_its_spec_holds_the_group(rendered):
    for name in rendered:
        own = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{name}").DOCUMENTATION)
        listed = {part.split(".")[0] for f in own.get("extends_documentation_fragment") or [] for part in parts(f)}
        spec = spec_of(name)
        for group, options in GROUPS.items():
            holds = all(option in spec for option in options) and all(
                spec[o] == s if (group, o) != ("wait", "wait_timeout") else set(spec[o]) == {"type", "default"} and spec[o]["type"] == "int"
                for o, s in options.items())
            # a module selecting by namespace and label selector without being an *_info module
            # (harvester_vm_power) documents its namespace with the namespace fragment; one whose name
            # means more than a list's filter (harvester_vm_info, harvester_vm_power: fails when missing,
            # or namespace/name) documents its own name beside either
            alternatives = {"namespace": {"info_filters"}, "info_filters": {"namespace"},
                            "listing": {"info_filters", "namespace"}}.get(group, set())
            assert holds or group not in listed, (name, group, "listed, but the spec does not hold the group")
            assert not holds or group in listed or alternatives & listed, (name, group, "spec holds the group: list it")
        assert not {"namespace", "info_filters"} <= listed, name


def test_harvester_options_are_the_connection_options_without_fallbacks(rendered):
    assert set(HARVESTER_OPTIONS) == set(CONNECTION_ARGS)
    for option, spec in CONNECTION_ARGS.items():
        nested = HARVESTER_OPTIONS[option]
        assert "fallback" not in nested and "default" not in nested, option
        assert nested == {k: v for k, v in spec.items() if k not in ("fallback", "default")}, option
    assert HARVESTER_OPTIONS["api_key"]["no_log"] is True
    assert spec_of("capi_cluster")["harvester"]["options"] is HARVESTER_OPTIONS


def test_every_module_documents_every_attribute_and_its_action_group_membership(rendered):
    runtime = yaml.safe_load((COLLECTIONS / "ansible_collections/homelab/harvester/meta/runtime.yml").read_text())
    group = set(runtime["action_groups"]["harvester"])
    for name, doc in rendered.items():
        attributes = doc.get("attributes") or {}
        assert {"check_mode", "diff_mode", "action", "async"} <= set(attributes), name
        assert all(a.get("description") and a.get("support") for a in attributes.values()), name
        assert ("action_group" in attributes) == (name in group), name


def test_the_attribute_variants_share_their_common_entries_word_for_word():
    variants = importlib.import_module(f"{PACKAGE}.doc_fragments.attributes").ModuleDocFragment
    changing, info, standalone = (yaml.safe_load(getattr(variants, v))["attributes"]
                                  for v in ("DOCUMENTATION", "INFO_MODULE", "STANDALONE"))
    for entry in ("action", "async"):
        assert changing[entry] == info[entry] == standalone[entry], entry
    assert changing["action_group"] == info["action_group"] and "action_group" not in standalone
    assert changing["check_mode"] == standalone["check_mode"] and changing["diff_mode"] == standalone["diff_mode"]
    assert info["check_mode"]["description"] == changing["check_mode"]["description"]
    assert info["diff_mode"]["support"] == "none"
