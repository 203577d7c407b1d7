# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/keypair.py: the local key checks, the fingerprint, the
desired object, what counts as a change (never the comment), readiness and failure."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import keypair, reconcile
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError

# public keys made with ssh-keygen, and what `ssh-keygen -l -E md5` printed for them
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINIo/2HGpPL7GjBFJsVI7cMISvAndq+HWkTUGcr4VPsi ops@lab"
ED25519_MD5 = "af:b2:31:64:25:41:11:b8:0e:7f:f0:03:35:bd:c5:74"
RSA = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCV7DDgygK9AMtJyhl/hbGDFvT8yg11tvV0H0BC8V+nMHu7hFeX4AT5igvmHSTMuWJHc4U3beY4w"
       "zNkSuf3EIur+TV6KXAIqiVjtiNY3QVwHXle/02MDWmPf7c85clD9zfhARUbdvNN7d/jj5i5iFB7JNaIUaYGRFr3QGrnBvqThE+2pdtR/D+wnaLj32A1z"
       "x7XptRY2P5kGwaspx9k/dehbTmGnarIrZ9LsiZneooA6XyUWdFYJjDpBsRIRJAR1dcwFvslKbPh4s3VfIq+6kf9kehatmFGUc2Ck1aW5+FAMFSpS7t7q"
       "TE6o+0g8ZQgMq3l0CpULi+99k3u5zmN+OmX rsa@lab")
RSA_MD5 = "33:56:2e:c3:a7:de:08:78:9c:b1:10:ce:57:6e:bd:12"
ECDSA = ("ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBNCCsbzdxHP2Dx2p697yO8Bnaxba6BqCDM+Y/yWJ"
         "EgIK0XOE4Iv/GIQL84pTRnN74gN9Qw+UThixoIkiUh3bRYERN5L/swX18qr/uDbPL8nkX6o7q2SwPw2aMwaqG1vRKw== ec@lab")
ECDSA_MD5 = "0c:96:0f:53:0e:5b:65:3d:c9:da:ba:b3:49:c3:70:51"
ED25519_DATA = ED25519.split()[1]

BASE = {"name": "ops", "namespace": "default", "public_key": ED25519, "state": "present", "recreate": False,
        "wait": True, "wait_timeout": 60}


def params(**kw):
    return dict(BASE, **kw)


def wire(*parts):
    """An SSH wire-format blob of length-prefixed strings, base64-encoded."""
    return base64.b64encode(b"".join(len(p).to_bytes(4, "big") + p for p in parts)).decode()


@pytest.mark.parametrize("key, md5", [(ED25519, ED25519_MD5), (RSA, RSA_MD5), (ECDSA, ECDSA_MD5)])
def test_fingerprint_is_what_ssh_keygen_prints(key, md5):
    assert keypair.fingerprint(key) == md5
    assert keypair.fingerprint(key + "\n") == md5


def test_security_key_types_parse():
    sk_ed = f"sk-ssh-ed25519@openssh.com {wire(b'sk-ssh-ed25519@openssh.com', bytes(32), b'ssh:')} yubikey"
    assert keypair.parse(sk_ed)[0] == "sk-ssh-ed25519@openssh.com"
    point = bytes([4]) + bytes(64)
    sk_ec = f"sk-ecdsa-sha2-nistp256@openssh.com {wire(b'sk-ecdsa-sha2-nistp256@openssh.com', b'nistp256', point, b'ssh:')}"
    assert keypair.parse(sk_ec) == ("sk-ecdsa-sha2-nistp256@openssh.com", sk_ec.split()[1], "")


def test_parse_keeps_the_comment_with_spaces():
    assert keypair.parse(f"  {ED25519} laptop 2026\n") == ("ssh-ed25519", ED25519_DATA, "ops@lab laptop 2026")


