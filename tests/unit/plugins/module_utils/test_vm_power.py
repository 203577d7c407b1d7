# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/vm_power.py and vm.py: input checks (selection, label selectors,
names as returned entries), what a VM's state and run strategy are, the one merge patch per VM
(stop remembers the strategy, start restores it or writes the chosen one with its annotation,
legacy ``spec.running`` removed, no write when the VM is there or on its way, refusals), and the
flow against a fake client: everything checked before the first write, 409 re-read and re-plan,
the wait and its message, the result in check mode."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import vm, vm_power
from ansible_collections.homelab.harvester.plugins.module_utils.errors import WaitTimeout
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError
from ansible_collections.homelab.harvester.plugins.module_utils.wait import WaitFailed
from tests.unit.fake_client import NORMAL, FakeClient, Seq, conflict

VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
MEMORY = vm.ANNOTATION


def params(**kw):
    base = {"name": None, "names": None, "label_selector": None, "namespace": "default", "all_namespaces": False,
            "state": "stopped", "run_strategy": None, "wait": True, "wait_timeout": 30}
    return dict(base, **kw)


def make_vm(name, strategy="RerunOnFailure", status="Running", memory=None, ns="default", running=None, ready=None):
    spec = {"template": {"spec": {}}}
    if strategy is not None:
        spec["runStrategy"] = strategy
    if running is not None:
        spec["running"] = running
    meta = {"name": name, "namespace": ns, "resourceVersion": "7"}
    if memory:
        meta["annotations"] = {MEMORY: memory}
    st = {"printableStatus": status}
    if ready is not None:
        st["ready"] = ready
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": meta, "spec": spec, "status": st}


def make_vmi(name, phase="Running", ns="default", deleting=False):
    meta = {"name": name, "namespace": ns}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase}}


# --- input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["app=web", "app==web", "app!=web", "app", "!app", "tier in (dev, test)",
                                  "tier notin (prod),app=web", "example.com/role=db,app", "app="])
def test_label_selectors_the_apiserver_accepts(text):
    assert vm.label_selector(text) == text


@pytest.mark.parametrize("text, message", [
    ("", "label_selector: must not be empty"),
    ("  ", "label_selector: must not be empty"),
    ("tier in dev", "'tier in dev' is not a label selector requirement"),
    ("app=web,", "'' is not a label selector requirement"),
    ("app=a=b", "'app=a=b' is not a label selector requirement"),
    ("app=-web", "'-web' is not a valid label value"),
    ("-app=web", "'-app' is not a valid label key"),
    ("tier in (dev,-x)", "'-x' is not a valid label value"),
    ("tier in ( )", "'tier in ( )' needs at least one value"),
])
def test_bad_label_selectors(text, message):
    with pytest.raises(ValidationError, match="^label_selector: ") as e:
        vm.label_selector(text)
    assert message in str(e.value)


def test_names_take_names_refs_and_returned_entries():
    entry = {"namespace": "lab", "name": "dns", "before": "Running", "after": "Stopped", "changed": True}
    got = vm.targets(params(names=["router", "other/router", entry, {"name": "router"}, "router"]))
    assert got == [("default", "router"), ("lab", "dns"), ("other", "router")]  # sorted, duplicates once
    assert vm.targets(params(name="lab/x")) == [("lab", "x")]
    assert vm.targets(params()) is None and vm.targets(params(label_selector="a=b")) is None


