"""Benchmark of the twin: start-up time and simple-GET throughput, printed as figures.

Each figure is shown side by side with a baseline measured in the same run, so the ratio means
something on a shared, noisy machine:
- start-up: against `python -c "import aiohttp, cryptography, yaml"` (the interpreter and the
  imports the twin cannot avoid);
- GET throughput: against a bare aiohttp TLS server that answers a fixed JSON body (the floor of
  the same stack, with no routing, auth, store or serialisation of ours).

Usage: .venv/bin/python bench/twin.py [--requests N] [--upstream]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared" / "reference" / "crds"
sys.path.insert(0, str(ROOT))

from tests.twin import launch  # noqa: E402

BASELINE_SERVER = textwrap.dedent("""
    import asyncio, sys
    from aiohttp import web
    sys.path.insert(0, sys.argv[2])
    from tests.twin.tls import make_serving_cert
    cert = make_serving_cert()
    open(sys.argv[1] + ".ca", "wb").write(cert.ca_pem)
    async def hello(request):
        return web.json_response({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "default"}})
    async def main():
        runner = web.AppRunner(web.Application(handler_args=None), access_log=None)
        runner.app.router.add_get("/{tail:.*}", hello)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=cert.ssl_context())
        await site.start()
        open(sys.argv[1], "w").write(str(runner.addresses[0][1]))
        await asyncio.Event().wait()
    asyncio.run(main())
""")


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.005)


def start_twin(work: Path, upstream: bool) -> tuple[subprocess.Popen, float, dict]:
    crds = [d for d in sorted(UPSTREAM.iterdir()) if d.is_dir()] if upstream else []
    t0 = time.perf_counter()
    twin = launch.start_twin(work, crds)
    elapsed = time.perf_counter() - t0
    return twin.process, elapsed, {"server": twin.server, "token": twin.token, "ca": str(twin.ca_file)}


def start_baseline(work: Path) -> tuple[subprocess.Popen, dict]:
    port_file = work / "baseline.port"
    proc = subprocess.Popen([sys.executable, "-c", BASELINE_SERVER, str(port_file), str(ROOT)], cwd=ROOT)
    wait_for(port_file, proc)
    time.sleep(0.05)
    return proc, {"server": f"https://127.0.0.1:{port_file.read_text()}", "token": "x", "ca": str(port_file) + ".ca"}


def import_floor() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import aiohttp, cryptography.x509, yaml"], check=True)
    return time.perf_counter() - t0


def throughput(target: dict, path: str, n: int, workers: int) -> float:
    """Requests per second for n GETs over `workers` keep-alive sessions."""
    def run(count: int) -> None:
        s = requests.Session()
        s.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify=
        s.verify = target["ca"]
        s.headers["Authorization"] = f"Bearer {target['token']}"
        for _ in range(count):
            r = s.get(target["server"] + path)
            r.raise_for_status()
    per = n // workers
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, [per] * workers))
    return per * workers / (time.perf_counter() - t0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--upstream", action="store_true", help="also time start-up with the upstream CRDs loaded")
    args = p.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        floors = [import_floor() for _ in range(3)]
        starts = []
        for i in range(3):
            proc, elapsed, target = start_twin(work / f"t{i}", upstream=False)
            starts.append(elapsed)
            if i < 2:
                proc.terminate()
                proc.wait()
        results["startup_s"] = statistics.median(starts)
        results["import_floor_s"] = statistics.median(floors)
        if args.upstream and UPSTREAM.is_dir():
            up, elapsed, _ = start_twin(work / "up", upstream=True)
            results["startup_upstream_crds_s"] = elapsed
            up.terminate()
            up.wait()
        base, btarget = start_baseline(work)
        try:
            for workers in (1, 4):
                twin_rps = throughput(target, "/api/v1/namespaces/default", args.requests, workers)
                base_rps = throughput(btarget, "/api/v1/namespaces/default", args.requests, workers)
                results[f"get_rps_{workers}c"] = twin_rps
                results[f"baseline_rps_{workers}c"] = base_rps
            results["list_rps_1c"] = throughput(target, "/api/v1/namespaces", args.requests // 2, 1)
        finally:
            base.terminate()
            proc.terminate()
            base.wait()
            proc.wait()
    print(f"twin start-up (until kubeconfig written): {results['startup_s']:.3f} s "
          f"(import floor {results['import_floor_s']:.3f} s, ratio {results['startup_s'] / results['import_floor_s']:.2f}x)")
    if "startup_upstream_crds_s" in results:
        print(f"twin start-up with upstream CRDs:         {results['startup_upstream_crds_s']:.3f} s")
    for workers in (1, 4):
        t, b = results[f"get_rps_{workers}c"], results[f"baseline_rps_{workers}c"]
        print(f"GET one object, {workers} client(s): {t:8.0f} req/s   baseline {b:8.0f} req/s   ratio {t / b:.2f}")
    print(f"LIST namespaces, 1 client:  {results['list_rps_1c']:8.0f} req/s")
    print(json.dumps({k: round(v, 4) for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
