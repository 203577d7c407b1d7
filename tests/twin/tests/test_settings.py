"""The settings area: Harvester's Setting webhook refusals (validator.harvesterhci.io) and what
the setting, storage-network and backup-target controllers do after a write, through kubectl,
the kubernetes dynamic client and plain HTTPS."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .conftest import status_of, wait_for

SETTINGS = "/apis/harvesterhci.io/v1beta1/settings"
NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/harvester-system/network-attachment-definitions"
DENIED = 'admission webhook "validator.harvesterhci.io" denied the request: '
MERGE = {"Content-Type": "application/merge-patch+json"}
SN = "storage-network.settings.harvesterhci.io"
NFS = "nfs://10.10.10.20:/volume1/harvester-backups"
STORAGE = {"vlan": 100, "clusterNetwork": "mgmt", "range": "10.10.100.0/24", "exclude": ["10.10.100.0/28"]}


@pytest.fixture(params=["twin", "upstream_twin"])
def any_twin(request):
    """The twin with our trimmed CRDs and with the unmodified upstream ones."""
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------------------------------ helpers
def get(t, name: str) -> dict:
    r = t.session().get(t.url(f"{SETTINGS}/{name}"))
    r.raise_for_status()
    return r.json()


def patch(t, name: str, value: str | None):
    return t.session().patch(t.url(f"{SETTINGS}/{name}"), data=json.dumps({"value": value}), headers=MERGE)


def configured(obj: dict) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "configured"), {})


def wait_setting(t, name: str, pred, timeout: float = 10.0) -> dict:
    """The setting once pred(setting) holds."""
    def probe():
        obj = get(t, name)
        return obj if pred(obj) else None
    return wait_for(probe, timeout=timeout)


def refused(r, code: int, message: str, field: str | None = None) -> dict:
    assert r.status_code == code, r.text
    body = status_of(r)
    assert body["message"] == DENIED + message, body["message"]
    if field is not None:
        assert body["details"]["causes"] == [{"reason": "FieldValueInvalid", "message": message, "field": field}]
    return body


def stop_vms(t) -> None:
    """Stop the seeded VMs the way an operator and KubeVirt do: runStrategy Halted, the VMI deleted
    (virt-controller may have done it already), then wait for the VMIs to go and for Longhorn to
    detach their volumes."""
    s = t.session()
    for vm in ("lab-router", "lab-dns"):
        s.patch(t.url(f"/apis/kubevirt.io/v1/namespaces/default/virtualmachines/{vm}"),
                data=json.dumps({"spec": {"runStrategy": "Halted"}}), headers=MERGE).raise_for_status()
        r = s.delete(t.url(f"/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/{vm}"))
        assert r.status_code in (200, 202, 404), r.text
    wait_for(lambda: not s.get(t.url("/apis/kubevirt.io/v1/virtualmachineinstances")).json()["items"])
    volumes = "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes"
    wait_for(lambda: all((v.get("status") or {}).get("state", "detached") == "detached"
                         for v in s.get(t.url(volumes)).json()["items"]))


def longhorn_node(t, name: str, disks: int) -> None:
    body = {"apiVersion": "longhorn.io/v1beta2", "kind": "Node", "metadata": {"name": name, "namespace": "longhorn-system"},
            "spec": {"disks": {f"disk-{i}": {"path": f"/var/lib/harvester/extra-disks/{i}", "allowScheduling": True,
                                             "storageReserved": 0, "diskType": "filesystem", "tags": []}
                               for i in range(disks)}}}
    r = t.session().post(t.url("/apis/longhorn.io/v1beta2/namespaces/longhorn-system/nodes"), json=body)
    assert r.status_code in (201, 409), r.text


def self_signed() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harvester.lab.local")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


# ------------------------------------------------------------------------------------------ the seed
# Every NewSetting of harvester/harvester v1.8.2 pkg/settings/settings.go, nothing else
# (ui-plugin-bundled-version there is only a key of the UI info endpoint, not a Setting).
V182_SETTINGS = sorted("""
additional-ca additional-guest-memory-overhead-ratio api-ui-version auto-disk-provision-paths auto-rotate-rke2-certs
backup-target cluster-pod-security-standard cluster-registration-url containerd-registry csi-driver-config
csi-online-expand-validation default-storage-class default-vm-termination-grace-period-seconds
harvester-csi-ccm-versions http-proxy instance-manager-resources kubeconfig-default-token-ttl-minutes
kubevirt-migration log-level longhorn-v2-data-engine-enabled max-hotplug-ratio ntp-servers overcommit-config
rancher-cluster release-download-url rwx-network server-version ssl-certificates ssl-parameters storage-network
support-bundle-expiration support-bundle-file-name support-bundle-image support-bundle-namespaces
support-bundle-node-collection-timeout support-bundle-timeout ui-index ui-path ui-plugin-index ui-source
upgradable-versions upgrade-checker-enabled upgrade-checker-url upgrade-config vip-pools vm-force-reset-policy
vm-migration-network volume-snapshot-class
""".split())


def test_every_setting_is_seeded_with_its_default(any_twin):
    items = {s["metadata"]["name"]: s for s in any_twin.session().get(any_twin.url(SETTINGS)).json()["items"]}
    assert sorted(items) == V182_SETTINGS
    assert items["overcommit-config"]["default"] == '{"cpu":1000,"memory":150,"storage":100}'
    assert items["rwx-network"]["default"] == '{"share-storage-network":false}'
    # settings.go's own strings, spaces included
    assert items["upgrade-config"]["default"] == (
        '{"imagePreloadOption":{"strategy":{"type":"sequential"}},"nodeUpgradeOption":{"strategy":{"mode":"auto"}},'
        '"restoreVM": false, "logReadyTimeout": "5"}')
    assert items["support-bundle-timeout"]["default"] == "50"
    assert json.loads(items["kubevirt-migration"]["default"])["completionTimeoutPerGiB"] == 150
    # the chart's HARVESTER_SUPPORT_BUNDLE_IMAGE_DEFAULT_VALUE replaces settings.go's "{}"
    assert json.loads(items["support-bundle-image"]["default"]) == {
        "repository": "rancher/support-bundle-kit", "tag": "v0.0.92", "imagePullPolicy": "IfNotPresent"}
    assert "default" not in items["storage-network"] and "value" not in items["storage-network"]
    assert "default" not in items["support-bundle-file-name"]
    assert sorted(n for n, s in items.items() if "value" in s) == ["ntp-servers", "server-version"]
    assert items["ntp-servers"]["value"] == '{"ntpServers":["10.10.10.1"]}'


def test_server_version_is_dev_by_default_and_the_build_version_as_value(any_twin):
    """settings.go declares server-version with default "dev"; the running server sets `value`
    from HARVESTER_SERVER_VERSION at start-up (register.go SetAll)."""
    s = get(any_twin, "server-version")
    assert (s["default"], s["value"]) == ("dev", "v1.8.2")
    out = any_twin.kubectl("get", "settings.harvesterhci.io", "server-version", "-o",
                           "jsonpath={.default} {.value}").stdout
    assert out == "dev v1.8.2"


def test_the_installer_value_gets_hash_and_configured(any_twin):
    ntp = wait_setting(any_twin, "ntp-servers", lambda s: configured(s).get("status") == "True")
    assert ntp["metadata"]["annotations"]["harvesterhci.io/hash"] == hashlib.sha224(ntp["value"].encode()).hexdigest()
    assert "message" not in configured(ntp)
    assert "harvesterhci.io/hash" not in (get(any_twin, "log-level")["metadata"].get("annotations") or {})


# ------------------------------------------------------------------------------------------ create and delete
def test_users_cannot_create_settings(twin):
    s = twin.session()
    r = s.post(twin.url(SETTINGS), json={"apiVersion": "harvesterhci.io/v1beta1", "kind": "Setting",
                                         "metadata": {"name": "my-setting"}, "value": "x"})
    refused(r, 400, 'setting "my-setting" is not a Harvester setting; Harvester creates its settings itself, '
                    "clients only update their value")
    r = s.post(twin.url(SETTINGS), json={"apiVersion": "harvesterhci.io/v1beta1", "kind": "Setting",
                                         "metadata": {"name": "log-level"}, "value": "debug"})
    assert r.status_code == 409 and status_of(r)["reason"] == "AlreadyExists"
    r = s.post(twin.url(SETTINGS), json={"apiVersion": "harvesterhci.io/v1beta1", "kind": "Setting",
                                         "metadata": {"name": "overcommit-config"}, "value": '{"cpu":10}'})
    refused(r, 422, "Cannot undercommit. Should be greater than or equal to 100 but got 10", "cpu")


@pytest.mark.parametrize("name", ["storage-network", "rwx-network", "vm-migration-network",
                                  "cluster-pod-security-standard", "instance-manager-resources"])
def test_protected_settings_cannot_be_deleted(twin, name):
    r = twin.session().delete(twin.url(f"{SETTINGS}/{name}"))
    refused(r, 405, f"Disallow delete setting name {name}")
    assert get(twin, name)["metadata"]["name"] == name


def test_kubectl_sees_the_refusals(twin):
    proc = twin.kubectl("delete", "settings.harvesterhci.io", "storage-network", check=False)
    assert proc.returncode != 0
    assert DENIED + "Disallow delete setting name storage-network" in proc.stderr
    proc = twin.kubectl("patch", "settings.harvesterhci.io", "max-hotplug-ratio", "--type", "merge",
                        "-p", '{"value":"30"}', check=False)
    assert proc.returncode != 0 and "value: 30 must be in range [1 .. 20]" in proc.stderr
    twin.kubectl("patch", "settings.harvesterhci.io", "max-hotplug-ratio", "--type", "merge", "-p", '{"value":"8"}')
    assert twin.kubectl("get", "settings.harvesterhci.io", "max-hotplug-ratio", "-o",
                        "jsonpath={.value}").stdout == "8"


def test_dynamic_client_sees_a_422_with_its_cause(twin):
    from kubernetes.dynamic.exceptions import UnprocessibleEntityError
    settings = twin.dynamic().resources.get(api_version="harvesterhci.io/v1beta1", kind="Setting")
    with pytest.raises(UnprocessibleEntityError) as e:
        settings.patch(name="ntp-servers", body={"value": '{"ntpServers":["https://pool.ntp.org"]}'},
                       content_type="application/merge-patch+json")
    body = json.loads(e.value.body)
    assert body["message"] == DENIED + "ntp server https://pool.ntp.org should not start with http:// or https://"
    assert body["details"]["causes"][0]["field"] == "value"
    ok = settings.patch(name="ntp-servers", body={"value": '{"ntpServers":["10.10.10.1","pool.ntp.org"]}'},
                        content_type="application/merge-patch+json")
    assert ok.value == '{"ntpServers":["10.10.10.1","pool.ntp.org"]}'


# ------------------------------------------------------------------------------------------ value checks
CASES = [
    ("overcommit-config", '{"cpu":1600,"memory":150}', 422, "Cannot undercommit. Should be greater than or equal to "
                                                            "100 but got 0", "storage"),
    ("overcommit-config", "{cpu", 422, "Invalid JSON: {cpu", "value"),
    ("ntp-servers", "{}", 422, "NTP servers can't be nil", "value"),
    ("ntp-servers", '{"ntpServers":["bad host!"]}', 422, "invalid NTP server: bad host!", "value"),
    ("ntp-servers", '{"ntpServers":["10.10.10.1","10.10.10.1"]}', 422, "duplicate NTP server: [10.10.10.1]", "value"),
    ("vm-force-reset-policy", '{"enable":true,"period":0}', 422, "period value should be greater than 0, value: 0",
     "value"),
    ("auto-rotate-rke2-certs", '{"enable":true,"expiringInHours":9000}', 422, "expiringInHours can't be large than "
                                                                             "8759", "value"),
    ("auto-rotate-rke2-certs", '{"enable":true,"expiringInHours":0}', 422,
     "expiringInHours can't be negative or zero", "value"),
    ("upgrade-config", '{"imagePreloadOption":{"strategy":{"type":"fast"}}}', 422,
     "invalid image preload strategy type: fast", "value"),
    ("upgrade-config", '{"imagePreloadOption":{"strategy":{"type":"parallel","concurrency":-1}}}', 422,
     "invalid image preload concurrency: -1", "value"),
    ("ssl-parameters", '{"protocols":"TLSv1.2 TLSv1.4"}', 422, "unsupported SSL protocol: TLSv1.4", "protocols"),
    ("ssl-certificates", '{"publicCertificate":"not a pem","privateKey":"x"}', 422,
     "failed to parse serving certificate bundle: no valid PEM-encoded certificate found", "publicCertificate"),
    ("max-hotplug-ratio", "0", 422, "value: 0 must be in range [1 .. 20]", "value"),
    ("max-hotplug-ratio", "four", 422, 'failed to parse value: four strconv.ParseUint: parsing "four": invalid syntax',
     "value"),
    ("additional-guest-memory-overhead-ratio", "0.5", 422, "value 0.5 can't be less than 1", "value"),
    ("additional-guest-memory-overhead-ratio", "11", 422, "value 11 can't be greater than 10", "value"),
    ("default-vm-termination-grace-period-seconds", "-1", 422, "can't be negative", "value"),
    ("default-vm-termination-grace-period-seconds", "1m", 422, 'strconv.Atoi: parsing "1m": invalid syntax', "value"),
    ("kubeconfig-default-token-ttl-minutes", "52560001", 422, "kubeconfig-default-token-ttl-minutes exceeds 100 years",
     "value"),
    ("containerd-registry", '{"Mirrors":{"docker.io":{"Endpoints":"https://reg:5000"}}}', 422,
     "json: cannot unmarshal string into Go struct field Mirror.Endpoints of type []string", "value"),
    ("containerd-registry", "[]", 422, "json: cannot unmarshal array into Go value of type containerd.Registry",
     "value"),
    ("http-proxy", '{"httpProxy":"http://proxy:3128","noProxy":"10.10.10.11,.lab.local"}', 422,
     "noProxy should contain the node's IP addresses or CIDR. The node(s) 10.10.10.12, 10.10.10.13 are not covered.",
     "value"),
    ("backup-target", '{"type":"s3","endpoint":"https://s3.lab.local","bucketName":"b","bucketRegion":"r"}', 422,
     "S3 backup target should have access key and access key id", "value"),
    ("backup-target", '{"type":"s3","accessKeyId":"a","secretAccessKey":"s","bucketName":"b"}', 422,
     "S3 backup target should have bucket name and region ", "value"),
    ("backup-target", '{"type":"nfs"}', 422, "NFS backup target should have endpoint", "value"),
    ("backup-target", '{"type":"nfs","endpoint":"' + NFS + '","refreshIntervalInSeconds":-5}', 422,
     "Refresh interval should be greater than or equal to 0", "value"),
    ("backup-target", '{"type":"ftp","endpoint":"ftp://x"}', 422, "Invalid backup target type", "value"),
    ("storage-network", '{"vlan":1,"clusterNetwork":"mgmt","range":"10.10.100.0/24"}', 422,
     "network with vlan id 1 not allowed on mgmt cluster", "value"),
    ("storage-network", '{"vlan":0,"clusterNetwork":"mgmt","range":"10.10.100.0/24"}', 422,
     "network with vlan id 0 not allowed on mgmt cluster", "value"),
    ("storage-network", '{"vlan":5000,"clusterNetwork":"mgmt","range":"10.10.100.0/24"}', 422,
     "the valid value range for VLAN IDs is 0 to 4094", "value"),
    ("storage-network", '{"vlan":100,"clusterNetwork":"mgmt","range":"10.10.100.1/24"}', 422,
     "range should be subnet CIDR 10.10.100.0/24", "value"),
    ("storage-network", '{"vlan":100,"clusterNetwork":"mgmt","range":"10.10.0.0/15"}', 422,
     "min supported prefix length for network is 16, include Range PrefixLen received 15", "value"),
    ("storage-network", '{"vlan":100,"clusterNetwork":"mgmt","range":"10.10.100.0/24","exclude":["10.10.200.0/28"]}',
     422, "exclude range 10.10.200.0/28 do not overlap include range 10.10.100.0/24", "value"),
    ("storage-network", '{"vlan":100,"clusterNetwork":"mgmt","range":"10.10.100.0/24",'
                        '"exclude":["10.10.100.0/28","10.10.100.8/29"]}', 422,
     "exclude ranges have overlapping subnets 10.10.100.8/29 10.10.100.0/28", "value"),
    ("storage-network", '{"vlan":100,"clusterNetwork":"storage","range":"10.10.100.0/24"}', 422,
     'cluster network storage not found because clusternetworks.network.harvesterhci.io "storage" not found', "value"),
    ("vm-migration-network", '{"vlan":0,"clusterNetwork":"mgmt","range":"10.10.101.0/24"}', 422,
     "network with vlan id 0 not allowed on mgmt cluster", "value"),
    ("vm-migration-network", '{"vlan":101,"clusterNetwork":"mgmt","range":"10.10.101.0/31"}', 422,
     "allocatable IP address range is < 3,allocate sufficient range", "value"),
    ("rwx-network", '{"share-storage-network":true}', 422,
     "storage-network setting is not configured, can't share it with rwx-network", "value"),
    ("rwx-network", '{"share-storage-network":false,"network":{"vlan":102,"clusterNetwork":"mgmt",'
                    '"range":"10.10.102.0/27"}}', 422, "allocatable IP address range is < 35,allocate sufficient range",
     "value"),
]


@pytest.mark.parametrize(("name", "value", "code", "message", "field"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_value_refusals(twin, name, value, code, message, field):
    before = get(twin, name)
    refused(patch(twin, name, value), code, message, field)
    assert get(twin, name)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_default_is_validated_too(twin):
    r = twin.session().patch(twin.url(f"{SETTINGS}/vm-force-reset-policy"),
                             data=json.dumps({"default": '{"enable":true,"period":-1}'}), headers=MERGE)
    refused(r, 422, "period value should be greater than 0, value: -1", "default")


def test_valid_values_pass_and_empty_values_reset(twin):
    cert, key = self_signed()
    for name, value in [("overcommit-config", '{"cpu":1600,"memory":150,"storage":200}'),
                        ("ssl-parameters", '{"protocols":"TLSv1.2 TLSv1.3","ciphers":"ECDHE-ECDSA-AES128-GCM-SHA256"}'),
                        ("ssl-certificates", json.dumps({"ca": cert, "publicCertificate": cert, "privateKey": key})),
                        ("http-proxy", '{"httpProxy":"http://proxy:3128","noProxy":"10.10.10.0/24,.lab.local"}'),
                        ("upgrade-config", '{"imagePreloadOption":{"strategy":{"type":"parallel","concurrency":2}},'
                                           '"nodeUpgradeOption":{"strategy":{"mode":"manual","pauseNodes":["ms02-2"]}},'
                                           '"restoreVM":true,"logReadyTimeout":"10"}'),
                        ("additional-guest-memory-overhead-ratio", "0"),
                        ("backup-target", "")]:
        r = patch(twin, name, value)
        assert r.status_code == 200, (name, r.text)


def test_upgrade_config_pause_nodes_must_exist(twin):
    value = '{"imagePreloadOption":{"strategy":{"type":"sequential"}},"nodeUpgradeOption":{"strategy":{"mode":"manual",' \
            '"pauseNodes":["ms02-9"]}}}'
    refused(patch(twin, "upgrade-config", value), 422, "node ms02-9 in pauseNodes does not exist", "value")


# ------------------------------------------------------------------------------------------ syncer settings
def test_configured_follows_the_value(twin):
    value = '{"cpu":1600,"memory":150,"storage":200}'
    assert patch(twin, "overcommit-config", value).status_code == 200
    s = wait_setting(twin, "overcommit-config", lambda o: o["metadata"].get("annotations", {}).get("harvesterhci.io/hash"))
    assert s["metadata"]["annotations"]["harvesterhci.io/hash"] == hashlib.sha224(value.encode()).hexdigest()
    assert configured(s)["status"] == "True"
    assert patch(twin, "overcommit-config", None).status_code == 200
    s = wait_setting(twin, "overcommit-config", lambda o: configured(o)["status"] == "False")
    assert s["metadata"]["annotations"]["harvesterhci.io/hash"] == hashlib.sha224(b"").hexdigest()


def test_a_failing_syncer_reports_its_error(twin):
    url = "https://rancher.lab.local/v3/import/abc.yaml"
    twin.session().patch(twin.url("/_twin/environment"), json={"unreachable": [url]}).raise_for_status()
    assert patch(twin, "cluster-registration-url", json.dumps({"url": url, "insecureSkipTLSVerify": False})).ok
    s = wait_setting(twin, "cluster-registration-url", lambda o: configured(o))
    assert configured(s)["status"] == "False"
    assert configured(s)["message"] == f'Get "{url}": dial tcp: lookup rancher.lab.local: no such host'
    assert "harvesterhci.io/hash" not in (s["metadata"].get("annotations") or {})


def test_containerd_registry_credentials_move_to_a_secret(twin):
    value = {"Mirrors": {"docker.io": {"Endpoints": ["https://reg.lab.local:5000"]}},
             "Configs": {"reg.lab.local:5000": {"Auth": {"Username": "u", "Password": "p"},
                                                "TLS": {"InsecureSkipVerify": False}}}}
    assert patch(twin, "containerd-registry", json.dumps(value)).status_code == 200
    s = wait_setting(twin, "containerd-registry", lambda o: configured(o).get("status") == "True")
    stored = json.loads(s["value"])
    assert stored["Configs"]["reg.lab.local:5000"]["Auth"] == {"Username": "", "Password": ""}
    assert stored["Mirrors"] == value["Mirrors"]
    secret = twin.session().get(twin.url("/api/v1/namespaces/cattle-system/secrets/harvester-containerd-registry")).json()
    assert "Password: p" in base64.b64decode(secret["data"]["registries.yaml"]).decode()


# ------------------------------------------------------------------------------------------ backup-target
def test_nfs_backup_target_is_configured(any_twin):
    value = json.dumps({"type": "nfs", "endpoint": NFS})
    assert patch(any_twin, "backup-target", value).status_code == 200
    s = wait_setting(any_twin, "backup-target", lambda o: configured(o).get("status") == "True")
    assert s["value"] == value


def test_unreachable_backup_target_is_refused(twin):
    """The NAS is down: mount.nfs4 keeps retrying and the webhook's 8 s run out first."""
    twin.session().patch(twin.url("/_twin/environment"), json={"unreachable": [NFS]}).raise_for_status()
    r = patch(twin, "backup-target", json.dumps({"type": "nfs", "endpoint": NFS}))
    refused(r, 422, "failed to connect to backup target, reason: timeout after 8s", "value")
    assert patch(twin, "backup-target", "").status_code == 200  # unsetting is always allowed


