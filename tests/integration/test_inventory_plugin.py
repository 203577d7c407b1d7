# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin homelab.harvester.harvester through the real CLI, ``ansible-inventory``,
against a twin process: the lab's three nodes in their groups (``--graph``) with their host
variables (``--list``), a node in maintenance mode and a cordoned one in their groups, the VMs,
the cache (a second run answers from it without a request, even with the API unreachable), the
connection from the K8S_AUTH_* variables alone (the AWX inventory-source case), and bad source
files refused with a message that names the option, before any request."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.playbooks import ROOT, writes

pytestmark = [pytest.mark.twin, pytest.mark.integration]

INVENTORY = Path(sys.executable).parent / "ansible-inventory"
NODES = ["ms02-1", "ms02-2", "ms02-3"]
PLUGIN = "homelab.harvester.harvester"


def inventory(twin, tmp_path, config, *args, env=None, kubeconfig=True, name="lab.harvester.yml"):
    """``ansible-inventory -i <config file> ARGS``; returns (process, API requests it made)."""
    source = tmp_path / name
    source.write_text(yaml.safe_dump(config) if isinstance(config, dict) else config)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "KUBECONFIG", "ANSIBLE_"))}
    environ.update(ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), HOMELAB_HARVESTER_DEBUG_LOG="",
                   ANSIBLE_INVENTORY_UNPARSED_FAILED="True", HOME=str(tmp_path))
    if kubeconfig:
        environ["K8S_AUTH_KUBECONFIG"] = str(twin.kubeconfig)
    environ.update(env or {})
    since = twin.last_seq()
    proc = subprocess.run([str(INVENTORY), "-i", str(source), *args], capture_output=True, text=True, env=environ,
                          cwd=tmp_path, timeout=120, check=False)
    requests = [r for r in twin.requests_log(since) if not r["path"].startswith("/_twin/")]
    return proc, requests


