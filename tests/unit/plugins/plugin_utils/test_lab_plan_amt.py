# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab plan's check of each node's AMT endpoint (lab_node.amt, plugins/plugin_utils/lab_plan.py
check_node_amt): optional, sound as inventory/lab writes it, and each broken field named."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.plugin_utils.lab_plan import check_node_amt, validate_lab_plan
from ansible_collections.homelab.harvester.tests.unit.plugins.plugin_utils.test_lab_plan import NODES, VLANS


def with_amt(**amt_by_node):
    nodes = {name: dict(node) for name, node in NODES.items()}
    for name, amt in amt_by_node.items():
        nodes[name.replace("_", "-")]["amt"] = amt
    return nodes


def amt(index, **extra):
    return {"host": f"10.10.10.3{index}", "port": 16993, "tls": True, "user": "admin", "validate_certs": False, **extra}


def test_sound_and_optional():
    assert check_node_amt(NODES, "10.10.10.5") == []
    assert check_node_amt(with_amt(ms02_1=amt(1), ms02_2=amt(2), ms02_3=amt(3, password_var="vault_amt_ms02_3")),
                          "10.10.10.5") == []
    assert check_node_amt(with_amt(ms02_1={"host": "ms02-1-amt.lab.local"}), None) == []
    assert validate_lab_plan(VLANS, with_amt(ms02_1=amt(1)), vip="10.10.10.5") == []


@pytest.mark.parametrize("node_amt, message", [
    ("10.10.10.31", "lab_node (ms02-1): amt must be a mapping with host, port, tls, user, got str"),
    (amt(1, host="10.10.10.999"), "lab_node (ms02-1): amt.host '10.10.10.999' is not an IP address or host name"),
    (amt(1, host=None), "lab_node (ms02-1): amt.host None is not an IP address or host name"),
    (amt(1, host="10.10.10.12"), "lab_node (ms02-1): amt.host 10.10.10.12 is already used by ms02-2 mgmt_ip"),
    (amt(1, host="10.10.10.5"), "lab_node (ms02-1): amt.host 10.10.10.5 is already used by the VIP (lab_vip)"),
    (amt(1, port=0), "lab_node (ms02-1): amt.port 0 is not a port number (1-65535; AMT: 16993 TLS, 16992 plain)"),
    (amt(1, port="16993"), "lab_node (ms02-1): amt.port '16993' is not a port number"),
    (amt(1, tls="yes"), "lab_node (ms02-1): amt.tls 'yes' is not true or false"),
    (amt(1, validate_certs=1), "lab_node (ms02-1): amt.validate_certs 1 is not true or false"),
    (amt(1, user=""), "lab_node (ms02-1): amt.user '' is not a user name"),
    (amt(1, password_var="vault-amt"), "lab_node (ms02-1): amt.password_var 'vault-amt' is not a variable name"),
])
def test_each_broken_field_is_named(node_amt, message):
    errors = check_node_amt(with_amt(ms02_1=node_amt), "10.10.10.5")
    assert len(errors) == 1 and errors[0].startswith(message), errors


def test_two_nodes_on_one_amt_address():
    assert check_node_amt(with_amt(ms02_1=amt(1), ms02_2=amt(1)), None) == [
        "lab_node (ms02-2): amt.host 10.10.10.31 is already used by ms02-1 amt.host"]
