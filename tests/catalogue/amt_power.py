"""Catalogue of homelab.harvester.amt_power (see tests/catalogue/__init__.py)."""
from __future__ import annotations

HOST = "10.10.10.31"
PASSWORD = "Catalogue-Amt-Pw1!"


def args(**extra):
    out = {"host": HOST, "password": PASSWORD, "validate_certs": False, "state": "on", "pxe": True}
    out.update(extra)
    return out


BAD_INPUTS = [
    (args(host=""), "host: must not be empty"),
    (args(host="https://10.10.10.31:16993"), "host: 'https://10.10.10.31:16993' is a URL; give the address only"),
    (args(password=""), "password: must not be empty"),
    (args(user=""), "user: must not be empty"),
    (args(port=0), "port: 0 is not in 1-65535"),
    (args(port=70000), "port: 70000 is not in 1-65535"),
    (args(state="off"), "pxe: a one-time PXE boot applies to the boot AMT makes: use it with state on, cycle or reset, not off"),
    (args(state="status"), "pxe: a one-time PXE boot applies to the boot AMT makes: use it with state on, cycle or reset"),
    (args(tls=False, ca_cert="/etc/hostname"), "ca_cert: is for TLS: set tls true (port 16993) or leave ca_cert out"),
    (args(ca_cert="/nonexistent/amt-ca.pem"), "ca_cert: /nonexistent/amt-ca.pem is not a file"),
    (args(timeout=0), "timeout: 0 must be more than 0"),
    (args(wait_timeout=-1), "wait_timeout: -1 must be more than 0"),
    (args(state="sleep"), "value of state must be one of: on, off, cycle, reset, status, got: sleep"),
    ({"password": PASSWORD}, "missing required arguments: host"),
]


def steps(ctx):
    # The parity steps need an AMT endpoint the twin plays (its --bare mode, issue 15's twin side):
    # added when that lands. Until then tests/modules/test_amt_power.py runs the module against
    # the local WS-Man server of tests/amt_server.py, and the parity suite runs the bad inputs.
    return []
