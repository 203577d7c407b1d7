"""`--without-provider NAME`: a management cluster missing one Cluster API provider -- its API
group is not served (discovery, kubectl, its resource paths), the others are, as when
`clusterctl init` never installed it."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.twin.registry import PROVIDER_GROUPS, Registry
from tests.twin.tests.conftest import ROOT

GROUPS = {"cluster.x-k8s.io", "addons.cluster.x-k8s.io", "infrastructure.cluster.x-k8s.io",
          "bootstrap.cluster.x-k8s.io", "controlplane.cluster.x-k8s.io"}
TWIN_ARGS = ["--without-provider", "cabpt", "--speed", "100"]


@pytest.fixture(scope="module")
def twin(twins):
    return twins.get(extra=TWIN_ARGS)


def test_the_left_out_provider_is_not_served(twin):
    s = twin.session()
    groups = {g["name"]: [v["version"] for v in g["versions"]] for g in s.get(twin.url("/apis")).json()["groups"]}
    assert "bootstrap.cluster.x-k8s.io" not in groups
    assert groups["controlplane.cluster.x-k8s.io"] == ["v1alpha3"]
    assert groups["infrastructure.cluster.x-k8s.io"][0] in ("v1beta1", "v1alpha1")
    assert "v1beta2" in groups["cluster.x-k8s.io"] and "v1beta1" in groups["cluster.x-k8s.io"]
    assert s.get(twin.url("/apis/bootstrap.cluster.x-k8s.io/v1alpha3")).status_code == 404
    r = s.get(twin.url("/apis/bootstrap.cluster.x-k8s.io/v1alpha3/namespaces/default/talosconfigs"))
    assert r.status_code == 404
    resources = twin.kubectl("api-resources", "--api-group=bootstrap.cluster.x-k8s.io", "-o", "name").stdout
    assert resources.strip() == ""
    assert "taloscontrolplanes" in twin.kubectl("api-resources", "--api-group=controlplane.cluster.x-k8s.io",
                                                "-o", "name").stdout


@pytest.mark.parametrize("name", sorted(PROVIDER_GROUPS))
def test_each_provider_name_leaves_out_its_groups_only(name):
    served = {k.group for k in Registry.default(without_groups=PROVIDER_GROUPS[name]).kinds()}
    assert not served & set(PROVIDER_GROUPS[name])
    assert GROUPS - set(PROVIDER_GROUPS[name]) <= served


def test_an_unknown_provider_name_is_refused():
    proc = subprocess.run([sys.executable, "-m", "tests.twin", "--port", "0", "--kubeconfig", "/dev/null",
                           "--without-provider", "capa"], capture_output=True, text=True, timeout=30,
                          cwd=ROOT)
    assert proc.returncode == 2
    assert "--without-provider: invalid choice: 'capa'" in proc.stderr
