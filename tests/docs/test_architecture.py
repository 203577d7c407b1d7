# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/architecture.md matches the code: every file or folder it names exists, every
module_utils file it lists in its diagram exists, and the names it gives the path of one task
(the action plugin class, the runner, the spec the network module passes) are the code's."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "architecture.md").read_text()
# `a/b.py`, `a/b/`, `a/<module>.py` in backticks, or a path at the start of a diagram line
PATH = re.compile(r"`((?:plugins|tests|roles|playbooks|inventory|extensions|docs|bench|tools)/[^`\s]*)`")


def test_every_path_it_names_exists():
    named = set(PATH.findall(PAGE))
    assert len(named) > 30
    missing = [p for p in sorted(named) if "<" not in p and not (ROOT / p.rstrip("/")).exists()]
    templated = [p for p in sorted(named) if "<" in p and not list(ROOT.glob(re.sub(r"<[^>]+>", "*", p)))]
    assert missing == [] and templated == []


def test_the_module_utils_files_of_the_diagram_exist():
    diagram = PAGE.partition("```\n")[2].partition("```")[0]
    section = diagram.partition("plugins/module_utils/")[2].partition("HTTPS")[0]
    names = set(re.findall(r"(?<![/\w])([a-z_]+\.py)\b", section))
    assert {"module.py", "kind_spec.py", "reconcile.py", "client.py", "connection.py"} <= names
    assert [n for n in sorted(names) if not (ROOT / "plugins" / "module_utils" / n).exists()] == []


def test_the_path_of_one_task_uses_the_codes_names():
    action = (ROOT / "plugins" / "plugin_utils" / "action.py").read_text()
    module = (ROOT / "plugins" / "modules" / "harvester_network.py").read_text()
    assert "class InWorkerAction" in action and "InWorkerAction" in PAGE
    assert "reconcile.run(module, vm_network.SPEC)" in module and "reconcile.run(module, vm_network.SPEC)" in PAGE
    assert "def converge(client, spec, params)" in (ROOT / "plugins" / "module_utils" / "reconcile.py").read_text()
