# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the drift_report filter (plugins/filter/drift.py), on results shaped like the
ones Ansible registers for our modules, loops, file modules and rescued failures."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.harvester.plugins.filter.drift import ABSENT, drift_report, drift_steps, leaf_changes


def texts(steps):
    return [e["text"] for e in drift_report(steps)]


def test_leaf_changes_of_nested_dicts():
    before = {"spec": {"config": {"vlan": 30, "type": "bridge"}, "gone": 1}}
    after = {"spec": {"config": {"vlan": 31, "type": "bridge"}, "new": {"a": 2}}}
    assert leaf_changes(before, after) == [
        (("spec", "config", "vlan"), 30, 31),
        (("spec", "gone"), 1, ABSENT),
        (("spec", "new", "a"), ABSENT, 2),
    ]


def test_leaf_changes_compare_lists_whole_and_equal_values_give_nothing():
    assert leaf_changes({"a": [1, 2]}, {"a": [1, 2]}) == []
    assert leaf_changes({"a": [1, 2]}, {"a": [2, 1]}) == [(("a",), [1, 2], [2, 1])]


def test_unchanged_skipped_and_missing_results_give_no_entry():
    steps = [
        {"step": "vlans", "result": {"changed": False, "diff": {"before": {"a": 1}, "after": {"a": 2}}}},
        {"step": "vlans", "result": {"skipped": True, "changed": False}},
        {"step": "storage", "result": None},  # the task never ran
        {"step": "storage", "result": ""},
    ]
    assert drift_report(steps) == []


def test_loop_items_are_named_by_their_item():
    result = {"changed": True, "results": [
        {"changed": True, "ansible_loop_var": "vlans_vlan", "vlans_vlan": {"name": "platform", "id": 30},
         "diff": {"before": {"spec": {"config": {"vlan": 31}}}, "after": {"spec": {"config": {"vlan": 30}}}}},
        {"changed": False, "ansible_loop_var": "vlans_vlan", "vlans_vlan": {"name": "cluster", "id": 40},
         "diff": {"before": {}, "after": {}}},
        {"changed": True, "ansible_loop_var": "vlans_stale", "vlans_stale": {"name": "old", "namespace": "default"},
         "diff": {"before": {"spec": {"config": {"vlan": 50}}}, "after": {}}},
    ]}
    assert texts([{"step": "vlans", "result": result}]) == [
        "vlans: platform: spec.config.vlan: 31 -> 30",
        "vlans: default/old: spec.config.vlan: 50 -> (absent)",
    ]


def test_keys_are_objects_for_settings_modules():
    result = {"changed": True, "diff": {"before": {"default-replica-count": {"v1": "2", "v2": "2"}},
                                        "after": {"default-replica-count": {"v1": "3", "v2": "3"}}}}
    entries = drift_report([{"step": "storage", "object": "longhorn setting", "keys_are_objects": True, "result": result}])
    assert [(e["object"], e["path"], e["before"], e["after"]) for e in entries] == [
        ("default-replica-count", "v1", "2", "3"), ("default-replica-count", "v2", "2", "3")]


def test_a_scalar_setting_value_is_shown_under_its_name():
    result = {"changed": True, "diff": {"before": {"log-level": "info"}, "after": {"log-level": "debug"}}}
    assert texts([{"step": "bootstrap", "keys_are_objects": True, "result": result}]) == ["bootstrap: log-level: info -> debug"]


def test_secret_steps_hide_values_but_name_the_field():
    result = {"changed": True, "diff": {"before": {"ssl-certificates": {"privateKey": "OLD-KEY"}},
                                        "after": {"ssl-certificates": {"privateKey": "NEW-KEY"}}}}
    lines = texts([{"step": "bootstrap", "keys_are_objects": True, "secret": True, "result": result}])
    assert lines == ["bootstrap: ssl-certificates: privateKey: (hidden) -> (hidden)"]
    assert "KEY" not in "".join(lines).replace("privateKey", "")


def test_file_results_never_show_their_content():
    result = {"changed": True, "results": [
        {"changed": True, "item": "ms02-1", "dest": "/srv/pxe/ms02-1.yaml",
         "diff": {"before": "token: OLD-TOKEN\n", "after": "token: NEW-TOKEN\n", "before_header": "/srv/pxe/ms02-1.yaml"}}]}
    lines = texts([{"step": "bootstrap", "result": result}])
    assert lines == ["bootstrap: /srv/pxe/ms02-1.yaml: content differs"]
    assert "TOKEN" not in lines[0]


