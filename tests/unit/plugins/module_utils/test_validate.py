# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of plugins/module_utils/validate.py: each bad value and its message."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.harvester.plugins.module_utils import validate
from ansible_collections.homelab.harvester.plugins.module_utils.validate import ValidationError


@pytest.mark.parametrize("call, message", [
    (lambda: validate.vlan_id(5000), "vlan_id: 5000 is not in 1-4094"),
    (lambda: validate.vlan_id(0), "vlan_id: 0 is not in 1-4094"),
    (lambda: validate.name("Bad_Name"), "name: 'Bad_Name' is not a valid name"),
    (lambda: validate.name("-x"), "name: '-x' is not a valid name"),
    (lambda: validate.name(""), "name: must not be empty"),
    (lambda: validate.name("a" * 64), "name: 'aaaa"),
    (lambda: validate.name("thirteenchars", "cluster_network", 12), "cluster_network: 'thirteenchars' is 13 characters, at most 12"),
    (lambda: validate.cidr("10.0.0.0/33", "route.cidr"), "route.cidr: '10.0.0.0/33' is not a CIDR"),
    (lambda: validate.cidr("10.0.0.0", "route.cidr"), "route.cidr: '10.0.0.0' is not a CIDR"),
    (lambda: validate.cidr("0.0.0.0/0", "route.cidr"), "route.cidr: '0.0.0.0/0' has a zero-length prefix"),
    (lambda: validate.ip("10.0.0.300", "route.gateway"), "route.gateway: '10.0.0.300' is not an IP address"),
    (lambda: validate.route({"mode": "manual", "cidr": "10.10.30.0/24"}), "route.gateway: is required when route.mode is manual"),
    (lambda: validate.route({"mode": "manual", "gateway": "10.10.30.1"}), "route.cidr: is required when route.mode is manual"),
    (lambda: validate.route({"mode": "manual", "cidr": "10.10.30.0/24", "gateway": "10.10.40.1"}),
     "route.gateway: 10.10.40.1 is not inside route.cidr 10.10.30.0/24"),
    (lambda: validate.route({"mode": "auto", "cidr": "10.10.30.0/24"}), "route.cidr: only with route.mode manual"),
    (lambda: validate.route({"mode": "auto", "dhcp_server": "dhcp"}), "route.dhcp_server: 'dhcp' is not an IP address"),
    (lambda: validate.positive(0, "wait_timeout"), "wait_timeout: 0 must be more than 0"),
])
def test_refusals_name_the_option(call, message):
    with pytest.raises(ValidationError) as e:
        call()
    assert str(e.value).startswith(message)
    assert e.value.as_dict()["option"] == message.split(":")[0]


def test_good_values_pass():
    assert validate.vlan_id(1) == 1 and validate.vlan_id(4094) == 4094
    assert validate.name("vlan-30") == "vlan-30"
    assert str(validate.cidr("10.10.30.5/24", "c")) == "10.10.30.0/24"  # host bits allowed, as Harvester does
    route = {"mode": "manual", "cidr": "10.10.30.0/24", "gateway": "10.10.30.1", "dhcp_server": None}
    assert validate.route(route) is route
    assert validate.route({"mode": "auto", "dhcp_server": "10.10.30.1"})
    with pytest.raises(ValidationError):
        validate.vlan_id(True)
