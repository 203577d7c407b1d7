# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the Harvester v1.8 settings knowledge (plugins/module_utils/harvester_settings.py).

Expected values come from harvester/harvester pkg/settings/settings.go, the setting webhook
(pkg/webhook/resources/setting/validator.go) and shared/reference/harvester-api.md sections 3 and
11 -- never from the twin's own catalogue."""

from __future__ import annotations

import json

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import harvester_settings as hs

S3_DESIRED = {"type": "s3", "endpoint": "https://s3.example", "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "s3cr3t",
              "bucketName": "harvester", "bucketRegion": "us-east-1"}
# What the backup-target controller writes back: the Go struct marshalled, keys blanked.
S3_STORED = ('{"type":"s3","endpoint":"https://s3.example","accessKeyId":"","secretAccessKey":"","bucketName":"harvester",'
             '"bucketRegion":"us-east-1","cert":"","virtualHostedStyle":false,"refreshIntervalInSeconds":0}')

REGISTRY_DESIRED = {"Mirrors": {"docker.io": {"Endpoints": ["https://reg.lan:5000"]}},
                    "Configs": {"reg.lan:5000": {"Auth": {"Username": "u", "Password": "p"}, "TLS": {"InsecureSkipVerify": False}}}}
REGISTRY_STORED = ('{"Mirrors":{"docker.io":{"Endpoints":["https://reg.lan:5000"]}},'
                   '"Configs":{"reg.lan:5000":{"Auth":{"Username":"","Password":"","Auth":"","IdentityToken":""},'
                   '"TLS":{"InsecureSkipVerify":false}}}}')

STORAGE_NETWORK = {"vlan": 100, "clusterNetwork": "storage", "range": "192.168.0.0/24", "exclude": ["192.168.0.100/32"]}


# --------------------------------------------------------------------------------------------- catalogue


def test_catalogue():
    assert hs.SETTINGS["overcommit-config"].json
    assert json.loads(hs.SETTINGS["overcommit-config"].default) == {"cpu": 1000, "memory": 150, "storage": 100}
    assert not hs.SETTINGS["log-level"].json and hs.SETTINGS["log-level"].default == "info"
    assert hs.PROTECTED_FROM_DELETE == {"storage-network", "rwx-network", "vm-migration-network",
                                        "cluster-pod-security-standard", "instance-manager-resources"}
    assert hs.SETTINGS["server-version"].read_only
    for setting in hs.SETTINGS.values():
        if setting.json and setting.default:
            json.loads(setting.default)  # every JSON default parses


# --------------------------------------------------------------------------------------------- serialise


@pytest.mark.parametrize("value, text", [
    ("plain", "plain"),
    ('{"b":1, "a":2}', '{"b":1, "a":2}'),  # a string is stored as given
    ({"memory": 150, "cpu": 1000, "storage": 100}, '{"cpu":1000,"memory":150,"storage":100}'),
    ({"ntpServers": ["b.pool", "a.pool"]}, '{"ntpServers":["b.pool","a.pool"]}'),  # list order is kept
    ([1, 2], "[1,2]"),
    (True, "true"),
    (False, "false"),
    (120, "120"),
    (None, ""),
])
def test_serialise(value, text):
    assert hs.serialise(value) == text


def test_serialise_is_stable_whatever_the_dict_order():
    assert hs.serialise({"a": {"y": 1, "x": 2}, "b": 1}) == hs.serialise({"b": 1, "a": {"x": 2, "y": 1}})


# ------------------------------------------------------------------------------------------------- same