@pytest.mark.parametrize("kw, message", [
    ({"names": []}, "names: must not be empty"),
    ({"names": [{"namespace": "default"}]}, "names[0]: needs a name"),
    ({"names": ["ok", {"name": "x", "uid": "1"}]}, "names[1]: has unknown key 'uid'"),
    ({"names": [["x"]]}, "names[0]: must be a VM name, namespace/name or a dict"),
    ({"names": ["a/b/c"]}, "names[0] namespace: 'a/b' is not a valid name"),
    ({"name": "Bad"}, "name: 'Bad' is not a valid name"),
    ({"name": "x", "all_namespaces": True}, "all_namespaces: only with label_selector"),
    ({"names": ["x"], "all_namespaces": True}, "all_namespaces: only with label_selector"),
    ({"run_strategy": "Always"}, "run_strategy: only with state=running"),
    ({"namespace": "No"}, "namespace: 'No' is not a valid name"),
    ({"wait_timeout": -1}, "wait_timeout: -1 must be more than 0"),
    ({"label_selector": "x in y"}, "label_selector: 'x in y' is not a label selector requirement"),
])
def test_check_refuses(kw, message):
    with pytest.raises(ValidationError) as e:
        vm_power.check(params(**kw))
    assert message in str(e.value)


def test_check_accepts_the_selections():
    for kw in ({}, {"all_namespaces": True}, {"label_selector": "a=b", "all_namespaces": True}, {"name": "x"},
               {"names": ["x", "lab/y"], "state": "running", "run_strategy": "Always"}):
        vm_power.check(params(**kw))


# --- reading a VM ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec, strategy", [
    ({"runStrategy": "Manual"}, "Manual"), ({"running": True}, "Always"), ({"running": False}, "Halted"), ({}, "Halted"),
])
def test_run_strategy_as_kubevirt_reads_it(spec, strategy):
    assert vm.run_strategy({"spec": spec}) == strategy


def test_stopped_and_running_as_harvester_counts_them():
    assert vm.is_stopped(make_vm("a", "Halted", "Stopped"), None)
    assert vm.is_stopped(make_vm("a", "RerunOnFailure", "Stopped"), make_vmi("a", "Succeeded"))  # guest shut down
    assert not vm.is_stopped(make_vm("a", "Halted", "Stopping"), make_vmi("a", deleting=True))
    assert not vm.is_stopped(make_vm("a", "Halted", "Stopped"), make_vmi("a", "Running"))
    assert vm.is_running(make_vm("a", ready=True), make_vmi("a"))
    assert not vm.is_running(make_vm("a", ready=False), make_vmi("a"))
    assert not vm.is_running(make_vm("a", ready=True), make_vmi("a", "Scheduled"))
    assert not vm.is_running(make_vm("a", ready=True), None)


# --- planning ------------------------------------------------------------------------------
def test_stop_halts_and_remembers_the_current_strategy():
    patch = vm_power.plan("stopped", make_vm("a", "Always"), make_vmi("a"))
    assert patch == {"metadata": {"resourceVersion": "7", "annotations": {MEMORY: "Always"}}, "spec": {"runStrategy": "Halted"}}
    remembered = vm_power.plan("stopped", make_vm("a", "Always", memory="Always"), make_vmi("a"))
    assert remembered == {"metadata": {"resourceVersion": "7"}, "spec": {"runStrategy": "Halted"}}


def test_stop_replaces_the_legacy_running_field():
    patch = vm_power.plan("stopped", make_vm("a", None, running=True), make_vmi("a"))
    assert patch["spec"] == {"runStrategy": "Halted", "running": None}
    assert patch["metadata"]["annotations"] == {MEMORY: "Always"}


@pytest.mark.parametrize("vm, vmi", [
    (make_vm("a", "Halted", "Stopped"), None),
    (make_vm("a", "Halted", "Stopping"), make_vmi("a", deleting=True)),  # on its way
    (make_vm("a", "RerunOnFailure", "Stopped"), make_vmi("a", "Succeeded")),  # shut down from inside
    (make_vm("a", "RerunOnFailure", "Stopped"), None),
])
def test_stop_writes_nothing_when_stopped_or_stopping(vm, vmi):
    assert vm_power.plan("stopped", vm, vmi) is None


