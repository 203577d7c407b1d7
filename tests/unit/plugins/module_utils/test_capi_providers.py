# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/capi/providers.py against a fake discovery: every provider
served; a group served by another provider only (kubeadm's bootstrap v1beta1, an infrastructure
group without Harvester's kinds); an old version only; each named with the clusterctl flag that
installs it, CAPHV with its registration note; a refused read named as such."""

from __future__ import annotations

from ansible_collections.homelab.harvester.plugins.module_utils.capi import providers as capi_providers
from ansible_collections.homelab.harvester.plugins.module_utils.errors import api_error

FULL = {
    "/apis/cluster.x-k8s.io/v1beta2": ["clusters", "clusters/status", "machinedeployments", "machines"],
    "/apis/infrastructure.cluster.x-k8s.io/v1beta1": ["harvesterclusters", "harvestermachines", "harvestermachinetemplates"],
    "/apis/bootstrap.cluster.x-k8s.io/v1alpha3": ["talosconfigs", "talosconfigtemplates"],
    "/apis/controlplane.cluster.x-k8s.io/v1alpha3": ["taloscontrolplanes"],
}


class Discovery:
    def __init__(self, served, groups=None, refuse=()):
        self.served, self.groups, self.refuse, self.paths = served, groups or {}, refuse, []

    def get(self, path, missing_ok=False):
        self.paths.append(path)
        if path in self.refuse:
            raise api_error(403, {"kind": "Status", "reason": "Forbidden", "message": "no"}, path=path, method="GET")
        if path in self.served:
            return {"kind": "APIResourceList", "resources": [{"name": n} for n in self.served[path]]}
        group = path.removeprefix("/apis/")
        if group in self.groups:
            return {"kind": "APIGroup", "versions": [{"version": v} for v in self.groups[group]]}
        return None


def test_everything_served():
    result = capi_providers.check(Discovery(FULL))
    assert result["missing"] == [] and result["problems"] == [] and result["install_command"] == ""
    assert [p["name"] for p in result["providers"]] == ["cluster-api", "caphv", "cabpt", "cacppt"]
    assert all(p["served"] for p in result["providers"])


def test_the_talos_providers_missing_where_kubeadm_shares_their_groups():
    served = {k: v for k, v in FULL.items() if "alpha3" not in k}
    served["/apis/bootstrap.cluster.x-k8s.io/v1beta2"] = ["kubeadmconfigs"]
    result = capi_providers.check(Discovery(served, {"bootstrap.cluster.x-k8s.io": ["v1beta2", "v1beta1"]}))
    assert result["missing"] == ["cabpt", "cacppt"]
    assert result["problems"] == [
        "the Talos bootstrap provider (CABPT) is missing: bootstrap.cluster.x-k8s.io is served in v1beta2, v1beta1 only, "
        "not v1alpha3 (what this collection writes); upgrade it (clusterctl upgrade plan, clusterctl upgrade apply)",
        "the Talos control plane provider (CACPPT) is missing: the API group controlplane.cluster.x-k8s.io is not served"]
    assert result["install_command"] == "clusterctl init --bootstrap talos --control-plane talos"
    assert result["notes"] == []


def test_caphv_missing_from_a_shared_infrastructure_group():
    served = dict(FULL)
    served["/apis/infrastructure.cluster.x-k8s.io/v1beta1"] = ["dockerclusters", "harvesterclusters"]
    result = capi_providers.check(Discovery(served))
    (caphv,) = [p for p in result["providers"] if p["name"] == "caphv"]
    assert caphv["missing_resources"] == ["harvestermachines", "harvestermachinetemplates"]
    assert result["problems"] == ["the Harvester infrastructure provider (CAPHV) is missing: infrastructure.cluster.x-k8s.io/"
                                  "v1beta1 serves no harvestermachines, harvestermachinetemplates"]
    assert result["install_command"] == "clusterctl init --infrastructure harvester"
    assert result["notes"][0].startswith("CAPHV is not a built-in clusterctl provider")


def test_nothing_served_and_only_the_providers_asked_for():
    result = capi_providers.check(Discovery({}))
    assert result["install_command"] == ("clusterctl init --core cluster-api --infrastructure harvester --bootstrap talos "
                                         "--control-plane talos")
    discovery = Discovery(FULL)
    result = capi_providers.check(discovery, ["cacppt"])
    assert [p["name"] for p in result["providers"]] == ["cacppt"] and discovery.paths == [
        "/apis/controlplane.cluster.x-k8s.io/v1alpha3"]


def test_a_refused_read_is_a_problem_named_as_such():
    result = capi_providers.check(Discovery(FULL, refuse=("/apis/cluster.x-k8s.io/v1beta2",)), ["cluster-api"])
    assert result["missing"] == ["cluster-api"]
    assert result["problems"][0].startswith("Cluster API: reading /apis/cluster.x-k8s.io/v1beta2 failed: GET ")
    assert "403 Forbidden" in result["problems"][0]
