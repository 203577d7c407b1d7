"""VirtualMachine admission, black-box through kubectl and the kubernetes client: Harvester's VM
mutator and validator (mutator.harvesterhci.io, validator.harvesterhci.io: harvester v1.8.2
pkg/webhook/resources/virtualmachine) and KubeVirt's VM validator
(virtualmachine-validator.kubevirt.io: kubevirt v1.7.0 vms-admitter.go), with their codes,
reasons, messages and causes."""
from __future__ import annotations

import json

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from .conftest import wait_for

NS = "default"
VMS = f"/apis/kubevirt.io/v1/namespaces/{NS}/virtualmachines"
MERGE = {"Content-Type": "application/merge-patch+json"}
KUBEVIRT = 'admission webhook "virtualmachine-validator.kubevirt.io" denied the request: '
VALIDATOR = 'admission webhook "validator.harvesterhci.io" denied the request: '
MUTATOR = 'admission webhook "mutator.harvesterhci.io" denied the request: '
RESERVED = "harvesterhci.io/reservedMemory"
VCT = "harvesterhci.io/volumeClaimTemplates"


def vm_body(name, *, strategy="Halted", network="default/lab-uplink", limits=None, memory="1Gi", annotations=None):
    domain = {"cpu": {"cores": 1}, "devices": {"interfaces": [{"name": "nic-1", "bridge": {}, "model": "virtio"}]}}
    if memory:
        domain["memory"] = {"guest": memory}
    if limits:
        domain["resources"] = {"limits": limits}
    spec = {"template": {"spec": {"domain": domain, "networks": [{"name": "nic-1", "multus": {"networkName": network}}]}}}
    if strategy is not None:
        spec["runStrategy"] = strategy
    meta = {"name": name, "namespace": NS}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": meta, "spec": spec}


def vms(twin):
    return twin.dynamic().resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine")


def refusal(call) -> tuple[int, dict]:
    """Status code and Status body of a write the kubernetes client sends and the twin refuses."""
    with pytest.raises(ApiException) as caught:
        call()
    body = json.loads(caught.value.body)
    assert body["kind"] == "Status" and body["code"] == caught.value.status, body
    return caught.value.status, body


def create(twin, body):
    return vms(twin).create(body=body, namespace=NS).to_dict()


# ---------------------------------------------------------------------------------------- KubeVirt
def test_running_and_run_strategy_together_are_refused_by_kubevirt(twin):
    body = vm_body("both")
    body["spec"]["running"] = False
    code, status = refusal(lambda: create(twin, body))
    message = ("Running and RunStrategy are mutually exclusive. Note that Running is deprecated, please use "
               "RunStrategy instead")
    assert (code, status["reason"], status["message"]) == (422, "Invalid", KUBEVIRT + message)
    assert status["details"]["causes"] == [{"reason": "FieldValueInvalid", "message": message, "field": "spec.running"}]
    out = twin.kubectl("apply", "-f", "-", input=yaml.safe_dump(body), check=False)
    assert out.returncode != 0 and message in out.stderr


def test_a_vm_needs_a_run_strategy_and_a_known_one(twin):
    code, status = refusal(lambda: create(twin, vm_body("none", strategy=None)))
    assert (code, status["message"]) == (422, KUBEVIRT + "RunStrategy must be specified")
    code, status = refusal(lambda: create(twin, vm_body("odd", strategy="Sometimes")))
    assert (code, status["message"]) == (422, KUBEVIRT + "Invalid RunStrategy (Sometimes)")
    assert status["details"]["causes"][0]["field"] == "spec.runStrategy"


def test_networks_and_interfaces_must_pair_every_cause_listed(twin):
    body = vm_body("unpaired")
    body["spec"]["template"]["spec"]["networks"][0]["name"] = "nic-2"
    code, status = refusal(lambda: create(twin, body))
    first = "spec.template.spec.networks[0].name 'nic-2' not found."
    second = "spec.template.spec.domain.devices.interfaces[0].name 'nic-1' not found."
    assert (code, status["message"]) == (422, KUBEVIRT + f"{first}, {second}")
    assert [(c["reason"], c["field"]) for c in status["details"]["causes"]] == [
        ("FieldValueRequired", "spec.template.spec.networks[0].name"),
        ("FieldValueInvalid", "spec.template.spec.domain.devices.interfaces[0].name")]


