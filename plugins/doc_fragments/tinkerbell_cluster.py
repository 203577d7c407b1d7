# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the connection options mean for a module that writes Tinkerbell's objects: they reach the
Kubernetes cluster that runs Tinkerbell, not Harvester. Taken through homelab.harvester.api.tinkerbell (a fragment
named tinkerbell.py would shadow that variant)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
notes:
  - The connection options (O(kubeconfig), O(context), O(host) and the others) reach the Kubernetes cluster that
    runs Tinkerbell, not Harvester. In the lab that is a separate cluster; in the twin, the same endpoint.
"""
