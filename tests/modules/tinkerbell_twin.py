# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A twin that also plays the Tinkerbell cluster: Tinkerbell's and Rufio's upstream CRDs
(../shared/reference/crds/{tinkerbell,rufio}) when the checkout has them, else the twin's trimmed
copies (tests/twin/crds/{tinkerbell,rufio}, subset-checked against upstream), and the tink-system
namespace. The fixtures ``tink_twin_process`` and ``tink_twin`` (tests/conftest.py) use these."""
from __future__ import annotations

import json
from pathlib import Path

from tests.twin.tests.conftest import UPSTREAM_CRDS

TWIN_CRDS = Path(__file__).resolve().parents[1] / "twin" / "crds"
UPSTREAM = [UPSTREAM_CRDS / "tinkerbell", UPSTREAM_CRDS / "rufio"]
CRD_DIRS = UPSTREAM if all(d.is_dir() for d in UPSTREAM) else [TWIN_CRDS / "tinkerbell", TWIN_CRDS / "rufio"]
NAMESPACE = "tink-system"


def ensure_namespace(twin):
    s = twin.session()
    r = s.get(twin.url(f"/api/v1/namespaces/{NAMESPACE}"))
    if r.status_code == 404:
        s.post(twin.url("/api/v1/namespaces"), data=json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
            headers={"Content-Type": "application/json"}).raise_for_status()


def start(twins):
    """The pool's twin with Tinkerbell's and Rufio's CRDs."""
    return twins.get(CRD_DIRS, ["--speed", "20"])
