# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML docs site (`make docs-site`, tools/docs_site.sh): antsibull-docs and Sphinx build it
without a warning, with a page for every module, plugin, filter and role, and a browser renders
it: headless Chromium opens the index and one module page, their DOM has the title and the
options table, and the screenshots (kept in build/docs-screenshots/, a CI artifact) are pictures
of a page, not a blank window.

Chromium is driven from its command line (--dump-dom, --screenshot): no WebDriver, no extra
Python package. Without chromium (Debian package `chromium`, in bindep.txt; .ci/run installs it)
the browser tests skip and say so."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "build" / "docs-screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# What works on a machine without outside network and without a display or a sandbox: nothing
# to download, update or sync, a fresh profile each time.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]
WINDOW = (1280, 1600)
MODULE_PAGE = "capi_cluster_module.html"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH: install the Debian package chromium (bindep.txt, profile test) to render the docs site")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site as `make docs-site` builds it, here in a temporary directory."""
    dest = tmp_path_factory.mktemp("docs") / "site"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(VENV_BIN=str(BIN), ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"))
    proc = subprocess.run([str(ROOT / "tools" / "docs_site.sh"), str(dest)], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest / "html"


def chromium(tmp_path, *args):
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    proc = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def png_size_and_variety(path):
    """(width, height) from the IHDR chunk and how many different byte values the image data holds:
    a blank window compresses to a handful, a page of text to well over a hundred."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return (width, height), len(set(zlib.decompress(idat)))


def render(tmp_path, page, name):
    """The DOM of `page` after Chromium loaded it, and a screenshot of it in SCREENSHOTS."""
    url = page.as_uri()
    dom = chromium(tmp_path, "--dump-dom", url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}", url)
    return dom, shot


def test_every_module_plugin_filter_and_role_has_a_page(site):
    modules = {p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__"}
    filters = {p.stem for p in (ROOT / "plugins" / "filter").glob("*.yml")}
    roles = {p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml")}
    expected = ({f"{m}_module.html" for m in modules} | {f"{f}_filter.html" for f in filters}
                | {f"{r}_role.html" for r in roles} | {"harvester_inventory.html", "index.html"})
    assert modules and filters and roles
    assert sorted(expected - {p.name for p in site.glob("*.html")}) == []


def test_a_module_page_lists_the_options_of_the_module(site):
    html = (site / MODULE_PAGE).read_text()
    assert "ansible-option-table" in html
    for option in ("kubernetes_version", "talos_version", "control_plane", "wait_for"):
        assert f'id="parameter-{option}"' in html, option


@needs_chromium
def test_chromium_renders_the_index(site, tmp_path):
    dom, shot = render(tmp_path, site / "index.html", "index")
    assert re.search(r"<title>Homelab\.Harvester\b[^<]*homelab\.harvester</title>", dom), dom[:500]
    assert 'href="capi_cluster_module.html"' in dom
    size, variety = png_size_and_variety(shot)
    assert size == WINDOW
    assert variety > 100, f"{shot} looks blank ({variety} byte values)"


@needs_chromium
def test_chromium_renders_a_module_page_with_its_options_table(site, tmp_path):
    dom, shot = render(tmp_path, site / MODULE_PAGE, "capi_cluster_module")
    assert "<title>homelab.harvester.capi_cluster module" in dom
    table = re.search(r'<table class="[^"]*ansible-option-table[^"]*".*?</table>', dom, re.DOTALL)
    assert table, "no options table in the rendered page"
    assert 'id="parameter-kubernetes_version"' in table.group(0)
    size, variety = png_size_and_variety(shot)
    assert size == WINDOW
    assert variety > 100, f"{shot} looks blank ({variety} byte values)"


@needs_chromium
def test_the_blank_check_does_tell_a_blank_page(tmp_path):
    """The variety measure above means something: an empty page's screenshot fails it."""
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><title>blank</title><body></body>")
    shot = tmp_path / "blank.png"
    chromium(tmp_path, f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}", blank.as_uri())
    size, variety = png_size_and_variety(shot)
    assert size == WINDOW and variety <= 100