def test_requests_above_limits_are_refused_with_canonical_quantities(twin):
    create(twin, vm_body("sized", limits={"cpu": "2", "memory": "4Gi"}))
    patch = {"spec": {"template": {"spec": {"domain": {"resources": {"requests": {"memory": "5120Mi"}}}}}}}
    code, status = refusal(lambda: vms(twin).patch(name="sized", namespace=NS, body=patch,
                                                   content_type="application/merge-patch+json"))
    field = "spec.template.spec.domain.resources"
    assert (code, status["message"]) == (422, KUBEVIRT + f"{field}.requests.memory '5Gi' is greater than "
                                                         f"{field}.limits.memory '4Gi'")
    assert status["details"]["causes"][0]["field"] == f"{field}.requests.memory"


# ---------------------------------------------------------------------------------------- Harvester mutator
def test_overcommit_fills_requests_guest_memory_and_the_defaults(twin):
    vm = create(twin, vm_body("fit", limits={"cpu": "2", "memory": "4Gi"}, memory=None,
                              annotations={RESERVED: "256Mi"}))
    spec = vm["spec"]["template"]["spec"]
    domain = spec["domain"]
    # overcommit-config of the lab: cpu 1000 %, memory 150 % (requests = limits x 100 / overcommit)
    assert domain["resources"]["requests"] == {"cpu": "200m", "memory": "2730Mi"}
    assert domain["memory"] == {"guest": "3840Mi"}  # limits.memory less the reserved memory
    assert domain["cpu"] == {"cores": 1, "sockets": 1, "threads": 1, "maxSockets": 1}
    assert spec["terminationGracePeriodSeconds"] == 120
    mac = domain["devices"]["interfaces"][0]["macAddress"]
    assert int(mac[:2], 16) & 0x03 == 0x02  # locally administered, unicast
    assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "network.harvesterhci.io/mgmt", "operator": "In",
                                                     "values": ["true"]}]}]}


def test_a_missing_network_attachment_definition_is_the_mutators_500(twin):
    code, status = refusal(lambda: create(twin, vm_body("lost", network="default/vlan-99")))
    assert (code, status["reason"]) == (500, "InternalError")
    assert status["message"] == MUTATOR + 'network-attachment-definitions.k8s.cni.cncf.io "vlan-99" not found'


def test_starting_a_halted_vm_restores_the_remembered_strategy(twin):
    s = twin.session()
    s.patch(twin.url(f"{VMS}/lab-builder"), json={"metadata": {"annotations": {"harvesterhci.io/vmRunStrategy": "Manual"}}},
            headers=MERGE).raise_for_status()
    started = s.patch(twin.url(f"{VMS}/lab-builder"), json={"spec": {"runStrategy": "Always"}}, headers=MERGE)
    assert started.status_code == 200 and started.json()["spec"]["runStrategy"] == "Manual"
    s.patch(twin.url(f"{VMS}/lab-builder"), json={"metadata": {"annotations": {"harvesterhci.io/vmRunStrategy": None}},
                                                  "spec": {"runStrategy": "Halted"}}, headers=MERGE).raise_for_status()
    again = s.patch(twin.url(f"{VMS}/lab-builder"), json={"spec": {"runStrategy": "Always"}}, headers=MERGE)
    assert again.json()["spec"]["runStrategy"] == "RerunOnFailure"  # no memory: Harvester's default


# ---------------------------------------------------------------------------------------- reserved memory
def test_reserved_memory_not_below_the_limit_is_the_mutators_500(twin):
    code, status = refusal(lambda: create(twin, vm_body("greedy", limits={"memory": "2Gi"}, annotations={RESERVED: "2Gi"})))
    assert (code, status["reason"]) == (500, "InternalError")
    assert status["message"] == MUTATOR + "reservedMemory can't be equal or greater than limits.memory  2147483648 2147483648"
    code, status = refusal(lambda: create(twin, vm_body("odd", limits={"memory": "2Gi"}, annotations={RESERVED: "lots"})))
    assert (code, status["message"]) == (500, MUTATOR + "annotation lots can't be converted to memory unit")


def test_negative_reserved_memory_is_the_validators_422_naming_the_annotation(twin):
    code, status = refusal(lambda: create(twin, vm_body("neg", limits={"memory": "2Gi"}, annotations={RESERVED: "-1Mi"})))
    assert (code, status["reason"], status["message"]) == (422, "Invalid", VALIDATOR + "reservedMemory cannot be less than 0")
    assert status["details"]["causes"] == [{"reason": "FieldValueInvalid", "message": "reservedMemory cannot be less than 0",
                                            "field": f"metadata.annotations[{RESERVED}]"}]


def test_a_vm_without_any_memory_is_refused(twin):
    code, status = refusal(lambda: create(twin, vm_body("empty", memory=None)))
    assert (code, status["message"]) == (422, VALIDATOR + "either memory.guest or resources.limits.memory must be set")
    assert status["details"]["causes"][0]["field"] == "spec.template.spec.domain"


