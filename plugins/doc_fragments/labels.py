# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``labels`` of the object a module manages (plugins/module_utils/option_groups.py LABELS_ARGS)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  labels:
    description:
      - Labels to set on the object. Only the keys given are managed; other labels stay.
      - A key with a V(null) value removes that label.
      - Keys and values are checked as Kubernetes checks them, before any request.
    type: dict
"""
