"""Catalogue of homelab.harvester.capi_provider_info (see tests/catalogue/__init__.py)."""
from __future__ import annotations

BAD_INPUTS = [
    ({"providers": ["capo"]}, "value of providers must be one or more of: cluster-api, caphv, cabpt, cacppt. Got no match for: capo"),
]


def steps(ctx):
    from tests.catalogue import Step
    return [
        Step({}, name="every provider served"),
        Step({"providers": ["caphv", "cacppt"]}, check=True, name="two of them, check mode"),
        Step({}, fault={"method": "GET", "path": "/apis/cluster.x-k8s.io/v1beta2$", "status": 403}, name="API failure"),
    ]