@pytest.mark.parametrize("name, stored, desired", [
    # the phantom diffs: Harvester blanks the S3 keys and marshals its struct
    ("backup-target", S3_STORED, S3_DESIRED),
    ("backup-target", S3_STORED, json.dumps(S3_DESIRED)),
    # ... and strips registry credentials
    ("containerd-registry", REGISTRY_STORED, REGISTRY_DESIRED),
    ("containerd-registry", '{"Mirrors":{"docker.io":{"Endpoints":["https://reg.lan:5000"]}}}',
     {"Mirrors": {"docker.io": {"Endpoints": ["https://reg.lan:5000"]}}, "Configs": {}}),
    # key order and spacing (UI / kubectl / Go wrote it)
    ("overcommit-config", '{"storage": 100, "memory": 150, "cpu": 1000}', {"cpu": 1000, "memory": 150, "storage": 100}),
    # empty and absent, zero value and absent (Go struct decoding)
    ("backup-target", "", None),
    ("backup-target", "", ""),
    ("http-proxy", "{}", ""),
    ("http-proxy", '{"httpProxy":"","httpsProxy":"","noProxy":""}', {}),
    ("vm-force-reset-policy", '{"enable":true,"period":15,"vmMigrationTimeout":0}', {"enable": True, "period": 15}),
    # exclude order carries no meaning
    ("storage-network", json.dumps(dict(STORAGE_NETWORK, exclude=["192.168.0.101/32", "192.168.0.100/32"])),
     dict(STORAGE_NETWORK, exclude=["192.168.0.100/32", "192.168.0.101/32"])),
    ("log-level", "debug", "debug"),
    ("log-level", None, ""),
    ("longhorn-v2-data-engine-enabled", "true", True),
    ("default-vm-termination-grace-period-seconds", "120", 120),
])
def test_same(name, stored, desired):
    assert hs.same(name, stored, desired)


@pytest.mark.parametrize("name, stored, desired", [
    ("backup-target", S3_STORED, dict(S3_DESIRED, bucketName="other")),
    ("backup-target", S3_STORED, {"type": "nfs", "endpoint": "nfs://10.0.0.5:/export"}),
    ("backup-target", S3_STORED, ""),
    ("containerd-registry", REGISTRY_STORED, dict(REGISTRY_DESIRED, Mirrors={})),
    ("overcommit-config", '{"cpu":1000,"memory":150,"storage":100}', {"cpu": 1000, "memory": 150, "storage": 200}),
    ("ntp-servers", '{"ntpServers":["a.pool","b.pool"]}', {"ntpServers": ["b.pool", "a.pool"]}),  # order = preference
    ("storage-network", json.dumps(STORAGE_NETWORK), dict(STORAGE_NETWORK, vlan=200)),
    ("log-level", "info", "debug"),
    ("vip-pools", '{"default":"10.0.0.0/24"}', {"default": "10.0.1.0/24"}),
])
def test_not_same(name, stored, desired):
    assert not hs.same(name, stored, desired)


# ------------------------------------------------------------------------------------------------- mask


def test_mask_backup_target_keeps_type():
    masked = hs.mask("backup-target", json.dumps(S3_DESIRED))
    assert isinstance(masked, str)
    parsed = json.loads(masked)
    assert parsed["accessKeyId"] == hs.MASK and parsed["secretAccessKey"] == hs.MASK and parsed["bucketName"] == "harvester"
    as_dict = hs.mask("backup-target", S3_DESIRED)
    assert as_dict["secretAccessKey"] == hs.MASK and S3_DESIRED["secretAccessKey"] == "s3cr3t"  # input untouched
    assert json.loads(hs.mask("backup-target", S3_STORED))["accessKeyId"] == ""  # empty stays empty


def test_mask_registry_ssl_and_proxy():
    registry = hs.mask("containerd-registry", REGISTRY_DESIRED)
    assert registry["Configs"]["reg.lan:5000"]["Auth"] == {"Username": "u", "Password": hs.MASK}
    assert hs.mask("ssl-certificates", {"publicCertificate": "PEM", "privateKey": "KEY"})["privateKey"] == hs.MASK
    proxy = hs.mask("http-proxy", {"httpProxy": "http://bob:hunter2@proxy.lan:3128", "httpsProxy": "http://proxy.lan:3128"})
    assert proxy == {"httpProxy": f"http://bob:{hs.MASK}@proxy.lan:3128", "httpsProxy": "http://proxy.lan:3128"}
    assert hs.mask("log-level", "debug") == "debug"
    assert hs.mask("backup-target", "{not json") == hs.MASK


# ---------------------------------------------------------------------------------------------- validate