# ---------------------------------------------------------------------------------------- volume claim templates
def claim(name, size="10Gi", storage_class="harvester-longhorn"):
    return {"metadata": {"name": name, "annotations": {"harvesterhci.io/imageId": "default/ubuntu"}},
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": size}},
                     "storageClassName": storage_class, "volumeMode": "Block"}}


def test_volume_claim_templates_must_parse_and_name_every_pvc(twin):
    code, status = refusal(lambda: create(twin, vm_body("bad-json", annotations={VCT: "{not json"})))
    assert (code, status["message"]) == (422, VALIDATOR + "the volumeClaimTemplates annotaion is invalid: invalid "
                                                          "character 'n' looking for beginning of object key string")
    assert status["details"]["causes"][0]["field"] == "metadata.annotations"
    nameless = json.dumps([{"spec": claim("x")["spec"]}])
    code, status = refusal(lambda: create(twin, vm_body("nameless", annotations={VCT: nameless})))
    assert (code, status["message"]) == (422, VALIDATOR + "the volumeClaimTemplates annotaion is invalid: PVC name is required")
    # an image that does not exist is not the webhook's business: the VM is admitted
    create(twin, vm_body("imaged", annotations={VCT: json.dumps([claim("imaged-disk-0")])}))


def test_volume_claim_templates_may_grow_but_not_shrink_nor_change_class(twin):
    create(twin, vm_body("grower", annotations={VCT: json.dumps([claim("grower-disk-0")])}))
    api = vms(twin)

    def annotate(value):
        return api.patch(name="grower", namespace=NS, body={"metadata": {"annotations": {VCT: json.dumps(value)}}},
                         content_type="application/merge-patch+json")
    code, status = refusal(lambda: annotate([claim("grower-disk-0", size="5Gi")]))
    assert (code, status["message"]) == (422, VALIDATOR + "grower-disk-0 PVC requests storage can't be less than previous value")
    assert status["details"]["causes"][0]["field"] == f"metadata.annotations.{VCT}"
    code, status = refusal(lambda: annotate([claim("grower-disk-0", storage_class="longhorn-fast")]))
    assert (code, status["reason"]) == (500, "InternalError")
    assert status["message"] == VALIDATOR + (f"storage class names for the volumes in the {VCT} annotation cannot be "
                                             "changed; new name longhorn-fast in volume grower-disk-0;")


