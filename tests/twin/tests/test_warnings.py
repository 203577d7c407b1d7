"""The apiserver's `Warning` headers the twin sends besides the pruned-field ones
(test_api_semantics.py): a request to a CRD version marked `deprecated: true` is answered with
that version's deprecationWarning, or apiextensions-apiserver's default text, whatever the answer."""
from __future__ import annotations

from .conftest import status_of

CAPI_V1BETA1 = "/apis/cluster.x-k8s.io/v1beta1/namespaces/default/clusters"
CRS_V1BETA1 = "/apis/addons.cluster.x-k8s.io/v1beta1/namespaces/default/clusterresourcesets"
VM_V1ALPHA3 = "/apis/kubevirt.io/v1alpha3/namespaces/default/virtualmachines"


def test_a_deprecated_version_answers_with_its_warning(twin):
    s = twin.session()
    listed = s.get(twin.url(CAPI_V1BETA1))
    assert listed.status_code == 200
    assert listed.headers["Warning"] == (
        '299 - "cluster.x-k8s.io/v1beta1 Cluster is deprecated; use cluster.x-k8s.io/v1beta2 Cluster"')
    missing = s.get(twin.url(CAPI_V1BETA1 + "/none"))
    assert missing.status_code == 404 and status_of(missing)["reason"] == "NotFound"
    assert missing.headers["Warning"] == listed.headers["Warning"]
    own_text = s.get(twin.url(VM_V1ALPHA3))
    assert own_text.headers["Warning"] == '299 - "kubevirt.io/v1alpha3 is now deprecated and will be removed in a future release."'
    current = s.get(twin.url("/apis/cluster.x-k8s.io/v1beta2/namespaces/default/clusters"))
    assert current.status_code == 200 and "Warning" not in current.headers


def test_the_deprecation_warning_comes_before_the_pruned_fields(twin):
    body = {"apiVersion": "addons.cluster.x-k8s.io/v1beta1", "kind": "ClusterResourceSet",
            "metadata": {"name": "warned", "namespace": "default"}, "spec": {"clusterSelector": {}, "bogus": 1,
                                                                    "resources": [{"kind": "ConfigMap", "name": "x"}]}}
    r = twin.session().post(twin.url(CRS_V1BETA1), params={"dryRun": "All"}, json=body)
    assert r.status_code == 201, r.text
    assert r.raw.headers.getlist("Warning") == [
        '299 - "addons.cluster.x-k8s.io/v1beta1 ClusterResourceSet is deprecated; '
        'use addons.cluster.x-k8s.io/v1beta2 ClusterResourceSet"',
        '299 - "unknown field \\"spec.bogus\\""']


def test_kubectl_shows_the_deprecation_warning(twin):
    """kubectl (client-go's warning handler) parses the header and prints its text on stderr."""
    proc = twin.kubectl("get", "clusters.v1beta1.cluster.x-k8s.io", "-n", "default")
    assert "Warning: cluster.x-k8s.io/v1beta1 Cluster is deprecated; use cluster.x-k8s.io/v1beta2 Cluster" in proc.stderr