def nfs_mount_failure(server_path: str, output: str) -> str:
    """longhorn/backupstore nfs.go: each NFSv4 minor version tried wraps the failures before it."""
    host, _, path = server_path.partition(":")
    chain = "cannot mount using NFSv4"
    for version in ("4.2", "4.1", "4.0"):
        options = f"nfsvers={version},actimeo=1,soft,timeo=300,retry=2"
        chain = (f"vers={version}: mount failed: exit status 32\nMounting command: mount\nMounting arguments: "
                 f"-t nfs4 -o {options} {server_path} /var/lib/longhorn-backupstore-mounts/"
                 f"{host.replace('.', '_')}{path}\nOutput: {output}\n: {chain}")
    return (f"failed to connect to backup target, reason: cannot mount nfs {server_path}, options "
            f"[nfsvers=4.0 actimeo=1 soft timeo=300 retry=2]: {chain}")


NFS_TARGETS = [
    # the nfs:// prefix is optional (ConstructEndpoint adds it)
    ("10.10.10.20:/volume1/harvester-backups", None),
    ("nfs://10.10.10.20:/volume1/harvester-images/", None),
    ("nfs://10.10.10.20", "failed to connect to backup target, reason: cannot find nfs path"),
    ("nfs:///volume1/harvester-backups", "failed to connect to backup target, reason: NFS path must follow format: "
                                         "nfs://<server-address>:/<share-name>/"),
    ("nfs://10.10.10.20:/volume1/nothing-here", nfs_mount_failure(
        "10.10.10.20:/volume1/nothing-here",
        "mount.nfs4: access denied by server while mounting 10.10.10.20:/volume1/nothing-here")),
    ("nfs://10.10.10.20/volume1/harvester-backups", nfs_mount_failure(
        "10.10.10.20/volume1/harvester-backups", "mount.nfs4: remote share not in 'host:dir' format")),
    ("nfs://10.10.10.99:/volume1/harvester-backups", "failed to connect to backup target, reason: timeout after 8s"),
    ("nfs://nas.elsewhere:/backups", nfs_mount_failure(
        "nas.elsewhere:/backups", "mount.nfs4: Failed to resolve server nas.elsewhere: Name or service not known")),
]


