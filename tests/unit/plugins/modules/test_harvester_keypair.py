# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/modules/harvester_keypair.py: the argument spec and the input checks
through AnsibleModule (``patch_module_args``, ansible-core 2.19), with the client mocked. Bad
input must fail before the client is even built."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils.client import Client
from ansible_collections.homelab.harvester.plugins.modules import harvester_keypair
from ansible_collections.homelab.harvester.tests.unit.plugins.modules.module_runner import run

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINIo/2HGpPL7GjBFJsVI7cMISvAndq+HWkTUGcr4VPsi ops@lab"
KEY_MD5 = "af:b2:31:64:25:41:11:b8:0e:7f:f0:03:35:bd:c5:74"
RSA = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCV7DDgygK9AMtJyhl/hbGDFvT8yg11tvV0H0BC8V+nMHu7hFeX4AT5igvmHSTMuWJHc4U3beY4w"
       "zNkSuf3EIur+TV6KXAIqiVjtiNY3QVwHXle/02MDWmPf7c85clD9zfhARUbdvNN7d/jj5i5iFB7JNaIUaYGRFr3QGrnBvqThE+2pdtR/D+wnaLj32A1z"
       "x7XptRY2P5kGwaspx9k/dehbTmGnarIrZ9LsiZneooA6XyUWdFYJjDpBsRIRJAR1dcwFvslKbPh4s3VfIq+6kf9kehatmFGUc2Ck1aW5+FAMFSpS7t7q"
       "TE6o+0g8ZQgMq3l0CpULi+99k3u5zmN+OmX rsa@lab")
PATH = "/apis/harvesterhci.io/v1beta1/namespaces/default/keypairs"


def run_module(args, client=None):
    """Run the module with ``args``; returns (kind, result, Client class mock)."""
    return run(harvester_keypair, args, client)


@pytest.mark.parametrize("args, message", [
    ({"name": "ops"}, "public_key: is required when state is present"),
    ({"name": "ops", "public_key": ""}, "public_key: must not be empty"),
    ({"name": "ops", "public_key": "ssh-ed25519"}, "public_key: 'ssh-ed25519' is not an OpenSSH public key line"),
    ({"name": "ops", "public_key": KEY.replace("ssh-ed25519", "ssh-rsa", 1)},
     "public_key: is not a valid ssh-rsa key: the key data is a ssh-ed25519 key, not ssh-rsa"),
    ({"name": "ops", "public_key": KEY + "\n" + KEY}, "public_key: holds 2 lines"),
    ({"name": "Ops", "public_key": KEY}, "name: 'Ops' is not a valid name"),
    ({"name": "ops", "namespace": "Lab", "public_key": KEY}, "namespace: 'Lab' is not a valid name"),
    ({"name": "ops", "public_key": KEY, "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
    ({"name": "ops", "public_key": KEY, "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
    ({"public_key": KEY}, "missing required arguments: name"),
])
def test_bad_input_fails_before_any_client_call(args, message):
    kind, result, client_class = run_module(args)
    assert kind == "fail"
    assert message in result["msg"], result
    client_class.assert_not_called()


def validated(body, fingerprint=KEY_MD5):
    return dict(body, metadata=dict(body["metadata"], uid="u1", resourceVersion="1"),
                status={"fingerPrint": fingerprint, "conditions": [{"type": "validated", "status": "True"}]})


def test_present_creates_and_returns_the_fingerprint():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = None
    c.create.side_effect = lambda path, body: validated(body)
    kind, result, client_class = run_module({"name": "ops", "public_key": KEY + "\n"}, client=c)
    assert kind == "exit" and result["changed"] is True, result
    assert result["fingerprint"] == KEY_MD5 and "diff" not in result
    [(path, body)] = [call.args for call in c.create.call_args_list]
    assert path == PATH and body["spec"] == {"publicKey": KEY}
    assert c.get.call_count == 1  # the create's answer is already validated: no extra read
    assert client_class.call_args.kwargs["dry_run"] is False


def test_same_key_other_comment_is_unchanged():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = validated(harvester_keypair.keypair.desired({"name": "ops", "namespace": "default", "public_key": KEY}))
    kind, result, dummy = run_module({"name": "ops", "public_key": KEY.replace("ops@lab", "me@home")}, client=c)
    assert kind == "exit" and result["changed"] is False, result
    c.create.assert_not_called()
    c.merge_patch.assert_not_called()
    c.delete.assert_not_called()


def test_different_key_fails_naming_both_fingerprints():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = validated(harvester_keypair.keypair.desired({"name": "ops", "namespace": "default", "public_key": KEY}))
    kind, result, dummy = run_module({"name": "ops", "public_key": RSA}, client=c)
    assert kind == "fail" and result["field"] == "public_key"
    assert result["msg"] == (f"public_key of KeyPair default/ops cannot be changed in place ({KEY_MD5} -> "
                             "33:56:2e:c3:a7:de:08:78:9c:b1:10:ce:57:6e:bd:12); set recreate=true to delete and create it again")


def test_key_harvester_refuses_fails_with_its_reason():
    c = Mock(spec=Client)
    c.dry_run = False
    c.get.return_value = None
    reason = "failed to parse the public key, error: ssh: no key found"
    c.create.side_effect = lambda path, body: dict(body, metadata=dict(body["metadata"], resourceVersion="1"), status={
        "conditions": [{"type": "validated", "status": "False", "reason": reason}]})
    kind, result, dummy = run_module({"name": "ops", "public_key": KEY}, client=c)
    assert kind == "fail"
    assert result["msg"] == f"gave up waiting for keypair default/ops to be validated: {reason}"
