# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which command-line flags the twin of this checkout has (`python -m tests.twin --help`, read once
per process), for tests written against issue 15's contract before the twin's side of it lands:

    pytestmark = [needs("--bare")]      # skipped, saying why, while the twin has no --bare
"""
from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def twin_help() -> str:
    proc = subprocess.run([sys.executable, "-m", "tests.twin", "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)
    return proc.stdout


def twin_supports(flag: str) -> bool:
    return flag in twin_help().split()  # a flag as argparse lists it, not a word of a help text


def needs(*flags: str):
    """A skip mark for a test that needs the twin to have every flag of `flags`."""
    missing = [f for f in flags if not twin_supports(f)]
    return pytest.mark.skipif(bool(missing), reason=(
        f"the twin has no {', '.join(missing)} yet (issue 15's twin side: bare metal, simulated AMT, NAS, Rufio); "
        "this test runs once it lands"))
