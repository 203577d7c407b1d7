"""Admission: mutating and validating hooks per kind, called by the store on every write.

One module per area (network, image, settings, longhorn, ...) holds that area's webhooks and a
`register(chain)` function. Webhooks refuse by raising an ApiError with the message the real
webhook gives, and read other objects through the store's public operations, the way real
webhooks read through the API. `req.actor` tells users ("user") from the twin's own controllers
and seeding ("system:<name>"), for the few rules real webhooks apply to users only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError


@dataclass
class Request:
    operation: str  # CREATE | UPDATE | DELETE
    group: str
    kind: str
    name: str
    namespace: str
    obj: dict | None  # the new object (None on DELETE)
    old: dict | None  # the live object (None on CREATE)
    dry_run: bool = False
    subresource: str = ""
    store: Any = None
    actor: str = "user"

    @property
    def by_system(self) -> bool:
        return self.actor.startswith("system:")


Hook = Callable[[Request], Any]


@dataclass
class Chain:
    mutators: dict[tuple[str, str], list[Hook]] = field(default_factory=dict)
    validators: dict[tuple[str, str], list[Hook]] = field(default_factory=dict)

    def mutate_with(self, group: str, kind: str, hook: Hook) -> None:
        """hook(req) may change req.obj in place."""
        self.mutators.setdefault((group, kind), []).append(hook)

    def validate_with(self, group: str, kind: str, hook: Hook) -> None:
        """hook(req) raises ApiError to refuse."""
        self.validators.setdefault((group, kind), []).append(hook)

    def mutate(self, req: Request) -> None:
        for hook in self.mutators.get((req.group, req.kind), ()):
            hook(req)

    def validate(self, req: Request) -> None:
        for hook in self.validators.get((req.group, req.kind), ()):
            hook(req)

    def clear(self) -> None:
        self.mutators.clear()
        self.validators.clear()


def denied(webhook: str, message: str, *, code: int = 400, reason: str = "BadRequest",
           field: str | None = None) -> ApiError:
    """A webhook's refusal as the apiserver relays it: the webhook's own code and reason, the
    message prefixed with `admission webhook "<name>" denied the request: `, and for 422s a cause
    naming the field."""
    details = {}
    if field is not None:
        details["causes"] = [{"reason": "FieldValueInvalid", "message": message, "field": field}]
    return ApiError(code, reason, f'admission webhook "{webhook}" denied the request: {message}', details=details)
