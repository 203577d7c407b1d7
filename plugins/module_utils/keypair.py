# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Harvester SSH key pair is: a KeyPair whose ``spec.publicKey`` holds one OpenSSH public
key line. Per-kind knowledge only -- the flow (read, compare, create, wait) is in ``reconcile``
and ``wait``.

Facts (harvester pkg/apis/harvesterhci.io/v1beta1/keypair.go, pkg/webhook/resources/keypair,
pkg/controller/master/keypair):

- the validator refuses an empty key ("public key is required") and one x/crypto/ssh cannot
  parse ("key is not in valid OpenSSH public key format"), on create and on update;
- the controller fills ``status.fingerPrint`` (MD5 of the key blob, colon-separated hex, as
  ``ssh-keygen -l -E md5`` prints it without ``MD5:``) and condition ``validated`` True, or
  ``validated`` False with the parse error in its *reason* -- once: it never looks at a KeyPair
  that already has a fingerprint. A changed ``publicKey`` is accepted by the API but keeps the
  old fingerprint, so the key is treated as immutable here: a different key needs ``recreate``.

Keys are compared by type and key data; the comment is kept as given but never counts as a change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from . import kinds, reconcile
from .kind_spec import KindSpec
from .reconcile import Field
from .validate import ValidationError

KIND = kinds.KEY_PAIR
CONDITION = "validated"
ECDSA_POINT_BYTES = {"nistp256": 65, "nistp384": 97, "nistp521": 133}
SK_ECDSA = "sk-ecdsa-sha2-nistp256@openssh.com"
SK_ED25519 = "sk-ssh-ed25519@openssh.com"
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             SK_ED25519, SK_ECDSA)
SHOWN = 40  # characters of a bad key quoted in a message


# --- the key ------------------------------------------------------------------------------
class _Blob:
    """Reads the SSH wire format (uint32-length-prefixed strings) of a key blob."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def string(self):
        if len(self.data) - self.pos < 4:
            raise ValueError("it ends early")
        size = int.from_bytes(self.data[self.pos:self.pos + 4], "big")
        start = self.pos + 4
        if size > len(self.data) - start:
            raise ValueError("it ends early")
        self.pos = start + size
        return self.data[start:self.pos]


def _check_blob(key_type, blob):
    """The blob's own structure for ``key_type`` (raises ``ValueError`` saying what is wrong)."""
    reader = _Blob(blob)
    inner = reader.string().decode("latin-1")
    if inner != key_type:
        raise ValueError(f"the key data is a {inner or 'nameless'} key, not {key_type}")
    if key_type == "ssh-rsa":
        exponent, modulus = reader.string(), reader.string()
        if not exponent.strip(b"\0") or not modulus.strip(b"\0"):
            raise ValueError("the RSA exponent or modulus is empty")
    elif key_type in ("ssh-ed25519", SK_ED25519):
        if len(reader.string()) != 32:
            raise ValueError("an Ed25519 key is 32 bytes")
    else:  # ECDSA, plain or security-key
        curve = key_type.split("@")[0].rsplit("-", 1)[1]
        if reader.string().decode("latin-1") != curve:
            raise ValueError(f"the curve is not {curve}")
        point = reader.string()
        if len(point) != ECDSA_POINT_BYTES[curve] or point[:1] != b"\x04":
            raise ValueError(f"the public point is not an uncompressed {curve} point")
    if key_type.startswith("sk-"):
        reader.string()  # the application ("ssh:")
    if reader.pos != len(blob):
        raise ValueError("it has extra bytes at the end")


def _shown(text):
    return repr(text if len(text) <= SHOWN else text[:SHOWN] + "...")


