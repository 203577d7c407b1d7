# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module shares: check mode, diff mode and the action group. A module adds
only its own ``details`` (merged into these by ansible-doc):

    extends_documentation_fragment:
      - homelab.harvester.connection
      - homelab.harvester.attributes              # a module that changes things
      - homelab.harvester.attributes.info_module  # a module that only reads
"""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  action_group:
    description: Use C(group/homelab.harvester.harvester) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - homelab.harvester.harvester
"""

    INFO_MODULE = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads; it returns the same answer in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: Nothing is ever changed, so there is no diff.
  action_group:
    description: Use C(group/homelab.harvester.harvester) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - homelab.harvester.harvester
"""
