# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Roles bootstrap and bonding end to end: ``ansible-playbook -i inventory/lab
playbooks/bootstrap.yml`` against a twin process. The install configs and iPXE scripts rendered
from the lab inventory (fields harvester-installer requires, create vs join, mode 0600, the token
never in the output), the wait for Ready nodes naming the node that is not Ready, and bonding's
check naming the node and the NIC that is down."""

from __future__ import annotations

import datetime
import json
import stat
import subprocess

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.integration.playbooks import PLAYBOOK as PLAYBOOK_BIN
from tests.integration.playbooks import ROOT
from tests.integration.roles import LAB_INVENTORY, copy_inventory, run_playbook

pytestmark = [pytest.mark.twin, pytest.mark.integration]

PLAYBOOK = ROOT / "playbooks" / "bootstrap.yml"
NODES = ["ms02-1", "ms02-2", "ms02-3"]
LINKMONITORS = "/apis/network.harvesterhci.io/v1beta1/linkmonitors"
VAULT = yaml.safe_load((LAB_INVENTORY / "group_vars" / "all" / "vault.yml").read_text())
TOKEN = VAULT["vault_harvester_token"]
PASSWORD = VAULT["vault_harvester_os_password"]
HOST_VARS = {n: yaml.safe_load((LAB_INVENTORY / "host_vars" / f"{n}.yml").read_text())["lab_node"] for n in NODES}
LAB = yaml.safe_load((LAB_INVENTORY / "group_vars" / "all" / "lab.yml").read_text())


def bootstrap(twin, tmp_path, **kwargs):
    publish = tmp_path / "pxe"
    extra = {"bootstrap_publish_dir": str(publish), **kwargs.pop("extra_vars", {})}
    proc = run_playbook(twin, tmp_path, PLAYBOOK, extra_vars=extra, **kwargs)
    return proc, publish


def recap(stdout):
    line = [x for x in stdout.splitlines() if x.startswith("harvester-lab ") and "ok=" in x][-1]
    return dict(part.split("=") for part in line.split(":", 1)[1].split())


def test_renders_install_configs_and_ipxe_scripts_from_the_inventory(twin, tmp_path):
    proc, publish = bootstrap(twin, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert recap(proc.stdout)["failed"] == "0"
    configs = {n: yaml.safe_load((publish / f"{n}.yaml").read_text()) for n in NODES}
    for name, config in configs.items():
        node = HOST_VARS[name]
        assert config["scheme_version"] == 1
        assert config["token"] == TOKEN
        assert config["install"]["mode"] == node["role"]
        assert config["install"]["device"] == node["install_disk"]
        assert config["install"]["data_disk"] == node["data_disk"]
        assert config["os"]["hostname"] == name
        assert config["os"]["dns_nameservers"] == LAB["lab_dns_servers"]
        assert config["os"]["ntp_servers"] == LAB["lab_ntp_servers"]
        assert config["os"]["password"] == PASSWORD
        mif = config["install"]["management_interface"]
        assert mif["interfaces"] == [{"name": n["name"], "hwAddr": n["mac"]} for n in node["bond_nics"]]
        assert (mif["method"], mif["ip"], mif["subnet_mask"], mif["gateway"]) == (
            "static", node["mgmt_ip"], "255.255.255.0", "10.10.10.1")
        assert mif["vlan_id"] == 10 and mif["mtu"] == 1500
        # the bond options map holds strings only (the installer's map[string]string)
        assert mif["bond_options"] == {"mode": "802.3ad", "miimon": "100", "xmit_hash_policy": "layer3+4",
                                       "lacp_rate": "fast"}
    create = configs["ms02-1"]
    assert create["install"]["mode"] == "create"
    assert "server_url" not in create
    assert (create["install"]["vip"], create["install"]["vip_mode"]) == ("10.10.10.5", "static")
    for name in ("ms02-2", "ms02-3"):
        assert configs[name]["install"]["mode"] == "join"
        assert configs[name]["server_url"] == "https://10.10.10.5:443"
        assert "vip" not in configs[name]["install"]
    for name in NODES:
        script = (publish / f"{name}.ipxe").read_text()
        oob_mac = HOST_VARS[name]["oob_nic"]["mac"]
        assert script.startswith("#!ipxe\n")
        assert f"set oob-mac {oob_mac}" in script
        assert "BOOTIF=01-" + oob_mac.replace(":", "-") in script
        assert f"harvester.install.config_url=http://10.10.10.20/harvester/{name}.yaml" in script
        assert "harvester-v1.8.2-vmlinuz-amd64" in script and "harvester-v1.8.2-rootfs-amd64.squashfs" in script
        assert TOKEN not in script
    entry = (publish / "boot.ipxe").read_text()
    for name in NODES:
        assert f"iseq ${{mac}} {HOST_VARS[name]['oob_nic']['mac']} && chain http://10.10.10.20/harvester/{name}.ipxe" in entry


def test_configs_are_0600_and_secrets_never_printed(twin, tmp_path):
    proc, publish = bootstrap(twin, tmp_path, verbosity=3)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in NODES:
        assert stat.S_IMODE((publish / f"{name}.yaml").stat().st_mode) == 0o600
    output = proc.stdout + proc.stderr
    assert "Write the install configs and iPXE scripts" in output  # the task ran and was logged
    assert TOKEN not in output and PASSWORD not in output


def test_second_run_changes_nothing(twin, tmp_path):
    first, _publish = bootstrap(twin, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert int(recap(first.stdout)["changed"]) > 0
    second, _publish = bootstrap(twin, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert recap(second.stdout)["changed"] == "0", second.stdout


def test_secrets_encrypted_one_by_one_are_written_decrypted(twin, tmp_path):
    """vault.yml's values encrypted with `ansible-vault encrypt_string` (what AWX needs, awx/README.md):
    the install config gets the token and the password, not their !vault ciphertext."""
    inventory = copy_inventory(tmp_path)
    password_file = tmp_path / "vault-password"
    password_file.write_text("bootstrap-test-vault-password")
    encrypted = [subprocess.run([str(PLAYBOOK_BIN.parent / "ansible-vault"), "encrypt_string", "--vault-password-file",
                                 str(password_file), "--name", name, value], capture_output=True, text=True, check=True).stdout
                 for name, value in VAULT.items()]
    (inventory / "group_vars" / "all" / "vault.yml").write_text("---\n" + "".join(encrypted))
    proc, publish = bootstrap(twin, tmp_path, inventory=inventory, env={"ANSIBLE_VAULT_PASSWORD_FILE": str(password_file)},
                              extra_vars={"bootstrap_wait": False, "bootstrap_settings": False})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in NODES:
        text = (publish / f"{name}.yaml").read_text()
        assert "$ANSIBLE_VAULT" not in text and "!vault" not in text
        config = yaml.safe_load(text)
        assert (config["token"], config["os"]["password"]) == (TOKEN, PASSWORD)


def test_missing_token_fails_before_writing(twin, tmp_path):
    proc, publish = bootstrap(twin, tmp_path, extra_vars={"bootstrap_token": ""})
    assert proc.returncode != 0
    assert "bootstrap_token (lab_harvester_token from the vault) must be set" in proc.stdout
    assert not publish.exists()


def test_wait_names_the_node_that_is_not_ready(twin, tmp_path):
    s = twin.session()
    node = s.get(twin.url("/api/v1/nodes/ms02-3")).json()
    conditions = [dict(c, status="False", reason="KubeletNotReady") if c["type"] == "Ready" else c
                  for c in node["status"]["conditions"]]
    r = s.patch(twin.url("/api/v1/nodes/ms02-3/status"), data=json.dumps({"status": {"conditions": conditions}}),
                headers={"Content-Type": "application/merge-patch+json"})
    r.raise_for_status()
    proc, _publish = bootstrap(twin, tmp_path, tags=["bootstrap"],
                               extra_vars={"bootstrap_wait_retries": 2, "bootstrap_wait_delay": 0})
    assert proc.returncode != 0
    assert "Nodes not Ready after 0 s: ms02-3" in proc.stdout, proc.stdout
    assert "ms02-1" not in proc.stdout.split("Nodes not Ready", 1)[1].splitlines()[0]


def test_bonding_fails_naming_node_and_nic_that_is_down(twin, tmp_path):
    ok, _publish = bootstrap(twin, tmp_path, tags=["bonding"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    s = twin.session()
    lm = s.get(twin.url(f"{LINKMONITORS}/nic")).json()
    links = lm["status"]["linkStatus"]
    links["ms02-2"] = [dict(e, state="down") if e["name"] == "enp2s0f1np1" else e for e in links["ms02-2"]]
    r = s.patch(twin.url(f"{LINKMONITORS}/nic"), data=json.dumps({"status": {"linkStatus": links}}),
                headers={"Content-Type": "application/merge-patch+json"})
    r.raise_for_status()
    proc, _publish = bootstrap(twin, tmp_path, tags=["bonding"])
    assert proc.returncode != 0
    assert "node ms02-2: bond mgmt-bo has NIC(s) not up: enp2s0f1np1 (down)" in proc.stdout, proc.stdout
    failed_items = [x for x in proc.stdout.splitlines() if x.startswith("failed: [harvester-lab] (item=")]
    assert [x.split("(item=")[1].split(")")[0] for x in failed_items] == ["ms02-2"]  # ms02-1 and ms02-3 pass
    assert recap(proc.stdout)["failed"] == "1"


def self_signed(fqdn):
    """(certificate PEM, private key PEM) of a self-signed certificate for fqdn."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, fqdn)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(fqdn)]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def setting_value(twin, name):
    return twin.session().get(twin.url(f"/apis/harvesterhci.io/v1beta1/settings/{name}")).json().get("value", "")


