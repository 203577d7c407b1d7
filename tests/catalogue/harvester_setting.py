"""Catalogue of homelab.harvester.harvester_setting (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"name": "log-levl", "value": "debug"}, "settings.log-levl: unknown Harvester setting; did you mean log-level?"),
    ({"name": "server-version", "value": "v9"}, "settings.server-version: is written by Harvester itself and cannot be set"),
    ({"name": "log-level", "value": "loud"}, "settings.log-level: 'loud' is not one of panic, fatal, error, warn, info, debug, trace"),
    ({"name": "backup-target", "value": {"type": "nfs", "endpoint": "10.10.10.20:/volume1/harvester-backups"}},
     "settings.backup-target.endpoint: '10.10.10.20:/volume1/harvester-backups' has no nfs:// scheme; write it as "
     "nfs://<server>:<export path>"),
    ({"name": "ui-source", "value": {"a": 1}}, "settings.ui-source: takes a plain string, not a dict"),
    ({"name": "overcommit-config", "value": "{bad json"}, "settings.overcommit-config: is not valid JSON"),
    ({"name": "log-level"}, "value: is required with name (log-level)"),
    ({"settings": {"log-level": None}}, "settings.log-level: needs a value"),
    ({"name": "log-level", "value": "debug", "state": "absent"}, "value: is not used with state=absent"),
    ({"name": "log-level", "value": "debug", "settings": {"log-level": "info"}}, "parameters are mutually exclusive: name|settings"),
    ({"value": "debug"}, "one of the following is required: name, settings"),
    ({"name": "log-level", "value": "debug", "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
]

# Judged by Harvester's setting webhook: sent with dryRun=All, refused, nothing written
# (tests/modules/test_harvester_setting.py).
REFUSALS = [
    ({"name": "overcommit-config", "value": {"cpu": 50, "memory": 150, "storage": 100}},
     "settings.overcommit-config.cpu: Cannot undercommit. Should be greater than or equal to 100 but got 50"),
    ({"settings": {"max-hotplug-ratio": 50}}, "settings.max-hotplug-ratio: value: 50 must be in range [1 .. 20]"),
    ({"name": "storage-network", "value": {"vlan": 100, "clusterNetwork": "mgmt", "range": "10.0.0.0/8"}},
     "settings.storage-network: min supported prefix length for network is 16, include Range PrefixLen received 8"),
    ({"name": "backup-target", "value": {"type": "ftp"}}, "settings.backup-target: Invalid backup target type"),
]


def steps(ctx):
    from tests.catalogue import Step
    overcommit = {"cpu": 1600, "memory": 150, "storage": 200}
    many = {"settings": {"overcommit-config": overcommit, "log-level": "debug", "upgrade-checker-enabled": False},
            "wait_timeout": 30}
    s3 = {"type": "s3", "endpoint": "https://s3.lab.example:9000", "bucketName": "harvester-backups",
          "bucketRegion": "us-east-1", "accessKeyId": "AKIATWINACCESSKEY01", "secretAccessKey": "tw1n-s3cr3t-k3y-value"}
    return [
        Step({"name": "overcommit-config", "value": overcommit, "wait_timeout": 30}, diff=True, name="set"),
        Step({"name": "overcommit-config", "value": '{"memory": 150, "cpu": 1600, "storage": 200}'},
             name="no-op (the same value as JSON text)"),
        Step(many, check=True, diff=True, name="check mode, several"),
        Step(many, diff=True, name="change several"),
        Step({"name": "backup-target", "value": s3, "wait_timeout": 30}, diff=True,
             name="S3 backup target (keys masked)"),
        Step({"name": "storage-network", "value": {"vlan": 100, "clusterNetwork": "mgmt", "range": "10.10.100.0/24"}},
             name="refused by Harvester (VMs run)"),
        Step({"name": "log-level", "value": "info"}, fault={"method": "GET", "path": "settings/log-level$", "status": 403},
             name="API failure"),
        Step({"settings": {"log-level": None, "overcommit-config": None}, "state": "absent"}, diff=True,
             name="reset to the defaults"),
    ]
