# Copyright: (c) 2026, Homelab platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``*_info`` modules that list one kind share: their ``run(module)`` (the input checks
before any request, then one answer under the kind's key) and the selection by ``namespace``,
``name`` and ``label_selector`` (the info_filters option group plus a name), checked before any
request and read in one list request."""

from __future__ import annotations

from . import validate
from .validate import ValidationError


def info_run(key, check, gather):
    """The ``run(module)`` of an ``*_info`` module: ``check(params)`` before the client exists (bad
    input makes no request), then ``{"changed": False, key: gather(client, params)}``."""

    def run(module):
        check(module.params)
        return {"changed": False, key: gather(module.client, module.params)}

    return run


def check_selection(params, name_check, noun):
    """``namespace`` (empty: every namespace), ``name`` (``name_check``: the kind's name rule) and a
    ``label_selector`` that is not blank (``noun``: what leaving it out lists)."""
    if params.get("namespace"):
        validate.name(params["namespace"], "namespace")
    if params.get("name"):
        name_check(params["name"], "name")
    if params.get("label_selector") is not None and not str(params["label_selector"]).strip():
        raise ValidationError("label_selector", f"must not be empty (leave it out to list every {noun})")


def select(client, kind, params):
    """The objects of ``kind`` that ``params`` select, in one list request (a name is a field selector)."""
    return client.list(kind.path(params.get("namespace") or None), label_selector=params.get("label_selector"),
                       field_selector=f"metadata.name={params['name']}" if params.get("name") else None)
