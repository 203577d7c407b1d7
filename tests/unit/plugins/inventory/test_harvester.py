# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the inventory plugin homelab.harvester.harvester (plugins/inventory/harvester.py):
the host variables and groups made from API objects, the requests it sends (a real Client on a
fake transport), the cache decisions and populating an InventoryData. The real CLI path, the
option parsing and the cache plugins are tested in tests/integration/test_inventory_plugin.py."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.inventory import BaseInventoryPlugin

try:
    from ansible.template import trust_as_template  # ansible-core 2.19: only trusted strings are templated
except ImportError:  # older ansible-core templates every string
    def trust_as_template(value):
        return value

from ansible_collections.homelab.harvester.plugins.inventory import harvester as plugin
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.module_utils.connection import Connection
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError

TOKEN = "unit-test-token-0123456789"
DEFAULTS = {"want_vms": False, "vm_namespaces": [], "vm_label_selector": None, "vm_host_format": "{namespace}-{name}",
            "group_prefix": "harvester_", "strict": False}


def a_node(name, ip="10.10.10.11", roles=("control-plane", "etcd", "master"), ready="True", maintain=None,
           unschedulable=False):
    labels = {"kubernetes.io/hostname": name}
    labels.update({f"node-role.kubernetes.io/{r}": "true" for r in roles})
    annotations = {"harvesterhci.io/maintain-status": maintain} if maintain else {}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "annotations": annotations},
            "spec": {"unschedulable": True} if unschedulable else {},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                       "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady"}],
                       "nodeInfo": {"osImage": "Harvester v1.8.2", "kubeletVersion": "v1.34.2+rke2r1"}}}


def a_vm(name, namespace="default", status="Running", networks=(("uplink", "multus"),), labels=None):
    nets = [{"name": n, "pod": {}} if kind == "pod" else {"name": n, "multus": {"networkName": f"default/{n}"}}
            for n, kind in networks]
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"runStrategy": "RerunOnFailure" if status != "Stopped" else "Halted",
                     "template": {"spec": {"networks": nets}}},
            "status": {"printableStatus": status}}


def a_vmi(name, namespace="default", node="ms02-1", interfaces=(("uplink", "10.10.10.50"),)):
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
            "metadata": {"name": name, "namespace": namespace},
            "status": {"phase": "Running", "nodeName": node,
                       "interfaces": [{"name": n, "ipAddress": ip, "ipAddresses": [ip]} for n, ip in interfaces]}}


# --- host variables and groups -------------------------------------------------------------------
def test_a_node_becomes_a_host_with_its_address_roles_and_state():
    host = plugin.node_host(a_node("ms02-1", maintain="running", unschedulable=True))
    assert host["name"] == "ms02-1"
    assert host["vars"] == {
        "ansible_host": "10.10.10.11", "harvester_object": "node", "harvester_roles": ["control-plane", "etcd", "master"],
        "harvester_ready": True, "harvester_schedulable": False, "harvester_maintain_status": "running",
        "harvester_internal_ip": "10.10.10.11",
        "harvester_labels": {"kubernetes.io/hostname": "ms02-1", "node-role.kubernetes.io/control-plane": "true",
                             "node-role.kubernetes.io/etcd": "true", "node-role.kubernetes.io/master": "true"},
        "harvester_os_image": "Harvester v1.8.2", "harvester_kubelet_version": "v1.34.2+rke2r1"}


def test_a_node_without_internal_ip_address_uses_rke2s_annotation():
    obj = a_node("ms02-4")
    obj["status"]["addresses"] = []
    obj["metadata"]["annotations"]["rke2.io/internal-ip"] = "10.10.10.14"
    assert plugin.node_host(obj)["vars"]["ansible_host"] == "10.10.10.14"