def parse(text, option="public_key"):
    """One OpenSSH public key line -> ``(type, base64 data, comment)``; raises ``ValidationError``.
    Stricter than Harvester (which skips unparsable lines and ignores the type word): one key,
    no options, a supported type that matches the type inside the key data."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        raise ValidationError(option, "must not be empty")
    if lines[0].startswith("-----BEGIN"):
        raise ValidationError(option, "is a PEM block (a private key?); give the public key line, the content of the .pub file")
    if len(lines) > 1:
        raise ValidationError(option, f"holds {len(lines)} lines; a KeyPair holds one public key")
    words = lines[0].split(None, 2)
    if len(words) < 2:
        raise ValidationError(option, f"{_shown(lines[0])} is not an OpenSSH public key line (<type> <base64 key data> [comment])")
    key_type, data = words[0], words[1]
    comment = words[2] if len(words) > 2 else ""
    if key_type not in KEY_TYPES:
        raise ValidationError(option, f"key type {_shown(key_type)} is not supported (one of {', '.join(KEY_TYPES)})")
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(option, f"the key data {_shown(data)} is not valid base64") from None
    try:
        _check_blob(key_type, blob)
    except ValueError as e:
        raise ValidationError(option, f"is not a valid {key_type} key: {e}") from None
    return key_type, data, comment


def fingerprint(text):
    """The MD5 fingerprint Harvester shows (``ssh-keygen -l -E md5`` without ``MD5:``), or
    ``None`` when ``text`` is not a key this module accepts."""
    try:
        data = parse(text)[1]
    except ValidationError:
        return None
    digest = hashlib.md5(base64.b64decode(data)).hexdigest()  # nosec - the legacy fingerprint format, not security
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


# --- input ------------------------------------------------------------------------------
def check(params):
    """Every input check of the module, before any request (raises ``ValidationError``)."""
    reconcile.check_object_args(params)
    if params.get("state", "present") == "absent":
        return
    if params.get("public_key") is None:
        raise ValidationError("public_key", "is required when state is present")
    parse(params["public_key"])


# --- building -----------------------------------------------------------------------------
def desired(params):
    """The KeyPair the params describe: the key line as given, surrounding whitespace removed."""
    key_type, data, comment = parse(params["public_key"])
    key = " ".join(w for w in (key_type, data, comment) if w)
    return {"apiVersion": KIND.api_version, "kind": KIND.kind,
            "metadata": {"name": params["name"], "namespace": params["namespace"]},
            "spec": {"publicKey": key}}


# --- comparison ---------------------------------------------------------------------------
def key_identity(text):
    """``<type> <data>`` of a key (its comment dropped); an unparsable stored key as it is."""
    if not isinstance(text, str):
        return text
    try:
        parts = parse(text)
    except ValidationError:
        return text.strip() or None
    return f"{parts[0]} {parts[1]}"


def _key_fingerprint(obj):
    key = (obj.get("spec") or {}).get("publicKey") or ""
    return fingerprint(key) or key_identity(key)


PUBLIC_KEY = Field(("spec", "publicKey"), normalise=key_identity)
ALL_FIELDS = (PUBLIC_KEY,)


def fields(params):
    """The one managed field: the key (by type and data; the comment never counts)."""
    return list(ALL_FIELDS)


def immutable(params):
    """The key cannot change in place (Harvester would keep the old fingerprint); shown by fingerprint."""
    return {"public_key": _key_fingerprint}


# --- readiness ----------------------------------------------------------------------------
def condition(obj):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == CONDITION:
            return c
    return None


def ready(obj):
    """Harvester's verdict: condition ``validated`` is True."""
    return (condition(obj) or {}).get("status") == "True"


def goal(params):
    return "validated"


def failed(obj):
    """Harvester's message when the key was refused (``validated`` False; the controller puts
    the error in the reason), else ``None``."""
    c = condition(obj) or {}
    if c.get("status") == "False":
        return c.get("message") or c.get("reason") or "Harvester did not validate the key"
    return None


def summary(obj):
    """One line for wait messages."""
    c = condition(obj)
    state = f"{CONDITION}={c.get('status')}" if c else f"{CONDITION} <not set yet>"
    return f"{state}, fingerPrint {(obj.get('status') or {}).get('fingerPrint') or '<not set yet>'}"


def result(obj, params):
    """The module's return values: the KeyPair and its fingerprint -- Harvester's
    ``status.fingerPrint``, else (check mode, no wait) the same MD5 computed here."""
    return {"keypair": obj,
            "fingerprint": ((obj or {}).get("status") or {}).get("fingerPrint") or fingerprint(params["public_key"])}


SPEC = KindSpec(kind=KIND, noun="keypair", check=check, desired=desired, fields=fields, all_fields=ALL_FIELDS,
                immutable=immutable, ready=ready, goal=goal, failed=failed, summary=summary, result=result)
