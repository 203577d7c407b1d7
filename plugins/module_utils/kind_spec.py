# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-kind description: everything ``reconcile.converge`` needs to know about one kind
family, with one name per role, so that a module only passes it along::

    SPEC = KindSpec(kind=kinds.NAD, noun="network", check=check, desired=desired, fields=fields,
                    all_fields=ALL_FIELDS, immutable=immutable, ready=ready, summary=summary)

    def run(module):                      # plugins/modules/harvester_network.py
        return reconcile.run(module, vm_network.SPEC)

Roles (``params`` are the module's parameters; ``obj`` a live object, never ``None``: a deleted
object is ``converge``'s business):

- ``check(params)``: every input check, before any request (raises ``ValidationError``);
- ``precheck(client, params)``: reads that must refuse before any write (optional);
- ``desired(params)``: the object the params describe (only the parts we manage);
- ``fields(params)``: the managed ``reconcile.Field``s for these params; ``all_fields``: those a
  deletion's diff shows;
- ``immutable(params)``: ``{option: getter}`` of the parts that cannot change in place;
- ``ready(obj)``: the server's verdict that the object is usable (``None``: nothing to wait for);
  ``goal(params)``: the word for it in messages ("ready", "imported", ...);
- ``failed(obj)``: the server's message when readiness can no longer come, else ``None``;
- ``summary(obj)``: one line of what the server says of the object (wait and timeout messages);
  ``stage(obj)``: what a wait reports as progress (optional);
- ``result(obj, params)``: the module's return values beside ``changed`` and ``diff``
  (default: the object under ``noun``).

Its own file, not inside ``reconcile.py``: the description is what someone adding a kind reads
and writes; the flow that consumes it (``reconcile``) is written once and needs no reading for
that. A frozen dataclass of functions rather than a base class to subclass: each kind file keeps
plain, separately testable module functions and binds them here in one table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .kinds import Kind


def no_precheck(client, params):
    return None


def no_immutable(params):
    return {}


def goal_ready(params):
    return "ready"


def never_failed(obj):
    return None


@dataclass(frozen=True)
class KindSpec:
    """One kind family as ``reconcile.converge`` takes it (see the module docstring)."""

    kind: Kind
    noun: str
    check: Callable[[dict], None]
    desired: Callable[[dict], dict]
    fields: Callable[[dict], list]
    all_fields: tuple
    summary: Callable[[dict], str]
    immutable: Callable[[dict], dict] = no_immutable
    precheck: Callable[[Any, dict], None] = no_precheck
    ready: Callable[[dict], bool] | None = None
    goal: Callable[[dict], str] = goal_ready
    failed: Callable[[dict], str | None] = never_failed
    stage: Callable[[dict], Any] | None = None
    result: Callable[[dict | None, dict], dict] | None = None

    def returned(self, obj, params):
        """The return values of a ``present`` run (beside ``changed`` and ``diff``)."""
        return self.result(obj, params) if self.result is not None else {self.noun: obj}