@pytest.mark.parametrize(("endpoint", "message"), NFS_TARGETS, ids=[e for e, _ in NFS_TARGETS])
def test_nfs_backup_target_must_mount(twin, endpoint, message):
    r = patch(twin, "backup-target", json.dumps({"type": "nfs", "endpoint": endpoint}))
    if message is None:
        assert r.status_code == 200, r.text
    else:
        refused(r, 422, message, "value")


# The lab's S3 store (lab/backup-stores.yml): an S3-compatible server on the NAS
S3 = {"type": "s3", "endpoint": "https://s3.lab.example:9000", "accessKeyId": "AKIATWINACCESSKEY01",
      "secretAccessKey": "tw1n-s3cr3t-k3y-value", "bucketName": "harvester-backups", "bucketRegion": "us-east-1"}
LISTING = ('failed to connect to backup target, reason: failed to list objects with param: {\n  Bucket: "%s",\n'
           '  Delimiter: "/",\n  Prefix: "/"\n} error: AWS Error:  ')
S3_TARGETS = [
    ({}, None, None),
    ({"accessKeyId": "AKIAWRONG"}, "InvalidAccessKeyId The Access Key Id you provided does not exist in our records.",
     "403"),
    ({"secretAccessKey": "not-the-secret"}, "SignatureDoesNotMatch The request signature we calculated does not match "
                                            "the signature you provided. Check your key and signing method.", "403"),
    ({"bucketRegion": "eu-west-1"}, "AuthorizationHeaderMalformed The authorization header is malformed; the region "
                                    "is wrong; expecting 'us-east-1'.", "400"),
    ({"bucketName": "other"}, "NoSuchBucket The specified bucket does not exist", "404"),
]


