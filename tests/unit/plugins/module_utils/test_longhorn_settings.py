# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the Longhorn 1.12 settings knowledge (plugins/module_utils/longhorn_settings.py).

Expected values come from longhorn-manager types/setting.go, the Longhorn 1.12 settings reference
and shared/reference/longhorn-capi.md section 1 -- never from the twin's own catalogue."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import longhorn_settings as lhs

# --------------------------------------------------------------------------------------------- catalogue


def test_catalogue_entries_the_lab_touches():
    drc = lhs.SETTINGS["default-replica-count"]
    assert (drc.type, drc.engines) == ("int", ("v1", "v2"))
    assert json.loads(drc.default) == {"v1": "3", "v2": "3"}
    gim = lhs.SETTINGS["guaranteed-instance-manager-cpu"]
    assert (gim.type, gim.engines) == ("float", ("v1", "v2"))
    assert lhs.SETTINGS["disable-revision-counter"].engines == ("v1",)
    assert lhs.SETTINGS["freeze-filesystem-for-snapshot"].engines == ("v1",)
    assert lhs.SETTINGS["replica-rebuild-concurrent-sync-limit"].engines == ("v1",)
    assert lhs.SETTINGS["data-engine-memory-size"].engines == ("v2",)
    assert lhs.SETTINGS["offline-replica-rebuilding"].engines is None  # scalar again since 1.11
    assert lhs.SETTINGS["node-drain-policy"].default == "block-if-contains-last-replica"
    assert lhs.SETTINGS["default-backup-block-size"].type == "int"
    assert lhs.SETTINGS["crd-api-version"].read_only
    assert not lhs.SETTINGS["support-bundle-manager-image"].read_only


def test_every_des_default_names_exactly_its_engines():
    for setting in lhs.SETTINGS.values():
        if setting.data_engine_specific:
            assert sorted(json.loads(setting.default)) == sorted(setting.engines), setting.name
            assert set(setting.engines) <= set(lhs.ENGINES)
        else:
            assert not setting.default.startswith("{"), setting.name


def test_owned_and_warning_lists_point_at_harvester_settings():
    assert lhs.OWNED_BY_HARVESTER["storage-network"] == "storage-network"
    assert lhs.OWNED_BY_HARVESTER["v2-data-engine"] == "longhorn-v2-data-engine-enabled"
    assert lhs.OWNED_BY_HARVESTER["storage-over-provisioning-percentage"].startswith("overcommit-config")
    assert lhs.OWNED_BY_HARVESTER["guaranteed-instance-manager-cpu"].startswith("instance-manager-resources")
    assert "storage-minimal-available-percentage" not in lhs.OWNED_BY_HARVESTER
    for name in ("backup-target", "backup-target-credential-secret", "backupstore-poll-interval"):
        assert lhs.OWNED_BY_HARVESTER[name].startswith("backup-target")
        assert name not in lhs.SETTINGS  # not a Setting since Longhorn 1.8
    assert set(lhs.REVERTED_BY_CONFIGMAP) >= {"priority-class", "auto-cleanup-when-delete-backup", "orphan-resource-auto-deletion"}
    assert lhs.DANGER_ZONE == {"taint-toleration", "system-managed-components-node-selector", "priority-class", "storage-network"}


# --------------------------------------------------------------------------------------------- normalise


