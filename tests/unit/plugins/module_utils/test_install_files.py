# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/install_files.py: the install config harvester-installer reads (create vs
join, the bond's options as strings, the static address), the iPXE scripts, and publishing that
writes only what differs, atomically, 0600 for configs, and never shows a config's content. The
refusals are in the catalogue (tests/catalogue), run by tests/unit/plugins/plugin_utils."""

from __future__ import annotations

import json
import os
import stat

from ansible_collections.homelab.harvester.plugins.module_utils import install_files
from tests.catalogue.harvester_install_files import args


def config_of(text):
    assert text.startswith(install_files.HEADER + "\n")
    return json.loads(text.split("\n", 1)[1])


def test_create_and_join_configs():
    rendered = {name: text for name, text, mode, secret in install_files.files(args())}
    create, join = config_of(rendered["ms02-1.yaml"]), config_of(rendered["ms02-2.yaml"])
    assert list(create) == ["scheme_version", "token", "sans", "os", "install"]
    assert (create["install"]["vip"], create["install"]["vip_mode"], create["install"]["mode"]) == ("10.10.10.5", "static", "create")
    assert join["server_url"] == "https://10.10.10.5:443" and "vip" not in join["install"]
    mif = join["install"]["management_interface"]
    assert mif == {"interfaces": [{"name": "enp2s0f0np0", "hwAddr": "58:47:ca:00:01:10"},
                                  {"name": "enp2s0f1np1", "hwAddr": "58:47:ca:00:01:11"}],
                   "bond_options": {"mode": "802.3ad", "miimon": "100", "xmit_hash_policy": "layer3+4", "lacp_rate": "fast"},
                   "mtu": 1500, "vlan_id": 10, "method": "static", "ip": "10.10.10.12", "subnet_mask": "255.255.255.0",
                   "gateway": "10.10.10.1"}
    assert create["install"]["iso_url"] == "http://10.10.10.20/harvester/v1.8.2/harvester-v1.8.2-amd64.iso"


def test_bond_options_only_where_the_mode_uses_them():
    assert install_files.bond_options({"mode": "active-backup", "miimon": 100, "xmit_hash_policy": "layer2",
                                       "lacp_rate": "fast"}) == {"mode": "active-backup", "miimon": "100"}
    assert install_files.bond_options({"mode": "balance-xor", "miimon": 50, "xmit_hash_policy": "layer2",
                                       "lacp_rate": "fast"}) == {"mode": "balance-xor", "miimon": "50", "xmit_hash_policy": "layer2"}


def test_ipxe_scripts():
    rendered = {name: text for name, text, mode, secret in install_files.files(args(kernel_args=["console=ttyS0"]))}
    node = rendered["ms02-2.ipxe"]
    assert node.startswith("#!ipxe\n") and "set oob-mac 58:47:ca:00:02:20" in node
    assert "BOOTIF=01-58-47-ca-00-02-20" in node and node.rstrip().endswith("boot")
    assert "harvester.install.config_url=http://10.10.10.20/harvester/ms02-2.yaml console=ttyS0" in node
    assert "catalogue-token-value" not in node
    assert ("iseq ${mac} 58:47:ca:00:01:20 && chain http://10.10.10.20/harvester/ms02-1.ipxe ||"
            in rendered["boot.ipxe"])


def test_publish_writes_what_differs_atomically_with_modes_and_fingerprints(tmp_path):
    dest = str(tmp_path / "pxe")
    rendered = install_files.files(args(dest))
    assert install_files.publish(dest, rendered, check_mode=True)[0] == [r[0] for r in rendered]
    assert not os.path.exists(dest)  # check mode writes nothing, not even the directory
    changed, diff = install_files.publish(dest, rendered)
    assert changed == [r[0] for r in rendered]
    assert stat.S_IMODE(os.stat(os.path.join(dest, "ms02-1.yaml")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(dest, "boot.ipxe")).st_mode) == 0o644
    assert diff["after"]["ms02-1.yaml"].startswith("sha256:") and "token" not in json.dumps(diff)
    assert install_files.publish(dest, rendered) == ([], {"before": {}, "after": {}})
    os.chmod(os.path.join(dest, "ms02-1.yaml"), 0o644)  # someone made it readable: put back
    again = install_files.files(args(dest, token="rotated-token"))
    changed, diff = install_files.publish(dest, again)
    assert changed == ["ms02-1.yaml", "ms02-2.yaml"]
    assert diff["before"]["ms02-1.yaml mode"] == "0o644" and diff["after"]["ms02-1.yaml mode"] == "0o600"
    assert diff["before"]["ms02-1.yaml"] != diff["after"]["ms02-1.yaml"]
    assert not [f for f in os.listdir(dest) if f.startswith(".")]  # no temp file left behind
