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


def endpoint():
    """The AMT the steps talk to: a local WS-Man endpoint (tests/amt_server.py), powered off. The
    parity suite resets it between the two runs and compares what each run asked of it."""
    from tests import amt_server
    return amt_server.serve(password=PASSWORD, power=8)


def steps(ctx):
    from tests.catalogue import Step
    amt = args(host="127.0.0.1", port=ctx.extra["endpoint"].port, tls=False)
    return [
        Step(dict(amt, state="status", pxe=False), name="status (off)"),
        Step(amt, check=True, diff=True, name="check mode: would boot the network once and power on"),
        Step(amt, diff=True, name="one-time PXE, power on"),
        Step(amt, name="no-op: on stays on"),
        Step(dict(amt, state="reset", pxe=False), name="reset"),
        Step(dict(amt, password="Not-The-Password1"), name="refused by AMT: wrong password"),
        Step(dict(amt, port=amt_closed_port()), name="nothing listens on the port"),
        Step(dict(amt, state="off", pxe=False), diff=True, name="power off"),
    ]


def amt_closed_port():
    from tests import amt_server
    return amt_server.closed_port()
