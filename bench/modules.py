"""Benchmark of the modules: one set of objects applied three ways against one twin, side by side.

The set (issue 4): 3 VM networks (NADs on mgmt, VLANs 30/40/50), 2 images (served from a local
HTTP server started here), 10 Longhorn settings, 5 Harvester settings, then 100 VM networks
(VLANs 100-199) in a `loop:`. Applied three ways in the same run, each on a freshly reset twin:

- ours:  the homelab.harvester modules (settings in their natural form: one task with `settings:`);
- k8s:   kubernetes.core.k8s with the equivalent manifests (the settings' stored string forms; the
         settings as one task with a list `definition`, the images with `wait_condition: Imported`);
- ping:  ansible.builtin.ping with the same tasks and loop items (Ansible's own per-task floor).

Each way runs twice: the first run, then a no-op re-run. Per phase it prints wall time, per-item
average, the twin's reads (GET) and writes (POST/PUT/PATCH/DELETE) from /_twin/requests, and the
ratios ours/ping and k8s/ours. Targets (issue 4) are printed next to the figures, never asserted:
no-op re-run with 0 writes and <= 1 read per object; ours <= 1.3x ping; ours >= 3x faster than k8s.

Phases are timed by a tiny callback plugin written here: at each task start it notes the time and
the twin's last request number, so one ansible-playbook run per way and pass is measured per phase
(the ansible-playbook start-up is shown separately as "start-up + end").

Usage: .venv/bin/python bench/modules.py [--quick] [--loop N] [--speed F] [--keep]
(`make bench` installs requirements-bench.txt -- the `ansible` package, for kubernetes.core.)
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.twin.tests.conftest import start_twin, stop_twin  # noqa: E402

PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def is_discovery(path: str) -> bool:
    """/api, /apis, /version, /openapi/..., and the resource lists /api/v1 and /apis/<group>/<version>."""
    parts = path.strip("/").split("/")
    return parts[0] in ("version", "openapi") or (parts[0] == "api" and len(parts) <= 2) or (parts[0] == "apis" and len(parts) <= 3)

WAYS = ("ours", "k8s", "ping")
NAD_API = "k8s.cni.cncf.io/v1"

# 10 Longhorn settings: name -> (our natural value, the string Longhorn stores). All differ from
# the twin's lab values, so the first run changes every one of them.
LONGHORN = {
    "default-replica-count": (2, '{"v1":"2","v2":"2"}'),
    "engine-replica-timeout": (10, '{"v1":"10","v2":"10"}'),
    "replica-auto-balance": ("best-effort", "best-effort"),
    "storage-minimal-available-percentage": (15, "15"),
    "upgrade-checker": (False, "false"),
    "backup-concurrent-limit": (4, "4"),
    "restore-concurrent-limit": (4, "4"),
    "concurrent-replica-rebuild-per-node-limit": (3, "3"),
    "failed-backup-ttl": (720, "720"),
    "default-data-locality": ("best-effort", "best-effort"),
}
# 5 Harvester settings: name -> our natural value (the stored form is its compact JSON / string).
HARVESTER = {
    "overcommit-config": {"cpu": 1600, "memory": 150, "storage": 200},
    "vm-force-reset-policy": {"enable": True, "period": 300, "vmMigrationTimeout": 180},
    "ntp-servers": {"ntpServers": ["10.10.10.1", "10.10.10.2"]},
    "log-level": "debug",
    "upgrade-config": {"imagePreloadOption": {"strategy": {"type": "sequential"}},
                       "nodeUpgradeOption": {"strategy": {"mode": "auto"}}, "restoreVM": True, "logReadyTimeout": "5"},
}
FIRST_VLANS = (30, 40, 50)

CALLBACK = textwrap.dedent('''
    """Notes (task name, time, twin's last request seq) at each task start, and failures."""
    import json, os, ssl, time, urllib.request
    from ansible.plugins.callback import CallbackBase

    class CallbackModule(CallbackBase):
        CALLBACK_VERSION = 2.0
        CALLBACK_TYPE = "aggregate"
        CALLBACK_NAME = "bench_marks"
        CALLBACK_NEEDS_ENABLED = True

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.marks, self.failures, self.changed, self.seq = [], [], {}, 0
            self.ctx = ssl.create_default_context(cafile=os.environ["BENCH_TWIN_CA"])
            self.task = None

        def _seq(self):
            req = urllib.request.Request(os.environ["BENCH_TWIN_SERVER"] + "/_twin/requests?since=%d" % self.seq,
                                         headers={"Authorization": "Bearer " + os.environ["BENCH_TWIN_TOKEN"]})
            with urllib.request.urlopen(req, context=self.ctx) as r:
                log = json.load(r)
            if log:
                self.seq = log[-1]["seq"]
            return self.seq

        def _mark(self, name):
            self.marks.append([name, time.perf_counter(), self._seq()])

        def v2_playbook_on_task_start(self, task, is_conditional):
            self.task = task.get_name()
            self._mark(self.task)

        def _ok(self, result):
            self.changed[self.task] = self.changed.get(self.task, 0) + int(bool(result._result.get("changed")))

        def v2_runner_on_ok(self, result):
            if "results" not in result._result:
                self._ok(result)

        v2_runner_item_on_ok = _ok

        def v2_runner_on_failed(self, result, ignore_errors=False):
            if "results" not in result._result:
                self.failures.append([self.task, result._result.get("msg") or str(result._result)[:2000]])

        def v2_runner_item_on_failed(self, result):
            self.failures.append([self.task, result._result.get("msg") or str(result._result)[:2000]])

        def v2_playbook_on_stats(self, stats):
            self._mark("__end__")
            with open(os.environ["BENCH_MARKS"], "w") as f:
                json.dump({"marks": self.marks, "failures": self.failures, "changed": self.changed}, f)
''')


# --- the set of objects, three ways ------------------------------------------------------------
def nad_config(name: str, vlan: int | str) -> str:
    """spec.config as stored: the UI's form plus the mtu the mutating webhook injects."""
    return (f'{{"cniVersion":"0.3.1","name":"{name}","type":"bridge","bridge":"mgmt-br","promiscMode":true,'
            f'"vlan":{vlan},"ipam":{{}},"mtu":1500}}')


def nad_manifest(name: str, vlan: int | str) -> dict:
    return {"apiVersion": NAD_API, "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": "default",
                         "labels": {"network.harvesterhci.io/clusternetwork": "mgmt",
                                    "network.harvesterhci.io/type": "L2VlanNetwork"}},
            "spec": {"config": nad_config(name, vlan)}}


def phases(images: list[dict], loop: int) -> list[dict]:
    """Each phase: name, objects, items (module invocations) and its tasks for each way."""
    def net(vlan):
        return f"bench-net-{vlan}"

    loop_vlans = list(range(100, 100 + loop))
    lh_manifests = [{"apiVersion": "longhorn.io/v1beta2", "kind": "Setting",
                     "metadata": {"name": n, "namespace": "longhorn-system"}, "value": stored}
                    for n, (_, stored) in LONGHORN.items()]
    hv_manifests = [{"apiVersion": "harvesterhci.io/v1beta1", "kind": "Setting", "metadata": {"name": n},
                     "value": v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))}
                    for n, v in HARVESTER.items()]
    loop_nad = nad_manifest("bench-vlan-{{ item }}", "{{ item }}")
    return [
        {"name": "3 VM networks", "objects": 3, "items": 3, "tasks": {
            "ours": [{"homelab.harvester.harvester_network": {"name": net(v), "cluster_network": "mgmt", "vlan_id": v}}
                     for v in FIRST_VLANS],
            "k8s": [{"kubernetes.core.k8s": {"state": "present", "definition": nad_manifest(net(v), v)}} for v in FIRST_VLANS],
        }},
        {"name": "2 images", "objects": 2, "items": 2, "tasks": {
            "ours": [{"homelab.harvester.harvester_image": {"name": i["name"], "display_name": i["name"], "url": i["url"],
                                                            "checksum": i["checksum"]}} for i in images],
            "k8s": [{"kubernetes.core.k8s": {
                "state": "present", "wait": True, "wait_sleep": 1, "wait_timeout": 120,
                "wait_condition": {"type": "Imported", "status": "True"},
                "definition": {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
                               "metadata": {"name": i["name"], "namespace": "default"},
                               "spec": {"displayName": i["name"], "sourceType": "download", "url": i["url"],
                                        "checksum": i["checksum"]}}}} for i in images],
        }},
        {"name": "10 Longhorn settings", "objects": 10, "items": 1, "tasks": {
            "ours": [{"homelab.harvester.longhorn_setting": {"settings": {n: v for n, (v, _) in LONGHORN.items()}}}],
            "k8s": [{"kubernetes.core.k8s": {"state": "present", "definition": lh_manifests}}],
        }},
        {"name": "5 Harvester settings", "objects": 5, "items": 1, "tasks": {
            "ours": [{"homelab.harvester.harvester_setting": {"settings": HARVESTER}}],
            "k8s": [{"kubernetes.core.k8s": {"state": "present", "definition": hv_manifests}}],
        }},
        {"name": f"{loop} VM networks (loop)", "objects": loop, "items": loop, "tasks": {
            "ours": [{"homelab.harvester.harvester_network": {"name": "bench-vlan-{{ item }}", "cluster_network": "mgmt",
                                                              "vlan_id": "{{ item }}"}, "loop": loop_vlans}],
            "k8s": [{"kubernetes.core.k8s": {"state": "present", "definition": loop_nad}, "loop": loop_vlans}],
        }},
    ]


def playbook(way: str, plan: list[dict]) -> list[dict]:
    tasks = []
    for phase in plan:
        for i, task in enumerate(phase["tasks"]["ours" if way == "ping" else way]):
            if way == "ping":
                task = {"ansible.builtin.ping": None, **({"loop": task["loop"]} if "loop" in task else {})}
            tasks.append({"name": f"{phase['name']} #{i}", **task})
    return [{"name": f"bench {way}", "hosts": "bench", "gather_facts": False, "tasks": tasks}]


# --- running and measuring ---------------------------------------------------------------------
def serve_files(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def run(way: str, book: Path, env: dict, twin, plan: list[dict], work: Path) -> dict:
    marks_file = work / f"marks-{way}.json"
    marks_file.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run([str(PLAYBOOK), "-i", str(work / "inventory.yml"), str(book)], capture_output=True, text=True,
                          env={**env, "BENCH_MARKS": str(marks_file)}, cwd=work, timeout=900, check=False)
    wall = time.perf_counter() - t0
    if not marks_file.exists():
        raise SystemExit(f"ansible-playbook ({way}) did not finish:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    data = json.loads(marks_file.read_text())
    if data["failures"] or proc.returncode:
        msgs = "\n".join(f"  {t}: {m}" for t, m in data["failures"][:5])
        raise SystemExit(f"ansible-playbook ({way}) failed (rc {proc.returncode}):\n{msgs}\n{proc.stdout[-3000:]}")
    log = [r for r in twin.requests_log() if not r["path"].startswith("/_twin/")]
    marks = data["marks"]
    out = {"wall": wall, "startup": wall - (marks[-1][1] - marks[0][1]), "phases": []}
    for phase in plan:
        idx = [i for i, m in enumerate(marks) if m[0].startswith(phase["name"] + " #")]
        start, end = marks[idx[0]], marks[idx[-1] + 1]
        reqs = [r for r in log if start[2] < r["seq"] <= end[2]]
        out["phases"].append({
            "seconds": end[1] - start[1],
            "reads": sum(r["method"] == "GET" for r in reqs),
            "writes": sum(r["method"] in WRITES for r in reqs),
            "discovery": sum(r["method"] == "GET" and is_discovery(r["path"]) for r in reqs),
            "dry": sum(r["method"] in WRITES and "dryRun=All" in (r.get("query") or "") for r in reqs),
            "changed": sum(data["changed"].get(marks[i][0], 0) for i in idx),
        })
    return out


def check_kubernetes_core(env: dict) -> None:
    missing = []
    if importlib.util.find_spec("kubernetes") is None:
        missing.append("the kubernetes Python client")
    probe = subprocess.run([str(PLAYBOOK.parent / "ansible-doc"), "-t", "module", "-l", "kubernetes.core"],
                           capture_output=True, text=True, env=env, check=False)
    if "kubernetes.core.k8s " not in probe.stdout:
        missing.append("the kubernetes.core collection")
    if not PLAYBOOK.exists():
        missing.append(f"ansible-playbook next to {sys.executable}")
    if missing:
        raise SystemExit("bench/modules.py needs " + " and ".join(missing) + ": run `make bench` (it installs "
                         "requirements-bench.txt, i.e. the `ansible` package, into .venv) or "
                         "`.venv/bin/pip install -r requirements-bench.txt`")


def fmt_rw(p: dict) -> str:
    return f"{p['reads']}/{p['writes']}"


def report(results: dict, plan: list[dict], loads: list[str]) -> None:
    for run_name in ("first", "no-op"):
        print(f"\n== {run_name} run: seconds per phase (per-item ms), twin reads/writes (GET / POST+PUT+PATCH+DELETE), changed")
        print(f"{'phase':<24}{'ours s (ms/item)':>18}{'k8s s (ms/item)':>18}{'ping s (ms/item)':>18}"
              f"{'ours/ping':>10}{'k8s/ours':>9}{'ours R/W':>10}{'k8s R/W':>9}{'k8s dry':>8}{'k8s disc':>9}{'chg o/k':>9}")
        tot = {w: 0.0 for w in WAYS}
        items = 0
        for i, phase in enumerate(plan):
            p = {w: results[w][run_name]["phases"][i] for w in WAYS}
            for w in WAYS:
                tot[w] += p[w]["seconds"]
            items += phase["items"]
            cells = "".join(f"{p[w]['seconds']:8.2f} ({1000 * p[w]['seconds'] / phase['items']:5.0f})   " for w in WAYS)
            print(f"{phase['name']:<24}{cells}"
                  f"{p['ours']['seconds'] / p['ping']['seconds']:9.2f}x{p['k8s']['seconds'] / p['ours']['seconds']:8.2f}x"
                  f"{fmt_rw(p['ours']):>10}{fmt_rw(p['k8s']):>9}{p['k8s']['dry']:>8}{p['k8s']['discovery']:>9}"
                  f"{p['ours']['changed']:>5}/{p['k8s']['changed']}")
        cells = "".join(f"{tot[w]:8.2f} ({1000 * tot[w] / items:5.0f})   " for w in WAYS)
        rw = {w: (sum(x["reads"] for x in results[w][run_name]["phases"]), sum(x["writes"] for x in results[w][run_name]["phases"]))
              for w in WAYS}
        print(f"{'all tasks (' + str(items) + ' items)':<24}{cells}{tot['ours'] / tot['ping']:9.2f}x{tot['k8s'] / tot['ours']:8.2f}x"
              f"{'/'.join(map(str, rw['ours'])):>10}{'/'.join(map(str, rw['k8s'])):>9}")
        print(f"{'start-up + end':<24}" + "".join(f"{results[w][run_name]['startup']:8.2f}           " for w in WAYS))
        print(f"{'ansible-playbook wall':<24}" + "".join(f"{results[w][run_name]['wall']:8.2f}           " for w in WAYS))
    objects = sum(p["objects"] for p in plan)
    noop = [results["ours"]["no-op"]["phases"][i] for i in range(len(plan))]
    first_t = {w: sum(x["seconds"] for x in results[w]["first"]["phases"]) for w in WAYS}
    noop_t = {w: sum(x["seconds"] for x in results[w]["no-op"]["phases"]) for w in WAYS}
    print("\n== targets (issue 4; reported, not asserted)")
    print(f"ours no-op writes = 0:            {sum(x['writes'] for x in noop)} writes")
    print(f"ours no-op reads <= 1 per object: {sum(x['reads'] for x in noop)} reads for {objects} objects "
          f"({sum(x['reads'] for x in noop) / objects:.2f} per object)")
    print(f"ours <= 1.3x ping:                first {first_t['ours'] / first_t['ping']:.2f}x, no-op {noop_t['ours'] / noop_t['ping']:.2f}x")
    print(f"ours >= 3x faster than k8s:       first {first_t['k8s'] / first_t['ours']:.2f}x, no-op {noop_t['k8s'] / noop_t['ours']:.2f}x")
    print("notes: ours waits for the network controller's ready label on each NAD (k8s does not wait); both wait for "
          "images Imported (k8s polls every 1 s: wait_sleep 1); settings are one task per module for ours and k8s "
          "(a list definition), one ping task.")
    print("load average (1/5/15 min): " + "; ".join(loads))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a 20-item loop instead of 100")
    p.add_argument("--loop", type=int, help="items in the VM network loop (default 100, 20 with --quick; at most 100)")
    p.add_argument("--speed", default="50", help="twin controller speed-up (default 50: controller delays are not ours)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (playbooks, twin log)")
    args = p.parse_args()
    loop = min(args.loop or (20 if args.quick else 100), 100)

    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "KUBECONFIG"))}
    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(ROOT / ".collections")
    base_env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_LOCALHOST_WARNING="False",
                    ANSIBLE_INVENTORY_UNPARSED_WARNING="False", HOMELAB_HARVESTER_DEBUG_LOG="",
                    ANSIBLE_DEPRECATION_WARNINGS="False", ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default")
    if not (Path(collections.split(":")[0]) / "ansible_collections" / "homelab" / "harvester").exists():
        raise SystemExit(f"homelab.harvester is not in {collections}: run `make collection` (or `make bench`)")
    check_kubernetes_core(base_env)

    work = Path(tempfile.mkdtemp(prefix="bench-modules-"))
    loads = [f"start {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]
    files = work / "files"
    files.mkdir()
    images = []
    for i, size in enumerate((300_000, 500_000)):
        data = hashlib.sha512(str(i).encode()).digest() * (size // 64)
        (files / f"disk{i}.img").write_bytes(data)
        images.append({"name": f"bench-image-{i}", "file": f"disk{i}.img", "checksum": hashlib.sha512(data).hexdigest()})
    httpd, files_url = serve_files(files)
    for img in images:
        img["url"] = f"{files_url}/{img['file']}"
    twin = start_twin(work / "twin", extra=["--speed", args.speed])
    try:
        (work / "inventory.yml").write_text(yaml.safe_dump(
            {"all": {"hosts": {"bench": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        cb_dir = work / "callback_plugins"
        cb_dir.mkdir()
        (cb_dir / "bench_marks.py").write_text(CALLBACK)
        env = {**base_env, "K8S_AUTH_KUBECONFIG": str(twin.kubeconfig), "ANSIBLE_CALLBACK_PLUGINS": str(cb_dir),
               "ANSIBLE_CALLBACKS_ENABLED": "bench_marks", "BENCH_TWIN_SERVER": twin.server,
               "BENCH_TWIN_TOKEN": twin.token, "BENCH_TWIN_CA": str(twin.ca_file), "HOME": os.environ.get("HOME", str(work))}
        plan = phases(images, loop)
        results = {}
        for way in WAYS:
            book = work / f"{way}.yml"
            book.write_text(yaml.safe_dump(playbook(way, plan), sort_keys=False, width=1000))
            twin.reset()
            results[way] = {}
            for run_name in ("first", "no-op"):
                results[way][run_name] = run(way, book, env, twin, plan, work)
                print(f"  {way} {run_name}: {results[way][run_name]['wall']:.1f} s", file=sys.stderr, flush=True)
            loads.append(f"after {way} {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        stop_twin(twin)
        httpd.shutdown()
    print(f"bench/modules.py: {loop}-item loop, twin --speed {args.speed}, {os.cpu_count()} CPUs, "
          f"ansible-playbook {PLAYBOOK}")
    report(results, plan, loads)
    if args.keep:
        print(f"work directory kept: {work}")
    else:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
