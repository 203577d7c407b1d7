# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/fragments.py: fragments joined and derived, and the fragments built with it."""

from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.homelab.harvester.plugins.plugin_utils.fragments import combined, variant

PACKAGE = "ansible_collections.homelab.harvester.plugins.doc_fragments"
A = "options:\n  a: {type: str}\nnotes: [first]\n"
B = "options:\n  b: {type: int}\nattributes:\n  check_mode: {support: full}\nnotes: [second]\n"


def test_combined_puts_options_and_attributes_side_by_side_and_notes_in_order():
    assert yaml.safe_load(combined(A, B)) == {"options": {"a": {"type": "str"}, "b": {"type": "int"}},
                                              "notes": ["first", "second"],
                                              "attributes": {"check_mode": {"support": "full"}}}


def test_combined_refuses_an_entry_two_fragments_define():
    with pytest.raises(ValueError, match=r"options \['a'\] defined by two fragments"):
        combined(A, "options:\n  a: {type: int}\n")


def test_variant_removes_and_changes_entries_and_leaves_the_original():
    doc = "attributes:\n  x: {support: full}\n  y: {support: full}\n"
    assert yaml.safe_load(variant(doc, "attributes", remove=["x"], change={"y": {"support": "none", "details": "d"}})) == {
        "attributes": {"y": {"support": "none", "details": "d"}}}
    assert yaml.safe_load(doc)["attributes"]["x"] == {"support": "full"}


def test_variant_puts_added_entries_first_and_refuses_one_already_there():
    doc = "options:\n  b: {type: str}\n"
    assert list(yaml.safe_load(variant(doc, "options", add={"a": {"type": "int"}}))["options"]) == ["a", "b"]
    with pytest.raises(ValueError, match=r"\['b'\] added but already there"):
        variant(doc, "options", add={"b": {"type": "int"}})


def test_listing_is_info_filters_with_a_name_and_every_namespace_on_null():
    listing = yaml.safe_load(importlib.import_module(f"{PACKAGE}.listing").ModuleDocFragment.DOCUMENTATION)["options"]
    filters = yaml.safe_load(importlib.import_module(f"{PACKAGE}.info_filters").ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(listing) == {"name", *filters}
    assert listing["label_selector"] == filters["label_selector"]
    assert "V(null)" in listing["namespace"]["description"][0]


@pytest.mark.parametrize("variant_name", ["DOCUMENTATION", "INFO_MODULE", "MANAGED_OBJECT", "TINKERBELL"])
def test_each_api_fragment_is_exactly_its_parts(variant_name):
    api = importlib.import_module(f"{PACKAGE}.api")
    built = yaml.safe_load(getattr(api.ModuleDocFragment, variant_name))
    expected = {"options": {}, "attributes": {}, "notes": []}
    for part in api.PARTS[variant_name]:
        name, dot, var = part.partition(".")
        doc = yaml.safe_load(getattr(importlib.import_module(f"{PACKAGE}.{name}").ModuleDocFragment,
                                     (var or "documentation").upper()))
        expected["options"].update(doc.get("options") or {})
        expected["attributes"].update(doc.get("attributes") or {})
        expected["notes"].extend(doc.get("notes") or [])
    assert built["options"] == expected["options"] and built["attributes"] == expected["attributes"]
    assert built.get("notes", []) == expected["notes"]