@pytest.mark.parametrize("kwargs, groups", [
    ({}, ["nodes", "control_plane", "etcd", "master", "ready", "maintenance_none"]),
    ({"roles": ()}, ["nodes", "worker", "ready", "maintenance_none"]),
    ({"roles": ("worker",)}, ["nodes", "worker", "ready", "maintenance_none"]),
    ({"roles": ("witness",)}, ["nodes", "witness", "ready", "maintenance_none"]),
    ({"ready": "False"}, ["nodes", "control_plane", "etcd", "master", "not_ready", "maintenance_none"]),
    ({"ready": "Unknown", "roles": ()}, ["nodes", "worker", "not_ready", "maintenance_none"]),
    ({"maintain": "running", "unschedulable": True},
     ["nodes", "control_plane", "etcd", "master", "ready", "maintenance_running", "cordoned"]),
    ({"maintain": "completed", "unschedulable": True},
     ["nodes", "control_plane", "etcd", "master", "ready", "maintenance_completed", "cordoned"]),
    ({"unschedulable": True}, ["nodes", "control_plane", "etcd", "master", "ready", "maintenance_none", "cordoned"]),
])
def test_node_groups_by_role_readiness_and_maintenance(kwargs, groups):
    assert plugin.node_groups(plugin.node_host(a_node("n", **kwargs))["vars"]) == groups


def test_a_vm_network_address_comes_before_the_pod_network_address():
    vm = a_vm("lab-dual", networks=(("default", "pod"), ("uplink", "multus")))
    vmi = a_vmi("lab-dual", interfaces=(("default", "10.52.0.9"), ("uplink", "10.10.10.60")))
    vmi["status"]["interfaces"][1]["ipAddresses"].append("fd00::60")
    host = plugin.vm_host(vm, vmi, "{namespace}-{name}")
    assert host["name"] == "default-lab-dual"
    assert host["vars"]["harvester_ips"] == ["10.10.10.60", "fd00::60", "10.52.0.9"]
    assert host["vars"]["ansible_host"] == host["vars"]["harvester_ip"] == "10.10.10.60"
    assert host["vars"]["harvester_node"] == "ms02-1"


def test_a_stopped_vm_is_a_host_without_address():
    host = plugin.vm_host(a_vm("lab-builder", status="Stopped", labels={"backup": "daily"}), None, "{name}.{namespace}")
    assert host == {"name": "lab-builder.default", "vars": {
        "harvester_object": "vm", "harvester_name": "lab-builder", "harvester_namespace": "default",
        "harvester_status": "Stopped", "harvester_run_strategy": "Halted", "harvester_node": None,
        "harvester_ip": None, "harvester_ips": [], "harvester_labels": {"backup": "daily"}}}
    assert plugin.vm_groups(host["vars"]) == ["vms", "vms_stopped"]


def test_vm_status_groups_are_safe_names():
    assert plugin.vm_groups({"harvester_status": "WaitingForVolumeBinding"}) == ["vms", "vms_waitingforvolumebinding"]
    assert plugin.vm_groups({"harvester_status": "Crash Loop"}) == ["vms", "vms_crash_loop"]


@pytest.mark.parametrize("options, message", [
    ({"vm_namespaces": ["default", "Bad_NS"]}, "vm_namespaces[1]: 'Bad_NS' is not a valid name"),
    ({"vm_label_selector": "backup in daily"}, "vm_label_selector: 'backup in daily' is not a label selector requirement"),
    ({"vm_label_selector": " "}, "vm_label_selector: must not be empty"),
    ({"vm_host_format": "{namespace}-{uid}"}, "vm_host_format: '{namespace}-{uid}' is not a format with only {name} and {namespace}"),
    ({"vm_host_format": "{namespace}"}, "vm_host_format: '{namespace}' must contain {name}"),
    ({"vm_host_format": "{name"}, "vm_host_format: '{name' is not a format"),
])
def test_bad_options_are_refused_naming_the_option(options, message):
    with pytest.raises(ValidationError) as e:
        plugin.check_options(dict(DEFAULTS, **options))
    assert str(e.value).startswith(message), str(e.value)


