# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rufio_job against a twin serving Rufio's upstream CRDs: the Job shaped as the CRD and Rufio want
it (machineRef, one action per task), created once and then left alone, check mode, a Job with
other tasks or a failed one created again (a re-run retries), a completed one never run twice.
Rufio's part is played here by the test, through the API the way Rufio writes (Tasks
<job>-task-<n> labelled owner-name, then the Job's Completed or Failed condition on /status), to
prove the follow: each Task reported as it ends, the Job's end, a failure with the Task's message.
The last test runs the twin's own Rufio controller against its simulated AMT (`--bare`)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.catalogue.rufio_job import BAD_INPUTS, args
from tests.modules.runner import assert_all_refused_without_a_request, run, run_tasks, stored_writes, writes
from tests.modules.tinkerbell_twin import NAMESPACE

pytestmark = [pytest.mark.twin]

MODULE = "rufio_job"
JOBS = f"/apis/bmc.tinkerbell.org/v1alpha1/namespaces/{NAMESPACE}/jobs"
TASKS = f"/apis/bmc.tinkerbell.org/v1alpha1/namespaces/{NAMESPACE}/tasks"
NO_WAIT = args(wait=False)


def get(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def status(twin, path, conditions):
    r = twin.session().patch(twin.url(f"{path}/status"), data=json.dumps({"status": {"conditions": conditions}}),
                             headers={"Content-Type": "application/merge-patch+json"})
    r.raise_for_status()


def rufio_task(twin, job, index, spec, state, message=""):
    """A Task as Rufio's Job controller makes it, with the condition its Task controller writes."""
    name = f"{job}-task-{index}"
    body = {"apiVersion": "bmc.tinkerbell.org/v1alpha1", "kind": "Task",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"owner-name": job}},
            "spec": {"task": spec, "connection": {"host": "10.10.10.31", "insecureTLS": True}}}
    twin.session().post(twin.url(TASKS), data=json.dumps(body), headers={"Content-Type": "application/json"}).raise_for_status()
    status(twin, f"{TASKS}/{name}", [{"type": state, "status": "True", "message": message}])


def test_the_job_is_created_once(tink_twin):
    first, requests = run(tink_twin, MODULE, NO_WAIT, diff=True)
    assert first["changed"] is True and first["state"] == "created" and not first["failed"], first
    assert [(r["method"], r["path"]) for r in writes(requests)] == [("POST", JOBS)]
    spec = get(tink_twin, f"{JOBS}/ms02-1-install")["spec"]
    assert spec == {"machineRef": {"name": "ms02-1", "namespace": NAMESPACE},
                    "tasks": [{"oneTimeBootDeviceAction": {"device": ["pxe"], "efiBoot": True}}, {"powerAction": "on"}]}
    assert first["diff"] == {"before": {}, "after": {"spec": spec}}
    second, requests = run(tink_twin, MODULE, NO_WAIT)
    assert second["changed"] is False and second["state"] == "pending" and writes(requests) == [], second


def test_check_mode_stores_nothing(tink_twin):
    result, requests = run(tink_twin, MODULE, NO_WAIT, check=True)
    assert result["changed"] is True and writes(requests) and stored_writes(requests) == [], result
    assert get(tink_twin, f"{JOBS}/ms02-1-install") is None


def test_other_tasks_or_a_failed_job_are_created_again_a_completed_one_never(tink_twin):
    run(tink_twin, MODULE, NO_WAIT)
    other, requests = run(tink_twin, MODULE, dict(NO_WAIT, actions=["off", "boot:pxe", "on"]))
    assert other["changed"] is True and [r["method"] for r in writes(requests)] == ["DELETE", "POST"], other
    path = f"{JOBS}/ms02-1-install"
    status(tink_twin, path, [{"type": "Failed", "status": "True", "message": "task tink-system/ms02-1-install-task-0 failed"}])
    retried, requests = run(tink_twin, MODULE, dict(NO_WAIT, actions=["off", "boot:pxe", "on"]))
    assert retried["changed"] is True and [r["method"] for r in writes(requests)] == ["DELETE", "POST"], retried
    assert not (get(tink_twin, path).get("status") or {}).get("conditions")  # a new Job, not the failed one
    status(tink_twin, path, [{"type": "Running", "status": "True"}, {"type": "Completed", "status": "True"}])
    done, requests = run(tink_twin, MODULE, args(actions=["off", "boot:pxe", "on"]))  # waited: already at its end
    assert done["changed"] is False and done["state"] == "completed" and writes(requests) == [], done


