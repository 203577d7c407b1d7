# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: harvester
short_description: Harvester nodes, and optionally VMs, as an inventory source
version_added: 0.1.0
description:
  - Reads the nodes of a Harvester cluster through its Kubernetes API and adds each node as a host, with its
    internal IP as C(ansible_host), grouped by role, readiness and maintenance status.
  - With O(want_vms), also adds the KubeVirt virtual machines, with the address of their running instance.
  - The source file must be a YAML file whose name ends with C(harvester.yml) or C(harvester.yaml),
    for example C(inventory/harvester.yml) or C(lab.harvester.yml).
  - Connects like the modules of this collection, with the same options and E(K8S_AUTH_*) environment variables,
    so the AWX C(OpenShift or Kubernetes API Bearer Token) credential attached to the inventory source is enough.
    One source file describes one cluster.
  - One request lists the nodes; O(want_vms) adds two per namespace (VirtualMachines and their instances).
  - "Groups, with O(group_prefix) V(harvester_) in front: C(nodes) (every node); one per role label
    (C(control_plane), C(etcd), C(master), C(witness), C(worker)), a node without a control-plane, etcd, master
    or witness role is a C(worker); C(ready) or C(not_ready); C(maintenance_running) (entering maintenance mode),
    C(maintenance_completed) (in maintenance mode) or C(maintenance_none); C(cordoned) for unschedulable nodes.
    VMs are in C(vms) and C(vms_<status>), such as C(vms_running) or C(vms_stopped)."
  - "Host variables of a node: C(ansible_host), C(harvester_object=node), C(harvester_roles), C(harvester_ready),
    C(harvester_schedulable), C(harvester_maintain_status) (C(running), C(completed) or null),
    C(harvester_internal_ip), C(harvester_labels), C(harvester_os_image) (the Harvester release, such as
    C(Harvester v1.8.2)) and C(harvester_kubelet_version)."
  - "Host variables of a VM: C(ansible_host) (when its instance has an address; the address on a VM network is
    preferred over the pod network), C(harvester_object=vm), C(harvester_name), C(harvester_namespace),
    C(harvester_status) (as C(kubectl get vm) shows it), C(harvester_run_strategy), C(harvester_node) (where its
    instance runs), C(harvester_ip), C(harvester_ips) and C(harvester_labels)."
  - No credential, token or key is ever put into the inventory, the cache or a message.
author:
  - Homelab platform team (@homelab)
extends_documentation_fragment:
  - homelab.harvester.connection
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it marks the file as a source for it.
    required: true
    type: str
    choices: [homelab.harvester.harvester]
  want_vms:
    description:
      - Also add the virtual machines as hosts.
    type: bool
    default: false
  vm_namespaces:
    description:
      - Namespaces to read virtual machines from. Empty means every namespace.
    type: list
    elements: str
    default: []
  vm_label_selector:
    description:
      - Only the virtual machines matching this Kubernetes label selector, such as C(backup=daily).
    type: str
  vm_host_format:
    description:
      - The inventory name of a virtual machine. V({name}) and V({namespace}) are replaced.
      - The inventory fails to load when two hosts would get the same name (a VM named like a node, for example).
    type: str
    default: "{namespace}-{name}"
  group_prefix:
    description:
      - Put in front of the name of every group this plugin makes.
      - With the default, the nodes are in C(harvester_nodes), the group of the same name in C(inventory/lab),
        so both sources can be used together and share its group variables.
    type: str
    default: harvester_
notes:
  - The connection options are resolved as the modules resolve them, the option in the source file, then its
    E(K8S_AUTH_*) environment variable, then the kubeconfig. An empty environment variable counts as not set.
  - With O(cache), what is cached is the host list with the variables above, never the API objects. An entry read
    from another API server, or with other O(want_vms), O(vm_namespaces), O(vm_label_selector) or O(vm_host_format),
    is not used; C(ansible-inventory --flush-cache) reads the cluster again.