# --- requests --------------------------------------------------------------------------------------
class Api:
    """A transport serving lists by path, recording what was asked."""

    def __init__(self, nodes=(), vms=(), vmis=()):
        self.items = {"nodes": list(nodes), "virtualmachines": list(vms), "virtualmachineinstances": list(vmis)}
        self.sent = []

    def send(self, method, target, headers, body, timeout):
        url = urlsplit(target)
        self.sent.append((method, url.path, parse_qs(url.query), headers.get("Authorization")))
        parts = url.path.split("/")
        namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts else None
        items = [o for o in self.items[parts[-1]] if namespace in (None, o["metadata"].get("namespace"))]
        return 200, {}, json.dumps({"kind": "List", "metadata": {}, "items": items}).encode()


def client_on(api):
    return Client(Connection("https://harvester.lab:6443", token=TOKEN), transport=api, debug_log=False)


def test_nodes_only_take_one_request():
    api = Api(nodes=[a_node("ms02-2", "10.10.10.12"), a_node("ms02-1")], vms=[a_vm("lab-router")])
    data = plugin.fetch(client_on(api), DEFAULTS)
    assert [h["name"] for h in data["nodes"]] == ["ms02-1", "ms02-2"] and data["vms"] is None
    assert [(m, p) for m, p, dummy, dummy_auth in api.sent] == [("GET", "/api/v1/nodes")]
    assert api.sent[0][3] == f"Bearer {TOKEN}"


