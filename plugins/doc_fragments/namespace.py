# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``namespace`` of a namespaced object (plugins/module_utils/option_groups.py NAMESPACE_ARGS)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  namespace:
    description:
      - Namespace of the object, a DNS-1123 label.
    type: str
    default: default
"""
