# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new user of another lab needed and did not find where they looked: next to lab_vlans,
that the VLAN named `storage` becomes the storage network (L2 only); next to lab_bond.mtu, its range
and that it applies when a node is installed; in the README and the lab inventory, that the twin
really downloads image and ISO URLs (so a local HTTP server works to try them)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = (ROOT / "inventory" / "lab" / "group_vars" / "all" / "lab.yml").read_text()


def comment_before(key):
    """The comment lines right above ``key:`` (and those inside its block up to the next key)."""
    lines = LAB.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:") or line.strip().startswith(f"{key}:"))
    above = []
    for line in reversed(lines[:at]):
        if not line.lstrip().startswith("#"):
            break
        above.append(line.strip().lstrip("#").strip())
    return " ".join(" ".join(reversed(above)).split())


def test_the_storage_vlan_rule_is_next_to_lab_vlans():
    text = comment_before("lab_vlans")
    assert "`storage`" in text and "storage network" in text and "gateway null" in text


def test_the_mtu_range_and_that_it_applies_at_install_time_are_next_to_the_mtu():
    text = comment_before("mtu")
    assert "576 to 9000" in text and "applies when a node is installed" in text


def test_the_twin_downloads_image_and_iso_urls_is_said():
    readme = (ROOT / "README.md").read_text()
    assert "The twin really downloads the URLs of images" in readme and "upgrade ISOs" in readme
    assert "python3 -m http.server" in readme
    assert "The twin really downloads image (and upgrade ISO) URLs" in comment_before("lab_images")
