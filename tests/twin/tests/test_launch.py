"""tests/twin/launch.py, the one way everyone starts a twin: `run` gives the command the twin's
kubeconfig and stops the twin after it, whatever the command's status; `start` is detached and
idempotent per directory, `run` refuses a directory whose twin still runs, `stop` ends it and is
safe when nothing runs (or the pid file names another process)."""
from __future__ import annotations

import os
import subprocess
import sys

from .conftest import ROOT

LAUNCH = [sys.executable, "-m", "tests.twin.launch"]


def launch(*args, env=None):
    return subprocess.run([*LAUNCH, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)


def running(pid):
    try:
        return b"tests.twin" in open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return False


def test_run_gives_the_command_the_twin_and_stops_it(tmp_path):
    proc = launch("run", "--dir", str(tmp_path), "--", sys.executable, "-c",
                  "import os, sys; print(os.environ['K8S_AUTH_KUBECONFIG'], os.environ['TWIN_PORT']); sys.exit(3)")
    assert proc.returncode == 3, proc.stderr  # the command's status
    kubeconfig, port = proc.stdout.split()
    assert kubeconfig == str(tmp_path / "kubeconfig") and f"127.0.0.1:{port}" in (tmp_path / "kubeconfig").read_text()
    assert not (tmp_path / "twin.pid").exists()
    assert "serving on https://127.0.0.1:" in proc.stderr


def test_start_is_detached_and_idempotent_stop_is_safe(tmp_path):
    first = launch("start", "--dir", str(tmp_path), "--speed", "10")
    assert first.returncode == 0 and first.stdout.strip() == "started", first.stderr
    pid = int((tmp_path / "twin.pid").read_text())
    assert running(pid)
    again = launch("start", "--dir", str(tmp_path))
    assert again.stdout.strip() == "running" and int((tmp_path / "twin.pid").read_text()) == pid
    refused = launch("run", "--dir", str(tmp_path), "--", "true")
    assert refused.returncode == 1 and f"a twin (pid {pid}) already uses" in refused.stderr
    assert launch("stop", "--dir", str(tmp_path)).stdout.strip() == "stopped"
    assert not running(pid) and not (tmp_path / "twin.pid").exists()
    assert launch("stop", "--dir", str(tmp_path)).stdout.strip() == "not running"
    (tmp_path / "twin.pid").write_text(f"{os.getpid()}\n")  # a stale pid file naming another process
    assert launch("stop", "--dir", str(tmp_path)).stdout.strip() == "not running"


def test_a_twin_that_cannot_start_is_reported_with_its_log(tmp_path):
    proc = launch("run", "--dir", str(tmp_path), "--lab", str(tmp_path / "no-such-inventory"), "--", "true")
    assert proc.returncode == 1 and "the twin did not start" in proc.stderr and "--lab" in proc.stderr
