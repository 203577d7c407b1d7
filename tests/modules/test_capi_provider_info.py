# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""capi_provider_info against a twin process (it serves Cluster API, CAPHV and the Talos providers,
as a management cluster with `clusterctl init` done does): everything served, read with GETs of the
API's discovery only; with one provider left out (`--without-provider`, issue 15's twin side) that
one is named with the clusterctl command that installs it."""

from __future__ import annotations

import pytest

from tests.modules.runner import run, writes
from tests.twin.tests.conftest import start_twin, stop_twin

pytestmark = [pytest.mark.twin]


def test_a_management_cluster_with_every_provider(twin):
    result, requests = run(twin, "capi_provider_info", {})
    assert not result["failed"] and result["changed"] is False, result
    assert result["missing"] == [] and result["problems"] == [] and result["install_command"] == ""
    assert {p["name"]: (p["group"], p["version"], p["served"]) for p in result["providers"]} == {
        "cluster-api": ("cluster.x-k8s.io", "v1beta2", True),
        "caphv": ("infrastructure.cluster.x-k8s.io", "v1beta1", True),
        "cabpt": ("bootstrap.cluster.x-k8s.io", "v1alpha3", True),
        "cacppt": ("controlplane.cluster.x-k8s.io", "v1alpha3", True)}
    assert writes(requests) == [] and {r["method"] for r in requests} == {"GET"}
    assert all(r["path"].startswith("/apis/") for r in requests)


@pytest.mark.parametrize("provider, flag", [("cluster-api", "--core cluster-api"), ("caphv", "--infrastructure harvester"),
                                            ("cabpt", "--bootstrap talos"), ("cacppt", "--control-plane talos")])
def test_a_provider_left_out_is_named_with_its_clusterctl_flag(tmp_path, provider, flag):
    twin = start_twin(tmp_path / "twin", extra=["--without-provider", provider])
    try:
        result, dummy = run(twin, "capi_provider_info", {})
    finally:
        stop_twin(twin)
    assert result["missing"] == [provider], result
    assert result["install_command"] == f"clusterctl init {flag}"
