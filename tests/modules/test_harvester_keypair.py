# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harvester_keypair against a real twin process, called in process as its action plugin calls it
(tests/modules/runner.py); the twin's request log (/_twin/requests) says what reached the API:
idempotence with zero writes, check mode with only dryRun=All writes, diff, absent, waiting for
Harvester's fingerprint, the immutable key and recreate, bad input with no request at all, and
Harvester's webhook refusal. Through ansible-playbook: module_defaults
(tests/integration/test_action_group.py), AWX credentials (test_awx_credential_env.py), both
execution paths (test_parity.py)."""

from __future__ import annotations

import base64

import pytest

from tests.catalogue.harvester_keypair import BAD_INPUTS, KEY, KEY_DATA, RSA
from tests.modules.runner import assert_all_refused_without_a_request, run_tasks, stored_writes, writes

pytestmark = [pytest.mark.twin]

MODULE = "harvester_keypair"
KEYPAIRS = "/apis/harvesterhci.io/v1beta1/namespaces/default/keypairs"

# public keys made with ssh-keygen, and what `ssh-keygen -l -E md5` printed for them
KEY_MD5 = "af:b2:31:64:25:41:11:b8:0e:7f:f0:03:35:bd:c5:74"
RSA_MD5 = "33:56:2e:c3:a7:de:08:78:9c:b1:10:ce:57:6e:bd:12"
OPS = {"name": "ops", "public_key": KEY + "\n"}


def play(twin, tasks, **kwargs):
    """Returns (results, API requests the tasks made)."""
    return run_tasks(twin, MODULE, tasks, **kwargs)


def get_keypair(twin, name):
    r = twin.session().get(twin.url(f"{KEYPAIRS}/{name}"))
    return r.json() if r.status_code == 200 else None


def test_create_then_unchanged_with_zero_writes(twin):
    (first,), reqs = play(twin, [OPS], diff=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert first["fingerprint"] == KEY_MD5
    assert first["keypair"]["status"]["fingerPrint"] == KEY_MD5  # waited for Harvester's controller
    assert first["diff"] == {"before": {}, "after": {"spec": {"publicKey": f"ssh-ed25519 {KEY_DATA}"}}}
    assert [r["method"] for r in writes(reqs)] == ["POST"]
    assert get_keypair(twin, "ops")["spec"]["publicKey"] == KEY  # the comment kept, the newline gone

    (second, other_comment), reqs = play(twin, [OPS, dict(OPS, public_key=KEY.replace("ops@lab", "me@home"))])
    assert second["changed"] is False and other_comment["changed"] is False, (second, other_comment)
    assert other_comment["fingerprint"] == KEY_MD5
    assert writes(reqs) == []


def test_check_mode_reports_changes_and_stores_nothing(twin):
    (create,), reqs = play(twin, [OPS], check=True, diff=True)
    assert create["changed"] is True and not create.get("failed"), create
    assert create["fingerprint"] == KEY_MD5  # computed locally: Harvester has not seen the key
    assert writes(reqs) and stored_writes(reqs) == []
    assert get_keypair(twin, "ops") is None

    play(twin, [OPS])
    (recreate, delete), reqs = play(twin, [dict(OPS, public_key=RSA, recreate=True),
                                           {"name": "ops", "state": "absent"}], check=True)
    assert recreate["changed"] is True and delete["changed"] is True, (recreate, delete)
    assert [r["method"] for r in writes(reqs)] == ["DELETE", "DELETE"] and stored_writes(reqs) == []
    assert get_keypair(twin, "ops")["spec"]["publicKey"] == KEY


def test_state_absent_twice(twin):
    play(twin, [OPS])
    gone = {"name": "ops", "state": "absent"}
    (first, second), reqs = play(twin, [gone, gone], diff=True)
    assert first["changed"] is True and second["changed"] is False
    assert first["diff"] == {"before": {"spec": {"publicKey": f"ssh-ed25519 {KEY_DATA}"}}, "after": {}}
    assert [r["method"] for r in writes(reqs)] == ["DELETE"]
    assert get_keypair(twin, "ops") is None


def test_different_key_refused_then_recreated(twin):
    play(twin, [OPS])
    rotated = {"name": "ops", "public_key": RSA}
    (refused, recreated), reqs = play(twin, [rotated, dict(rotated, recreate=True)])
    assert refused["failed"] and refused["field"] == "public_key"
    assert refused["msg"] == (f"public_key of KeyPair default/ops cannot be changed in place ({KEY_MD5} -> {RSA_MD5}); "
                              "set recreate=true to delete and create it again")
    assert recreated["changed"] is True and not recreated.get("failed"), recreated
    assert recreated["fingerprint"] == RSA_MD5
    assert [r["method"] for r in writes(reqs)] == ["DELETE", "POST"]
    live = get_keypair(twin, "ops")
    assert live["spec"]["publicKey"] == RSA and live["status"]["fingerPrint"] == RSA_MD5


def test_bad_inputs_refused_without_any_request(twin):
    results, reqs = play(twin, [args for args, message in BAD_INPUTS])
    assert_all_refused_without_a_request(BAD_INPUTS, results, reqs)


def test_webhook_refusal_of_a_key_the_module_accepts(twin):
    """An ECDSA point that is well-formed but not on the curve: only Harvester's parser (x/crypto/ssh)
    catches it, and its answer is one clean line."""
    point = bytes([4]) + bytes(64)
    blob = b"".join(len(p).to_bytes(4, "big") + p for p in (b"ecdsa-sha2-nistp256", b"nistp256", point))
    key = f"ecdsa-sha2-nistp256 {base64.b64encode(blob).decode()} off-curve"
    (result,), reqs = play(twin, [{"name": "ops", "public_key": key}])
    assert result["failed"]
    # a 422 is shown by its causes (field: message), as the collection renders Invalid answers
    assert result["msg"] == "POST keypairs/default: 422 Invalid: spec.publicKey: key is not in valid OpenSSH public key format"
    assert result["status"] == 422
    assert [r["method"] for r in writes(reqs)] == ["POST"]
    assert get_keypair(twin, "ops") is None