@pytest.mark.parametrize(("change", "error", "code"), S3_TARGETS, ids=["lab", "key", "secret", "region", "bucket"])
def test_s3_backup_target_must_list_its_bucket(twin, change, error, code):
    target = dict(S3, **change)
    r = patch(twin, "backup-target", json.dumps(target))
    if error is None:
        assert r.status_code == 200, r.text
        return
    body = status_of(r)
    assert r.status_code == 422 and body["details"]["causes"][0]["field"] == "value", r.text
    message = body["message"].removeprefix(DENIED)
    head = LISTING % target["bucketName"] + error + " <nil>\n" + code + " "
    assert message.startswith(head) and message.endswith("\n"), message
    assert len(message) == len(head) + 17  # the request id and its newline
    assert target["secretAccessKey"] not in message


def test_s3_endpoint_the_lab_does_not_have_is_not_found(twin):
    target = dict(S3, endpoint="https://s3.nowhere.example")
    refused(patch(twin, "backup-target", json.dumps(target)), 422, LISTING % "harvester-backups" + (
        'RequestError send request failed Get "https://s3.nowhere.example/harvester-backups?delimiter=%2F&prefix=%2F": '
        "dial tcp: lookup s3.nowhere.example on 10.53.0.10:53: no such host\n"), "value")


