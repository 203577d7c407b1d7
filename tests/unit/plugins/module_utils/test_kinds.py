# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the kind table (plugins/module_utils/kinds.py)."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible_collections.homelab.harvester.plugins.module_utils import kinds


def test_namespaced_paths():
    assert kinds.NAD.path() == "/apis/k8s.cni.cncf.io/v1/network-attachment-definitions"
    assert kinds.NAD.path("default") == "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
    assert kinds.NAD.path("default", "platform") == \
        "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/platform"
    assert kinds.VIRTUAL_MACHINE.path("vms", "vm1", "status") == "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines/vm1/status"
    assert kinds.SECRET.path("default", "s") == "/api/v1/namespaces/default/secrets/s"


def test_cluster_scoped_paths():
    assert kinds.NODE.path() == "/api/v1/nodes"
    assert kinds.NODE.path(name="ms02-1") == "/api/v1/nodes/ms02-1"
    assert kinds.NAMESPACE.path(name="default") == "/api/v1/namespaces/default"
    assert kinds.HARVESTER_SETTING.path(name="backup-target") == "/apis/harvesterhci.io/v1beta1/settings/backup-target"
    assert kinds.STORAGE_CLASS.path() == "/apis/storage.k8s.io/v1/storageclasses"


@pytest.mark.parametrize("call, message", [
    (lambda: kinds.NAD.path(name="x"), "namespace is needed"),
    (lambda: kinds.NODE.path("default", "x"), "cluster-scoped"),
    (lambda: kinds.NODE.path(subresource="status"), "needs an object name"),
    (lambda: kinds.NAD.path("default", "..", None), "relative"),
])
def test_path_refusals(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_segments_are_quoted():
    assert kinds.CONFIG_MAP.path("default", "a/b") == "/api/v1/namespaces/default/configmaps/a%2Fb"


def test_api_version_lookup_and_new():
    assert kinds.NODE.api_version == "v1"
    assert kinds.LONGHORN_SETTING.api_version == "longhorn.io/v1beta2"
    assert kinds.lookup("harvesterhci.io/v1beta1", "Setting") is kinds.HARVESTER_SETTING
    assert kinds.lookup("longhorn.io/v1beta2", "Setting") is kinds.LONGHORN_SETTING
    with pytest.raises(KeyError, match="known in this group: harvesterhci.io/v1beta1"):
        kinds.lookup("harvesterhci.io/v1", "Setting")
    obj = kinds.VM_IMAGE.new("ubuntu", "default", spec={"url": "http://x"})
    assert obj == {"apiVersion": "harvesterhci.io/v1beta1", "kind": "VirtualMachineImage",
                   "metadata": {"name": "ubuntu", "namespace": "default"}, "spec": {"url": "http://x"}}
    assert kinds.object_path(obj) == "/apis/harvesterhci.io/v1beta1/namespaces/default/virtualmachineimages/ubuntu"
    assert kinds.object_path(kinds.NODE.new("n1"), "status") == "/api/v1/nodes/n1/status"
    assert kinds.NAD.resource == "network-attachment-definitions.k8s.cni.cncf.io"
    assert len({(k.group, k.plural) for k in kinds.ALL}) == len(kinds.ALL)


# The twin's CRDs are what Harvester v1.8 serves; they are not in ansible-test's copy.
TWIN = os.path.join(os.path.dirname(__file__), "..", "..", "..", "twin")


# Tinkerbell's and Rufio's kinds live on the Tinkerbell cluster: the twin serves them from the upstream
# CRDs it is given (--crds), read here from ../shared/reference/crds when the checkout has it.
UPSTREAM = os.path.join(TWIN, "..", "..", "..", "shared", "reference", "crds")
TINKERBELL_GROUPS = ("tinkerbell.org", "bmc.tinkerbell.org")


def _twin_resources():
    found = {}
    for d in (os.path.join(UPSTREAM, "tinkerbell"), os.path.join(UPSTREAM, "rufio")):
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith(".yaml"):
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    crd = yaml.safe_load(f)
                spec = crd["spec"]
                found[(spec["group"], spec["names"]["plural"])] = (
                    spec["scope"], [v["name"] for v in spec["versions"] if v.get("served")])
    for d in (os.path.join(TWIN, "crds"), os.path.join(TWIN, "core")):
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if not name.endswith(".yaml"):
                continue
            with open(os.path.join(d, name), encoding="utf-8") as f:
                for doc in f.read().split("\n---"):
                    group = re.search(r"\n  group: \"?([^\"\n]*)\"?", doc)
                    plural = re.search(r"plural: ([\w-]+)", doc)
                    scope = re.search(r"\n  scope: (\w+)", doc)
                    if group and plural:
                        served = re.findall(r"- name: (v\w+)\n\s+served: true", doc)
                        found[(group.group(1), plural.group(1))] = (scope.group(1) if scope else "Namespaced", served)
    return found


@pytest.mark.skipif(not os.path.isdir(os.path.join(TWIN, "crds")), reason="tests/twin is not part of this copy")
def test_kinds_match_what_the_twin_serves():
    served = _twin_resources()
    for kind in kinds.ALL:
        if kind.group in TINKERBELL_GROUPS and (kind.group, kind.plural) not in served:
            continue  # no upstream CRDs in this checkout (a fresh clone) nor ours under tests/twin/crds
        assert (kind.group, kind.plural) in served, kind
        scope, versions = served[(kind.group, kind.plural)]
        assert kind.version in versions, (kind, versions)
        assert kind.namespaced == (scope == "Namespaced"), kind
