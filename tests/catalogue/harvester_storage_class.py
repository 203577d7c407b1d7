"""Catalogue of homelab.harvester.harvester_storage_class (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"name": "Lab_R2"}, "name: 'Lab_R2' is not a valid name"),
    ({"name": "lab-r2", "replicas": 0}, "replicas: 0 is not in 1-20"),
    ({"name": "lab-r2", "replicas": 21}, "replicas: 21 is not in 1-20"),
    ({"name": "lab-r2", "stale_replica_timeout": 0}, "stale_replica_timeout: 0 must be more than 0"),
    ({"name": "lab-r2", "data_locality": "strict-local"},
     "data_locality: strict-local is refused by Harvester: a strict-local volume keeps its one replica on the VM's "
     "node, so the VM cannot be live-migrated"),
    ({"name": "lab-r2", "data_locality": "nearby"}, "data_locality: 'nearby' is not one of disabled, best-effort"),
    ({"name": "lab-r2", "parameters": {"dataLocality": "strict-local"}},
     "parameters.dataLocality: strict-local is refused by Harvester"),
    ({"name": "lab-r2", "parameters": {"numberOfReplicas": "many"}},
     "parameters.numberOfReplicas: many is not in 1-20"),
    ({"name": "lab-r2", "replicas": 2, "parameters": {"numberOfReplicas": "2"}},
     "parameters: numberOfReplicas is also set by the replicas option; give it one way"),
    ({"name": "lab-r2", "parameters": {"": "x"}}, "parameters: has an empty parameter name"),
    ({"name": "lab-r2", "parameters": {"diskSelector": ["nvme"]}},
     "parameters.diskSelector: must be a string (or a number or boolean, written as text)"),
    ({"name": "lab-r2", "disk_selector": ["nvme,ssd"]}, "disk_selector: 'nvme,ssd' is not a Longhorn tag"),
    ({"name": "lab-r2", "node_selector": ["rack 1"]}, "node_selector: 'rack 1' is not a Longhorn tag"),
    ({"name": "nfs", "provisioner": "nfs.csi.k8s.io", "replicas": 2},
     "replicas: is a Longhorn parameter, and provisioner is nfs.csi.k8s.io"),
    ({"name": "lab-r2", "provisioner": ""}, "provisioner: must not be empty"),
    ({"name": "lab-r2", "provisioner": "not a driver"}, "provisioner: 'not a driver' is not a valid provisioner name"),
    ({"name": "lab-r2", "reclaim_policy": "Recycle"}, "value of reclaim_policy must be one of: Delete, Retain, got: Recycle"),
    ({"name": "lab-r2", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
]


def steps(ctx):
    from tests.catalogue import Step
    r2 = {"name": "lab-r2", "replicas": 2, "description": "two replicas"}
    return [
        Step(r2, diff=True, name="create"),
        Step(r2, name="no-op"),
        Step(dict(r2, description="2 replicas", allow_volume_expansion=False), check=True, diff=True,
             name="check mode change"),
        Step(dict(r2, default=True), diff=True, name="change: the default moves from harvester-longhorn"),
        Step(dict(r2, replicas=3), name="refused in place (a parameter)"),
        Step({"name": "harvester-longhorn", "state": "absent"}, name="refused by Harvester (reserved class)"),
        Step(r2, fault={"method": "GET", "path": "storageclasses/lab-r2$", "status": 403}, name="API failure"),
        Step({"name": "harvester-longhorn", "default": True}, name="the default moves back"),
        Step({"name": "lab-r2", "state": "absent"}, diff=True, name="delete"),
    ]