seealso:
  - module: homelab.harvester.harvester_node_info
  - name: Harvester host management
    description: Harvester documentation on hosts and maintenance mode.
    link: https://docs.harvesterhci.io/v1.8/host/
"""

EXAMPLES = r"""
# Two source files, one YAML document each.
---
# inventory/harvester.yml -- the nodes from the API, the connection from K8S_AUTH_* (AWX) or ~/.kube/config
plugin: homelab.harvester.harvester

---
# lab.harvester.yml -- a kubeconfig, the VMs of namespace default too, a few groups of our own, cached for 10 minutes
plugin: homelab.harvester.harvester
kubeconfig: ~/.kube/harvester.yaml
want_vms: true
vm_namespaces: [default]
compose:
  ansible_user: "'rancher' if harvester_object == 'node' else 'ubuntu'"
groups:
  upgrade_first: harvester_object == 'node' and 'control-plane' not in harvester_roles
keyed_groups:
  - key: harvester_namespace | default('cluster')
    prefix: ns
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/homelab-harvester-inventory
cache_timeout: 600

# Then, for example:
#   ansible-inventory -i inventory/harvester.yml --graph
#   ansible-playbook -i inventory/lab -i inventory/harvester.yml playbooks/health.yml -l harvester_ready
"""

import os

from ansible.errors import AnsibleParserError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.homelab.harvester.plugins.module_utils import connection, kinds, node, validate
from ansible_collections.homelab.harvester.plugins.module_utils import vm as kubevirt
from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.module_utils.errors import HarvesterError

PLUGIN = "homelab.harvester.harvester"
FILE_ENDINGS = ("harvester.yml", "harvester.yaml")
CACHE_FORMAT = 1
# Roles that make a node more than a worker (Harvester's node-role labels).
NOT_WORKER = ("control-plane", "etcd", "master", "witness")
MAINTENANCE = ("running", "completed")


# --- what a host is ----------------------------------------------------------------------------
def node_host(obj):
    """The variables of one core Node as this plugin publishes them."""
    meta = obj.get("metadata") or {}
    conds = node.conditions((obj.get("status") or {}).get("conditions"))
    info = (obj.get("status") or {}).get("nodeInfo") or {}
    ip = node.internal_ip(obj)
    return {
        "name": meta.get("name"),
        "vars": {
            "ansible_host": ip,
            "harvester_object": "node",
            "harvester_roles": node.roles(obj),
            "harvester_ready": (conds.get("Ready") or {}).get("status") == "True",
            "harvester_schedulable": not bool((obj.get("spec") or {}).get("unschedulable")),
            "harvester_maintain_status": (meta.get("annotations") or {}).get(node.ANNOTATION_MAINTAIN) or None,
            "harvester_internal_ip": ip,
            "harvester_labels": dict(meta.get("labels") or {}),
            "harvester_os_image": info.get("osImage"),
            "harvester_kubelet_version": info.get("kubeletVersion"),
        },
    }


def vm_addresses(vm, vmi):
    """The instance's IPs in interface order, those on VM networks (multus) before the pod network's."""
    template = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
    pod_networks = {n.get("name") for n in template.get("networks") or [] if "pod" in n}
    found = []
    for iface in ((vmi or {}).get("status") or {}).get("interfaces") or []:
        ips = list(iface.get("ipAddresses") or []) or ([iface["ipAddress"]] if iface.get("ipAddress") else [])
        found.extend((iface.get("name") in pod_networks, ip) for ip in ips)
    ordered = []
    for entry in sorted(found, key=lambda entry: entry[0]):  # a stable sort: the order is kept otherwise
        ip = entry[1]
        if ip not in ordered:
            ordered.append(ip)
    return ordered


def vm_host(vm, vmi, host_format):
    """The variables of one VirtualMachine (and its instance, ``None`` when stopped)."""
    namespace, name = kubevirt.key(vm)
    ips = vm_addresses(vm, vmi)
    variables = {
        "harvester_object": "vm",
        "harvester_name": name,
        "harvester_namespace": namespace,
        "harvester_status": kubevirt.printable(vm),
        "harvester_run_strategy": kubevirt.run_strategy(vm),
        "harvester_node": ((vmi or {}).get("status") or {}).get("nodeName"),
        "harvester_ip": ips[0] if ips else None,
        "harvester_ips": ips,
        "harvester_labels": dict((vm.get("metadata") or {}).get("labels") or {}),
    }
    if ips:
        variables["ansible_host"] = ips[0]
    return {"name": host_format.format(name=name, namespace=namespace), "vars": variables}


def node_groups(variables):
    """Group names (without prefix) of one node host."""
    roles = variables["harvester_roles"]
    groups = ["nodes"] + [role.replace("-", "_") for role in roles]
    if not any(role in NOT_WORKER for role in roles) and "worker" not in roles:
        groups.append("worker")
    groups.append("ready" if variables["harvester_ready"] else "not_ready")
    status = variables["harvester_maintain_status"]
    groups.append(f"maintenance_{status}" if status in MAINTENANCE else "maintenance_none")
    if not variables["harvester_schedulable"]:
        groups.append("cordoned")
    return groups


def vm_groups(variables):
    status = "".join(c if c.isalnum() else "_" for c in variables["harvester_status"].lower())
    return ["vms", f"vms_{status}"]


# --- reading the cluster ---------------------------------------------------------------------------
def check_options(options):
    """Input checks before any request; raises ``ValidationError`` naming the option."""
    for index, namespace in enumerate(options.get("vm_namespaces") or []):
        validate.name(namespace, f"vm_namespaces[{index}]")
    if options.get("vm_label_selector") is not None:
        kubevirt.label_selector(options["vm_label_selector"], "vm_label_selector")
    host_format = options.get("vm_host_format") or ""
    try:
        host_format.format(name="n", namespace="ns")
    except (KeyError, IndexError, ValueError) as e:
        raise validate.ValidationError("vm_host_format", f"{host_format!r} is not a format with only {{name}} and "
                                                         f"{{namespace}} ({type(e).__name__}: {e})") from None
    if "{name}" not in host_format:
        raise validate.ValidationError("vm_host_format", f"{host_format!r} must contain {{name}}")


def fetch(client, options):
    """What the inventory is made of: ``{"format", "nodes": [host], "vms": [host] or None}``."""
    nodes = [node_host(obj) for obj in client.list(kinds.NODE.path())]
    vms = None
    if options.get("want_vms"):
        scopes = options.get("vm_namespaces") or [None]
        found, instances = kubevirt.read(client, scopes, options.get("vm_label_selector"))
        vms = [vm_host(found[key], instances.get(key), options["vm_host_format"]) for key in sorted(found)]
    return {"format": CACHE_FORMAT, "nodes": sorted(nodes, key=lambda h: h["name"] or ""), "vms": vms}


def cache_query(options, server):
    """What a cached answer depends on besides the source file: the cluster and what was read."""
    return {"server": server, "want_vms": bool(options.get("want_vms")),
            "vm_namespaces": list(options.get("vm_namespaces") or []) if options.get("want_vms") else [],
            "vm_label_selector": options.get("vm_label_selector") if options.get("want_vms") else None,
            "vm_host_format": options.get("vm_host_format") if options.get("want_vms") else None}


def usable(data, query):
    """A cached entry of this layout, read with the same query."""
    return isinstance(data, dict) and data.get("format") == CACHE_FORMAT and data.get("query") == query and \
        isinstance(data.get("nodes"), list)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = PLUGIN

    def verify_file(self, path):
        """Only YAML files named ``*harvester.yml`` / ``*harvester.yaml``."""
        return super().verify_file(path) and os.path.basename(path).endswith(FILE_ENDINGS)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        self._check_config(config)
        options = self._plugin_options()
        try:
            check_options(options)
            conn = connection.resolve(self.connection_params())
        except HarvesterError as e:
            raise AnsibleParserError(f"{PLUGIN}: {path}: {e}") from None
        self.populate(self._data(path, cache, options, conn), options)

    # options -------------------------------------------------------------------------------
    def _check_config(self, config):
        """What Ansible's option handling lets through: unknown keys (a typo would silently do
        nothing) and booleans it would read as false (``validate_certs: ture`` would turn TLS
        verification off)."""
        definitions = {}
        for name, definition in (self.option_definitions or {}).items():
            for key in [name] + list(definition.get("aliases") or []):
                definitions[key] = definition
        unknown = sorted(str(key) for key in config if key not in definitions)
        if unknown:
            raise AnsibleParserError(f"{PLUGIN}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                                     f"(see ansible-doc -t inventory {PLUGIN})")
        for key, value in config.items():
            if definitions[key].get("type") in ("bool", "boolean") and value is not None:
                try:
                    boolean(value, strict=True)
                except TypeError:
                    raise AnsibleParserError(f"{PLUGIN}: {key}: {value!r} is not a boolean (use true or false)") from None

    def _plugin_options(self):
        names = ("want_vms", "vm_namespaces", "vm_label_selector", "vm_host_format", "group_prefix", "strict")
        return {name: self.get_option(name) for name in names}

    def connection_params(self):
        """The connection options as ``connection.resolve`` takes them. A value that is only the
        documented default counts as not given, so its ``K8S_AUTH_*`` variable still applies (as
        ``env_fallback`` does for the modules)."""
        params = {}
        for name in connection.ENV_VARS:
            value, origin = self.get_option_and_origin(name)
            if origin == "default":
                value = None
            params[name] = value if value is None or isinstance(value, (dict, list, bool, int, float)) else str(value)
        return params

    # data ----------------------------------------------------------------------------------
    def _data(self, path, cache, options, conn):
        """From the cache when it is on and holds an entry of the same query, else from the API
        (and then into the cache, when it is on)."""
        use_cache = bool(self.get_option("cache"))
        key = self.get_cache_key(path)
        query = cache_query(options, conn.server)
        if use_cache and cache:
            try:
                data = self._cache[key]
            except KeyError:
                data = None
            if usable(data, query):
                return data
        data = dict(self._fetch(conn, options), query=query)
        if use_cache:
            self._cache[key] = data
        return data

    def _fetch(self, conn, options):
        try:
            return fetch(Client(conn), options)
        except HarvesterError as e:
            raise AnsibleParserError(f"{PLUGIN}: {e}") from None

    # the inventory -----------------------------------------------------------------------------
    def populate(self, data, options):
        """Hosts, groups and variables from ``fetch``'s data, then ``compose``, ``groups`` and
        ``keyed_groups``."""
        prefix = options.get("group_prefix") or ""
        strict = bool(options.get("strict"))
        hosts = [(h, node_groups(h["vars"])) for h in data["nodes"]]
        if options.get("want_vms"):
            hosts += [(h, vm_groups(h["vars"])) for h in data.get("vms") or []]
        seen = {}
        for host, groups in hosts:
            name = host["name"]
            if name in seen:
                raise AnsibleParserError(f"{PLUGIN}: {describe(host)} and {seen[name]} would both be host {name!r}; "
                                         "set vm_host_format to tell them apart")
            seen[name] = describe(host)
            self.inventory.add_host(name)
            for group in groups:
                group = self._sanitize_group_name(prefix + group)
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
            for key, value in host["vars"].items():
                self.inventory.set_variable(name, key, value)
            hostvars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)


def describe(host):
    """``node ms02-1`` or ``VM default/lab-router``, for messages."""
    variables = host["vars"]
    if variables["harvester_object"] == "vm":
        return f"VM {variables['harvester_namespace']}/{variables['harvester_name']}"
    return f"node {host['name']}"
