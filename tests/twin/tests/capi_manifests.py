"""Manifests for the Cluster API tests: what the capi_cluster module writes for one Talos cluster
on Harvester (v1beta2 Cluster/MachineDeployment), and the Harvester-side objects its machines
refer to (an image, a network, a key pair). Plain data builders plus `create_all`."""
from __future__ import annotations

import base64
import copy

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

NS = "capi-demo"
CLUSTER = "demo"
POOL = "workers"
K8S_VERSION = "v1.33.4"
IMAGE = "default/talos-1-11"
NETWORK = "default/lab-uplink"  # seeded by the lab (60-vms.yaml)
KEYPAIR = "default/capi-key"

CAPI_V = "cluster.x-k8s.io/v1beta2"
INFRA_V = "infrastructure.cluster.x-k8s.io/v1beta1"
BOOT_V = "bootstrap.cluster.x-k8s.io/v1alpha3"
CP_V = "controlplane.cluster.x-k8s.io/v1alpha3"


def path(api_version: str, plural: str, name: str = "", ns: str = NS) -> str:
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    p = f"{base}/namespaces/{ns}/{plural}" if ns else f"{base}/{plural}"
    return f"{p}/{name}" if name else p


def public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " capi@lab"


def harvester_side() -> list[tuple[str, dict]]:
    """(collection path, body) of the objects the HarvesterMachines name."""
    img_ns, img = IMAGE.split("/")
    kp_ns, kp = KEYPAIR.split("/")
    return [
        (path("harvesterhci.io/v1beta1", "virtualmachineimages", ns=img_ns),
         {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage", "metadata": {"name": img},
          "spec": {"displayName": "talos-1.11", "sourceType": "upload"}}),
        (path("harvesterhci.io/v1beta1", "keypairs", ns=kp_ns),
         {"apiVersion": "harvesterhci.io/v1beta1", "kind": "KeyPair", "metadata": {"name": kp},
          "spec": {"publicKey": public_key()}}),
    ]


def identity_secret(kubeconfig_text: str, cluster: str = CLUSTER) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": f"{cluster}-harvester-identity", "namespace": NS},
            "data": {"kubeconfig": base64.b64encode(kubeconfig_text.encode()).decode()}}


def harvester_cluster(cluster: str = CLUSTER, *, vm_pool: dict | None = None, ipam: str = "dhcp") -> dict:
    lb = {"ipamType": ipam}
    if ipam == "pool":
        lb["ipPool"] = {"vmNetwork": NETWORK, "subnet": "10.10.30.0/24", "gateway": "10.10.30.1",
                        "rangeStart": "10.10.30.50", "rangeEnd": "10.10.30.59"}
    spec = {"targetNamespace": f"{cluster}-vms",
            "identitySecret": {"namespace": NS, "name": f"{cluster}-harvester-identity"},
            "loadBalancerConfig": lb}
    if vm_pool is not None:
        spec["vmNetworkConfig"] = {"ipPool": dict({"vmNetwork": NETWORK, "subnet": "10.10.30.0/24", "gateway": "10.10.30.1"},
                                                  **vm_pool),
                                   "gateway": "10.10.30.1", "subnetMask": "255.255.255.0", "dnsServers": ["10.10.30.1"]}
    return {"apiVersion": INFRA_V, "kind": "HarvesterCluster", "metadata": {"name": cluster, "namespace": NS}, "spec": spec}


def machine_template(name: str, *, image: str = IMAGE, cpu: int = 2) -> dict:
    return {"apiVersion": INFRA_V, "kind": "HarvesterMachineTemplate", "metadata": {"name": name, "namespace": NS},
            "spec": {"template": {"spec": {
                "cpu": cpu, "memory": "4Gi", "sshUser": "talos", "sshKeyPair": KEYPAIR,
                "volumes": [{"volumeType": "image", "imageName": image, "volumeSize": "20Gi", "bootOrder": 0}],
                "networks": [NETWORK]}}}}


def talos_config_template(name: str, patches: list | None = None) -> dict:
    return {"apiVersion": BOOT_V, "kind": "TalosConfigTemplate", "metadata": {"name": name, "namespace": NS},
            "spec": {"template": {"spec": {"generateType": "worker", "talosVersion": "v1.11",
                                           "configPatches": patches or [
                                               {"op": "add", "path": "/machine/kubelet/extraArgs",
                                                "value": {"rotate-server-certificates": "true"}}]}}}}


