"""site.yml interrupted with Ctrl-C at every point, then run again (the suite interrupts it twice:
tests/integration/test_faults.py).

    .venv/bin/python tools/interrupt_runs.py [--speed 20]

A fault-free converge from the seeded lab gives the end state to reach and the run's task list and
stored writes. Then, from the seeded lab each time: site.yml (storage role allowed to stop and start
the VMs) is sent SIGINT, to its whole process group as Ctrl-C does, (a) right after each task, i.e. as
the next one starts, and (b) right after each stored API write (in the middle of a task: after a VM
was stopped, after the storage-network write, after a VM was started again, ...); then site.yml runs
again without interruption, must end with failed=0 and in the fault-free end state, and a third run
must report changed=0. Prints one line per interruption and the totals; exit status 1 on any miss.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / ".collections")]

from tests.integration import site_runs  # noqa: E402
from tests.twin.launch import start_twin, stop_twin  # noqa: E402


def after_write(number, since):
    """A trigger: the ``number``-th stored write since ``since`` has been served."""
    def trigger(lines, twin):
        writes = [r for r in twin.requests_log(since) if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
                  and "dryRun=All" not in (r.get("query") or "") and r["status"] < 400 and not r["path"].startswith("/_twin/")]
        return len(writes) >= number
    return trigger


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--speed", type=float, default=20)
    args = p.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as base:
        work = Path(base)
        twin = start_twin(work / "twin", [], ["--speed", str(args.speed)])
        try:
            since = twin.last_seq()
            rc, out, recap = site_runs.site(twin, work)
            if rc:
                print(out[-3000:])
                return 1
            baseline = site_runs.end_state(twin)
            tasks = site_runs.task_names(out)
            writes = [f"{r['method']} {r['path']}" for r in twin.requests_log(since) if r["method"] in (
                "POST", "PUT", "PATCH", "DELETE") and "dryRun=All" not in (r.get("query") or "") and r["status"] < 400]
            cases = [(f"after task {i}: {name}", site_runs.at_task, i + 1) for i, name in enumerate(tasks, 1)]
            cases += [(f"after write {i}: {what}", after_write, i) for i, what in enumerate(writes, 1)]
            print(f"{len(tasks)} tasks, {len(writes)} stored writes in a fault-free converge: {len(cases)} interruptions",
                  flush=True)
            misses = 0
            for label, make, number in cases:
                twin.reset()
                site_runs.fresh_files(work)
                trigger = make(number) if make is site_runs.at_task else make(number, twin.last_seq())
                rc, out, sent = site_runs.interrupted_run(twin, work, trigger)
                rc2, out2, recap2 = site_runs.site(twin, work)
                diff = site_runs.differences(baseline, site_runs.end_state(twin))
                rc3, out3, recap3 = site_runs.site(twin, work)
                good = rc2 == 0 and recap2.get("failed") == 0 and not diff and rc3 == 0 and recap3.get("changed") == 0
                misses += not good
                print(f"{'ok  ' if good else 'MISS'} {label}: interrupted={sent} rc={rc}; re-run rc={rc2} "
                      f"failed={recap2.get('failed')}; end state {'same' if not diff else diff[:3]}; "
                      f"next run changed={recap3.get('changed')}", flush=True)
        finally:
            stop_twin(twin)
    print(f"{len(cases) - misses}/{len(cases)} interruptions re-ran to the fault-free end state with changed=0 after; "
          f"{time.monotonic() - started:.0f} s")
    return 0 if misses == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