@pytest.mark.parametrize("key, message", [
    ("", "public_key: must not be empty"),
    ("\n \n", "public_key: must not be empty"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "public_key: is a PEM block"),
    (f"{ED25519}\n{RSA}", "public_key: holds 2 lines; a KeyPair holds one public key"),
    (ED25519_DATA, "is not an OpenSSH public key line (<type> <base64 key data> [comment])"),
    (f"ssh-dss {ED25519_DATA}", "public_key: key type 'ssh-dss' is not supported"),
    (f'from="10.0.0.1" {ED25519}', "public_key: key type 'from=\"10.0.0.1\"' is not supported"),
    ("ssh-ed25519 AAAA$$$$", "public_key: the key data 'AAAA$$$$' is not valid base64"),
    (f"ssh-rsa {ED25519_DATA}", "public_key: is not a valid ssh-rsa key: the key data is a ssh-ed25519 key, not ssh-rsa"),
    (f"ssh-ed25519 {ED25519_DATA[:-8]}", "public_key: is not a valid ssh-ed25519 key: it ends early"),
    (f"ssh-ed25519 {ED25519_DATA[:-1]}", "is not valid base64"),
    (f"ssh-ed25519 {wire(b'ssh-ed25519', bytes(31))}", "is not a valid ssh-ed25519 key: an Ed25519 key is 32 bytes"),
    (f"ssh-ed25519 {wire(b'ssh-ed25519', bytes(32), b'x')}", "is not a valid ssh-ed25519 key: it has extra bytes at the end"),
    (f"ecdsa-sha2-nistp256 {wire(b'ecdsa-sha2-nistp256', b'nistp384', bytes(65))}", "the curve is not nistp256"),
    (f"ecdsa-sha2-nistp256 {wire(b'ecdsa-sha2-nistp256', b'nistp256', bytes(65))}",
     "the public point is not an uncompressed nistp256 point"),
    ("ssh-rsa " + wire(b"ssh-rsa", bytes([1, 0, 1])), "is not a valid ssh-rsa key: it ends early"),
])
def test_bad_keys_refused(key, message):
    with pytest.raises(ValidationError) as e:
        keypair.parse(key)
    assert message in str(e.value)
    assert e.value.option == "public_key"
    assert keypair.fingerprint(key) is None


@pytest.mark.parametrize("changes, message", [
    ({"name": "Ops"}, "name: 'Ops' is not a valid name"),
    ({"namespace": "my_ns"}, "namespace: 'my_ns' is not a valid name"),
    ({"public_key": None}, "public_key: is required when state is present"),
    ({"wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
])
def test_check(changes, message):
    with pytest.raises(ValidationError) as e:
        keypair.check(params(**changes))
    assert message in str(e.value)


def test_absent_needs_no_key():
    keypair.check(params(state="absent", public_key=None))


def test_desired_object_strips_whitespace_and_keeps_the_comment():
    obj = keypair.desired(params(public_key=f"\n{ED25519}\n"))
    assert obj == {"apiVersion": "harvesterhci.io/v1beta1", "kind": "KeyPair",
                   "metadata": {"name": "ops", "namespace": "default"}, "spec": {"publicKey": ED25519}}


def live_from(desired, **status):
    return dict(desired, metadata=dict(desired["metadata"], uid="u1", resourceVersion="3"), status=status)


def test_comment_is_not_a_change_but_the_key_is_immutable():
    live = live_from(keypair.desired(params()))
    other_comment = keypair.desired(params(public_key=ED25519.replace("ops@lab", "someone-else")))
    assert reconcile.differing(other_comment, live, keypair.fields(params())) == []
    assert reconcile.immutable_changes(other_comment, live, keypair.immutable(params())) == []
    other_key = keypair.desired(params(public_key=RSA))
    assert reconcile.immutable_changes(other_key, live, keypair.immutable(params())) == [("public_key", ED25519_MD5, RSA_MD5)]
    assert reconcile.managed_view(live, keypair.fields(params())) == {"spec": {"publicKey": f"ssh-ed25519 {ED25519_DATA}"}}


def test_readiness_and_failure():
    ok = {"status": {"fingerPrint": ED25519_MD5, "conditions": [{"type": "validated", "status": "True"}]}}
    assert keypair.ready(ok) and keypair.failed(ok) is None
    assert keypair.summary(ok) == f"validated=True, fingerPrint {ED25519_MD5}"
    pending = {"status": {}}
    assert not keypair.ready(pending) and keypair.failed(pending) is None
    assert keypair.summary(pending) == "validated <not set yet>, fingerPrint <not set yet>"
    refused = {"status": {"conditions": [{"type": "validated", "status": "False",
                                          "reason": "failed to parse the public key, error: ssh: no key found"}]}}
    assert keypair.failed(refused) == "failed to parse the public key, error: ssh: no key found"


def test_result_fingerprint_prefers_harvesters():
    assert keypair.result({"status": {"fingerPrint": "aa:bb"}}, params())["fingerprint"] == "aa:bb"
    assert keypair.result({"spec": {}}, params()) == {"keypair": {"spec": {}}, "fingerprint": ED25519_MD5}