@pytest.mark.parametrize("name, value, wire", [
    ("default-replica-count", 3, '{"v1":"3","v2":"3"}'),
    ("default-replica-count", "2", '{"v1":"2","v2":"2"}'),
    ("default-replica-count", " 2 ", '{"v1":"2","v2":"2"}'),
    ("default-replica-count", {"v2": 2, "v1": 3}, '{"v1":"3","v2":"2"}'),
    ("default-replica-count", '{"v2":"2","v1":"3"}', '{"v1":"3","v2":"2"}'),
    ("guaranteed-instance-manager-cpu", 12.0, '{"v1":"12","v2":"12"}'),
    ("guaranteed-instance-manager-cpu", "12.50", '{"v1":"12.5","v2":"12.5"}'),
    ("guaranteed-instance-manager-cpu", {"v1": 0.1, "v2": 7}, '{"v1":"0.1","v2":"7"}'),
    ("disable-revision-counter", False, '{"v1":"false"}'),
    ("disable-revision-counter", "True", '{"v1":"true"}'),
    ("data-engine-memory-size", 4096, '{"v2":"4096"}'),
    ("snapshot-data-integrity", "disabled", '{"v1":"disabled","v2":"disabled"}'),
    ("snapshot-data-integrity-cronjob", "0 3 * * 0", '{"v1":"0 3 * * 0","v2":"0 3 * * 0"}'),
    ("data-engine-cpu-mask", "0x3", '{"v2":"0x3"}'),
    ("data-engine-cpu-mask", "1-3,5", '{"v2":"0x2e"}'),
    ("replica-soft-anti-affinity", True, "true"),
    ("replica-soft-anti-affinity", "t", "true"),
    ("replica-soft-anti-affinity", "0", "false"),
    ("storage-minimal-available-percentage", 20, "20"),
    ("storage-minimal-available-percentage", "020", "20"),
    ("replica-auto-balance", "best-effort", "best-effort"),
    ("taint-toleration", "k=v:NoSchedule", "k=v:NoSchedule"),
    ("priority-class", "", ""),
    ("offline-replica-rebuilding", False, "false"),
])
def test_normalise(name, value, wire):
    assert lhs.normalise(name, value) == wire


@pytest.mark.parametrize("number, text", [(12.0, "12"), (0.5, "0.5"), (1e-05, "0.00001"), (40, "40"), (0.0, "0"), (33.333, "33.333")])
def test_go_format_float(number, text):
    assert lhs.go_format_float(number) == text


