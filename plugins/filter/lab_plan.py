# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``homelab.harvester.lab_plan_errors``: the lab plan checks as a Jinja filter.

Documentation: the sidecar file lab_plan_errors.yml next to this one.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.harvester.plugins.plugin_utils.lab_plan import (
    HAS_NETADDR,
    MGMT_VLAN_NAME,
    validate_lab_plan,
)


def lab_plan_errors(vlans, nodes, mgmt_vlan_name=MGMT_VLAN_NAME, vip=None, nfs=None, bond=None,
                    dns_servers=None, ntp_servers=None):
    """Return the list of problems in the lab plan (empty when it is sound)."""
    if not HAS_NETADDR:
        raise AnsibleFilterError(
            "The homelab.harvester.lab_plan_errors filter needs the Python library 'netaddr' on the "
            "Ansible controller (or in the execution environment): pip install netaddr"
        )
    return validate_lab_plan(
        vlans,
        nodes,
        mgmt_vlan_name=mgmt_vlan_name,
        vip=vip,
        nfs=nfs,
        bond=bond,
        dns_servers=dns_servers,
        ntp_servers=ntp_servers,
    )


class FilterModule:
    """Lab plan filters."""

    def filters(self):
        return {"lab_plan_errors": lab_plan_errors}