@pytest.mark.parametrize("name, value", [
    ("storage-network", STORAGE_NETWORK),
    ("storage-network", json.dumps(STORAGE_NETWORK)),
    ("storage-network", {"vlan": 20, "clusterNetwork": "mgmt", "range": "10.20.0.0/16"}),
    ("storage-network", ""),  # disable
    ("vm-migration-network", {"vlan": 30, "clusterNetwork": "storage", "range": "10.30.0.0/24",
                              "exclude": ["10.30.0.0/30", "10.30.0.8/29"]}),
    ("rwx-network", {"share-storage-network": True}),
    ("rwx-network", {"share-storage-network": False, "network": {"vlan": 40, "clusterNetwork": "storage", "range": "10.40.0.0/24"}}),
    ("backup-target", {"type": "nfs", "endpoint": "nfs://10.0.0.5:/export/harvester"}),
    ("backup-target", S3_DESIRED),
    ("backup-target", dict(S3_DESIRED, refreshIntervalInSeconds=300, virtualHostedStyle=True)),
    ("backup-target", {}),  # the empty target unsets it
    ("overcommit-config", {"cpu": 1000, "memory": 150, "storage": 100}),
    ("vm-force-reset-policy", {"enable": True, "period": 15, "vmMigrationTimeout": 180}),
    ("ntp-servers", {"ntpServers": ["0.suse.pool.ntp.org", "10.0.0.1", "2001:db8::1"]}),
    ("auto-rotate-rke2-certs", {"enable": True, "expiringInHours": 240}),
    ("upgrade-config", {"imagePreloadOption": {"strategy": {"type": "parallel", "concurrency": 2}},
                        "nodeUpgradeOption": {"strategy": {"mode": "manual", "pauseNodes": ["n1"]}},
                        "restoreVM": True, "logReadyTimeout": "5"}),
    ("http-proxy", {"httpProxy": "http://proxy.lan:3128", "httpsProxy": "http://proxy.lan:3128", "noProxy": "10.0.0.0/24,.lan"}),
    ("http-proxy", {}),
    ("containerd-registry", REGISTRY_DESIRED),
    ("ssl-parameters", {"protocols": "TLSv1.2  TLSv1.3", "ciphers": "ECDHE"}),
    ("vip-pools", {"default": "10.0.0.0/24,10.0.1.0/24"}),
    ("log-level", "debug"),
    ("max-hotplug-ratio", 20),
    ("additional-guest-memory-overhead-ratio", "2.5"),
    ("additional-guest-memory-overhead-ratio", "0"),
    ("kubeconfig-default-token-ttl-minutes", "52560000"),
    ("cluster-registration-url", "https://rancher.lan/v3/import/x.yaml"),
    ("instance-manager-resources", {"cpu": {"v1": "10", "v2": "20"}}),
    ("longhorn-v2-data-engine-enabled", True),
])
def test_validate_accepts(name, value):
    assert hs.validate(name, value) == []


# (name, value, expected first message): what is refused before anything is sent -- names, shapes and
# the rules Harvester's webhook does not have. The webhook's own rules are judged by the webhook (the
# module's dry run; tests/modules/test_harvester_setting.py, the twin's tests/twin/tests/test_settings.py).
BAD = [
    ("storage-netwrok", STORAGE_NETWORK, "settings.storage-netwrok: unknown Harvester setting; did you mean storage-network"),
    ("server-version", "v1.9.0", "settings.server-version: is written by Harvester itself and cannot be set"),
    ("storage-network", "{vlan: 100}", "settings.storage-network: is not valid JSON"),
    ("vip-pools", ["10.0.0.0/24"], "settings.vip-pools: takes a mapping (or its JSON text), got a JSON list"),
    ("backup-target", {"type": "nfs", "endpoint": "10.0.0.5:/export"}, "settings.backup-target.endpoint: '10.0.0.5:/export' has no nfs:// scheme"),
    ("log-level", "verbose", "settings.log-level: 'verbose' is not one of panic, fatal, error, warn, info, debug, trace"),
    ("longhorn-v2-data-engine-enabled", "yes", 'settings.longhorn-v2-data-engine-enabled: must be "true" or "false", got \'yes\''),
    ("upgrade-checker-enabled", "no", 'settings.upgrade-checker-enabled: must be "true" or "false", got \'no\''),
    ("instance-manager-resources", {"cpu": {"v3": "1"}}, "settings.instance-manager-resources.cpu.v3: unknown data engine; use v1 or v2"),
    ("instance-manager-resources", {"cpu": {"v1": 1}}, "settings.instance-manager-resources.cpu.v1: must be a string, got 1"),
    ("overcommit-config", 150, "settings.overcommit-config: takes a mapping (or its JSON text), got int"),
    ("log-level", {"level": "debug"}, "settings.log-level: takes a plain string, not a dict"),
]


