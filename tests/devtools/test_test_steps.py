"""tools/test_steps.sh, the runner of make test's steps: in order, a joined step's targets side by
side, each target's log whole with its own time, and the first failure stops the run."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "test_steps.sh"
MAKEFILE = """
one:
\t@echo one says hi
waits:
\t@for i in $$(seq 100); do [ -e started ] && break; sleep 0.1; done; [ -e started ]; echo waits done
starts:
\t@touch started; echo starts done
broken:
\t@echo broken says why; exit 3
never:
\t@echo never ran
"""


def steps(tmp_path, *args):
    (tmp_path / "Makefile").write_text(MAKEFILE)
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "MAKE": "make -s"}, check=False)


def test_steps_run_in_order_and_a_joined_step_side_by_side(tmp_path):
    # `waits` ends only once `starts`, given after it, has run: in a row it would fail after 10 s
    proc = steps(tmp_path, "one", "waits+starts")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.index("one says hi") < out.index("==> make waits+starts")
    # each target's log whole, in the order given, ending with its own time
    assert out.index("--> make waits (ok):") < out.index("waits done") < out.index("--> make waits took") \
        < out.index("--> make starts (ok):") < out.index("starts done") < out.index("--> make starts took")
    assert re.search(r"--> make starts took \d+ s", out)
    assert out.rstrip().endswith("==> make test: all steps passed")


def test_a_failed_target_stops_the_run_after_its_step(tmp_path):
    proc = steps(tmp_path, "broken+one", "never")
    assert proc.returncode == 1
    assert "--> make broken (FAILED):" in proc.stdout and "broken says why" in proc.stdout
    assert "--> make one (ok):" in proc.stdout  # the rest of the step still reports
    assert "==> make broken FAILED" in proc.stdout
    assert "never ran" not in proc.stdout and "all steps passed" not in proc.stdout