def test_vms_take_two_requests_per_namespace_with_the_selector():
    api = Api(nodes=[a_node("ms02-1")], vms=[a_vm("lab-router"), a_vm("web", namespace="apps")],
              vmis=[a_vmi("lab-router"), a_vmi("web", namespace="apps", interfaces=(("uplink", "10.10.30.5"),))])
    data = plugin.fetch(client_on(api), dict(DEFAULTS, want_vms=True, vm_namespaces=["apps", "default"],
                                             vm_label_selector="backup=daily"))
    assert [(m, p) for m, p, dummy, dummy_auth in api.sent] == [
        ("GET", "/api/v1/nodes"),
        ("GET", "/apis/kubevirt.io/v1/namespaces/apps/virtualmachines"),
        ("GET", "/apis/kubevirt.io/v1/namespaces/apps/virtualmachineinstances"),
        ("GET", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"),
        ("GET", "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances")]
    assert api.sent[1][2]["labelSelector"] == ["backup=daily"]
    assert [(h["name"], h["vars"]["ansible_host"]) for h in data["vms"]] == [
        ("apps-web", "10.10.30.5"), ("default-lab-router", "10.10.10.50")]


def test_every_namespace_is_one_list_per_kind():
    api = Api(vms=[a_vm("a"), a_vm("b", namespace="apps")])
    data = plugin.fetch(client_on(api), dict(DEFAULTS, want_vms=True))
    assert [p for dummy, p, dummy_q, dummy_auth in api.sent] == [
        "/api/v1/nodes", "/apis/kubevirt.io/v1/virtualmachines", "/apis/kubevirt.io/v1/virtualmachineinstances"]
    assert [h["name"] for h in data["vms"]] == ["apps-b", "default-a"]


def test_nothing_secret_is_in_the_data():
    api = Api(nodes=[a_node("ms02-1")], vms=[a_vm("lab-router")], vmis=[a_vmi("lab-router")])
    assert TOKEN not in json.dumps(plugin.fetch(client_on(api), dict(DEFAULTS, want_vms=True)))


# --- the plugin object -------------------------------------------------------------------------------
def make_plugin(tmp_path, **options):
    """An InventoryModule with options set as _read_config_data would set them."""
    inv = plugin.InventoryModule()
    BaseInventoryPlugin.parse(inv, InventoryData(), DataLoader(), str(tmp_path / "lab.harvester.yml"))
    opts = dict(DEFAULTS, cache=False, compose={}, groups={}, keyed_groups=[], leading_separator=True, use_extra_vars=False)
    opts.update(options)
    for name in ("compose", "groups"):  # loaded from the source file, these are trusted templates
        opts[name] = {key: trust_as_template(value) for key, value in opts[name].items()}
    opts["keyed_groups"] = [dict(entry, key=trust_as_template(entry["key"])) for entry in opts["keyed_groups"]]
    inv._options.update(opts)
    inv._origins.update({name: "direct" for name in opts})
    inv._cache = {}
    return inv


def fetched(calls, data):
    def fetch(conn, options):
        calls.append(options)
        return data
    return fetch


DATA = {"format": plugin.CACHE_FORMAT, "nodes": [plugin.node_host(a_node("ms02-1"))], "vms": None}
LAB = Connection("https://harvester.lab:6443", token=TOKEN)


def test_cache_off_always_reads_the_api(tmp_path):
    inv, calls = make_plugin(tmp_path), []
    inv._fetch = fetched(calls, DATA)
    assert inv._data("lab.harvester.yml", True, DEFAULTS, LAB)["nodes"] == DATA["nodes"] and len(calls) == 1
    assert inv._cache == {}


def test_cache_on_reads_once_then_serves_the_cache_until_flushed(tmp_path):
    inv, calls = make_plugin(tmp_path, cache=True), []
    inv._fetch = fetched(calls, DATA)
    first = inv._data("lab.harvester.yml", True, DEFAULTS, LAB)  # a miss: read and stored
    assert inv._data("lab.harvester.yml", True, DEFAULTS, LAB) == first and len(calls) == 1  # a hit
    assert list(inv._cache.values()) == [first]
    assert first["query"] == {"server": "https://harvester.lab:6443", "want_vms": False, "vm_namespaces": [],
                              "vm_label_selector": None, "vm_host_format": None}
    inv._data("lab.harvester.yml", False, DEFAULTS, LAB)  # --flush-cache / refresh_inventory
    assert len(calls) == 2
    assert TOKEN not in json.dumps(inv._cache)


@pytest.mark.parametrize("change", [
    {"want_vms": True},  # VMs wanted now, not read then
    {"want_vms": True, "vm_namespaces": ["apps"]},
    {"want_vms": True, "vm_label_selector": "backup=daily"},
    {"want_vms": True, "vm_host_format": "{name}"},
    {"server": "https://other:6443"},  # another cluster
])
def test_a_cache_entry_read_with_another_query_is_read_again(tmp_path, change):
    inv, calls = make_plugin(tmp_path, cache=True), []
    inv._fetch = fetched(calls, DATA)
    base = dict(DEFAULTS, want_vms=True) if "server" in change else DEFAULTS
    inv._data("lab.harvester.yml", True, base, LAB)
    options = dict(base, **{k: v for k, v in change.items() if k != "server"})
    inv._data("lab.harvester.yml", True, options, Connection(change.get("server", LAB.server), token=TOKEN))
    assert len(calls) == 2


def test_changes_to_options_that_vms_do_not_use_keep_the_cache(tmp_path):
    inv, calls = make_plugin(tmp_path, cache=True), []
    inv._fetch = fetched(calls, DATA)
    inv._data("lab.harvester.yml", True, DEFAULTS, LAB)
    inv._data("lab.harvester.yml", True, dict(DEFAULTS, vm_namespaces=["apps"], group_prefix="hv_"), LAB)
    assert len(calls) == 1


QUERY = plugin.cache_query(DEFAULTS, LAB.server)


@pytest.mark.parametrize("cached", [dict(DATA, format=0, query=QUERY), "garbage", {"format": plugin.CACHE_FORMAT, "query": QUERY}])
def test_a_cache_entry_of_another_layout_is_read_again(tmp_path, cached):
    inv, calls = make_plugin(tmp_path, cache=True), []
    inv._cache[inv.get_cache_key("lab.harvester.yml")] = cached
    inv._fetch = fetched(calls, DATA)
    inv._data("lab.harvester.yml", True, DEFAULTS, LAB)
    assert len(calls) == 1


def test_connection_params_leave_defaults_to_the_environment(tmp_path):
    inv = make_plugin(tmp_path, host="https://h:6443", api_key=TOKEN, validate_certs=False, kubeconfig=None,
                      context=None, ca_cert=None, client_cert=None, client_key=None, proxy=None, request_timeout=30.0)
    inv._origins["request_timeout"] = "default"
    params = inv.connection_params()
    assert params["host"] == "https://h:6443" and params["api_key"] == TOKEN and params["validate_certs"] is False
    assert params["request_timeout"] is None  # so K8S_AUTH_REQUEST_TIMEOUT still applies, as for the modules
    assert params["kubeconfig"] is None


def test_populate_makes_groups_variables_and_constructed_groups(tmp_path):
    inv = make_plugin(tmp_path, want_vms=True, keyed_groups=[{"key": "harvester_status | default('node')", "prefix": "state"}],
                      groups={"upgrade_first": "harvester_object == 'node' and not harvester_ready"},
                      compose={"ansible_user": "'rancher'"})
    data = {"format": plugin.CACHE_FORMAT,
            "nodes": [plugin.node_host(a_node("ms02-1")), plugin.node_host(a_node("ms02-2", "10.10.10.12", ready="False"))],
            "vms": [plugin.vm_host(a_vm("lab-router"), a_vmi("lab-router"), "{namespace}-{name}")]}
    inv.populate(data, dict(DEFAULTS, want_vms=True))
    groups = {name: sorted(h.name for h in g.get_hosts()) for name, g in inv.inventory.groups.items()}
    assert groups["harvester_nodes"] == ["ms02-1", "ms02-2"]
    assert groups["harvester_control_plane"] == ["ms02-1", "ms02-2"]
    assert groups["harvester_ready"] == ["ms02-1"] and groups["harvester_not_ready"] == ["ms02-2"]
    assert groups["harvester_vms"] == groups["harvester_vms_running"] == ["default-lab-router"]
    assert groups["upgrade_first"] == ["ms02-2"]
    assert groups["state_node"] == ["ms02-1", "ms02-2"] and groups["state_Running"] == ["default-lab-router"]
    router = inv.inventory.get_host("default-lab-router").get_vars()
    assert router["ansible_host"] == "10.10.10.50" and router["ansible_user"] == "rancher"
    assert inv.inventory.get_host("ms02-2").get_vars()["ansible_host"] == "10.10.10.12"


def test_populate_leaves_cached_vms_out_when_they_are_not_wanted_and_uses_the_prefix(tmp_path):
    inv = make_plugin(tmp_path, group_prefix="hv_")
    data = dict(DATA, vms=[plugin.vm_host(a_vm("lab-router"), None, "{namespace}-{name}")])
    inv.populate(data, dict(DEFAULTS, group_prefix="hv_"))
    assert sorted(inv.inventory.hosts) == ["ms02-1"]
    assert "hv_nodes" in inv.inventory.groups and "harvester_nodes" not in inv.inventory.groups


def test_two_hosts_of_one_name_are_refused(tmp_path):
    inv = make_plugin(tmp_path, want_vms=True, vm_host_format="{name}")
    data = dict(DATA, vms=[plugin.vm_host(a_vm("ms02-1"), None, "{name}")])
    with pytest.raises(AnsibleParserError, match=r"VM default/ms02-1 and node ms02-1 would both be host 'ms02-1'; "
                                                 r"set vm_host_format"):
        inv.populate(data, dict(DEFAULTS, want_vms=True, vm_host_format="{name}"))


def test_strict_compose_errors_fail_and_lenient_ones_do_not(tmp_path):
    inv = make_plugin(tmp_path, compose={"x": "undefined_var.attr"}, strict=True)
    with pytest.raises(AnsibleError, match="Could not set x for host ms02-1"):
        inv.populate(DATA, dict(DEFAULTS, strict=True))
    lenient = make_plugin(tmp_path, compose={"x": "undefined_var.attr"})
    lenient.populate(DATA, DEFAULTS)
    assert "x" not in lenient.inventory.get_host("ms02-1").get_vars()


@pytest.mark.parametrize("name, taken", [("harvester.yml", True), ("lab.harvester.yaml", True), ("lab-harvester.yml", True),
                                         ("harvester.json", False), ("hosts.yml", False), ("harvester.yml.example", False)])
def test_verify_file_takes_only_harvester_yaml_files(tmp_path, name, taken):
    path = tmp_path / name
    path.write_text("plugin: homelab.harvester.harvester\n")
    assert plugin.InventoryModule().verify_file(str(path)) is taken
