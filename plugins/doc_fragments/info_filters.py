# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the read-only ``*_info`` modules select by: ``namespace`` and ``label_selector``
(plugins/module_utils/option_groups.py INFO_FILTER_ARGS)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  namespace:
    description:
      - Namespace of the objects listed.
    type: str
    default: default
  label_selector:
    description:
      - Only the objects whose labels match, in Kubernetes selector syntax, for example
        C(app.kubernetes.io/managed-by=homelab.harvester) or C(tier in (dev,test)).
    type: str
"""