def test_s3_credentials_are_blanked_into_a_secret(any_twin):
    t = any_twin
    lh = {"apiVersion": "longhorn.io/v1beta2", "kind": "BackupTarget",
          "metadata": {"name": "default", "namespace": "longhorn-system"}, "spec": {"pollInterval": "5m0s"}}
    r = t.session().post(t.url("/apis/longhorn.io/v1beta2/namespaces/longhorn-system/backuptargets"), json=lh)
    assert r.status_code in (201, 409), r.text
    target = dict(S3, cert="", virtualHostedStyle=False, refreshIntervalInSeconds=600)
    assert patch(t, "backup-target", json.dumps(target)).status_code == 200
    s = wait_setting(t, "backup-target", lambda o: configured(o).get("status") == "True")
    assert json.loads(s["value"]) == dict(target, accessKeyId="", secretAccessKey="")
    assert s["value"] != json.dumps(target)  # a naive comparison sees a diff forever
    secret = t.session().get(t.url("/api/v1/namespaces/longhorn-system/secrets/harvester-backup-target-secret")).json()
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["AWS_ACCESS_KEY_ID"] == S3["accessKeyId"] and data["AWS_SECRET_ACCESS_KEY"] == S3["secretAccessKey"]
    assert data["AWS_ENDPOINTS"] == S3["endpoint"]
    bt = t.session().get(t.url("/apis/longhorn.io/v1beta2/namespaces/longhorn-system/backuptargets/default")).json()
    assert bt["spec"] == {"backupTargetURL": "s3://harvester-backups@us-east-1/", "credentialSecret":
                          "harvester-backup-target-secret", "pollInterval": "10m0s"}
    # the blanked value can be written back as is (the webhook lets the controller's form pass)
    assert patch(t, "backup-target", s["value"]).status_code == 200