def test_install_files_name_each_file_and_its_mode_never_the_content():
    result = {"changed": True, "diff": {
        "before": {"ms02-1.yaml": "sha256:aaaa", "ms02-1.yaml mode": "0o644", "ms02-2.ipxe": "#!ipxe\necho old\n",
                   "boot.ipxe": None},
        "after": {"ms02-1.yaml": "sha256:bbbb", "ms02-1.yaml mode": "0o600", "ms02-2.ipxe": "#!ipxe\necho new\n",
                  "boot.ipxe": "#!ipxe\n"}}}
    assert texts([{"step": "bootstrap", "files": True, "result": result}]) == [
        "bootstrap: boot.ipxe: missing", "bootstrap: ms02-1.yaml: content differs", "bootstrap: ms02-1.yaml: mode 0o644 -> 0o600",
        "bootstrap: ms02-2.ipxe: content differs"]


def test_changed_without_a_diff_still_counts():
    assert texts([{"step": "capi", "object": "keypair", "result": {"changed": True}}]) == [
        "capi: keypair: would change (the module gives no diff)"]


def test_failures_are_reported_with_their_message():
    rescued = {"failed": True, "msg": "Harvester refused it"}
    loop_failure = {"failed": True, "msg": "One or more items failed", "results": [
        {"failed": True, "msg": "node ms02-2: bond mgmt-bo has NIC(s) not up", "item": "ms02-2"},
        {"changed": False, "item": "ms02-1"}]}
    assert texts([{"step": "storage", "object": "storage-network", "result": rescued},
                  {"step": "bonding", "result": loop_failure}]) == [
        "storage: storage-network: not as planned: Harvester refused it",
        "bonding: ms02-2: not as planned: node ms02-2: bond mgmt-bo has NIC(s) not up"]


def test_long_values_are_shortened():
    result = {"changed": True, "diff": {"before": {"v": "x" * 500}, "after": {"v": "y"}}}
    (entry,) = drift_report([{"step": "s", "result": result}])
    assert len(entry["before"]) == 120 and entry["before"].endswith("...")


@pytest.mark.parametrize("steps", [{"step": "x"}, [{"result": {}}], ["vlans"]])
def test_bad_steps_are_refused(steps):
    with pytest.raises(AnsibleFilterError):
        drift_report(steps)


def test_drift_steps_tell_each_result_from_what_it_holds():
    results = {
        "storage_class_result": {"changed": True, "storage_class": {"kind": "StorageClass", "metadata": {"name": "lab-longhorn"}},
                                 "diff": {"before": {"metadata": {"annotations": {"d": "old"}}},
                                          "after": {"metadata": {"annotations": {"d": "new"}}}}},
        "bootstrap_ntp_result": {"changed": True, "changed_settings": ["ntp-servers"], "settings": {},
                                 "diff": {"before": {"ntp-servers": {"ntpServers": ["a"]}},
                                          "after": {"ntp-servers": {"ntpServers": ["b"]}}}},
        "bootstrap_files_result": {"changed": True, "files": [], "written": [],
                                   "diff": {"before": {"ms02-1.yaml": "sha256:a"}, "after": {"ms02-1.yaml": "sha256:b"}}},
        "storage_network_result": {"changed": True, "value": None,
                                   "diff": {"before": {}, "after": {"value": {"vlan": 60}}}},
        "storage_network_refusal_result": {"failed": True, "msg": "NOT applied"},
        "capi_keypair_result": {"skipped": True, "changed": False},
    }
    assert texts(drift_steps(results)) == [
        "bootstrap: ms02-1.yaml: content differs",
        'bootstrap: ntp-servers: ntpServers: ["a"] -> ["b"]',
        "storage: StorageClass lab-longhorn: metadata.annotations.d: old -> new",
        "storage: storage-network-refusal: not as planned: NOT applied",
        "storage: storage-network: value.vlan: (absent) -> 60",
    ]


@pytest.mark.parametrize("results", [["storage_class_result"], {"storage_class": {}}, {"storage_result": {}}])
def test_drift_steps_refuse_what_is_not_a_mapping_of_role_results(results):
    with pytest.raises(AnsibleFilterError):
        drift_steps(results)
