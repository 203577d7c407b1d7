"""Webhook of the keypair area: Harvester's KeyPair validator (v1.8), and the OpenSSH public key
parsing it shares with the keypair controller.

Modelled on harvester/harvester pkg/webhook/resources/keypair/validator.go: on CREATE and UPDATE
an empty `spec.publicKey` is refused with "public key is required", a key that
golang.org/x/crypto/ssh's ParseAuthorizedKey rejects with "key is not in valid OpenSSH public
key format", both as werror.NewInvalidError (422 Invalid, one cause naming spec.publicKey).
A change of `spec.publicKey` is NOT refused (the validator only re-checks the new key); the
controller then leaves the old fingerprint in place (see controllers/keypair.py).

`parse_authorized_key` follows ParseAuthorizedKey's rules: the first line that parses wins;
blank lines and `#` comments are skipped; the first word (the key type) is not compared with the
type inside the blob; an options field before the key type is allowed; the blob must be
standard base64 of a well-formed public key of a type x/crypto/ssh knows (certificates are not
modelled).
"""
from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.primitives.asymmetric import ec

from . import Chain, Request, denied

GROUP = "harvesterhci.io"
KIND = "KeyPair"
VALIDATOR = "validator.harvesterhci.io"
FIELD = "spec.publicKey"
MSG_REQUIRED = "public key is required"
MSG_INVALID = "key is not in valid OpenSSH public key format"

CURVES = {"nistp256": ec.SECP256R1(), "nistp384": ec.SECP384R1(), "nistp521": ec.SECP521R1()}
SK_ECDSA = "sk-ecdsa-sha2-nistp256@openssh.com"
SK_ED25519 = "sk-ssh-ed25519@openssh.com"


class SSHKeyError(ValueError):
    """A public key x/crypto/ssh would refuse; the text is its error message."""


# ---------------------------------------------------------------------------------- wire format
class _Reader:
    """SSH wire format (RFC 4251): uint32-length-prefixed strings and mpints."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def string(self) -> bytes:
        if len(self.data) - self.pos < 4:
            raise SSHKeyError("ssh: short read")
        n = int.from_bytes(self.data[self.pos:self.pos + 4], "big")
        start = self.pos + 4
        if n > len(self.data) - start:
            raise SSHKeyError("ssh: short read")
        self.pos = start + n
        return self.data[start:self.pos]

    def mpint(self) -> int:
        raw = self.string()
        if raw and raw[0] & 0x80:
            raise SSHKeyError("ssh: negative mpint")  # no public key part may be negative
        return int.from_bytes(raw, "big")

    def done(self) -> None:
        if self.pos != len(self.data):
            raise SSHKeyError("ssh: trailing junk in public key")


def _ecdsa_point(r: _Reader, algo_curve: str) -> None:
    curve = r.string().decode("latin-1")
    if curve != algo_curve:
        raise SSHKeyError("ssh: unsupported curve")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(CURVES[curve], r.string())
    except ValueError:
        raise SSHKeyError("ssh: invalid point") from None


def _ed25519(r: _Reader) -> None:
    key = r.string()
    if len(key) != 32:
        raise SSHKeyError(f"ssh: invalid size {len(key)} for Ed25519 public key")


def parse_public_key(blob: bytes) -> str:
    """ssh.ParsePublicKey: returns the key type named inside the blob, or raises SSHKeyError."""
    r = _Reader(blob)
    algo = r.string().decode("latin-1")
    if algo == "ssh-rsa":
        e, n = r.mpint(), r.mpint()
        if e.bit_length() > 24:
            raise SSHKeyError("ssh: exponent too large")
        if e < 3 or e % 2 == 0:
            raise SSHKeyError("ssh: incorrect exponent")
        if n == 0:
            raise SSHKeyError("ssh: invalid modulus")
    elif algo == "ssh-dss":
        for _ in range(4):
            r.mpint()
    elif algo.startswith("ecdsa-sha2-") and algo[len("ecdsa-sha2-"):] in CURVES:
        _ecdsa_point(r, algo[len("ecdsa-sha2-"):])
    elif algo == "ssh-ed25519":
        _ed25519(r)
    elif algo == SK_ECDSA:
        _ecdsa_point(r, "nistp256")
        r.string()  # application
    elif algo == SK_ED25519:
        _ed25519(r)
        r.string()  # application
    else:
        raise SSHKeyError(f"ssh: unknown key algorithm: {algo}")
    r.done()
    return algo


def _parse_after_type(rest: str) -> tuple[str, bytes]:
    """parseAuthorizedKey: `<base64> [comment]` -> (type inside the blob, blob)."""
    words = rest.split(None, 1)
    if not words:
        raise SSHKeyError("illegal base64 data at input byte 0")
    try:
        blob = base64.b64decode(words[0], validate=True)
    except (binascii.Error, ValueError) as e:
        raise SSHKeyError(f"illegal base64 data: {e}") from None
    return parse_public_key(blob), blob


def _skip_options(line: str) -> str:
    """The text after an options field (quoted strings may hold spaces)."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch in " \t" and not quoted:
            return line[i:].lstrip(" \t")
    return ""


def _key_or_options_first(line: str):
    """The two readings of an authorized_keys line: it starts with the key type, or with options."""
    yield line
    yield _skip_options(line)


def parse_authorized_key(text: str) -> tuple[str, bytes]:
    """ssh.ParseAuthorizedKey over the whole text: (key type, blob) of the first key, else
    SSHKeyError with the last error (or "ssh: no key found")."""
    last: SSHKeyError | None = None
    for raw in text.split("\n"):
        line = raw.split("\r", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for candidate in _key_or_options_first(line):
            cut = next((i for i, ch in enumerate(candidate) if ch in " \t"), -1)
            if cut == -1:
                break
            try:
                return _parse_after_type(candidate[cut:])
            except SSHKeyError as e:
                last = e
    raise last or SSHKeyError("ssh: no key found")


def md5_fingerprint(blob: bytes) -> str:
    """ssh.FingerprintLegacyMD5: colon-separated hex of the blob's MD5 (no "MD5:" prefix)."""
    return ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())  # noqa: S324 - the legacy format


# ---------------------------------------------------------------------------------- validator
def validate(req: Request) -> None:
    if req.operation not in ("CREATE", "UPDATE") or req.obj is None:
        return
    key = (req.obj.get("spec") or {}).get("publicKey") or ""
    if not key:
        raise denied(VALIDATOR, MSG_REQUIRED, code=422, reason="Invalid", field=FIELD)
    try:
        parse_authorized_key(key)
    except SSHKeyError:
        raise denied(VALIDATOR, MSG_INVALID, code=422, reason="Invalid", field=FIELD) from None


def register(chain: Chain) -> None:
    chain.validate_with(GROUP, KIND, validate)
