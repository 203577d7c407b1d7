"""Catalogue of homelab.harvester.harvester_keypair (see tests/catalogue/__init__.py)."""
from __future__ import annotations

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINIo/2HGpPL7GjBFJsVI7cMISvAndq+HWkTUGcr4VPsi ops@lab"
RSA = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCV7DDgygK9AMtJyhl/hbGDFvT8yg11tvV0H0BC8V+nMHu7hFeX4AT5igvmHSTMuWJHc4U3beY4w"
       "zNkSuf3EIur+TV6KXAIqiVjtiNY3QVwHXle/02MDWmPf7c85clD9zfhARUbdvNN7d/jj5i5iFB7JNaIUaYGRFr3QGrnBvqThE+2pdtR/D+wnaLj32A1z"
       "x7XptRY2P5kGwaspx9k/dehbTmGnarIrZ9LsiZneooA6XyUWdFYJjDpBsRIRJAR1dcwFvslKbPh4s3VfIq+6kf9kehatmFGUc2Ck1aW5+FAMFSpS7t7q"
       "TE6o+0g8ZQgMq3l0CpULi+99k3u5zmN+OmX rsa@lab")
KEY_DATA = KEY.split()[1]

BAD_INPUTS = [
    ({"name": "ops"}, "public_key: is required when state is present"),
    ({"name": "ops", "public_key": ""}, "public_key: must not be empty"),
    ({"name": "ops", "public_key": KEY_DATA}, "is not an OpenSSH public key line (<type> <base64 key data> [comment])"),
    ({"name": "ops", "public_key": f"ssh-dss {KEY_DATA}"}, "public_key: key type 'ssh-dss' is not supported"),
    ({"name": "ops", "public_key": f"ssh-rsa {KEY_DATA} ops@lab"},
     "public_key: is not a valid ssh-rsa key: the key data is a ssh-ed25519 key, not ssh-rsa"),
    ({"name": "ops", "public_key": "ssh-ed25519 AAAA$$$$"}, "public_key: the key data 'AAAA$$$$' is not valid base64"),
    ({"name": "ops", "public_key": f"ssh-ed25519 {KEY_DATA[:-8]}"}, "public_key: is not a valid ssh-ed25519 key: it ends early"),
    ({"name": "ops", "public_key": f"{KEY}\n{RSA}"}, "public_key: holds 2 lines; a KeyPair holds one public key"),
    ({"name": "ops", "public_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"},
     "public_key: is a PEM block (a private key?)"),
    ({"name": "Ops", "public_key": KEY}, "name: 'Ops' is not a valid name"),
    ({"name": "ops", "namespace": "my_ns", "public_key": KEY}, "namespace: 'my_ns' is not a valid name"),
    ({"name": "ops", "public_key": KEY, "wait_timeout": 0}, "wait_timeout: 0 must be more than 0"),
    ({"name": "ops", "state": "gone"}, "value of state must be one of: present, absent, got: gone"),
]


def steps(ctx):
    import base64

    from tests.catalogue import Step
    ops = {"name": "ops", "public_key": KEY + "\n"}
    # an ECDSA point that is well-formed but not on the curve: only Harvester's parser catches it
    blob = b"".join(len(p).to_bytes(4, "big") + p for p in (b"ecdsa-sha2-nistp256", b"nistp256", bytes([4]) + bytes(64)))
    off_curve = f"ecdsa-sha2-nistp256 {base64.b64encode(blob).decode()} off-curve"
    return [
        Step(ops, diff=True, name="create"),
        Step(dict(ops, public_key=KEY.replace("ops@lab", "me@home")), name="no-op (another comment)"),
        Step(dict(ops, public_key=RSA, recreate=True), check=True, diff=True, name="check mode recreate"),
        Step(dict(ops, public_key=RSA), name="refused in place (a different key)"),
        Step(dict(ops, public_key=RSA, recreate=True), diff=True, name="change: recreate"),
        Step({"name": "bad", "public_key": off_curve}, name="refused by Harvester (key off the curve)"),
        Step(ops, fault={"method": "GET", "path": "keypairs/ops$", "status": 403}, name="API failure"),
        Step({"name": "ops", "state": "absent"}, diff=True, name="delete"),
    ]
