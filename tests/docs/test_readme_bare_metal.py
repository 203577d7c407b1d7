# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's section on bare metal says what the code does: the AMT keys it names are the ones
each node of inventory/lab has, the clusterctl flags it shows are the ones capi_provider_info
answers with, the Tinkerbell objects are the ones tinkerbell_machine and rufio_job write, and the
demo's extra vars are the ones tools/demo.sh passes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ansible_collections.homelab.harvester.plugins.module_utils.capi import providers as capi_providers

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SECTION = README.partition("## From bare metal: AMT, Tinkerbell and the management cluster")[2].partition("\n## ")[0]


def test_the_section_is_there_with_its_four_parts():
    for part in ("**Intel AMT**", "**Tinkerbell**", "**The management cluster is checked, not assumed.**", "**The demo.**"):
        assert part in SECTION


def test_the_amt_keys_are_the_inventorys():
    node = yaml.safe_load((ROOT / "inventory" / "lab" / "host_vars" / "ms02-1.yml").read_text())["lab_node"]["amt"]
    for key, value in node.items():
        assert f"`{key}: {str(value).lower()}`" in SECTION or f"`{key}`" in SECTION, key
    assert "vault_amt_password" in SECTION and "vault_amt_password" in (ROOT / "inventory/lab/group_vars/all/vault.yml").read_text()


def test_the_clusterctl_flags_are_the_ones_the_check_answers_with():
    (command,) = re.findall(r"clusterctl init (--core .*)", SECTION)
    assert set(re.findall(r"--[\w-]+ [\w-]+", command)) == {p.flag for p in capi_providers.PROVIDERS}
    for provider in capi_providers.PROVIDERS:
        assert f"{provider.group}/{provider.version}" in SECTION


def test_the_demos_extra_vars_are_what_demo_sh_passes():
    demo = (ROOT / "tools" / "demo.sh").read_text()
    for var in ("@$endpoints", "bootstrap_publish_dir=", "capi_kubeconfig_dir="):
        assert var in demo
    assert "amt-endpoints.yml" in SECTION and "bootstrap_publish_dir=.twin/nas/harvester" in SECTION
    assert "--bare" in (ROOT / "Makefile").read_text() and "TWIN_NAS=.twin/nas" in (ROOT / "Makefile").read_text()
