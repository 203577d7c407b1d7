"""Running our modules the way users do, through ansible-playbook, against a twin process, and
reading back what each task returned and which API requests the run made."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def playbook_env(twin=None, *, drop=("K8S_AUTH_", "KUBECONFIG"), **settings) -> dict[str, str]:
    """The environment of an ansible-playbook run: this process's without the variables whose names
    start with one of `drop` (a developer's own cluster or Ansible settings must not leak in), the
    checkout's collection, the twin's kubeconfig when a twin is given, then `settings`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    environ["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".collections")
    if twin is not None:
        environ["K8S_AUTH_KUBECONFIG"] = str(twin.kubeconfig)
    environ.update(settings)
    return environ


def ansible_playbook(args, *, cwd, env, timeout=300) -> subprocess.CompletedProcess:
    """ansible-playbook with `args`, finished (stdout and stderr as text), whatever its exit status:
    the one way the integration tests run a playbook."""
    return subprocess.run([str(PLAYBOOK), *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, check=False)


def _run_registered(twin, tmp_path, book_name, play, body, count, env, args=(), timeout=300):
    """`body` (tasks registered as r0..r<count-1>) as one play, plus a last task that saves the
    registered results. Returns (results, API requests the run made, stdout)."""
    out = tmp_path / "results.json"
    refs = ", ".join(f"r{i}" for i in range(count))
    body = [*body, {"name": "save results", "check_mode": False,
                    "ansible.builtin.copy": {"content": "{{ [" + refs + "] | to_json }}", "dest": str(out), "mode": "0600"}}]
    book = tmp_path / book_name
    book.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, **play, "tasks": body}]))
    since = twin.last_seq()
    out.unlink(missing_ok=True)
    proc = ansible_playbook([book, *args], cwd=tmp_path, env=env, timeout=timeout)
    assert out.exists(), proc.stdout + proc.stderr
    requests = [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]
    return json.loads(out.read_text()), requests, proc.stdout


def run_tasks(twin, tmp_path, module, tasks, *, check=False, diff=False, env=None, play_keys=None, kubeconfig=True):
    """One `module` task per args dict in `tasks` (with `module` None, each of `tasks` is
    ``{module: args}``), in one playbook; every task is registered and may fail. Returns (results,
    API requests the run made, ansible-playbook's stdout)."""
    calls = [(module, task) if module else next(iter(task.items())) for task in tasks]
    body = [{"name": f"task {i}", name: args, "register": f"r{i}", "ignore_errors": True}
            for i, (name, args) in enumerate(calls)]
    environ = playbook_env(twin if kubeconfig else None, ANSIBLE_LOCALHOST_WARNING="False",
                           ANSIBLE_INVENTORY_UNPARSED_WARNING="False", HOMELAB_HARVESTER_DEBUG_LOG="")
    environ.update(env or {})
    args = (["--check"] if check else []) + (["--diff"] if diff else [])
    return _run_registered(twin, tmp_path, "play.yml", play_keys or {}, body, len(tasks), environ, args)


def writes(requests):
    return [r for r in requests if r["method"] in WRITES]


def stored_writes(requests):
    """Writes that were not dry runs: what check mode must never send."""
    return [r for r in writes(requests) if "dryRun=All" not in (r.get("query") or "")]


def assert_all_refused_without_a_request(catalogue, results, requests):
    """Every (args, message) of a module's BAD_INPUTS failed with its message, and the run sent
    no request at all: input is checked before anything reaches the API."""
    for (args, message), result in zip(catalogue, results, strict=True):
        assert result.get("failed") and message in result["msg"], (args, result)
    assert requests == []


def run_steps(twin, tmp_path, module, steps, *, in_process=True, env=None):
    """The catalogue's ``steps`` (tests/catalogue) as one playbook, every task registered and
    allowed to fail, a step's ``fault`` armed just before it through the twin's /_twin/faults.
    ``in_process`` sets the collection's switch (``homelab_harvester_in_process``) for the play.
    Returns (results, API requests the run made, stdout)."""
    body = []
    for i, step in enumerate(steps):
        if step.fault:
            body.append({"name": f"arm fault {i}", "check_mode": False, "ansible.builtin.uri": {
                "url": twin.url("/_twin/faults"), "method": "POST", "body_format": "json", "body": step.fault,
                "headers": {"Authorization": f"Bearer {twin.token}"}, "ca_path": str(twin.ca_file),
                "status_code": 201}})
        task = {"name": step.name or f"step {i}", step.module or module: step.args, "register": f"r{i}",
                "ignore_errors": True}
        if step.check:
            task["check_mode"] = True
        if step.diff:
            task["diff"] = True
        body.append(task)
    environ = playbook_env(twin, drop=("K8S_AUTH_", "KUBECONFIG", "HOMELAB_HARVESTER_"),
                           ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    environ.update(env or {})
    return _run_registered(twin, tmp_path, "steps.yml", {"vars": {"homelab_harvester_in_process": in_process}}, body,
                           len(steps), environ, timeout=600)
