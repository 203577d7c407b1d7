# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode has one choke point: ``ModuleContext`` builds the ``Client`` with ``dry_run=check_mode``
and the flows read it from the client (``client.dry_run``, ``wait.should_wait``). Only code that has
no client of ours to ask may read ``check_mode`` itself; this test names each such file and why, so a
new flow that branches on the module's flag fails here."""

from __future__ import annotations

import importlib
import io
import pathlib
import tokenize

PLUGINS = pathlib.Path(importlib.import_module("ansible_collections.homelab.harvester.plugins").__path__[0])
MAY_READ_CHECK_MODE = {
    "module_utils/module.py": "builds the one Client with dry_run=check_mode",
    "plugin_utils/action.py": "hands the task's check mode to the in-process runner",
    "plugin_utils/in_process.py": "hands it to ModuleContext, as module.py does on the module path",
    "module_utils/install_files.py": "writes local files, no API client",
    "module_utils/amt_power.py": "WS-Management has no dry run",
}


def code_names(path):
    """The names in a file's code (not in its strings or comments)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return {t.string for t in tokens if t.type == tokenize.NAME}


def test_only_code_without_a_client_reads_check_mode():
    readers = sorted(str(p.relative_to(PLUGINS)) for folder in ("module_utils", "modules", "plugin_utils")
                     for p in (PLUGINS / folder).rglob("*.py") if "check_mode" in code_names(p))
    assert readers == sorted(MAY_READ_CHECK_MODE), "read check mode from the client (client.dry_run, wait.should_wait)"


def test_the_scan_sees_a_name_in_code_and_not_in_a_docstring(tmp_path):
    code, doc = tmp_path / "code.py", tmp_path / "doc.py"
    code.write_text("if module.check_mode:\n    pass\n")
    doc.write_text('"""built with dry_run=check_mode"""\n# check_mode\n')
    assert "check_mode" in code_names(code) and "check_mode" not in code_names(doc)