def test_start_restores_the_remembered_strategy_or_harvesters_default():
    assert vm_power.plan("running", make_vm("a", "Halted", "Stopped", memory="Always"), None)["spec"] == {"runStrategy": "Always"}
    patch = vm_power.plan("running", make_vm("a", "Halted", "Stopped"), None)
    assert patch == {"metadata": {"resourceVersion": "7", "annotations": {MEMORY: "RerunOnFailure"}},
                     "spec": {"runStrategy": "RerunOnFailure"}}
    bogus = vm_power.plan("running", make_vm("a", "Halted", "Stopped", memory="Halted"), None)
    assert bogus["spec"]["runStrategy"] == "RerunOnFailure" and bogus["metadata"]["annotations"] == {MEMORY: "RerunOnFailure"}


def test_a_chosen_strategy_is_written_with_its_annotation():
    """Harvester's mutator replaces the strategy of a starting VM with the annotation's."""
    patch = vm_power.plan("running", make_vm("a", "Halted", "Stopped", memory="RerunOnFailure"), None, "Always")
    assert patch["spec"] == {"runStrategy": "Always"} and patch["metadata"]["annotations"] == {MEMORY: "Always"}


def test_start_writes_nothing_for_a_running_or_starting_vm():
    assert vm_power.plan("running", make_vm("a"), make_vmi("a", "Scheduling")) is None
    assert vm_power.plan("running", make_vm("a", "Always", "Starting"), None) is None
    assert vm_power.plan("running", make_vm("a"), make_vmi("a"), "Always") is None  # a running VM keeps its strategy
    pending = make_vm("a", "RerunOnFailure", "Stopped")
    pending["status"]["runStrategy"] = "Halted"  # virt-controller has not acted on the new strategy yet
    assert vm_power.plan("running", pending, None) is None


def test_start_refuses_what_a_strategy_patch_cannot_start():
    with pytest.raises(vm_power.NotStartable, match="remembers run strategy Manual, which does not start a VM by itself"):
        vm_power.plan("running", make_vm("a", "Halted", "Stopped", memory="Manual"), None)
    assert vm_power.plan("running", make_vm("a", "Halted", "Stopped", memory="Manual"), None, "Always") is not None
    with pytest.raises(vm_power.NotStartable, match="stopped with run strategy RerunOnFailure, which KubeVirt does not start"):
        vm_power.plan("running", make_vm("a", "RerunOnFailure", "Stopped"), make_vmi("a", "Succeeded"))


def test_the_diff_shows_what_the_patch_writes():
    vm = make_vm("a", None, running=True)
    patch = vm_power.plan("stopped", vm, make_vmi("a"))
    assert vm_power._view(vm) == {"spec": {"running": True}}
    after = vm_power._view(vm_power._patched(vm, patch))
    assert after == {"spec": {"runStrategy": "Halted"}, "metadata": {"annotations": {MEMORY: "Always"}}}
    assert vm["spec"] == {"template": {"spec": {}}, "running": True}  # the live object untouched


# --- the flow against a fake client -----------------------------------------------------------------
def vm_path(v):
    return kinds_path(v, "virtualmachines")


def kinds_path(obj, plural):
    return f"/apis/kubevirt.io/v1/namespaces/{obj['metadata']['namespace']}/{plural}/{obj['metadata']['name']}"


def fake(vms, vmis=(), dry_run=False, on_patch=None):
    """VMs and VMIs stored by path; ``on_patch(client, vm_path)`` plays the controller after a stored patch."""
    objects = {vm_path(v): v for v in vms}
    objects.update({kinds_path(v, "virtualmachineinstances"): v for v in vmis})
    return FakeClient(objects, dry_run=dry_run, after={"merge_patch": on_patch} if on_patch else None)


def refuse_once(path, before=None, maybe_stored=False):
    """The first patch of ``path`` is answered 409 (after ``before(client)`` changed the store); later ones go through."""
    def answer(client, call):
        if before:
            before(client)
        error = conflict(path)
        error.maybe_stored = maybe_stored
        raise error
    return {("merge_patch", path): Seq([answer, NORMAL])}