def test_post_install_settings_ntp_additional_ca_and_certificate(twin, tmp_path):
    cert, key = self_signed("harvester." + LAB["lab_domain"])  # lab_harvester_fqdn is derived from it
    proc, _publish = bootstrap(twin, tmp_path, tags=["bootstrap"], verbosity=3, extra_vars={
        "lab_ntp_servers": ["10.10.10.1", "ntp.lab.local"],
        "bootstrap_additional_ca": cert,
        "bootstrap_ssl_certificate": cert,
        "bootstrap_ssl_private_key": key,
        "bootstrap_ssl_ca": cert,
    })
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(setting_value(twin, "ntp-servers")) == {"ntpServers": ["10.10.10.1", "ntp.lab.local"]}
    assert setting_value(twin, "additional-ca") == cert
    assert json.loads(setting_value(twin, "ssl-certificates")) == {"ca": cert, "publicCertificate": cert,
                                                                   "privateKey": key}
    key_body = key.splitlines()[1]
    assert key_body not in proc.stdout + proc.stderr
    assert "Serve the UI and API with the certificate for the lab name" in proc.stdout


def test_settings_left_alone_without_ca_and_certificate(twin, tmp_path):
    before = {n: setting_value(twin, n) for n in ("additional-ca", "ssl-certificates")}
    proc, _publish = bootstrap(twin, tmp_path, tags=["bootstrap"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {n: setting_value(twin, n) for n in before} == before
    assert json.loads(setting_value(twin, "ntp-servers")) == {"ntpServers": LAB["lab_ntp_servers"]}
