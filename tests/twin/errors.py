"""Kubernetes Status errors, shaped the way kube-apiserver answers them."""
from __future__ import annotations


class ApiError(Exception):
    """An error the API answers with a `Status` object (code, reason, message, details)."""

    def __init__(self, code: int, reason: str, message: str, *, details: dict | None = None,
                 empty_details: bool = False):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}
        # NewGenericServerResponse always sets a StatusDetails: it shows as "details": {} when empty
        self.empty_details = empty_details
        self.headers: dict[str, str] = {}

    def status(self) -> dict:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details or self.empty_details:
            body["details"] = self.details
        return body


def _details(kind: str | None, group: str | None, name: str | None) -> dict:
    details: dict = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    return details


def resource_ref(group: str, plural: str) -> str:
    """`settings.harvesterhci.io` / `nodes`: how the apiserver names a resource in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource_ref(group, plural)} "{name}" not found',
                    details=_details(plural, group, name))


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{resource_ref(group, plural)} "{name}" already exists',
                    details=_details(plural, group, name))


def conflict(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {resource_ref(group, plural)} "{name}": '
        "the object has been modified; please apply your changes to the latest version and try again",
        details=_details(plural, group, name))


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 Invalid. causes: (reason, field, message-after-field) like apimachinery field errors."""
    qualified = f"{kind}.{group}" if group else kind
    texts = [f"{field}: {message}" if field else message for _, field, message in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = _details(kind, group, name)
    details["causes"] = [{"reason": r, "message": m, "field": f} for r, f, m in causes]
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details=details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(403, "Forbidden", f'{resource_ref(group, plural)} "{name}" is forbidden: {why}',
                    details=_details(plural, group, name))


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource ({method})")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")
