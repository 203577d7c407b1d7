"""Catalogue of homelab.harvester.tinkerbell_machine (see tests/catalogue/__init__.py)."""
from __future__ import annotations

PASSWORD = "Catalogue-Amt-Pw1!"


def args(**extra):
    out = {"name": "ms02-1", "namespace": "tink-system", "mac": "58:47:CA:7B:01:B0",
           "ipxe_url": "http://10.10.10.20/harvester/ms02-1.ipxe",
           "amt": {"host": "10.10.10.31", "port": 16993, "tls": True, "password": PASSWORD}}
    out.update(extra)
    return out


BAD_INPUTS = [
    (args(name="MS02-1"), "name: 'MS02-1' is not a valid name"),
    (args(mac=None), "mac: is required when state is present"),
    (args(mac="58:47:ca:7b:01"), "mac: '58:47:ca:7b:01' is not a MAC address (aa:bb:cc:dd:ee:ff)"),
    (args(ipxe_url="tftp://10.10.10.20/ms02-1.ipxe"),
     "ipxe_url: 'tftp://10.10.10.20/ms02-1.ipxe' is not an http(s) URL (Smee chains to http and https only)"),
    (args(amt=None), "amt: is required when state is present"),
    (args(amt={"host": "", "password": PASSWORD}), "amt.host: must not be empty"),
    (args(amt={"host": "10.10.10.31", "password": PASSWORD, "port": 0}), "amt.port: 0 is not in 1-65535"),
    (args(ip={"address": "10.10.10.311"}), "ip.address: "),
    (args(amt={"host": "10.10.10.31"}), "missing required arguments: password found in amt"),
]


# The parity suite runs the steps on the twin that also serves Tinkerbell's and Rufio's CRDs.
TWIN_FIXTURE = "tink_twin"


def steps(ctx):
    from tests.catalogue import Step
    v2 = "http://10.10.10.20/harvester/ms02-1-v2.ipxe"
    return [
        Step(args(namespace="default"), diff=True, name="create the Hardware, BMC Secret and Machine"),
        Step(args(namespace="default", mac="58:47:ca:7b:01:b0"), name="no-op (the MAC in lower case)"),
        Step(args(namespace="default", ipxe_url=v2), check=True, diff=True, name="check mode: another iPXE script"),
        Step(args(namespace="default", ipxe_url=v2), diff=True, name="change: another iPXE script"),
        Step(args(namespace="default"), fault={"method": "GET", "path": "hardware/ms02-1$", "status": 403},
             name="API failure"),
        Step({"name": "ms02-1", "namespace": "default", "state": "absent"}, diff=True, name="delete"),
    ]
