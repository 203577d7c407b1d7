"""site.yml under seeded random API faults, the whole matrix (the suite runs a few seeds:
tests/integration/test_faults.py).

    .venv/bin/python tools/fault_runs.py [--rates 0.2,0.4] [--seeds 20] [--jobs 2] [--speed 20]

For each rate and seed: the twin back at its seeded lab, site.yml (storage role allowed to stop and
start the VMs) with random faults at that rate of the API calls (409, 429 with Retry-After 1, 500,
503, resets before and after the write is stored; tests/twin/hooks.py), then a fault-free run, which
must report changed=0, and the end state compared with a fault-free converge's (every managed
object, the count of each kind, the VMs running). Prints one line per run and, per rate, how many
seeds converged (failed=0), were idempotent after, and ended in the fault-free state. Exit status 1
when fewer than 19 of 20 (95 %) seeds of any rate hold all three.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / ".collections")]

from tests.integration import site_runs  # noqa: E402
from tests.twin.launch import start_twin, stop_twin  # noqa: E402


def one(twin, work, baseline, rate, seed):
    twin.reset()
    run = site_runs.faulty_run(twin, work, rate, seed)
    rc, out, recap = site_runs.site(twin, work)
    diff = site_runs.differences(baseline, site_runs.end_state(twin))
    failed = [line for line in run["out"].splitlines() if line.startswith(("fatal:", "failed:"))][:2]
    return {"rate": rate, "seed": seed, "converged": run["rc"] == 0 and run["recap"].get("failed") == 0,
            "idempotent": rc == 0 and recap.get("changed") == 0, "same_end_state": not diff, "diff": diff[:3],
            "faults": run["faults"], "requests": run["requests"], "seconds": run["seconds"], "failed": failed}


def worker(jobs, results, lock, speed, base):
    work = Path(tempfile.mkdtemp(prefix="fault-runs-", dir=base))
    twin = start_twin(work / "twin", [], ["--speed", str(speed)])
    try:
        rc, out, dummy = site_runs.site(twin, work)
        if rc:
            raise SystemExit(f"the fault-free converge failed:\n{out[-3000:]}")
        baseline = site_runs.end_state(twin)
        while True:
            with lock:
                if not jobs:
                    return
                rate, seed = jobs.pop(0)
            result = one(twin, work, baseline, rate, seed)
            with lock:
                results.append(result)
                faults = ", ".join(f"{k} {v}" for k, v in sorted(result["faults"].items()))
                print(f"rate {rate:.0%} seed {seed:2d}: converged={result['converged']} idempotent={result['idempotent']} "
                      f"end_state={'same' if result['same_end_state'] else 'DIFFERENT'} {result['requests']} requests, "
                      f"faults: {faults}; {result['seconds']:.1f} s"
                      + (f"; {result['failed']}" if result["failed"] else "") + (f"; {result['diff']}" if result["diff"] else ""),
                      flush=True)
    finally:
        stop_twin(twin)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rates", default="0.2,0.4")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--jobs", type=int, default=2, help="twins run side by side")
    p.add_argument("--speed", type=float, default=20)
    args = p.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    jobs = [(rate, seed) for rate in rates for seed in range(1, args.seeds + 1)]
    results, lock, started = [], threading.Lock(), time.monotonic()
    with tempfile.TemporaryDirectory() as base:
        threads = [threading.Thread(target=worker, args=(jobs, results, lock, args.speed, base)) for _ in range(args.jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    ok = True
    print()
    for rate in rates:
        mine = [r for r in results if r["rate"] == rate]
        good = [r for r in mine if r["converged"] and r["idempotent"] and r["same_end_state"]]
        times = sorted(r["seconds"] for r in mine)
        fired = sum(sum(r["faults"].values()) for r in mine)
        calls = sum(r["requests"] for r in mine)
        print(f"rate {rate:.0%}: {len(good)}/{len(mine)} seeds converged, then changed=0 and the fault-free end state "
              f"(converged {sum(r['converged'] for r in mine)}, idempotent {sum(r['idempotent'] for r in mine)}, "
              f"same end state {sum(r['same_end_state'] for r in mine)}); {fired} faults in {calls} API calls; "
              f"faulty run {times[0]:.1f}-{times[-1]:.1f} s, median {times[len(times) // 2]:.1f} s")
        ok = ok and len(good) * 20 >= 19 * len(mine)
    print(f"total {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
