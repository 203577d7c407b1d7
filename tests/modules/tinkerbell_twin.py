# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A twin that also plays the Tinkerbell cluster: Tinkerbell's and Rufio's upstream CRDs
(../shared/reference/crds/{tinkerbell,rufio}, or ours under tests/twin/crds once the twin's side
of issue 15 adds them) and the tink-system namespace. Skips cleanly in a fresh clone without them.
The fixtures ``tink_twin_process`` and ``tink_twin`` (tests/conftest.py) use these."""
from __future__ import annotations

import json

import pytest

from tests.twin.tests.conftest import UPSTREAM_CRDS

CRD_DIRS = [UPSTREAM_CRDS / "tinkerbell", UPSTREAM_CRDS / "rufio"]
NAMESPACE = "tink-system"


def ensure_namespace(twin):
    s = twin.session()
    r = s.get(twin.url(f"/api/v1/namespaces/{NAMESPACE}"))
    if r.status_code == 404:
        s.post(twin.url("/api/v1/namespaces"), data=json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
            headers={"Content-Type": "application/json"}).raise_for_status()


def start(twins):
    """The pool's twin with Tinkerbell's and Rufio's CRDs, or a skip when the checkout lacks them."""
    if not all(d.is_dir() for d in CRD_DIRS):
        pytest.skip("../shared/reference/crds/{tinkerbell,rufio} are not here (a fresh clone): Tinkerbell tests skipped")
    return twins.get(CRD_DIRS, ["--speed", "20"])
