# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``description``: the text the Harvester UI shows for an object (plugins/module_utils/option_groups.py
DESCRIPTION_ARGS). A module that keeps it elsewhere than the annotation says where in its own
``description`` of the option."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  description:
    description:
      - Description shown in the Harvester UI (annotation C(field.cattle.io/description)).
      - Omit it to leave an existing description alone; an empty string removes it.
    type: str
"""
