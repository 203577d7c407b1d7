"""Controller of the keypair area: what Harvester's keypair handler does after a KeyPair write.

KeyPairController (H:pkg/controller/master/keypair/controller.go, OnKeyPairChanged): a KeyPair
with a public key and no `status.fingerPrint` yet is parsed with ParseAuthorizedKey; on success
`status.fingerPrint` is ssh.FingerprintLegacyMD5 of the key (colon hex, no "MD5:" prefix) and
condition `validated` is True; on failure `validated` is False with the *reason* (wrangler's
Cond.Reason, no message) "failed to parse the public key, error: <err>". The fingerprint is
computed once: a later change of `spec.publicKey` (which the webhook allows) leaves the old
fingerprint and condition as they are. Writes go through the main resource (no status
subresource), as Harvester's Update does.
"""
from __future__ import annotations

from ..admission.keypair import SSHKeyError, md5_fingerprint, parse_authorized_key
from ..registry import Kind
from . import Controller, set_condition

GROUP = "harvesterhci.io"
CONDITION = "validated"


class KeyPairController(Controller):
    name = "keypair-controller"
    watches = ((GROUP, "keypairs"),)

    async def on_change(self, kind: Kind, obj: dict) -> None:
        key = (obj.get("spec") or {}).get("publicKey") or ""
        if not key or (obj.get("status") or {}).get("fingerPrint"):
            return
        try:
            blob = parse_authorized_key(key)[1]
            fingerprint, error = md5_fingerprint(blob), None
        except SSHKeyError as e:
            fingerprint, error = None, str(e)
        uid = obj["metadata"]["uid"]

        def change(o: dict) -> None:
            if o["metadata"]["uid"] != uid or (o.get("spec") or {}).get("publicKey") != key:
                return  # another object, or a newer key this pass did not parse
            now = self.clock.now()
            if error is None:
                o.setdefault("status", {})["fingerPrint"] = fingerprint
                set_condition(o, CONDITION, "True", now=now)
            else:
                set_condition(o, CONDITION, "False", f"failed to parse the public key, error: {error}", now=now)
        self.mutate(kind, obj["metadata"]["namespace"], obj["metadata"]["name"], change)


CONTROLLERS: list = [KeyPairController]