# ------------------------------------------------------------------------------------------ storage-network
def test_storage_network_is_refused_while_vms_run_then_configured(any_twin):
    t = any_twin
    value = json.dumps(STORAGE)
    refused(patch(t, "storage-network", value), 422,
            "Please stop all VMs before configuring the storage-network setting", "value")
    stop_vms(t)
    assert patch(t, "storage-network", value).status_code == 200
    seen: list[tuple[str, str, str]] = []

    def step():
        o = get(t, "storage-network")
        c = configured(o)
        if c and (not seen or seen[-1] != (c["status"], c.get("reason", ""), c.get("message", ""))):
            seen.append((c["status"], c.get("reason", ""), c.get("message", "")))
        return o if c.get("status") == "True" else None
    s = wait_for(step, interval=0.02)
    assert seen[0][:2] == ("False", "In Progress") and seen[-1] == ("True", "Completed", "")
    assert ("False", "In Progress", "Stopping Pods") in seen
    ann = s["metadata"]["annotations"]
    assert ann[f"{SN}/hash"] == hashlib.sha1(value.encode()).hexdigest()  # noqa: S324
    ns, _, name = ann[f"{SN}/net-attach-def"].partition("/")
    assert ns == "harvester-system" and name.startswith("storagenetwork-") and len(name) == len("storagenetwork-") + 5
    assert ann[f"{SN}/old-net-attach-def"] == ""
    nad = t.session().get(t.url(f"{NADS}/{name}")).json()
    assert json.loads(nad["spec"]["config"]) == {
        "cniVersion": "0.3.1", "type": "bridge", "bridge": "mgmt-br", "promiscMode": True, "vlan": 100,
        "ipam": {"type": "whereabouts", "range": "10.10.100.0/24", "exclude": ["10.10.100.0/28"]}}

    # disabling deletes the NAD
    assert patch(t, "storage-network", "").status_code == 200
    wait_for(lambda: t.session().get(t.url(f"{NADS}/{name}")).status_code == 404)
    s = wait_setting(t, "storage-network", lambda o: configured(o).get("status") == "True")
    assert s["metadata"]["annotations"][f"{SN}/net-attach-def"] == ""


