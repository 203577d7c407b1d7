"""How a task of this collection executes, seen from outside: in the ansible-playbook worker when
its connection is local (every loop item over one kept-alive HTTPS connection, progress printed
while it waits), and as an ordinary module when the switch is off, the task is async, or the host
is not local -- told apart by the User-Agent in the twin's request log. Secrets stay out of the
output at -vvv on both paths."""
from __future__ import annotations

import pytest
import yaml

from tests.integration.image_files import DISK_SHA512
from tests.integration.playbooks import ansible_playbook, playbook_env

pytestmark = [pytest.mark.twin, pytest.mark.integration]

IN_PROCESS = "homelab.harvester (ansible; in-process)"
MODULE = "homelab.harvester (ansible; module)"


def playbook(twin, tmp_path, plays, *args, env=None, inventory=None):
    """Runs ``plays``; returns (stdout, the API requests the run made)."""
    book = tmp_path / "play.yml"
    book.write_text(yaml.safe_dump(plays))
    environ = playbook_env(twin, drop=("K8S_AUTH_", "KUBECONFIG", "HOMELAB_HARVESTER_"),
                           ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
                           ANSIBLE_HOST_KEY_CHECKING="False",
                           # the async wrapper writes under $HOME, async_status reads under the user's passwd home:
                           # one explicit directory whatever HOME is (CI runs with another HOME)
                           ANSIBLE_ASYNC_DIR=str(tmp_path / "async"))
    environ.update(env or {})
    command = [book, *args]
    if inventory:
        (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
        command += ["-i", str(tmp_path / "hosts.yml")]
    since = twin.last_seq()
    proc = ansible_playbook(command, cwd=tmp_path, env=environ)
    return proc.stdout + proc.stderr, [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]


def local(tasks, **play):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": tasks, **play}]


def network(name, **extra):
    return {"homelab.harvester.harvester_network": {"name": name, "vlan_id": 30, **extra}}


def test_loop_items_run_in_the_worker_over_one_connection(twin, tmp_path):
    out, reqs = playbook(twin, tmp_path, local([dict(network("v{{ item }}"), loop=[1, 2, 3, 4])]))
    assert "failed=0" in out, out
    assert [r["method"] for r in reqs if r["method"] == "POST"] == ["POST"] * 4
    assert {r["agent"] for r in reqs} == {IN_PROCESS}
    assert len({r["peer"] for r in reqs}) == 1  # one kept-alive connection for every item


@pytest.mark.parametrize("how", ["variable", "environment", "async"])
def test_the_module_path_when_switched_off_or_async(twin, tmp_path, how):
    task = network("platform")
    env = None
    if how == "variable":
        task["vars"] = {"homelab_harvester_in_process": False}
    elif how == "environment":
        env = {"HOMELAB_HARVESTER_IN_PROCESS": "false"}
    else:
        task.update({"async": 60, "poll": 1})
    out, reqs = playbook(twin, tmp_path, local([task]), env=env)
    assert "failed=0" in out and "changed=1" in out, out
    assert reqs and {r["agent"] for r in reqs} == {MODULE}


def test_delegate_to_localhost_runs_in_the_worker_and_a_remote_host_falls_back(twin, tmp_path):
    inventory = {"all": {"hosts": {"ms02-1": {"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_connection": "ssh",
                                              "ansible_python_interpreter": "/usr/bin/python3"}}}}
    plays = [{"hosts": "ms02-1", "gather_facts": False, "tasks": [
        dict(network("delegated"), delegate_to="localhost",
             vars={"ansible_python_interpreter": "{{ ansible_playbook_python }}"}),
        dict(network("on-the-node"), ignore_unreachable=True),
    ]}]
    out, reqs = playbook(twin, tmp_path, plays, inventory=inventory)
    assert {r["agent"] for r in reqs} == {IN_PROCESS}
    assert [r["path"].rsplit("/", 1)[1] for r in reqs if r["method"] == "POST"] == ["network-attachment-definitions"]
    # the second task took the module path: ssh to the node, which is not there
    assert "UNREACHABLE" in out and "on-the-node" not in [r["path"].rsplit("/", 1)[1] for r in reqs]


def test_waits_print_their_progress_in_the_worker_and_both_paths_return_it(twin, tmp_path, files):
    image = {"homelab.harvester.harvester_image": {"name": "{{ item }}", "url": f"{files}/disk.img",
                                                   "checksum": DISK_SHA512}, "register": "imported"}
    tasks = [dict(image, loop=["talos"]),
             {"ansible.builtin.assert": {"that": ["imported.results[0].progress[-1].msg == 'image default/talos: imported'"]}},
             dict(image, loop=["talos-again"], vars={"homelab_harvester_in_process": False}),
             {"ansible.builtin.assert": {
                 "that": ["imported.results[0].progress[-1].msg == 'image default/talos-again: imported'"]}}]
    out, reqs = playbook(twin, tmp_path, local(tasks))
    assert "failed=0" in out, out
    shown = [line for line in out.splitlines() if line.startswith("[localhost] ")]
    assert shown and shown[-1].endswith(" image default/talos: imported"), out
    assert not [line for line in shown if "talos-again" in line]  # a module cannot print while it runs


@pytest.mark.parametrize("in_process", [True, False])
def test_no_secret_reaches_the_output_at_vvv(twin, tmp_path, in_process):
    task = network("platform", host=twin.server, api_key=twin.token, ca_cert=str(twin.ca_file))
    task["vars"] = {"homelab_harvester_in_process": in_process}
    out, reqs = playbook(twin, tmp_path, local([task]), "-vvv")
    assert "changed=1" in out, out
    assert twin.token not in out and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in out
