# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``state``: present or absent (plugins/module_utils/option_groups.py STATE_ARGS). A module whose
states mean more writes its own ``description`` (ansible-doc merges it over this one)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) creates the object, or brings it to what the options say; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
"""