def test_storage_network_change_in_progress_is_a_conflict(twin):
    stop_vms(twin)
    assert patch(twin, "storage-network", json.dumps(STORAGE)).status_code == 200
    wait_for(lambda: configured(get(twin, "storage-network")).get("reason") == "In Progress")
    other = dict(STORAGE, vlan=200)
    r = patch(twin, "storage-network", json.dumps(other))
    refused(r, 409, 'cannot update the setting "storage-network" because it is still being configured')
    assert status_of(r)["reason"] == "Conflict"
    assert patch(twin, "storage-network", "").status_code == 200  # back to the default is allowed
    s = wait_setting(twin, "storage-network", lambda o: configured(o).get("status") == "True")
    assert s["metadata"]["annotations"][f"{SN}/net-attach-def"] == ""
    assert twin.session().get(twin.url(NADS)).json()["items"] == []


def test_storage_network_needs_enough_addresses_for_longhorn(twin):
    longhorn_node(twin, "ms02-4", 2)
    nodes = twin.session().get(twin.url("/apis/longhorn.io/v1beta2/namespaces/longhorn-system/nodes")).json()["items"]
    need = sum(2 + 2 * len(n["spec"].get("disks") or {}) for n in nodes)
    prefix = next(p for p in range(30, 15, -1) if 2 ** (32 - p) - 2 < need <= 2 ** (33 - p) - 2)
    stop_vms(twin)
    tight = {"vlan": 100, "clusterNetwork": "mgmt", "range": f"10.10.0.0/{prefix}"}
    refused(patch(twin, "storage-network", json.dumps(tight)), 422,
            f"allocatable IP address range is < {need},allocate sufficient range", "value")
    assert patch(twin, "storage-network", json.dumps(dict(tight, range=f"10.10.0.0/{prefix - 1}"))).status_code == 200


