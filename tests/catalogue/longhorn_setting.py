"""Catalogue of homelab.harvester.longhorn_setting (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"name": "default-replica-cnt", "value": 2},
     "settings.default-replica-cnt: unknown Longhorn setting; did you mean default-replica-count"),
    ({"name": "storage-over-provisioning-percentage", "value": 200},
     "set the Harvester setting overcommit-config (field storage) instead"),
    ({"name": "backup-target", "value": "s3://bucket@us-east-1/"}, "set the Harvester setting backup-target instead"),
    ({"name": "v2-data-engine", "value": True}, "set the Harvester setting longhorn-v2-data-engine-enabled instead"),
    ({"name": "default-replica-count", "value": {"v1": 2}},
     "settings.default-replica-count: needs a value for every data engine it supports (v1, v2); v2 missing"),
    ({"name": "upgrade-checker", "value": "maybe"}, "settings.upgrade-checker: 'maybe' is not a boolean"),
    ({"name": "orphan-auto-deletion", "value": "instance"}, "it was replaced by orphan-resource-auto-deletion"),
    ({"name": "taint-toleration", "value": "node.kubernetes.io/x:NoSchedule"}, "must not use the kubernetes.io prefix"),
    ({"settings": {"auto-cleanup-system-generated-snapshot": True, "disable-snapshot-purge": True}},
     "settings.disable-snapshot-purge: cannot be true while auto-cleanup-system-generated-snapshot is true"),
    ({"name": "default-replica-count"}, "value: is required with name (default-replica-count)"),
    ({"name": "log-level", "value": "Info", "settings": {"log-level": "Info"}}, "parameters are mutually exclusive: name|settings"),
    ({"name": "log-level", "value": "Info", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
]

# Judged by Longhorn's setting webhooks: sent with dryRun=All, refused, nothing written
# (tests/modules/test_longhorn_setting.py).
REFUSALS = [
    ({"name": "default-replica-count", "value": 25},
     "settings.default-replica-count: failed to set the setting default-replica-count with invalid value "
     '{"v1":"25","v2":"25"}: value {"v1":"25","v2":"25"} of settings default-replica-count is invalid: '
     "value 25 for data engine v1 should be less than or equal to 20 value 25 for data engine v2 should be less "
     "than or equal to 20"),
    ({"name": "log-level", "value": "Loud"},
     "settings.log-level: failed to set the setting log-level with invalid value Loud: value Loud of settings "
     "log-level is invalid: value Loud is not a valid choice, available choices [Panic Fatal Error Warn Info Debug Trace]"),
    ({"name": "current-longhorn-version", "value": "v9"},
     "settings.current-longhorn-version: setting current-longhorn-version is read-only"),
]


def steps(ctx):
    from tests.catalogue import Step
    many = {"settings": {"replica-auto-balance": "best-effort", "storage-minimal-available-percentage": 15,
                         "upgrade-checker": False, "log-level": "Debug"}, "wait_timeout": 30}
    return [
        Step({"name": "default-replica-count", "value": 2, "wait_timeout": 30}, diff=True, name="set"),
        Step({"name": "default-replica-count", "value": {"v1": 2, "v2": "2"}}, name="no-op (per engine)"),
        Step(many, check=True, diff=True, name="check mode, several"),
        Step(many, diff=True, name="change several"),
        Step({"name": "taint-toleration", "value": "nodetype=storage:NoSchedule", "wait_timeout": 30},
             name="a danger-zone change, pending while volumes are attached"),
        Step({"name": "default-longhorn-static-storage-class", "value": "no-such-class"},
             name="refused by Longhorn (no such storage class)"),
        Step({"name": "log-level", "value": "Info"},
             fault={"method": "GET", "path": "settings/log-level$", "status": 403}, name="API failure"),
    ]