@pytest.mark.parametrize("name, value, message", [
    ("default-replica-count", {"v1": 2}, "v2 missing"),
    ("default-replica-count", {"v1": 2, "v2": 2, "v3": 2}, "data engine v3 is not supported"),
    ("disable-revision-counter", {"v1": True, "v2": True}, "data engine v2 is not supported (this setting takes v1)"),
    ("default-replica-count", True, "is not an integer"),
    ("default-replica-count", 2.5, "is not an integer"),
    ("replica-soft-anti-affinity", "yes", "is not a boolean"),
    ("replica-soft-anti-affinity", {"v1": True}, "not a per-engine mapping"),
    ("guaranteed-instance-manager-cpu", "lots", "is not a number"),
    ("taint-toleration", ["a"], "is not a string"),
    ("no-such-setting", 1, "unknown Longhorn setting"),
])
def test_normalise_refusals(name, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        lhs.normalise(name, value)


# ---------------------------------------------------------------------------------------------- validate


@pytest.mark.parametrize("name, value", [
    ("default-replica-count", 3),
    ("default-replica-count", {"v1": 2, "v2": 3}),
    ("default-replica-count", '{"v1":"20","v2":"1"}'),
    ("replica-soft-anti-affinity", False),
    ("storage-minimal-available-percentage", 0),
    ("storage-minimal-available-percentage", 100),
    ("replica-auto-balance", "least-effort"),
    ("node-drain-policy", "block-for-eviction-if-contains-last-replica"),
    ("engine-replica-timeout", 30),
    ("snapshot-max-count", 2),
    ("default-backup-block-size", 16),
    ("taint-toleration", "nodetype=storage:NoSchedule; key2:NoExecute"),
    ("taint-toleration", ""),
    ("system-managed-components-node-selector", "label-key1:label-value1;label-key2:label-value2"),
    ("orphan-resource-auto-deletion", "replica-data;instance"),
    ("orphan-resource-auto-deletion", ""),
    ("priority-class", "longhorn-critical"),
    ("snapshot-data-integrity-cronjob", "0 0 */7 * *"),
    ("snapshot-data-integrity-cronjob", "@daily"),
    ("data-engine-log-flags", ""),
    ("log-level", "Debug"),
    ("manager-url", "https://longhorn.example.com:8443"),
    ("replica-rebuild-concurrent-sync-limit", 5),
    ("auto-cleanup-when-delete-backup", True),
])
def test_validate_accepts(name, value):
    assert lhs.validate(name, value) == []


# (name, value, exact first message): what is refused before anything is sent -- names, the type of a
# natural value, the per-engine form, the rules Longhorn's webhooks do not have. Their own rules
# (ranges, choices, syntax, read-only) are judged by them (the module's dry run;
# tests/modules/test_longhorn_setting.py, the twin's tests/twin/tests/test_longhorn.py).
BAD = [
    ("default-replica-count", {"v1": 2},
     "settings.default-replica-count: needs a value for every data engine it supports (v1, v2); v2 missing -- "
     "give all of them, or one plain value for all"),
    ("default-replica-count", "three", "settings.default-replica-count: 'three' is not an integer"),
    ("default-replica-count", {"v1": "x", "v2": 3}, "settings.default-replica-count: v1: 'x' is not an integer"),
    ("default-replica-cont", 3, "settings.default-replica-cont: unknown Longhorn setting; did you mean default-replica-count?"),
    ("frobnicate", 3, "settings.frobnicate: unknown Longhorn setting"),
    ("storage-network", "harvester-system/storagenetwork",
     "settings.storage-network: is managed by Harvester and would be overwritten; set the Harvester setting storage-network instead"),
    ("v2-data-engine", True,
     "settings.v2-data-engine: is managed by Harvester and would be overwritten; "
     "set the Harvester setting longhorn-v2-data-engine-enabled instead"),
    ("storage-over-provisioning-percentage", 200,
     "settings.storage-over-provisioning-percentage: is managed by Harvester and would be overwritten; "
     "set the Harvester setting overcommit-config (field storage) instead"),
    ("guaranteed-instance-manager-cpu", 50,
     "settings.guaranteed-instance-manager-cpu: is managed by Harvester and would be overwritten; "
     "set the Harvester setting instance-manager-resources (field cpu.v1 / cpu.v2) instead"),
    ("backup-target", "s3://bucket@us-east-1/",
     "settings.backup-target: is not a Longhorn 1.12 setting (since Longhorn 1.8 it is part of the BackupTarget CR `default`); "
     "Harvester manages it: set the Harvester setting backup-target instead"),
    ("v2-data-engine-cpu-mask", "0x3", "settings.v2-data-engine-cpu-mask: no longer exists in Longhorn 1.12; it was replaced by data-engine-cpu-mask"),
    ("replica-soft-anti-affinity", "yes", "settings.replica-soft-anti-affinity: 'yes' is not a boolean"),
    ("taint-toleration", "node.kubernetes.io/unreachable:NoExecute",
     "settings.taint-toleration: toleration key 'node.kubernetes.io/unreachable' must not use the kubernetes.io prefix"),
    ("disable-revision-counter", {"v1": True, "v2": True},
     "settings.disable-revision-counter: data engine v2 is not supported (this setting takes v1)"),
]


@pytest.mark.parametrize("name, value, message", BAD, ids=[f"{case[0]}={case[1]!r}" for case in BAD])
def test_validate_refuses(name, value, message):
    problems = lhs.validate(name, value)
    assert problems, f"{name}={value!r} was accepted"
    assert problems[0].startswith(message), problems


@pytest.mark.parametrize("name, value", [
    ("default-replica-count", 25),
    ("log-level", "debug"),
    ("crd-api-version", "longhorn.io/v1"),
    ("taint-toleration", "k=v:NoRun"),
    ("snapshot-data-integrity-cronjob", "every sunday"),
    ("replica-soft-anti-affinity", ""),
])
def test_the_webhooks_rules_are_left_to_the_webhooks(name, value):
    assert lhs.validate(name, value) == []


def test_validate_all_mutual_exclusion():
    problems = lhs.validate_all({"auto-cleanup-system-generated-snapshot": True, "disable-snapshot-purge": "true"})
    assert problems == ["settings.disable-snapshot-purge: cannot be true while auto-cleanup-system-generated-snapshot is true "
                        "(Longhorn refuses the pair)"]
    assert lhs.validate_all({"auto-cleanup-system-generated-snapshot": False, "disable-snapshot-purge": True}) == []


def test_warnings():
    assert any("longhorn-default-setting ConfigMap" in w for w in lhs.warnings("priority-class"))
    assert any("only when all volumes are detached" in w for w in lhs.warnings("priority-class"))
    assert lhs.warnings("default-replica-count") == []


# ------------------------------------------------------------------------------------------------- same


@pytest.mark.parametrize("name, stored, desired", [
    # the phantom diffs: the mutator's JSON vs the natural value
    ("default-replica-count", '{"v1":"2","v2":"2"}', "2"),
    ("default-replica-count", '{"v1":"2","v2":"2"}', 2),
    ("default-replica-count", '{"v1":"3","v2":"3"}', {"v2": 3, "v1": "3"}),
    ("default-replica-count", '{"v2":"3","v1":"3"}', '{"v1":"3","v2":"3"}'),
    ("guaranteed-instance-manager-cpu", '{"v1":"12","v2":"12"}', 12.0),
    ("guaranteed-instance-manager-cpu", '{"v1":"12.5","v2":"12.5"}', "12.50"),
    ("disable-revision-counter", '{"v1":"true"}', True),
    ("replica-soft-anti-affinity", "true", True),
    ("replica-soft-anti-affinity", "True", "true"),  # stored verbatim by an older client
    ("storage-minimal-available-percentage", "25", 25),
    ("taint-toleration", "k1=v1:NoSchedule; k2:NoExecute", "k2:NoExecute;k1=v1:NoSchedule"),
    ("system-managed-components-node-selector", "a:1; b:2", "b:2;a:1"),
    ("priority-class", "", None),
    ("data-engine-cpu-mask", '{"v2":"0x1"}', "0"),
])
def test_same(name, stored, desired):
    assert lhs.same(name, stored, desired)


@pytest.mark.parametrize("name, stored, desired", [
    ("default-replica-count", '{"v1":"3","v2":"3"}', 2),
    ("default-replica-count", '{"v1":"3","v2":"2"}', 3),
    ("replica-soft-anti-affinity", "false", True),
    ("replica-auto-balance", "disabled", "best-effort"),
    ("priority-class", "longhorn-critical", ""),
    ("default-replica-count", '{"v1":"3","v2":"3"}', {"v1": 3}),  # partial: refused, never "same"
    ("unknown-setting", "1", "2"),
])
def test_not_same(name, stored, desired):
    assert not lhs.same(name, stored, desired)


# ---------------------------------------------------------------------------------------------- applied


@pytest.mark.parametrize("name", sorted(lhs.DANGER_ZONE))
def test_danger_zone_pending_is_reported_not_failed(name):
    assert lhs.is_pending_not_failed(name, False)
    assert "detached" in lhs.pending_reason(name, False)
    assert lhs.pending_reason(name, True) is None


def test_applied_false_elsewhere_is_a_failure():
    assert not lhs.is_pending_not_failed("default-replica-count", False)
    assert lhs.pending_reason("endpoint-network-for-rwx-volume", False).startswith("pending until all RWX")
    assert "instance managers" in lhs.pending_reason("v1-data-engine", False)


def test_closest():
    assert lhs.closest("storage-minimal-available-percent")[0] == "storage-minimal-available-percentage"
