"""FIDELITY.md stays the ledger of the twin: every webhook and controller module has its section,
and every test a row names exists (a renamed or deleted test would leave a claim unproven)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

TWIN = Path(__file__).resolve().parents[1]
LEDGER = TWIN / "FIDELITY.md"
TESTS = Path(__file__).resolve().parent


def _ledger() -> str:
    return LEDGER.read_text(encoding="utf-8")


def test_every_admission_and_controller_module_has_a_section():
    text = _ledger()
    sections = set(re.findall(r"^### (.+)$", text, re.M))
    for area in ("admission", "controllers"):
        for module in sorted((TWIN / area).glob("*.py")):
            assert any(f"`{module.name}`" in s for s in sections), f"{area}/{module.name} has no section in FIDELITY.md"


def test_every_test_the_ledger_names_exists():
    text = _ledger()
    defined: dict[str, set[str]] = {}
    for path in TESTS.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined[path.name] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    named = 0
    for cell in re.findall(r"\| *([^|]*test_[^|]*)\|", text):
        current = None
        for token in re.findall(r"(test_[a-z0-9_]+\.py)|::(test_[a-z0-9_]+)", cell):
            file, test = token
            if file:
                current = file
                assert file in defined, f"FIDELITY.md names {file}, which does not exist"
            elif test:
                assert current is not None, f"FIDELITY.md names ::{test} without its file"
                assert test in defined[current], f"FIDELITY.md names {current}::{test}, which does not exist"
                named += 1
    assert named > 150