def plain(value):
    """``--list`` JSON without the ``{"__ansible_unsafe": ...}`` wrappers ansible-core 2.19 puts
    around every string that is not trusted as a template -- which values read from the API never
    are (test_api_values_are_never_templated)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def listed(twin, tmp_path, config=None, **kwargs):
    proc, requests = inventory(twin, tmp_path, config or {"plugin": PLUGIN}, "--list", **kwargs)
    assert proc.returncode == 0, proc.stderr
    return plain(json.loads(proc.stdout)), requests


def members(doc, group):
    return sorted(doc.get(group, {}).get("hosts", []))


def graph(text):
    """``--graph`` output as {group: [hosts]} (direct members)."""
    groups, current = {}, None
    for line in text.splitlines():
        found = re.match(r"^[ |]*--@(\S+):$", line)
        if found:
            current = groups.setdefault(found.group(1), [])
        elif line.strip(" |").startswith("--") and current is not None:
            current.append(line.strip(" |")[2:])
    return groups


def patch_node(twin, name, body, status=False):
    path = f"/api/v1/nodes/{name}" + ("/status" if status else "")
    r = twin.session().patch(twin.url(path), data=json.dumps(body), headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text


# --- the lab -----------------------------------------------------------------------------------------
def test_graph_shows_the_three_nodes_in_their_groups_with_one_request(twin, tmp_path):
    proc, reqs = inventory(twin, tmp_path, {"plugin": PLUGIN}, "--graph")
    assert proc.returncode == 0, proc.stderr
    groups = graph(proc.stdout)
    for group in ("harvester_nodes", "harvester_control_plane", "harvester_etcd", "harvester_ready", "harvester_maintenance_none"):
        assert groups[group] == NODES, (group, proc.stdout)
    for group in ("harvester_not_ready", "harvester_maintenance_running", "harvester_maintenance_completed",
                  "harvester_cordoned", "harvester_worker", "harvester_witness", "harvester_vms"):
        assert group not in groups, (group, proc.stdout)
    assert [(r["method"], r["path"]) for r in reqs] == [("GET", "/api/v1/nodes")]
    assert all(r["status"] == 200 for r in reqs)


def test_list_gives_each_node_its_address_roles_and_state(twin, tmp_path):
    doc, reqs = listed(twin, tmp_path)
    hostvars = doc["_meta"]["hostvars"]
    assert sorted(hostvars) == NODES
    for index, name in enumerate(NODES, start=1):
        host = hostvars[name]
        assert host["ansible_host"] == host["harvester_internal_ip"] == f"10.10.10.1{index}"
        assert host["harvester_object"] == "node"
        assert host["harvester_roles"] == ["control-plane", "etcd", "master"]
        assert host["harvester_ready"] is True and host["harvester_schedulable"] is True
        assert host["harvester_maintain_status"] is None
        assert host["harvester_os_image"] == "Harvester v1.8.2"
        assert host["harvester_labels"]["kubernetes.io/hostname"] == name
    assert writes(reqs) == []


def test_a_node_in_maintenance_and_a_cordoned_one_are_in_their_groups(twin, tmp_path):
    # what Harvester leaves on nodes: maintain-status completed (in maintenance, cordoned) and
    # running (entering it, a VMI still on the node) -- harvester-api.md §4
    patch_node(twin, "ms02-3", {"metadata": {"annotations": {"harvesterhci.io/maintain-status": "completed"}},
                                "spec": {"unschedulable": True}})
    patch_node(twin, "ms02-2", {"metadata": {"annotations": {"harvesterhci.io/maintain-status": "running"}},
                                "spec": {"unschedulable": True}})
    doc, dummy = listed(twin, tmp_path)
    assert members(doc, "harvester_maintenance_completed") == ["ms02-3"]
    assert members(doc, "harvester_maintenance_running") == ["ms02-2"]
    assert members(doc, "harvester_maintenance_none") == ["ms02-1"]
    assert members(doc, "harvester_cordoned") == ["ms02-2", "ms02-3"]
    assert doc["_meta"]["hostvars"]["ms02-3"]["harvester_maintain_status"] == "completed"
    assert doc["_meta"]["hostvars"]["ms02-3"]["harvester_schedulable"] is False


def test_a_node_that_is_not_ready_is_in_not_ready(twin, tmp_path):
    node = twin.session().get(twin.url("/api/v1/nodes/ms02-2")).json()
    conditions = [dict(c, status="Unknown", reason="NodeStatusUnknown") if c["type"] == "Ready" else c
                  for c in node["status"]["conditions"]]
    patch_node(twin, "ms02-2", {"status": {"conditions": conditions}}, status=True)
    doc, dummy = listed(twin, tmp_path)
    assert members(doc, "harvester_ready") == ["ms02-1", "ms02-3"]
    assert members(doc, "harvester_not_ready") == ["ms02-2"]


def test_vms_with_their_addresses_and_state(twin, tmp_path):
    doc, reqs = listed(twin, tmp_path, {"plugin": PLUGIN, "want_vms": True, "vm_namespaces": ["default"]})
    assert members(doc, "harvester_vms") == ["default-lab-builder", "default-lab-dns", "default-lab-router"]
    assert members(doc, "harvester_vms_running") == ["default-lab-dns", "default-lab-router"]
    assert members(doc, "harvester_vms_stopped") == ["default-lab-builder"]
    hostvars = doc["_meta"]["hostvars"]
    router = hostvars["default-lab-router"]
    assert (router["ansible_host"], router["harvester_node"], router["harvester_status"]) == ("10.10.10.50", "ms02-1", "Running")
    assert hostvars["default-lab-dns"]["harvester_ip"] == "10.52.1.17"  # the pod network is all it has
    builder = hostvars["default-lab-builder"]
    assert "ansible_host" not in builder and builder["harvester_ip"] is None and builder["harvester_run_strategy"] == "Halted"
    assert [r["path"] for r in reqs] == ["/api/v1/nodes", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines",
                                         "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"]


def test_api_values_are_never_templated(twin, tmp_path):
    """A string from the cluster that looks like Jinja stays text: Ansible would otherwise run
    whatever a node's status says, in every play that uses the variable."""
    patch_node(twin, "ms02-1", {"status": {"nodeInfo": {"osImage": "{{ 6 * 7 }}"}}}, status=True)
    proc, dummy = inventory(twin, tmp_path, {"plugin": PLUGIN}, "--list")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["_meta"]["hostvars"]["ms02-1"]["harvester_os_image"] == {"__ansible_unsafe": "{{ 6 * 7 }}"}
    source = tmp_path / "lab.harvester.yml"
    environ = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), K8S_AUTH_KUBECONFIG=str(twin.kubeconfig),
                   HOMELAB_HARVESTER_DEBUG_LOG="")
    ran = subprocess.run([str(INVENTORY.parent / "ansible"), "-i", str(source), "ms02-1", "-c", "local", "-m", "ansible.builtin.debug",
                          "-a", '{"msg": "release {{ harvester_os_image }}"}'], capture_output=True, text=True, env=environ,
                         cwd=tmp_path, timeout=120, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert '"msg": "release {{ 6 * 7 }}"' in ran.stdout and "42" not in ran.stdout, ran.stdout


def test_constructed_compose_groups_and_keyed_groups(twin, tmp_path):
    patch_node(twin, "ms02-1", {"metadata": {"labels": {"lab.homelab/rack": "top"}}})
    config = {"plugin": PLUGIN, "group_prefix": "hv_",
              "compose": {"ansible_user": "'rancher'"},
              "groups": {"upgrade_first": "'lab.homelab/rack' not in harvester_labels"},
              "keyed_groups": [{"key": "harvester_labels['lab.homelab/rack'] | default('none')", "prefix": "rack"}]}
    doc, dummy = listed(twin, tmp_path, config)
    assert members(doc, "hv_nodes") == NODES and "harvester_nodes" not in doc
    assert members(doc, "upgrade_first") == ["ms02-2", "ms02-3"]
    assert members(doc, "rack_top") == ["ms02-1"] and members(doc, "rack_none") == ["ms02-2", "ms02-3"]
    assert {h["ansible_user"] for h in doc["_meta"]["hostvars"].values()} == {"rancher"}


def test_the_example_source_file_of_the_repository_works_with_the_lab_inventory(twin, tmp_path):
    example = (ROOT / "inventory" / "harvester.yml").read_text()
    proc, dummy = inventory(twin, tmp_path, example, "--list", name="harvester.yml")
    assert proc.returncode == 0, proc.stderr
    doc = plain(json.loads(proc.stdout))
    assert members(doc, "harvester_nodes") == NODES
    assert members(doc, "harvester_release_Harvester_v1_8_2") == NODES


# --- the cache -------------------------------------------------------------------------------------------
def test_a_second_run_answers_from_the_cache_until_it_is_flushed(twin, tmp_path):
    cache_dir = tmp_path / "cache"
    config = {"plugin": PLUGIN, "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
              "cache_connection": str(cache_dir), "cache_timeout": 3600}
    first, reqs = listed(twin, tmp_path, config)
    assert [r["path"] for r in reqs] == ["/api/v1/nodes"]
    patch_node(twin, "ms02-1", {"metadata": {"annotations": {"harvesterhci.io/maintain-status": "completed"}}})

    cached, reqs = listed(twin, tmp_path, config)
    assert reqs == [] and cached == first  # the state of the first run, from the cache
    twin.fault(method="*", path="^/api", status=503, ratio=1)  # the API down: every request would fail
    offline, reqs = listed(twin, tmp_path, config)
    assert offline == first and reqs == []
    twin.session().delete(twin.url("/_twin/faults")).raise_for_status()

    proc, reqs = inventory(twin, tmp_path, config, "--list", "--flush-cache")
    assert proc.returncode == 0, proc.stderr
    assert [r["path"] for r in reqs] == ["/api/v1/nodes"]
    assert members(plain(json.loads(proc.stdout)), "harvester_maintenance_completed") == ["ms02-1"]
    again, reqs = listed(twin, tmp_path, config)
    assert reqs == [] and members(again, "harvester_maintenance_completed") == ["ms02-1"]  # the cache was refreshed
    stored = "".join(p.read_text() for p in cache_dir.iterdir())
    assert "ms02-1" in stored and twin.token not in stored


def test_without_cache_every_run_reads_the_api(twin, tmp_path):
    runs = [listed(twin, tmp_path)[1] for run in range(2)]
    assert [[r["path"] for r in reqs] for reqs in runs] == [["/api/v1/nodes"], ["/api/v1/nodes"]]


# --- the connection -------------------------------------------------------------------------------------
def test_the_awx_credential_environment_alone_is_enough(twin, tmp_path):
    """What the AWX 'OpenShift or Kubernetes API Bearer Token' credential injects into an inventory
    update (verify on with a CA file; off without), no kubeconfig, an empty HOME; AWX runs
    ``ansible-inventory --list --export``."""
    for env in ({"K8S_AUTH_HOST": twin.server, "K8S_AUTH_API_KEY": twin.token, "K8S_AUTH_VERIFY_SSL": "True",
                 "K8S_AUTH_SSL_CA_CERT": str(twin.ca_file)},
                {"K8S_AUTH_HOST": twin.server, "K8S_AUTH_API_KEY": twin.token, "K8S_AUTH_VERIFY_SSL": "False"}):
        proc, reqs = inventory(twin, tmp_path, {"plugin": PLUGIN}, "--list", "--export", kubeconfig=False, env=env)
        assert proc.returncode == 0, proc.stderr
        assert members(plain(json.loads(proc.stdout)), "harvester_nodes") == NODES
        assert reqs and all(r["status"] == 200 for r in reqs), reqs
        assert twin.token not in proc.stdout + proc.stderr


def test_options_in_the_source_file_beat_the_environment(twin, tmp_path):
    config = {"plugin": PLUGIN, "host": twin.server, "api_key": twin.token, "ca_cert": str(twin.ca_file)}
    doc, reqs = listed(twin, tmp_path, config, kubeconfig=False,
                       env={"K8S_AUTH_HOST": "https://127.0.0.1:9", "K8S_AUTH_API_KEY": "wrong-token-from-env"})
    assert members(doc, "harvester_nodes") == NODES and reqs


def test_a_rejected_token_fails_with_the_status_and_without_the_token(twin, tmp_path):
    bad = "not-the-twin-token-0123456789"
    proc, reqs = inventory(twin, tmp_path, {"plugin": PLUGIN}, "--list", kubeconfig=False,
                           env={"K8S_AUTH_HOST": twin.server, "K8S_AUTH_API_KEY": bad, "K8S_AUTH_SSL_CA_CERT": str(twin.ca_file)})
    assert proc.returncode != 0
    assert f"{PLUGIN}: GET nodes:" in proc.stderr and "401" in proc.stderr, proc.stderr
    assert bad not in proc.stdout + proc.stderr
    assert [r["status"] for r in reqs] == [401]


# --- bad source files: refused before any request -----------------------------------------------------------
BAD_CONFIGS = [
    ({"want_vm": True}, f"{PLUGIN}: unknown option want_vm (see ansible-doc -t inventory {PLUGIN})"),
    ({"want_vms": "maybe"}, "want_vms: 'maybe' is not a boolean (use true or false)"),
    ({"validate_certs": "ture"}, "validate_certs: 'ture' is not a boolean (use true or false)"),
    ({"verify_ssl": "nope"}, "verify_ssl: 'nope' is not a boolean"),
    ({"vm_namespaces": ["Default"]}, "vm_namespaces[0]: 'Default' is not a valid name"),
    ({"vm_label_selector": "backup in daily"}, "vm_label_selector: 'backup in daily' is not a label selector requirement"),
    ({"vm_host_format": "{namespace}"}, "vm_host_format: '{namespace}' must contain {name}"),
    ({"vm_host_format": "{name}-{uid}"}, "vm_host_format: '{name}-{uid}' is not a format with only {name} and {namespace}"),
    ({"kubeconfig": "/nonexistent/kubeconfig"}, "kubeconfig /nonexistent/kubeconfig does not exist"),
    ({"request_timeout": 0}, "request_timeout must be more than 0 seconds"),
    ({"ca_cert": "/nonexistent/ca.crt", "host": "https://127.0.0.1:9", "api_key": "x"}, "ca_cert /nonexistent/ca.crt does not exist"),
]


@pytest.mark.parametrize("config, message", BAD_CONFIGS, ids=[json.dumps(c, sort_keys=True) for c, dummy in BAD_CONFIGS])
def test_a_bad_source_file_fails_with_a_message_naming_the_option(twin, tmp_path, config, message):
    proc, reqs = inventory(twin, tmp_path, dict({"plugin": PLUGIN}, **config), "--list")
    assert proc.returncode != 0
    assert message in " ".join(proc.stderr.split()), proc.stderr
    assert reqs == []


def test_no_connection_at_all_says_what_to_set(twin, tmp_path):
    proc, reqs = inventory(twin, tmp_path, {"plugin": PLUGIN}, "--list", kubeconfig=False)
    assert proc.returncode != 0 and reqs == []
    assert ("no Harvester API connection configured: set host (K8S_AUTH_HOST) and api_key (K8S_AUTH_API_KEY)"
            in " ".join(proc.stderr.split())), proc.stderr


def test_a_file_not_named_harvester_yml_is_not_taken(twin, tmp_path):
    proc, reqs = inventory(twin, tmp_path, {"plugin": PLUGIN}, "--list", name="lab.yml")
    assert proc.returncode != 0 and reqs == []
    assert "Unable to parse" in proc.stderr or "verify_file" in proc.stderr, proc.stderr