@pytest.mark.parametrize("name, value, message", BAD, ids=[f"{case[0]}#{i}" for i, case in enumerate(BAD)])
def test_validate_refuses(name, value, message):
    problems = hs.validate(name, value)
    assert problems, f"{name}={value!r} was accepted"
    assert problems[0].startswith(message), problems


@pytest.mark.parametrize("name, value", [
    ("overcommit-config", {"cpu": 1000, "memory": 90, "storage": 100}),
    ("max-hotplug-ratio", "21"),
    ("ntp-servers", {"ntpServers": ["a.pool", "a.pool"]}),
    ("storage-network", dict(STORAGE_NETWORK, vlan=4095)),
    ("http-proxy", {"httpProxy": "http://proxy.lan:3128"}),
])
def test_the_webhooks_rules_are_left_to_the_webhook(name, value):
    assert hs.validate(name, value) == []


# What harvester_storage_network checks before it stops VMs (network_problems, kept for that module).
NETWORK_BAD = [
    (dict(STORAGE_NETWORK, vlan=4095), ".vlan: 4095 is outside the valid VLAN range 0..4094"),
    (dict(STORAGE_NETWORK, vlan=1, clusterNetwork="mgmt"), ".vlan: VLAN 1 is not allowed on the mgmt cluster network"),
    (dict(STORAGE_NETWORK, vlan="100"), ".vlan: '100' is not an integer"),
    (dict(STORAGE_NETWORK, range="192.168.0.1/24", exclude=[]),
     ".range: 192.168.0.1/24 is not a network address; the subnet is 192.168.0.0/24"),
    (dict(STORAGE_NETWORK, range="10.0.0.0/8", exclude=[]), ".range: prefix /8 is too wide; the minimum prefix length is 16"),
    (dict(STORAGE_NETWORK, range="192.168.0.0"), ".range: '192.168.0.0' is not a CIDR"),
    ({"vlan": 100, "clusterNetwork": "storage"}, ".range: is required"),
    (dict(STORAGE_NETWORK, exclude=["10.9.9.0/28"]), ".exclude[0]: 10.9.9.0/28 is not inside range 192.168.0.0/24"),
    (dict(STORAGE_NETWORK, exclude=["192.168.0.0/28", "192.168.0.8/29"]), ".exclude[1]: 192.168.0.8/29 overlaps exclude[0] 192.168.0.0/28"),
    (dict(STORAGE_NETWORK, exclude=["192.168.0.0/24"]), ".exclude[0]: 192.168.0.0/24 covers the whole range"),
]


@pytest.mark.parametrize("value, message", NETWORK_BAD, ids=[m.split(":")[0] for v, m in NETWORK_BAD])
def test_network_problems(value, message):
    problems = hs.network_problems(value, "settings.storage-network")
    assert problems and problems[0].startswith("settings.storage-network" + message), problems


def test_validate_all_overlap():
    problems = hs.validate_all({"storage-network": STORAGE_NETWORK,
                                "vm-migration-network": {"vlan": 30, "clusterNetwork": "storage", "range": "192.168.0.128/25"}})
    assert problems == ["settings.vm-migration-network.range: 192.168.0.128/25 overlaps storage-network range 192.168.0.0/24"]


def test_reset_is_always_valid():
    for name, setting in hs.SETTINGS.items():
        if not setting.read_only:
            assert hs.validate(name, "") == [] and hs.validate(name, None) == [], name
