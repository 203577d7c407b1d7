"""The twin's CRD schema engine: pruning, defaulting and validation as kube-apiserver does them.

Messages are asserted verbatim: they are what `kubectl` shows from a real apiserver
(apimachinery field.Error.Error() around kube-openapi's texts).
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.twin.schema import FieldError, Schema, StrictDecodingError

REFERENCE_CRDS = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "crds"


def spec_schema(spec: dict, **root) -> Schema:
    """A resource schema whose `spec` is `spec`."""
    return Schema({"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": spec}, **root})


def obj(spec) -> dict:
    return {"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "a"}, "spec": spec}


def errors(schema: Schema, spec) -> list[str]:
    return [str(e) for e in schema.validate(obj(spec))]


def admitted(schema: Schema, spec) -> tuple[dict, list[str], list[str]]:
    new, warnings, errs = schema.admit(obj(spec))
    return new["spec"], warnings, [str(e) for e in errs]


# ---------------------------------------------------------------------------------------------
# pruning


NESTED = {"type": "object", "properties": {
    "name": {"type": "string"},
    "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
    "labels": {"type": "object", "additionalProperties": {"type": "object", "properties": {"v": {"type": "string"}}}},
}}


def test_prune_reports_sorted_paths_including_list_items_and_map_values():
    s = spec_schema(NESTED)
    o = obj({"name": "n", "foo": 1, "bar": {"x": 1},
             "items": [{"a": "x", "bogus": 1}, {"bogus": 2}],
             "labels": {"k1": {"v": "1", "junk": True}}})
    o["extra"] = 1
    paths = s.prune(o)
    assert paths == ["extra", "spec.bar", "spec.foo", "spec.items[0].bogus", "spec.items[1].bogus", "spec.labels.k1.junk"]
    assert o == obj({"name": "n", "items": [{"a": "x"}, {}], "labels": {"k1": {"v": "1"}}})


def test_prune_keeps_root_type_and_object_meta_untouched():
    s = spec_schema({"type": "object"})
    o = obj({})
    o["metadata"] = {"name": "a", "labels": {"x": "y"}, "whatever": 1}
    assert s.prune(o) == []
    assert o["metadata"] == {"name": "a", "labels": {"x": "y"}, "whatever": 1}
    assert o["apiVersion"] == "x.io/v1" and o["kind"] == "X"


def test_prune_preserve_unknown_fields_still_prunes_specified_properties():
    s = spec_schema({"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {
        "known": {"type": "object", "properties": {"a": {"type": "string"}}}}})
    o = obj({"anything": {"deep": [1, {"x": 2}]}, "known": {"a": "1", "b": 2}})
    assert s.prune(o) == ["spec.known.b"]
    assert o["spec"] == {"anything": {"deep": [1, {"x": 2}]}, "known": {"a": "1"}}


def test_prune_embedded_resource_keeps_type_and_object_meta():
    s = spec_schema({"type": "object", "properties": {"template": {
        "type": "object", "x-kubernetes-embedded-resource": True,
        "properties": {"spec": {"type": "object", "properties": {"n": {"type": "integer"}}}}}}})
    o = obj({"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "odd": 1},
                         "spec": {"n": 1, "m": 2}, "status": {}}})
    assert s.prune(o) == ["spec.template.spec.m", "spec.template.status"]
    assert o["spec"]["template"] == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "odd": 1}, "spec": {"n": 1}}


def test_admit_reports_unknown_fields_as_warnings():
    s = spec_schema(NESTED)
    original = obj({"name": "n", "foo": 1})
    new, warnings, errs = s.admit(original)
    assert warnings == ['unknown field "spec.foo"']
    assert errs == []
    assert new["spec"] == {"name": "n"}
    assert original["spec"] == {"name": "n", "foo": 1}  # admit works on a copy


def test_admit_strict_refuses_unknown_fields():
    s = spec_schema(NESTED)
    with pytest.raises(StrictDecodingError) as exc:
        s.admit(obj({"name": "n", "foo": 1, "bar": 2}), strict=True)
    assert str(exc.value) == 'strict decoding error: unknown field "spec.bar", unknown field "spec.foo"'
    assert exc.value.paths == ["spec.bar", "spec.foo"]
    new, warnings, errs = s.admit(obj({"name": "n"}), strict=True)
    assert (new["spec"], warnings, errs) == ({"name": "n"}, [], [])


# ---------------------------------------------------------------------------------------------
# defaulting and nulls

DEFAULTS = {"type": "object", "properties": {
    "mode": {"type": "string", "default": "active-backup"},
    "bond": {"type": "object", "properties": {"miimon": {"type": "integer", "default": -1}}},
    "withDefault": {"type": "object", "default": {}, "properties": {"n": {"type": "integer", "default": 3}}},
    "list": {"type": "array", "items": {"type": "object", "properties": {"p": {"type": "integer", "default": 80}}}},
    "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"on": {"type": "boolean", "default": True}}}},
    "tags": {"type": "array", "default": ["a"], "items": {"type": "string"}},
}}


def test_defaults_fill_absent_fields_but_never_create_parents_without_default():
    spec, _, errs = admitted(spec_schema(DEFAULTS), {})
    assert spec == {"mode": "active-backup", "withDefault": {"n": 3}, "tags": ["a"]}
    assert errs == []


def test_defaults_apply_inside_present_objects_list_items_and_map_values():
    spec, _, _ = admitted(spec_schema(DEFAULTS), {"mode": "x", "bond": {}, "list": [{}, {"p": 1}], "map": {"a": {}, "b": {"on": False}}})
    assert spec == {"mode": "x", "bond": {"miimon": -1}, "withDefault": {"n": 3}, "tags": ["a"],
                    "list": [{"p": 80}, {"p": 1}], "map": {"a": {"on": True}, "b": {"on": False}}}


def test_defaults_are_deep_copies():
    s = spec_schema(DEFAULTS)
    first, _, _ = admitted(s, {})
    first["tags"].append("mutated")
    second, _, _ = admitted(s, {})
    assert second["tags"] == ["a"]


def test_null_of_non_nullable_field_gets_default_or_is_dropped():
    s = spec_schema({"type": "object", "required": ["gone"], "properties": {
        "d": {"type": "string", "default": "dflt"},
        "gone": {"type": "string"},
        "keep": {"type": "string", "nullable": True},
        "list": {"type": "array", "items": {"type": "string"}},
    }})
    spec, _, errs = admitted(s, {"d": None, "gone": None, "keep": None, "list": ["a", None]})
    assert spec == {"d": "dflt", "keep": None, "list": ["a", None]}
    # a dropped null leaves a required field missing; a null list item stays a type error
    assert errs == [
        'spec.list[1]: Invalid value: "null": spec.list[1] in body must be of type string: "null"',
        "spec.gone: Required value",
    ]


# ---------------------------------------------------------------------------------------------
# validation: one message per keyword


def test_type_errors():
    s = spec_schema({"type": "object", "properties": {
        "replicas": {"type": "integer"}, "on": {"type": "boolean"}, "o": {"type": "object"}, "l": {"type": "array"}}})
    assert errors(s, {"replicas": "string", "on": 1, "o": [], "l": {}}) == [
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        'spec.on: Invalid value: "integer": spec.on in body must be of type boolean: "integer"',
        'spec.o: Invalid value: "array": spec.o in body must be of type object: "array"',
        'spec.l: Invalid value: "object": spec.l in body must be of type array: "object"',
    ]
    [e] = s.validate(obj({"replicas": "3"}))
    assert (e.path, e.reason) == ("spec.replicas", "FieldValueTypeInvalid")


def test_integer_accepts_whole_floats_but_not_fractions_nor_booleans():
    s = spec_schema({"type": "object", "properties": {"n": {"type": "integer"}, "m": {"type": "integer", "format": "int32"}}})
    assert errors(s, {"n": 3.0, "m": 4.0}) == []
    assert errors(s, {"n": 1.5}) == ['spec.n: Invalid value: "number": spec.n in body must be of type integer: "number"']
    # with a format kube-openapi names the format and the Go type of the value
    assert errors(s, {"m": 1.5}) == ['spec.m: Invalid value: "float64": spec.m in body must be of type int32: "float64"']
    assert errors(s, {"n": True}) == ['spec.n: Invalid value: "boolean": spec.n in body must be of type integer: "boolean"']


def test_number_accepts_integers():
    s = spec_schema({"type": "object", "properties": {"x": {"type": "number"}}})
    assert errors(s, {"x": 3}) == []


def test_required():
    s = spec_schema({"type": "object", "required": ["uplink", "clusterNetwork"], "properties": {
        "uplink": {"type": "object"}, "clusterNetwork": {"type": "string"}}}, required=["spec"])
    assert errors(s, {"clusterNetwork": "c"}) == ["spec.uplink: Required value"]
    [e] = s.validate(obj({"clusterNetwork": "c"}))
    assert (e.path, e.reason, e.message) == ("spec.uplink", "FieldValueRequired", "Required value")
    o = obj({})
    del o["spec"]
    assert [str(e) for e in s.validate(o)] == ["spec: Required value"]


def test_enum():
    s = spec_schema({"type": "object", "properties": {
        "mode": {"type": "string", "enum": ["balance-rr", "active-backup", "802.3ad"]},
        "n": {"type": "integer", "enum": [1, 2]},
        "opt": {"type": "string", "nullable": True, "enum": ["a"]}}})
    [e] = s.validate(obj({"mode": "lacp-please"}))
    assert str(e) == ('spec.mode: Unsupported value: "lacp-please": supported values: "balance-rr", "active-backup", "802.3ad"')
    assert e.reason == "FieldValueNotSupported"
    assert errors(s, {"n": 3}) == ['spec.n: Unsupported value: 3: supported values: "1", "2"']
    assert errors(s, {"n": 2.0, "mode": "802.3ad"}) == []
    # kube-openapi's enum check never matches null, nullable or not
    assert errors(s, {"opt": None}) == ['spec.opt: Unsupported value: null: supported values: "a"']


def test_numeric_bounds():
    s = spec_schema({"type": "object", "properties": {
        "min": {"type": "integer", "minimum": -1},
        "xmin": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        "max": {"type": "integer", "maximum": 65535},
        "xmax": {"type": "number", "maximum": 1.5, "exclusiveMaximum": True},
        "big": {"type": "number", "maximum": 10}}})
    assert errors(s, {"min": -2, "xmin": 0, "max": 70000, "xmax": 1.5, "big": 1234567.5}) == [
        "spec.min: Invalid value: -2: spec.min in body should be greater than or equal to -1",
        "spec.xmin: Invalid value: 0: spec.xmin in body should be greater than 0",
        "spec.max: Invalid value: 70000: spec.max in body should be less than or equal to 65535",
        "spec.xmax: Invalid value: 1.5: spec.xmax in body should be less than 1.5",
        # Go prints float64 with %v: exponent from 1e+06 up
        "spec.big: Invalid value: 1.2345675e+06: spec.big in body should be less than or equal to 10",
    ]
    assert errors(s, {"min": -1, "xmin": 1, "max": 65535, "xmax": 1.4}) == []


def test_multiple_of():
    s = spec_schema({"type": "object", "properties": {
        "i": {"type": "integer", "multipleOf": 5}, "f": {"type": "number", "multipleOf": 0.5}}})
    assert errors(s, {"i": 10, "f": 2.5}) == []
    assert errors(s, {"i": 7, "f": 0.3}) == [
        "spec.i: Invalid value: 7: spec.i in body should be a multiple of 5",
        "spec.f: Invalid value: 0.3: spec.f in body should be a multiple of 0.5",
    ]


def test_string_lengths_count_characters():
    s = spec_schema({"type": "object", "properties": {
        "short": {"type": "string", "maxLength": 3}, "one": {"type": "string", "maxLength": 1},
        "long": {"type": "string", "minLength": 2}}})
    assert errors(s, {"short": "ééé", "one": "é", "long": "éé"}) == []
    errs = s.validate(obj({"short": "abcd", "one": "ab", "long": "a"}))
    assert [str(e) for e in errs] == [
        "spec.short: Too long: may not be more than 3 bytes",
        "spec.one: Too long: may not be more than 1 byte",
        'spec.long: Invalid value: "a": spec.long in body should be at least 2 chars long',
    ]
    assert [e.reason for e in errs] == ["FieldValueTooLong", "FieldValueTooLong", "FieldValueInvalid"]


def test_pattern_uses_go_end_of_text():
    s = spec_schema({"type": "object", "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}}})
    assert errors(s, {"name": "abc-1"}) == []
    assert errors(s, {"name": "Abc"}) == [
        "spec.name: Invalid value: \"Abc\": spec.name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'"]
    # Go's $ is end of text; Python's would also match before a final newline
    assert len(errors(s, {"name": "abc\n"})) == 1


def test_string_checks_stop_at_the_first_failure():
    s = spec_schema({"type": "object", "properties": {"x": {"type": "string", "maxLength": 2, "pattern": "^a+$"}}})
    assert errors(s, {"x": "bbb"}) == ["spec.x: Too long: may not be more than 2 bytes"]


def test_item_and_property_counts():
    s = spec_schema({"type": "object", "properties": {
        "nics": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
        "one": {"type": "array", "maxItems": 1},
        "sel": {"type": "object", "minProperties": 1},
        "few": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}}}})
    assert errors(s, {"nics": [], "sel": {}}) == [
        "spec.nics: Invalid value: 0: spec.nics in body should have at least 1 items",
        "spec.sel: Invalid value: 0: spec.sel in body should have at least 1 properties",
    ]
    errs = s.validate(obj({"nics": ["a", "b", "c"], "one": [1, 2], "few": {"a": "1", "b": 2}}))
    assert [str(e) for e in errs] == [
        "spec.nics: Too many: 3: must have at most 2 items",
        "spec.one: Too many: 2: must have at most 1 item",
        # too many properties stops the object's other checks (the bad value of b is not reported)
        "spec.few: Too many: 2: must have at most 1 item",
    ]
    assert {e.reason for e in errs} == {"FieldValueTooMany"}


def test_additional_properties_values_use_dotted_paths():
    s = spec_schema({"type": "object", "properties": {"nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}}}})
    assert errors(s, {"nodeSelector": {"foo": 1, "ok": "x"}}) == [
        'spec.nodeSelector.foo: Invalid value: "integer": spec.nodeSelector.foo in body must be of type string: "integer"']


def test_nested_list_item_paths():
    s = spec_schema({"type": "object", "properties": {"uplink": {"type": "object", "properties": {
        "nics": {"type": "array", "items": {"type": "string", "minLength": 1}}}}}})
    assert errors(s, {"uplink": {"nics": ["eth0", ""]}}) == [
        'spec.uplink.nics[1]: Invalid value: "": spec.uplink.nics[1] in body should be at least 1 chars long']


def test_nullable():
    s = spec_schema({"type": "object", "properties": {
        "a": {"type": "string", "nullable": True}, "b": {"type": "object"}}})
    assert errors(s, {"a": None}) == []
    # validate() alone does not drop nulls (admit's prune step does)
    assert errors(s, {"b": None}) == ['spec.b: Invalid value: "null": spec.b in body must be of type object: "null"']


def test_int_or_string():
    bare = spec_schema({"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": True}}})
    assert errors(bare, {"port": 80}) == errors(bare, {"port": "http"}) == []
    assert errors(bare, {"port": True}) == [
        'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"']
    # controller-gen also writes anyOf, and the apiserver then reports the anyOf failure too
    gen = spec_schema({"type": "object", "properties": {"port": {
        "anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}}})
    assert errors(gen, {"port": "80%"}) == []
    assert errors(gen, {"port": 1.5}) == [
        'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"',
        '<nil>: Invalid value: "": "spec.port" must validate at least one schema (anyOf)',
        'spec.port: Invalid value: "number": spec.port in body must be of type integer: "number"',
    ]


def test_preserve_unknown_fields_without_type_accepts_anything():
    s = spec_schema({"type": "object", "properties": {"raw": {"x-kubernetes-preserve-unknown-fields": True}}})
    for v in (1, "s", [1, {"a": None}], {"k": [True]}, None, 2.5):
        assert errors(s, {"raw": v}) == []
    new, warnings, errs = s.admit(obj({"raw": {"k": {"deep": 1}}}))
    assert (new["spec"], warnings, errs) == ({"raw": {"k": {"deep": 1}}}, [], [])


def test_composition_keywords():
    s = spec_schema({"type": "object", "properties": {
        "any": {"type": "string", "anyOf": [{"pattern": "^a"}, {"maxLength": 1}]},
        "one": {"type": "integer", "oneOf": [{"minimum": 0}, {"maximum": 10}]},
        "all": {"type": "string", "allOf": [{"minLength": 2}, {"pattern": "^x"}]},
        "not": {"type": "string", "not": {"enum": ["forbidden"]}}}})
    assert errors(s, {"any": "a", "one": -5, "all": "xy", "not": "fine"}) == []
    assert errors(s, {"any": "bb"}) == [
        '<nil>: Invalid value: "": "spec.any" must validate at least one schema (anyOf)',
        "spec.any: Invalid value: \"bb\": spec.any in body should match '^a'",
    ]
    assert errors(s, {"one": 5}) == ['<nil>: Invalid value: "": "spec.one" must validate one and only one schema (oneOf). Found 2 valid alternatives']
    assert errors(s, {"all": "y"}) == [
        'spec.all: Invalid value: "y": spec.all in body should be at least 2 chars long',
        "spec.all: Invalid value: \"y\": spec.all in body should match '^x'",
        '<nil>: Invalid value: "": "spec.all" must validate all the schemas (allOf). None validated',
    ]
    assert errors(s, {"not": "forbidden"}) == ['<nil>: Invalid value: "": "spec.not" must not validate the schema (not)']


def test_list_type_set_reports_second_appearances_only():
    s = spec_schema({"type": "object", "properties": {
        "s": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "n": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "number"}}}})
    errs = s.validate(obj({"s": ["a", "b", "a", "a", "b"], "n": [1, 1.0]}))
    # 1 (int64) and 1.0 (float64) are different set members for the apiserver
    assert [str(e) for e in errs] == ['spec.s[2]: Duplicate value: "a"', 'spec.s[4]: Duplicate value: "b"']
    assert {e.reason for e in errs} == {"FieldValueDuplicate"}


def test_list_type_map_duplicate_keys():
    item = {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}, "x": {"type": "string"}}}
    s = spec_schema({"type": "object", "properties": {
        "one": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"], "items": item},
        "two": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name", "port"], "items": item}}})
    assert errors(s, {"one": [{"name": "a", "x": "1"}, {"name": "b"}, {"name": "a", "x": "2"}, {}, {}],
                      "two": [{"name": "a", "port": 1}, {"name": "a", "port": 2}, {"port": 1, "name": "a"}]}) == [
        'spec.one[2]: Duplicate value: {"name":"a"}',
        "spec.one[4]: Duplicate value: {}",
        'spec.two[2]: Duplicate value: {"name":"a","port":1}',
    ]
    assert errors(s, {"one": [{"name": "a"}, "str"]}) == [
        'spec.one[1]: Invalid value: "string": spec.one[1] in body must be of type object: "string"',
        'spec.one[1]: Invalid value: "str": must be an object for an array of list-type map',
    ]


def test_embedded_resource_needs_api_version_and_kind():
    s = spec_schema({"type": "object", "properties": {"template": {
        "type": "object", "x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True}}})
    assert errors(s, {"template": {"apiVersion": "v1", "kind": "Pod"}}) == []
    assert errors(s, {"template": {"metadata": {}}}) == ["spec.template.apiVersion: Required value", "spec.template.kind: Required value"]
    assert errors(s, {"template": {"apiVersion": "a/b/c", "kind": "Pod_1"}}) == [
        'spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c',
        'spec.template.kind: Invalid value: "Pod_1": may have mixed case, but should otherwise match: a DNS-1035 label must consist '
        "of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric "
        "character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]


def test_x_kubernetes_validations_are_not_evaluated():
    s = spec_schema({"type": "object", "x-kubernetes-validations": [{"rule": "false", "message": "never"}],
                     "properties": {"a": {"type": "string", "x-kubernetes-validations": [{"rule": "self == 'x'"}]}}})
    assert errors(s, {"a": "y"}) == []


# ---------------------------------------------------------------------------------------------
# formats

FORMATS = {f: {"type": "string", "format": f} for f in (
    "byte", "date-time", "date", "uuid", "ipv4", "ipv6", "cidr", "mac", "hostname", "email", "uri", "duration",
    "quantity", "int64", "no-such-format", "password", "k8s-short-name")}


@pytest.mark.parametrize(("fmt", "good", "bad"), [
    ("byte", ["qrvM3e7/", "YWI=", "YQ=="], ["aa:bb:cc:dd:ee:ff", "", "YWI", "YW=I"]),
    ("date-time", ["2024-02-29T10:00:00Z", "2024-01-01T23:59:59.123+02:00", "2024-01-01t00:00:00z"],
     ["2024-01-01", "2024-01-01T24:00:00Z", "2023-02-29T10:00:00Z", "2024-01-01T10:00:00", "", "yesterday"]),
    ("date", ["2024-02-29", "2000-12-31"], ["2023-02-29", "2024-1-01", "2024-13-01", "20240101"]),
    ("uuid", ["123e4567-e89b-12d3-a456-426614174000", "123E4567E89B12D3A456426614174000"], ["123e4567-e89b-12d3-a456", "x"]),
    ("ipv4", ["10.0.0.1", "010.000.000.001"], ["10.0.0", "256.1.1.1", "fe80::1", "a.b.c.d"]),
    ("ipv6", ["fe80::1", "::ffff:10.0.0.1", "2001:db8::"], ["10.0.0.1", "fe80::1%eth0", "::g"]),
    ("cidr", ["10.0.0.0/8", "2001:db8::/32", "10.0.0.1/32"], ["10.0.0.0", "10.0.0.0/33", "2001:db8::/129"]),
    ("mac", ["aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff"], ["aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:gg", "aabbccddeeff"]),
    # go-openapi's hostname regex only lets a dotless name have a dash in second position
    ("hostname", ["example.com", "a", "a-b", "node1.example.com", "my-host.lan"],
     ["-a.com", "a..com", "a_b.com", "x" * 64 + ".com", "my-host"]),
    ("email", ["a@b.c", "John Doe <john@example.com>"], ["nope", "a@", "@b.c"]),
    ("uri", ["https://example.com/x?y=1", "/abs/path", "mailto:a@b.c"], ["relative/path", "http://exa mple.com/", "/bad%zz"]),
    ("duration", ["1h30m", "-5s", "0", "300ms", "3 days", "1 hour"], ["", "1x", "h"]),
    ("quantity", ["1Gi", "500m", "1.5", "1e3", "0"], ["", "1GB", "1K", "abc"]),
    ("k8s-short-name", ["my-name"], ["My-Name", "-a", "a" * 64]),
    # formats the apiserver does not know, or that do not apply to strings, are ignored
    ("int64", ["anything"], []),
    ("no-such-format", ["anything"], []),
    ("password", ["anything", ""], []),
])
def test_formats(fmt, good, bad):
    s = spec_schema({"type": "object", "properties": {"x": FORMATS[fmt]}})
    for value in good:
        assert errors(s, {"x": value}) == [], value
    for value in bad:
        assert errors(s, {"x": value}) == [
            f'spec.x: Invalid value: "{value}": spec.x in body must be of type {fmt}: "{value}"'], value


def test_format_error_reason_and_non_string_values():
    s = spec_schema({"type": "object", "properties": {"x": FORMATS["byte"]}})
    [e] = s.validate(obj({"x": "not base64!"}))
    assert (e.path, e.reason) == ("spec.x", "FieldValueTypeInvalid")
    # a number for a string with a format: kube-openapi names the format and the Go type
    assert errors(s, {"x": 5}) == ['spec.x: Invalid value: "int64": spec.x in body must be of type byte: "int64"']


# ---------------------------------------------------------------------------------------------
# robustness and the public types


def test_validate_never_raises_on_odd_input():
    s = spec_schema(NESTED)
    assert s.validate({}) == []
    assert [str(e) for e in s.validate(obj("a string spec"))] == [
        'spec: Invalid value: "string": spec in body must be of type object: "string"']
    s.validate(obj({"items": "x", "labels": [1], "name": {"a": object()}}))
    for junk in (None, 1, "x", [1], {"spec": {"items": [None, 1, "s", {"a": None}]}}):
        s.validate(junk)  # type: ignore[arg-type]
        Schema(None).validate(junk)  # type: ignore[arg-type]


def test_field_error_str_and_values_rendering():
    e = FieldError("spec.x", "FieldValueRequired", "Required value")
    assert str(e) == "spec.x: Required value"
    s = spec_schema({"type": "object", "properties": {"x": {"type": "string", "enum": ["a"]}}})
    assert errors(s, {"x": {"k": [1, 2.5, "q<"]}}) == [
        'spec.x: Invalid value: "object": spec.x in body must be of type string: "object"',
        'spec.x: Unsupported value: {"k":[1,2.5,"q\\u003c"]}: supported values: "a"',
    ]
    assert errors(s, {"x": 'say "hi"\n'}) == ['spec.x: Unsupported value: "say \\"hi\\"\\n": supported values: "a"']


def test_schema_is_compiled_once_and_reusable():
    raw = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "integer", "default": 1}}}}}
    before = copy.deepcopy(raw)
    s = Schema(raw)
    for _ in range(3):
        new, _, errs = s.admit({"spec": {}})
        assert new == {"spec": {"a": 1}} and errs == []
    assert raw == before


# ---------------------------------------------------------------------------------------------
# the upstream CRDs (shared/reference/crds, absent in a fresh clone)


def _upstream() -> dict[str, dict[str, Schema]]:
    if not REFERENCE_CRDS.is_dir():
        pytest.skip(f"no upstream CRDs at {REFERENCE_CRDS}")
    out: dict[str, dict[str, Schema]] = {}
    for path in sorted(REFERENCE_CRDS.glob("*/*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            versions = {}
            for v in doc["spec"]["versions"]:
                raw = (v.get("schema") or {}).get("openAPIV3Schema")
                if raw:
                    versions[v["name"]] = Schema(raw)
            out[doc["metadata"]["name"]] = versions
    if not out:
        pytest.skip(f"no CRDs under {REFERENCE_CRDS}")
    return out


@pytest.fixture(scope="module")
def upstream() -> dict[str, dict[str, Schema]]:
    return _upstream()


def test_upstream_crds_all_compile(upstream):
    assert len(upstream) > 20
    for name, versions in upstream.items():
        assert versions, name
        for schema in versions.values():
            schema.validate({})  # never raises


def vlanconfig(uplink: dict) -> dict:
    return {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "VlanConfig", "metadata": {"name": "vc"},
            "spec": {"clusterNetwork": "cn1", "uplink": uplink}}


def test_upstream_vlanconfig(upstream):
    schema = upstream["vlanconfigs.network.harvesterhci.io"]["v1beta1"]
    new, warnings, errs = schema.admit(vlanconfig({"nics": ["enp1s0f0", "enp1s0f1"], "bondOptions": {"mode": "802.3ad"}}))
    assert (warnings, errs) == ([], [])
    assert new["spec"]["uplink"]["bondOptions"] == {"mode": "802.3ad", "miimon": -1}

    _, _, errs = schema.admit(vlanconfig({"nics": ["enp1s0f0"], "bondOptions": {"mode": "lacp-please"}}))
    assert [(e.path, e.reason) for e in errs] == [("spec.uplink.bondOptions.mode", "FieldValueNotSupported")]
    assert str(errs[0]).startswith('spec.uplink.bondOptions.mode: Unsupported value: "lacp-please": supported values: "balance-rr", ')

    _, _, errs = schema.admit(vlanconfig({"nics": ["enp1s0f0"], "linkAttributes": {"hardwareAddr": "aa:bb:cc:dd:ee:ff"}}))
    assert [str(e) for e in errs] == [
        'spec.uplink.linkAttributes.hardwareAddr: Invalid value: "aa:bb:cc:dd:ee:ff": '
        'spec.uplink.linkAttributes.hardwareAddr in body must be of type byte: "aa:bb:cc:dd:ee:ff"']
    new, _, errs = schema.admit(vlanconfig({"nics": ["enp1s0f0"], "linkAttributes": {"hardwareAddr": "qrvM3e7/"}}))
    assert errs == []
    assert new["spec"]["uplink"]["linkAttributes"] == {"hardwareAddr": "qrvM3e7/", "txQLen": -1}


def test_upstream_longhorn_setting_needs_value(upstream):
    schema = upstream["settings.longhorn.io"]["v1beta2"]
    setting = {"apiVersion": "longhorn.io/v1beta2", "kind": "Setting", "metadata": {"name": "s", "namespace": "longhorn-system"}}
    _, _, errs = schema.admit(setting)
    assert [str(e) for e in errs] == ["value: Required value"]
    _, _, errs = schema.admit({**setting, "value": "true"})
    assert errs == []


def test_upstream_virtual_machine_image_source_type(upstream):
    schema = upstream["virtualmachineimages.harvesterhci.io"]["v1beta1"]
    image = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage", "metadata": {"name": "i", "namespace": "default"},
             "spec": {"displayName": "ubuntu", "sourceType": "download", "url": "http://example.com/u.img"}}
    assert schema.admit(image)[2] == []
    image["spec"]["sourceType"] = "nope"
    errs = schema.admit(image)[2]
    assert [(e.path, e.reason) for e in errs] == [("spec.sourceType", "FieldValueNotSupported")]
    assert str(errs[0]) == ('spec.sourceType: Unsupported value: "nope": supported values: "download", "upload", '
                            '"export-from-volume", "restore", "clone"')


def test_upstream_capi_cluster_v1beta2(upstream):
    schema = upstream["clusters.cluster.x-k8s.io"]["v1beta2"]
    cluster = {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "metadata": {"name": "c1", "namespace": "default"},
               "spec": {
                   "clusterNetwork": {"pods": {"cidrBlocks": ["10.52.0.0/16"]}, "services": {"cidrBlocks": ["10.53.0.0/16"]}},
                   "controlPlaneRef": {"apiGroup": "controlplane.cluster.x-k8s.io", "kind": "TalosControlPlane", "name": "c1-cp"},
                   "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "HarvesterCluster", "name": "c1"}}}
    new, warnings, errs = schema.admit(cluster)
    assert (warnings, errs) == ([], [])
    assert new["spec"]["controlPlaneRef"]["name"] == "c1-cp"
    cluster["spec"]["controlPlaneRef"] = {"kind": "TalosControlPlane", "name": "C1"}
    errs = [str(e) for e in schema.admit(cluster)[2]]
    assert "spec.controlPlaneRef.apiGroup: Required value" in errs
    assert ("spec.controlPlaneRef.name: Invalid value: \"C1\": spec.controlPlaneRef.name in body should match "
            "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'") in errs