def test_the_follow_reports_each_task_and_the_end(tink_twin):
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(result=run(tink_twin, MODULE, args(wait_timeout=60))[0]))
    runner.start()
    path = f"{JOBS}/ms02-1-install"
    deadline = time.monotonic() + 30
    while get(tink_twin, path) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    status(tink_twin, path, [{"type": "Running", "status": "True"}])
    rufio_task(tink_twin, "ms02-1-install", 0, {"oneTimeBootDeviceAction": {"device": ["pxe"], "efiBoot": True}}, "Completed")
    rufio_task(tink_twin, "ms02-1-install", 1, {"powerAction": "on"}, "Completed")
    status(tink_twin, path, [{"type": "Running", "status": "True"}, {"type": "Completed", "status": "True"}])
    runner.join(60)
    result = outcome["result"]
    assert result["changed"] is True and result["state"] == "completed" and not result["failed"], result
    assert [(t["name"], t["action"], t["state"]) for t in result["tasks"]] == [
        ("ms02-1-install-task-0", "boot pxe", "completed"), ("ms02-1-install-task-1", "power on", "completed")]
    messages = [e["msg"] for e in result["progress"]]
    assert messages[-1] == f"Rufio Job {NAMESPACE}/ms02-1-install: completed", messages
    assert f"Rufio Job {NAMESPACE}/ms02-1-install: ms02-1-install-task-1 (power on) completed" in messages


def test_a_failed_job_fails_the_task_with_the_tasks_message(tink_twin):
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(result=run(tink_twin, MODULE, args(wait_timeout=60))[0]))
    runner.start()
    path = f"{JOBS}/ms02-1-install"
    deadline = time.monotonic() + 30
    while get(tink_twin, path) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    rufio_task(tink_twin, "ms02-1-install", 0, {"oneTimeBootDeviceAction": {"device": ["pxe"]}}, "Failed",
               "Failed to connect to BMC: failed to open connection to BMC: 401 Unauthorized")
    status(tink_twin, path, [{"type": "Failed", "status": "True",
                              "message": f"task {NAMESPACE}/ms02-1-install-task-0 failed"}])
    runner.join(60)
    result = outcome["result"]
    assert result["failed"] and result["msg"] == (
        f"Rufio Job {NAMESPACE}/ms02-1-install failed: task {NAMESPACE}/ms02-1-install-task-0 failed -- "
        "ms02-1-install-task-0 (boot pxe): Failed to connect to BMC: failed to open connection to BMC: 401 Unauthorized"), result
    assert result["tasks"][0]["state"] == "failed"


def test_absent_and_bad_inputs(tink_twin):
    run(tink_twin, MODULE, NO_WAIT)
    results, requests = run_tasks(tink_twin, MODULE, [{"name": "ms02-1-install", "state": "absent"}] * 2)
    assert [r["changed"] for r in results] == [True, False] and [r["method"] for r in writes(requests)] == ["DELETE"]
    results, requests = run_tasks(tink_twin, MODULE, [a for a, m in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, requests)


def test_the_twins_rufio_runs_the_job_against_the_simulated_amt(tmp_path):
    """Contract (docs: issue 15's interface): a --bare twin loaded with Rufio's CRDs runs Rufio Jobs against the
    simulated AMT of the --lab inventory's nodes, whose endpoints it writes to amt-endpoints.yml."""
    import yaml

    from tests.modules.tinkerbell_twin import CRD_DIRS
    from tests.twin.tests.conftest import ROOT, start_twin, stop_twin
    lab = ROOT / "inventory" / "lab"
    password = yaml.safe_load((lab / "group_vars" / "all" / "vault.yml").read_text())["vault_amt_password"]
    twin = start_twin(tmp_path / "twin", CRD_DIRS, ["--bare", "--lab", str(lab), "--speed", "20"])
    try:
        endpoint = yaml.safe_load((tmp_path / "twin" / "amt-endpoints.yml").read_text())["lab_amt_endpoints"]["ms02-1"]
        amt = {"host": endpoint["host"], "port": endpoint["port"], "tls": endpoint["tls"], "password": password}
        # Harvester's API stays closed on bare metal; the Tinkerbell cluster answers on its own port
        tink = {"K8S_AUTH_KUBECONFIG": str(tmp_path / "twin" / "tinkerbell-kubeconfig")}
        machine, dummy = run(twin, "tinkerbell_machine", {"name": "ms02-1", "namespace": "default", "mac": "58:47:ca:7b:01:b0",
                                                          "ipxe_url": "http://10.10.10.20/harvester/ms02-1.ipxe", "amt": amt},
                             env=tink)
        assert not machine["failed"], machine
        result, dummy = run(twin, MODULE, args(namespace="default", wait_timeout=120), env=tink)
        log = (tmp_path / "twin" / "twin.log").read_text()
    finally:
        stop_twin(twin)
    assert result["state"] == "completed" and not result["failed"], result
    assert [t["state"] for t in result["tasks"]] == ["completed", "completed"]
    assert "AMT ms02-1: power on (one-time PXE)" in log