def lists(c):
    return [(call.path, call.query.get("labelSelector")) for call in c.calls if call.op == "list"]


def patches(c):
    return [call.path for call in c.calls if call.op == "merge_patch"]


def controller(client, path):
    """The twin's virt-controller in one step: Halted deletes the VMI, a start creates a Running one."""
    vm = client.objects[path]
    vmi_path = path.replace("/virtualmachines/", "/virtualmachineinstances/")
    if vm["spec"]["runStrategy"] == "Halted":
        client.objects.pop(vmi_path, None)
        vm["status"] = {"printableStatus": "Stopped"}
    else:
        client.objects[vmi_path] = make_vmi(vm["metadata"]["name"], ns=vm["metadata"]["namespace"])
        vm["status"] = {"printableStatus": "Running", "ready": True}


def lab():
    return ([make_vm("router", ready=True), make_vm("dns", ready=True), make_vm("builder", "Halted", "Stopped")],
            [make_vmi("router"), make_vmi("dns")])


def test_stop_every_vm_patches_the_running_ones_and_waits():
    c = fake(*lab(), on_patch=controller)
    result = vm_power.run(c, params(), sleep=lambda s: None)
    assert result["changed"] is True
    assert result["vms"] == [
        {"namespace": "default", "name": "builder", "before": "Stopped", "after": "Stopped", "changed": False},
        {"namespace": "default", "name": "dns", "before": "Running", "after": "Stopped", "changed": True},
        {"namespace": "default", "name": "router", "before": "Running", "after": "Stopped", "changed": True}]
    assert patches(c) == [f"{VMS}/dns", f"{VMS}/router"]
    assert lists(c)[:2] == [(VMS, None), (VMIS, None)] and c.ops()[:2] == ["list", "list"]
    assert set(result["diff"]["before"]) == {"default/dns", "default/router"}


def test_a_second_run_reads_twice_and_writes_nothing():
    vms, vmis = lab()
    c = fake([make_vm(v["metadata"]["name"], "Halted", "Stopped") for v in vms])
    result = vm_power.run(c, params())
    assert result["changed"] is False and result["diff"] == {"before": {}, "after": {}}
    assert c.ops() == ["list", "list"]


def test_selector_and_all_namespaces_reach_the_list_calls():
    c = fake(*lab(), on_patch=controller)
    vm_power.run(c, params(label_selector="app=web", all_namespaces=True, wait=False))
    assert c.ops()[:2] == ["list", "list"]
    assert lists(c)[:2] == [("/apis/kubevirt.io/v1/virtualmachines", "app=web"),
                            ("/apis/kubevirt.io/v1/virtualmachineinstances", None)]


def test_unknown_names_fail_before_any_write_all_named():
    c = fake(*lab())
    with pytest.raises(vm.VmsRefused) as e:
        vm_power.run(c, params(names=["router", "nope", "lab/dns"]))
    assert str(e.value) == "VirtualMachine default/nope, lab/dns not found; nothing was changed"
    assert e.value.as_dict() == {"vms": ["default/nope", "lab/dns"]}
    assert patches(c) == []
    assert [call.path for call in c.calls] == [VMS, VMIS, "/apis/kubevirt.io/v1/namespaces/lab/virtualmachines",
                                               "/apis/kubevirt.io/v1/namespaces/lab/virtualmachineinstances"]
    with pytest.raises(vm.VmsRefused) as e:  # a reader (harvester_vm_info) has nothing to not change
        vm.select(c, params(names=["nope"]), writes=False)
    assert str(e.value) == "VirtualMachine default/nope not found"


def test_every_vm_is_checked_before_the_first_write():
    c = fake([make_vm("a", "Halted", "Stopped"), make_vm("b", "Halted", "Stopped", memory="Manual")])
    with pytest.raises(vm.VmsRefused, match="^cannot start VirtualMachine default/b remembers run strategy Manual"):
        vm_power.run(c, params(state="running"))
    assert patches(c) == []


