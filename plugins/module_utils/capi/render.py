# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The object set of one Talos cluster on Harvester, rendered from ``options.check()``'s
output, in the order it is applied (dependencies first):

identity Secret -> HarvesterCluster -> HarvesterMachineTemplates and TalosConfigTemplates ->
TalosControlPlane -> Cluster -> MachineDeployments.

Cluster and MachineDeployment are written as ``cluster.x-k8s.io/v1beta2`` (CAPI 1.12's storage
version; refs are ``{apiGroup, kind, name}``), HarvesterCluster/-MachineTemplate as CAPHV's
``v1beta1``, the Talos kinds as ``v1alpha3``. Field names are the CRDs' (``controlplane``, all
lower case, and ``generateType: worker``, not the shipped CAPHV template's ``controlPlane`` and
``join``).

Templates are immutable by CAPI convention (TalosConfigTemplate by webhook), so their names end
in a hash of their content: a changed machine shape is a new template, and repointing the
reference is what rolls the machines.
"""

from __future__ import annotations

import base64
import hashlib
import json

from .. import kinds

LABEL = "homelab.harvester/cluster"  # on every object this module creates, to find them again
ROLE_LABEL = "homelab.harvester/role"  # on templates: control-plane or the worker pool's name
CONTROL_PLANE_ROLE = "control-plane"
SSH_USER = "talos"  # CAPHV requires one; Talos has no SSH and ignores it
CP_SUFFIX = "cp"


def content_hash(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _meta(spec, name, labels=None):
    meta = {"name": name, "namespace": spec["namespace"], "labels": {LABEL: spec["name"]}}
    meta["labels"].update(labels or {})
    return meta


def _ref(kind, name):
    """A v1beta2 contract reference: no version, no namespace (always the Cluster's)."""
    return {"apiGroup": kind.group, "kind": kind.kind, "name": name}


def identity_secret_name(spec):
    return f"{spec['name']}-harvester-identity"


def identity_secret(spec, kubeconfig_text):
    """The Secret CAPHV reads the Harvester kubeconfig from (data key ``kubeconfig``)."""
    encoded = base64.b64encode(kubeconfig_text.encode("utf-8")).decode("ascii")
    return {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(spec, identity_secret_name(spec)),
            "type": "Opaque", "data": {"kubeconfig": encoded}}


def harvester_cluster(spec, identity_name):
    lb = {"ipamType": spec["load_balancer"]["ipam"]}
    if lb["ipamType"] == "pool":
        lb["ipPool"] = _ip_pool(spec["load_balancer"]["pool"])
    body = {"targetNamespace": spec["target_namespace"],
            "identitySecret": {"namespace": spec["namespace"], "name": identity_name},
            "loadBalancerConfig": lb}
    pool = spec.get("machine_ip_pool")
    if pool:
        body["vmNetworkConfig"] = {"ipPool": _ip_pool(pool), "gateway": pool["gateway"], "subnetMask": pool["netmask"]}
        if pool["dns_servers"]:
            body["vmNetworkConfig"]["dnsServers"] = list(pool["dns_servers"])
    return {"apiVersion": kinds.HARVESTER_CLUSTER.api_version, "kind": kinds.HARVESTER_CLUSTER.kind,
            "metadata": _meta(spec, spec["name"]), "spec": body}


def _ip_pool(pool):
    return {"vmNetwork": pool["network"], "subnet": pool["subnet"], "gateway": pool["gateway"],
            "rangeStart": pool["range_start"], "rangeEnd": pool["range_end"]}


def machine_template(spec, role, machines):
    """A HarvesterMachineTemplate ``<cluster>-<role>-<hash>`` for the control plane (role ``cp``)
    or a worker pool: one boot disk from the image, the VM networks, the KeyPair."""
    volume = {"volumeType": "image", "imageName": machines["image"], "volumeSize": machines["disk_size"], "bootOrder": 0}
    body = {"cpu": machines["cpu"], "memory": machines["memory"], "sshUser": SSH_USER, "sshKeyPair": spec["ssh_keypair"],
            "volumes": [volume], "networks": list(machines["networks"])}
    template = {"template": {"spec": body}}
    name = f"{spec['name']}-{role}-{content_hash(template)}"
    labels = {ROLE_LABEL: CONTROL_PLANE_ROLE if role == CP_SUFFIX else role}
    return {"apiVersion": kinds.HARVESTER_MACHINE_TEMPLATE.api_version, "kind": kinds.HARVESTER_MACHINE_TEMPLATE.kind,
            "metadata": _meta(spec, name, labels), "spec": template}


def talos_config_template(spec, pool):
    """The worker pool's TalosConfigTemplate ``<cluster>-<pool>-<hash>`` (immutable upstream)."""
    config = {"generateType": "worker", "talosVersion": spec["talos_version"]}
    if pool["config_patches"]:
        config["configPatches"] = [dict(p) for p in pool["config_patches"]]
    template = {"template": {"spec": config}}
    name = f"{spec['name']}-{pool['name']}-{content_hash(template)}"
    return {"apiVersion": kinds.TALOS_CONFIG_TEMPLATE.api_version, "kind": kinds.TALOS_CONFIG_TEMPLATE.kind,
            "metadata": _meta(spec, name, {ROLE_LABEL: pool["name"]}), "spec": template}


def control_plane_name(spec):
    return f"{spec['name']}-{CP_SUFFIX}"


def control_plane(spec, template_name):
    cp = spec["control_plane"]
    config = {"generateType": "controlplane", "talosVersion": spec["talos_version"]}
    if cp["config_patches"]:
        config["configPatches"] = [dict(p) for p in cp["config_patches"]]
    body = {"version": spec["kubernetes_version"], "replicas": cp["replicas"],
            "infrastructureTemplate": {"apiVersion": kinds.HARVESTER_MACHINE_TEMPLATE.api_version,
                                       "kind": kinds.HARVESTER_MACHINE_TEMPLATE.kind, "name": template_name},
            "controlPlaneConfig": {"controlplane": config}}
    return {"apiVersion": kinds.TALOS_CONTROL_PLANE.api_version, "kind": kinds.TALOS_CONTROL_PLANE.kind,
            "metadata": _meta(spec, control_plane_name(spec)), "spec": body}


def cluster(spec):
    body = {"clusterNetwork": {"pods": {"cidrBlocks": [spec["cluster_network"]["pods_cidr"]]},
                               "services": {"cidrBlocks": [spec["cluster_network"]["services_cidr"]]}},
            "controlPlaneRef": _ref(kinds.TALOS_CONTROL_PLANE, control_plane_name(spec)),
            "infrastructureRef": _ref(kinds.HARVESTER_CLUSTER, spec["name"])}
    return {"apiVersion": kinds.CAPI_CLUSTER.api_version, "kind": kinds.CAPI_CLUSTER.kind,
            "metadata": _meta(spec, spec["name"], spec.get("labels")), "spec": body}


def deployment_name(spec, pool_name):
    return f"{spec['name']}-{pool_name}"


def machine_deployment(spec, pool, template_name, config_name):
    name = deployment_name(spec, pool["name"])
    selector = {"cluster.x-k8s.io/cluster-name": spec["name"], "cluster.x-k8s.io/deployment-name": name}
    body = {"clusterName": spec["name"], "replicas": pool["replicas"], "selector": {"matchLabels": dict(selector)},
            "template": {"metadata": {"labels": dict(selector)},
                         "spec": {"clusterName": spec["name"], "version": spec["kubernetes_version"],
                                  "bootstrap": {"configRef": _ref(kinds.TALOS_CONFIG_TEMPLATE, config_name)},
                                  "infrastructureRef": _ref(kinds.HARVESTER_MACHINE_TEMPLATE, template_name)}}}
    return {"apiVersion": kinds.MACHINE_DEPLOYMENT.api_version, "kind": kinds.MACHINE_DEPLOYMENT.kind,
            "metadata": _meta(spec, name, {ROLE_LABEL: pool["name"]}), "spec": body}


class ObjectSet:
    """Everything one cluster is made of, in apply order, with the names the service needs."""

    def __init__(self, spec, identity=None):
        self.spec = spec
        self.identity = identity  # the Secret we manage, or None when the user brings one
        self.identity_name = identity["metadata"]["name"] if identity else spec["identity_secret"]
        self.harvester_cluster = harvester_cluster(spec, self.identity_name)
        self.cp_template = machine_template(spec, CP_SUFFIX, spec["control_plane"])
        self.control_plane = control_plane(spec, self.cp_template["metadata"]["name"])
        self.cluster = cluster(spec)
        self.pools = []
        for pool in spec["workers"]:
            template = machine_template(spec, pool["name"], pool)
            config = talos_config_template(spec, pool)
            deployment = machine_deployment(spec, pool, template["metadata"]["name"], config["metadata"]["name"])
            self.pools.append({"pool": pool, "template": template, "config": config, "deployment": deployment})

    @property
    def templates(self):
        """The templates this run wants, as ``[(kind, object)]``."""
        out = [(kinds.HARVESTER_MACHINE_TEMPLATE, self.cp_template)]
        for entry in self.pools:
            out += [(kinds.HARVESTER_MACHINE_TEMPLATE, entry["template"]), (kinds.TALOS_CONFIG_TEMPLATE, entry["config"])]
        return out

    @property
    def deployments(self):
        return [entry["deployment"] for entry in self.pools]

    def wanted_names(self, kind):
        return {obj["metadata"]["name"] for k, obj in self.templates if k == kind}