# ---------------------------------------------------------------------------------------- stopping during a backup
def test_stopping_a_vm_with_a_backup_in_progress_is_a_400(twin):
    s = twin.session()
    setting = s.get(twin.url("/apis/harvesterhci.io/v1beta1/settings/backup-target")).json()
    nfs = "nfs://10.10.10.20:/volume1/harvester-backups"
    setting["value"] = json.dumps({"type": "nfs", "endpoint": nfs})
    s.put(twin.url("/apis/harvesterhci.io/v1beta1/settings/backup-target"), json=setting).raise_for_status()
    s.patch(twin.url(f"{VMS}/lab-router"), json={"spec": {"runStrategy": "Always"}}, headers=MERGE).raise_for_status()
    s.patch(twin.url("/_twin/environment"), json={"unreachable": [nfs]}).raise_for_status()  # it will not finish
    backup = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineBackup", "metadata": {"name": "slow"},
              "spec": {"type": "backup", "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "lab-router"}}}
    s.post(twin.url(f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinebackups"), json=backup).raise_for_status()
    wait_for(lambda: s.get(twin.url(f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachinebackups/slow"))
             .json().get("status", {}).get("sourceUID"), "the backup to start")
    out = twin.kubectl("patch", "vm", "lab-router", "-n", NS, "--type", "merge", "-p", '{"spec":{"runStrategy":"Halted"}}',
                       check=False)
    assert out.returncode != 0
    assert (VALIDATOR + "there is vmbackup in progress for vm default/lab-router, please wait for the vmbackup or remove "
                        "it before stop/restart the vm") in out.stderr
    stopped = s.patch(twin.url(f"{VMS}/lab-router"), json={"spec": {"runStrategy": "Halted"}}, headers=MERGE)
    assert (stopped.status_code, stopped.json()["reason"]) == (400, "BadRequest")


def test_the_seeded_vms_are_what_the_mutator_leaves(twin):
    """The lab's VMs pass every rule, and a no-op update changes nothing (the mutator's fixpoint)."""
    api = vms(twin)
    for name in ("lab-router", "lab-dns", "lab-builder"):  # after the controllers' first writes
        wait_for(lambda name=name: "kubevirt.io/virtualMachineControllerFinalize" in
                 (api.get(name=name, namespace=NS).to_dict()["metadata"].get("finalizers") or [])
                 and api.get(name=name, namespace=NS).to_dict()["status"].get("runStrategy"), f"{name} synced")
        live = api.get(name=name, namespace=NS).to_dict()
        replaced = api.replace(body=live, namespace=NS).to_dict()
        assert replaced["spec"] == live["spec"], name
        assert replaced["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"], name


def test_limits_without_a_cpu_section_break_the_mutators_own_patch(twin):
    """The mutator replaces /domain/cpu/maxSockets before it adds the default CPU: without a cpu
    section the apiserver cannot apply its patch (evanphx json-patch v4 needs the parent)."""
    body = vm_body("cpuless", limits={"memory": "2Gi"})
    del body["spec"]["template"]["spec"]["domain"]["cpu"]
    code, status = refusal(lambda: create(twin, body))
    assert (code, status["reason"]) == (500, "InternalError")
    assert status["message"] == ("Internal error occurred: replace operation does not apply: doc is missing path: "
                                 "/spec/template/spec/domain/cpu/maxSockets: missing value")


def test_harvester_creates_the_pvcs_of_the_annotation_whose_image_exists(twin):
    s = twin.session()
    image = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
             "metadata": {"name": "ubuntu", "namespace": NS}, "spec": {"displayName": "ubuntu", "sourceType": "upload"}}
    s.post(twin.url(f"/apis/harvesterhci.io/v1beta1/namespaces/{NS}/virtualmachineimages"), json=image).raise_for_status()
    missing = claim("app-disk-1")
    missing["metadata"]["annotations"]["harvesterhci.io/imageId"] = "default/gone"
    create(twin, vm_body("app", annotations={VCT: json.dumps([claim("app-disk-0"), missing])}))
    pvcs = f"/api/v1/namespaces/{NS}/persistentvolumeclaims"
    made = wait_for(lambda: (lambda r: r.json() if r.status_code == 200 else None)(s.get(twin.url(f"{pvcs}/app-disk-0"))),
                    "the PVC of the existing image")
    assert made["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert made["metadata"]["annotations"]["harvesterhci.io/imageId"] == "default/ubuntu"
    assert s.get(twin.url(f"{pvcs}/app-disk-1")).status_code == 404  # skipped in the same pass


# ---------------------------------------------------------------------------------------- MACs, labels
def test_a_mac_address_another_vm_has_on_the_same_cluster_network_is_a_500(twin):
    body = vm_body("twin-router")
    body["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0]["macAddress"] = "02:4a:00:00:00:01"
    code, status = refusal(lambda: create(twin, body))
    assert (code, status["message"]) == (500, VALIDATOR + "duplicate mac address present for vm twin-router for "
                                                          "cluster network mgmt")
    body["spec"]["template"]["spec"]["networks"] = [{"name": "nic-1", "pod": {}}]  # another network: no clash
    body["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0] = {"name": "nic-1", "masquerade": {},
                                                                             "macAddress": "02:4a:00:00:00:01"}
    create(twin, body)


def test_an_unknown_maintenance_strategy_label_is_refused(twin):
    body = vm_body("labelled")
    body["metadata"]["labels"] = {"harvesterhci.io/maintain-mode-strategy": "Hibernate"}
    code, status = refusal(lambda: create(twin, body))
    assert (code, status["message"]) == (422, VALIDATOR + "invalid maintenance mode strategy: Hibernate")
    assert status["details"]["causes"][0]["field"] == "metadata.labels[harvesterhci.io/maintain-mode-strategy]"


def test_pvcs_in_use_golden_images_and_negative_grace_periods_are_refused(twin):
    body = vm_body("thief")
    body["spec"]["template"]["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": "lab-dns-rootdisk"}}]
    code, status = refusal(lambda: create(twin, body))
    assert (code, status["message"]) == (422, VALIDATOR + "PVC default/lab-dns-rootdisk is already used by other VM, "
                                                          "please use a shareable RWX volume.")
    assert status["details"]["causes"][0]["field"] == "spec.templates.spec.volumes"
    twin.kubectl("annotate", "pvc", "lab-dns-rootdisk", "-n", NS, "harvesterhci.io/goldenImage=true")
    code, status = refusal(lambda: create(twin, body))
    assert (code, status["message"]) == (422, VALIDATOR + "PVC default/lab-dns-rootdisk is a golden image, it can't be "
                                                          "used as a volume in VM")
    hasty = vm_body("hasty")
    hasty["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = -1
    code, status = refusal(lambda: create(twin, hasty))
    assert (code, status["message"]) == (422, VALIDATOR + "Termination grace period can't be negative")