def test_a_conflict_re_reads_and_plans_again():
    c = fake(*lab(), on_patch=controller)
    c.answers.update(refuse_once(f"{VMS}/router"))
    result = vm_power.run(c, params(name="router", wait=False), sleep=lambda s: None)
    assert result["changed"] is True
    assert patches(c) == [f"{VMS}/router", f"{VMS}/router"]
    gets = [call.path for call in c.calls if call.op == "get"]
    assert f"{VMS}/router" in gets and f"{VMIS}/router" in gets


def test_a_conflict_after_someone_else_stopped_it_writes_nothing_more():
    c = fake(*lab())
    c.answers.update(refuse_once(f"{VMS}/router", lambda client: client.objects.__setitem__(
        f"{VMS}/router", make_vm("router", "Halted", "Stopping"))))
    result = vm_power.run(c, params(name="router", wait=False), sleep=lambda s: None)
    assert result["changed"] is False and result["vms"][0]["changed"] is False
    assert len(patches(c)) == 1  # the refused one; the fresh read needs no write


def test_a_stop_stored_with_its_answer_lost_is_still_this_runs_change():
    """The stop PATCH was stored, its answer lost; the repeat met a 409 and the re-read shows the
    VM halted: this run stopped it (so a caller starts it again), not "already stopped"."""
    c = fake(*lab())

    def stored_then_conflict(client):
        client.objects[f"{VMS}/router"] = make_vm("router", "Halted", "Stopped")
    c.answers.update(refuse_once(f"{VMS}/router", stored_then_conflict, maybe_stored=True))
    result = vm_power.run(c, params(name="router", wait=False), sleep=lambda s: None)
    assert result["changed"] is True and result["vms"][0]["changed"] is True
    assert result["diff"]["after"]["default/router"]["spec"] == {"runStrategy": "Halted"}


def test_after_a_conflict_the_patch_and_the_diff_follow_the_fresh_read():
    c = fake(*lab())
    c.answers.update(refuse_once(f"{VMS}/router", lambda client: client.objects.__setitem__(
        f"{VMS}/router", make_vm("router", "Always", ready=True))))
    result = vm_power.run(c, params(name="router", wait=False), sleep=lambda s: None)
    last = [call.body for call in c.calls if call.op == "merge_patch"][-1]
    assert last["metadata"]["annotations"] == {MEMORY: "Always"}  # the strategy it has now is remembered
    assert result["diff"]["before"]["default/router"] == {"spec": {"runStrategy": "Always"}}


def test_check_mode_predicts_and_does_not_wait():
    c = fake(*lab(), dry_run=True)
    result = vm_power.run(c, params())
    assert [(e["name"], e["after"], e["changed"]) for e in result["vms"]] == [
        ("builder", "Stopped", False), ("dns", "Stopped", True), ("router", "Stopped", True)]
    assert c.ops() == ["list", "list", "merge_patch", "merge_patch"]
    assert all(call.dry_run for call in c.writes()) and c.objects == fake(*lab()).objects  # nothing stored


def test_the_wait_times_out_naming_what_is_still_on_its_way():
    now = [0.0]
    c = fake(*lab())  # nothing plays the controller: the VMs stay Running
    with pytest.raises(WaitTimeout) as e:
        vm_power.run(c, params(wait_timeout=5), sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert "timed out after 5 s waiting for 3 VM(s) to be stopped; last seen: default/dns Running, VMI Running; " \
           "default/router Running, VMI Running" in str(e.value)


def test_a_vm_deleted_during_the_wait_fails_at_once():
    def vanish(client, path):
        client.objects.pop(path)
    c = fake(*lab(), on_patch=vanish)
    with pytest.raises(WaitFailed, match="VirtualMachine default/router was deleted"):
        vm_power.run(c, params(name="router"), sleep=lambda s: None)