def talos_control_plane(cluster: str = CLUSTER, *, replicas: int = 3, template: str = "", patches: list | None = None) -> dict:
    return {"apiVersion": CP_V, "kind": "TalosControlPlane", "metadata": {"name": f"{cluster}-cp", "namespace": NS},
            "spec": {"version": K8S_VERSION, "replicas": replicas,
                     "infrastructureTemplate": {"apiVersion": INFRA_V, "kind": "HarvesterMachineTemplate",
                                                "name": template or f"{cluster}-cp-aaaa1111"},
                     "controlPlaneConfig": {"controlplane": {
                         "generateType": "controlplane", "talosVersion": "v1.11",
                         "configPatches": patches or [{"op": "add", "path": "/cluster/network/cni", "value": {"name": "none"}}]}}}}


def cluster_object(cluster: str = CLUSTER) -> dict:
    return {"apiVersion": CAPI_V, "kind": "Cluster", "metadata": {"name": cluster, "namespace": NS},
            "spec": {"clusterNetwork": {"pods": {"cidrBlocks": ["10.244.0.0/16"]},
                                        "services": {"cidrBlocks": ["10.96.0.0/12"]}},
                     "controlPlaneRef": {"apiGroup": "controlplane.cluster.x-k8s.io", "kind": "TalosControlPlane",
                                         "name": f"{cluster}-cp"},
                     "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "HarvesterCluster",
                                           "name": cluster}}}


def machine_deployment(cluster: str = CLUSTER, *, replicas: int = 2, infra: str = "", config: str = "") -> dict:
    md = f"{cluster}-{POOL}"
    sel = {"cluster.x-k8s.io/cluster-name": cluster, "cluster.x-k8s.io/deployment-name": md}
    return {"apiVersion": CAPI_V, "kind": "MachineDeployment", "metadata": {"name": md, "namespace": NS},
            "spec": {"clusterName": cluster, "replicas": replicas, "selector": {"matchLabels": dict(sel)},
                     "template": {"metadata": {"labels": dict(sel)},
                                  "spec": {"clusterName": cluster, "version": K8S_VERSION,
                                           "bootstrap": {"configRef": {"apiGroup": "bootstrap.cluster.x-k8s.io",
                                                                       "kind": "TalosConfigTemplate",
                                                                       "name": config or f"{cluster}-{POOL}-bbbb2222"}},
                                           "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io",
                                                                 "kind": "HarvesterMachineTemplate",
                                                                 "name": infra or f"{cluster}-{POOL}-cccc3333"}}}}}


def object_set(kubeconfig_text: str, cluster: str = CLUSTER, *, cp_replicas: int = 3, workers: int = 2,
               hc: dict | None = None, tcp: dict | None = None) -> list[tuple[str, dict]]:
    """(collection path, body) in the module's order."""
    return [
        ("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
        (path("v1", "secrets"), identity_secret(kubeconfig_text, cluster)),
        (path(INFRA_V, "harvesterclusters"), copy.deepcopy(hc) if hc else harvester_cluster(cluster)),
        (path(INFRA_V, "harvestermachinetemplates"), machine_template(f"{cluster}-cp-aaaa1111")),
        (path(INFRA_V, "harvestermachinetemplates"), machine_template(f"{cluster}-{POOL}-cccc3333")),
        (path(BOOT_V, "talosconfigtemplates"), talos_config_template(f"{cluster}-{POOL}-bbbb2222")),
        (path(CP_V, "taloscontrolplanes"), copy.deepcopy(tcp) if tcp else talos_control_plane(cluster, replicas=cp_replicas)),
        (path(CAPI_V, "clusters"), cluster_object(cluster)),
        (path(CAPI_V, "machinedeployments"), machine_deployment(cluster, replicas=workers)),
    ]


def create_all(session, server: str, items: list[tuple[str, dict]], *, harvester: bool = True) -> None:
    for collection, body in (harvester_side() if harvester else []) + items:
        r = session.post(server + collection, json=body)
        if r.status_code == 409 and body["kind"] == "Namespace":
            continue
        assert r.status_code == 201, (collection, r.status_code, r.text)