def test_storage_network_on_a_custom_cluster_network_needs_it_ready_everywhere(twin):
    s = twin.session()
    stop_vms(twin)
    cn = {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "ClusterNetwork", "metadata": {"name": "storage"}}
    assert s.post(twin.url("/apis/network.harvesterhci.io/v1beta1/clusternetworks"), json=cn).status_code == 201
    value = json.dumps({"vlan": 0, "clusterNetwork": "storage", "range": "10.20.0.0/24"})
    refused(patch(twin, "storage-network", value), 422, "vlan status not present for cluster network storage", "value")
    label = {"network.harvesterhci.io/clusternetwork": "storage"}
    vs = {"apiVersion": "network.harvesterhci.io/v1beta1", "kind": "VlanStatus",
          "metadata": {"name": "storage-all-ms02-1", "labels": label},
          "status": {"clusterNetwork": "storage", "vlanConfig": "storage-all", "node": "ms02-1", "linkMonitor": "storage",
                     "conditions": [{"type": "ready", "status": "False"}]}}
    r = s.post(twin.url("/apis/network.harvesterhci.io/v1beta1/vlanstatuses"), json=vs)
    assert r.status_code == 201, r.text
    refused(patch(twin, "storage-network", value), 422, "vs storage-all-ms02-1 status is not Ready", "value")


def test_storage_network_must_not_overlap_vm_migration_network(twin):
    stop_vms(twin)
    assert patch(twin, "vm-migration-network",
                 json.dumps({"vlan": 101, "clusterNetwork": "mgmt", "range": "10.10.100.0/25"})).status_code == 200
    refused(patch(twin, "storage-network", json.dumps(STORAGE)), 422,
            "storage-network: the network configuration is overlapped with vm-migration-network", "storage-network")


# Issue 16: rules harvester_setting checked itself until Harvester's webhook judged its dry runs.
def test_vip_pools_follow_validate_cidrs(twin):
    for value, message in [
        ('{"default":"10.0.0.5"}', "invalid CIDR value 10.0.0.5 of default, error: invalid CIDR address: 10.0.0.5"),
        ('{"default":"10.0.0.0/24,10.0.1"}',
         "invalid CIDR value 10.0.0.0/24,10.0.1 of default, error: invalid CIDR address: 10.0.1"),
        ('{"default":"10.0.0.10-10.0.0.20,10.0.1.0/24"}',
         "invalid Pool value 10.0.0.10-10.0.0.20,10.0.1.0/24 of default, error: IP Range and CIDR cannot be used together"),
        ('{"default":"10.0.0.10-"}', "invalid IP Range value 10.0.0.10- of default"),
        ('{"default":"10.0.0.10-10.0.0.x"}', "invalid IP value 10.0.0.10-10.0.0.x of default"),
    ]:
        refused(patch(twin, "vip-pools", value), 422, message, "value")
    for value in ('{"default":"10.0.0.0/24,10.0.1.0/24"}', '{"default":"10.0.0.10-10.0.0.20"}', ""):
        r = patch(twin, "vip-pools", value)
        assert r.status_code == 200, r.text


def test_upgrade_config_members_are_decoded_with_their_go_types(twin):
    for value, error in [
        ('{"imagePreloadOption":{"strategy":{"type":"sequential"}},"restoreVM":"yes"}',
         "json: cannot unmarshal string into Go struct field UpgradeConfig.restoreVM of type bool"),
        ('{"imagePreloadOption":{"strategy":{"type":"parallel","concurrency":"2"}}}',
         "json: cannot unmarshal string into Go struct field PreloadStrategy.imagePreloadOption.strategy.concurrency "
         "of type int"),
        ('{"imagePreloadOption":{"strategy":{"type":"sequential"}},"nodeUpgradeOption":{"strategy":{"pauseNodes":"ms02-1"}}}',
         "json: cannot unmarshal string into Go struct field NodeUpgradeStrategy.nodeUpgradeOption.strategy.pauseNodes "
         "of type []string"),
        ('{"imagePreloadOption":{"strategy":{"type":"sequential"}},"logReadyTimeout":5}',
         "json: cannot unmarshal number into Go struct field UpgradeConfig.logReadyTimeout of type string"),
    ]:
        refused(patch(twin, "upgrade-config", value), 422, f"unmarshal failed, error: {error}, value: {value}", "value")
