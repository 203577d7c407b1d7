# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``wait`` and ``wait_timeout`` (plugins/module_utils/option_groups.py wait_args). What is waited
for is the module's own: it writes the ``description`` of O(wait) and the ``default`` of
O(wait_timeout), which ansible-doc merges over these entries."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - With O(state=present), wait until Harvester reports the object ready; with O(state=absent), until it is gone.
      - Not done in check mode.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for O(wait).
    type: int
"""
