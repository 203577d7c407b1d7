# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tinkerbell_machine against a twin serving Tinkerbell's and Rufio's upstream CRDs (their schemas
validate what is written): the Secret, the Machine and the Hardware created in that order, shaped as
the CRDs and Rufio want them; a second run writes nothing; check mode only dry runs; a changed AMT
port patches the Machine alone; the password never in the result, the Secret's data never returned;
absent deletes the three."""

from __future__ import annotations

import base64
import json

import pytest

from tests.catalogue.tinkerbell_machine import BAD_INPUTS, PASSWORD, args
from tests.modules.runner import assert_all_refused_without_a_request, run, run_tasks, stored_writes, writes
from tests.modules.tinkerbell_twin import NAMESPACE

pytestmark = [pytest.mark.twin]

MODULE = "tinkerbell_machine"
HARDWARE = f"/apis/tinkerbell.org/v1alpha1/namespaces/{NAMESPACE}/hardware"
MACHINES = f"/apis/bmc.tinkerbell.org/v1alpha1/namespaces/{NAMESPACE}/machines"
SECRETS = f"/api/v1/namespaces/{NAMESPACE}/secrets"


def get(twin, path):
    r = twin.session().get(twin.url(path))
    return r.json() if r.status_code == 200 else None


def test_creates_the_three_objects_then_changes_nothing(tink_twin):
    twin = tink_twin
    first, requests = run(twin, MODULE, args(), diff=True)
    assert first["changed"] is True and not first["failed"], first
    assert [(r["method"], r["path"]) for r in writes(requests)] == [("POST", SECRETS), ("POST", MACHINES), ("POST", HARDWARE)]
    assert PASSWORD not in json.dumps(first) and base64.b64encode(PASSWORD.encode()).decode() not in json.dumps(first)
    assert first["secret"]["data_keys"] == ["password", "username"] and "data" not in first["secret"]
    assert first["diff"]["after"]["secret"]["data"]["password"].startswith("sha256:")

    hardware = get(twin, f"{HARDWARE}/ms02-1")
    (interface,) = hardware["spec"]["interfaces"]
    assert interface["dhcp"]["mac"] == "58:47:ca:7b:01:b0"  # lower-cased: the CRD's pattern
    assert interface["dhcp"]["uefi"] is True and interface["dhcp"]["arch"] == "x86_64"
    assert interface["netboot"] == {"allowPXE": True, "allowWorkflow": False,
                                    "ipxe": {"url": "http://10.10.10.20/harvester/ms02-1.ipxe"}}
    assert hardware["spec"]["bmcRef"] == {"apiGroup": "bmc.tinkerbell.org", "kind": "Machine", "name": "ms02-1"}
    connection = get(twin, f"{MACHINES}/ms02-1")["spec"]["connection"]
    assert connection["host"] == "10.10.10.31" and connection["insecureTLS"] is True
    assert connection["authSecretRef"] == {"name": "ms02-1-bmc", "namespace": NAMESPACE}
    assert connection["providerOptions"] == {"preferredOrder": ["IntelAMT"], "intelAMT": {"port": 16993, "hostScheme": "https"}}
    data = get(twin, f"{SECRETS}/ms02-1-bmc")["data"]
    assert base64.b64decode(data["password"]).decode() == PASSWORD and base64.b64decode(data["username"]).decode() == "admin"

    second, requests = run(twin, MODULE, args())
    assert second["changed"] is False and writes(requests) == [], second


def test_check_mode_stores_nothing(tink_twin):
    result, requests = run(tink_twin, MODULE, args(), check=True)
    assert result["changed"] is True and not result["failed"], result
    assert writes(requests) and stored_writes(requests) == []
    assert get(tink_twin, f"{HARDWARE}/ms02-1") is None


def test_an_other_amt_port_patches_the_machine_only(tink_twin):
    run(tink_twin, MODULE, args())
    plain = args(amt={"host": "10.10.10.31", "port": 16992, "tls": False, "password": PASSWORD})
    result, requests = run(tink_twin, MODULE, plain, diff=True)
    assert result["changed"] is True and [(r["method"], r["path"]) for r in writes(requests)] == [
        ("PATCH", f"{MACHINES}/ms02-1")], result
    assert result["diff"]["after"]["machine"]["spec"]["connection"]["providerOptions"]["intelAMT"] == {
        "port": 16992, "hostScheme": "http"}
    changed_password, requests = run(tink_twin, MODULE, dict(plain, amt=dict(plain["amt"], password="An0ther-Pw!")), diff=True)
    assert [(r["method"], r["path"]) for r in writes(requests)] == [("PATCH", f"{SECRETS}/ms02-1-bmc")]
    assert "An0ther-Pw!" not in json.dumps(changed_password)


def test_absent_deletes_the_hardware_first(tink_twin):
    run(tink_twin, MODULE, args())
    results, requests = run_tasks(tink_twin, MODULE, [{"name": "ms02-1", "state": "absent"}] * 2)
    assert [r["changed"] for r in results] == [True, False]
    assert [(r["method"], r["path"].rsplit("/", 2)[1]) for r in writes(requests)] == [
        ("DELETE", "hardware"), ("DELETE", "machines"), ("DELETE", "secrets")]


def test_bad_inputs_refused_without_any_request(tink_twin):
    results, requests = run_tasks(tink_twin, MODULE, [a for a, m in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, requests)
