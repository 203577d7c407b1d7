"""Catalogue of homelab.harvester.capi_cluster (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"name": "demo", "kubernetes_version": "1.33", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11", "networks": ["default/cluster"]}, "harvester": {"kubeconfig": "/nonexistent"}},
     "kubernetes_version: '1.33' is not a Kubernetes version"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"replicas": 2, "image": "default/talos-1-11", "networks": ["default/cluster"]}},
     "control_plane.replicas: 2 is even"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11"}}, "control_plane.networks: at least one Harvester VM network"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11", "networks": ["default/cluster"]},
      "workers": [{"name": "w", "config_patches": [{"op": "merge", "path": "/machine"}]}]}, "workers[0].config_patches[0].op"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11"}, "missing: ssh_keypair"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11", "networks": ["default/cluster"]},
      "cluster_network": {"pods_cidr": "10.96.0.0/16"}}, "cluster_network.services_cidr: 10.96.0.0/12 overlaps"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11", "networks": ["default/cluster"]},
      "machine_ip_pool": {"subnet": "10.10.40.0/24", "gateway": "10.10.40.1", "range_start": "10.10.40.10", "range_end": "10.10.40.12"}},
     "machine_ip_pool: 10.10.40.10-10.10.40.12 holds 3 addresses; 4 are needed"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11", "networks": ["default/cluster"]}},
     "harvester: give kubeconfig (path or dict) or host and api_key"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11", "networks": ["default/cluster"]},
      "storage": {"csi_manifests": "/nonexistent/harvester-csi-driver.yaml"}},
     "storage.csi_manifests: /nonexistent/harvester-csi-driver.yaml: No such file or directory"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11", "networks": ["default/cluster"]},
      "storage": {"csi_manifests": "/etc/hostname", "cloud_config_secret": "cloud-config"}},
     "storage.cloud_config_secret: 'cloud-config' is not namespace/name"),
    ({"name": "demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11", "ssh_keypair": "default/lab",
      "control_plane": {"image": "default/talos-1-11", "networks": ["default/cluster"]},
      "kubeconfig_dest": "/nonexistent/demo.kubeconfig"}, "kubeconfig_dest: directory /nonexistent does not exist"),
]


def steps(ctx):
    from tests.catalogue import Step
    public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl lab@ms02"
    demo = {"name": "demo", "namespace": "capi-demo", "kubernetes_version": "v1.33.4", "talos_version": "v1.11",
            "control_plane": {"replicas": 1, "image": "default/talos-1-11", "networks": ["default/cluster"]},
            "workers": [{"name": "workers", "replicas": 1, "cpu": 4, "memory": "8Gi"}],
            "ssh_keypair": "default/lab", "kubeconfig_dest": f"{ctx.scratch}/demo.kubeconfig",
            # the twin's kubeconfig, which the playbook's environment names
            "harvester": {"kubeconfig": "{{ lookup('env', 'K8S_AUTH_KUBECONFIG') }}"}, "wait_timeout": 60}
    return [
        Step({"name": "cluster", "vlan_id": 40, "route": {"mode": "manual", "cidr": "10.10.40.0/24", "gateway": "10.10.40.1"}},
             module="homelab.harvester.harvester_network", name="precondition: the VM network"),
        Step({"name": "talos-1-11", "display_name": "talos-v1.11.5-nocloud", "source_type": "upload", "wait_timeout": 30},
             module="homelab.harvester.harvester_image", name="precondition: the image"),
        Step({"name": "lab", "public_key": public_key}, module="homelab.harvester.harvester_keypair",
             name="precondition: the key pair"),
        Step(demo, check=True, diff=True, name="check mode create"),
        Step(demo, diff=True, name="create and wait until ready"),
        Step(demo, name="no-op"),
        Step(dict(demo, workers=[{"name": "workers", "replicas": 2, "cpu": 4, "memory": "8Gi"}]), diff=True,
             name="change: scale the workers"),
        Step(dict(demo, ssh_keypair="default/nobody"), name="refused by the pre-flight on Harvester (no such key pair)"),
        Step(demo, fault={"method": "GET", "path": "/clusters/demo$", "status": 403}, name="API failure"),
        Step({"name": "demo", "namespace": "capi-demo", "state": "absent", "wait_timeout": 60}, diff=True, name="delete"),
    ]
