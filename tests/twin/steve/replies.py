"""The shapes of Steve's answers that are not resources: rancher/apiserver v0.7.3 errors
(pkg/handlers/error.go `ErrorHandler`, pkg/apierror), Harvester's action-handler text answers
(harvester v1.8.2 pkg/server/http/handler.go) and the request bodies both read.

* A framework error is JSON `{"type": "error", "links": {}, "code", "message", "status"}` with
  the APIError's status; an error that is no APIError is 500 `ServerError` with its text; a
  Kubernetes Status error from the store is translated by Steve's ErrorStore
  (pkg/stores/proxy/error_wrapper.go): its code is the status and its reason the code.
* An action handler answers 204 with no body, a JSON body with 200, or on failure `err.Error()`
  as plain text with the status of an apiserver APIError (whose Error() is `"<Code> <status>:
  <message>"`), of a Kubernetes StatusError, else 500.
"""
from __future__ import annotations

import json

from aiohttp import web

from .. import errors, gojson_errors
from ..resources import dumps

# wrangler pkg/schemas/validation error codes
INVALID_BODY = ("InvalidBodyContent", 422)
INVALID_ACTION = ("InvalidAction", 422)
NOT_FOUND = ("NotFound", 404)
SERVER_ERROR = ("ServerError", 500)
PERMISSION_DENIED = ("PermissionDenied", 403)
METHOD_NOT_ALLOWED = ("MethodNotAllowed", 405)


class SteveError(Exception):
    """An apiserver APIError: answered as Steve's JSON error."""

    def __init__(self, code: tuple[str, int], message: str):
        super().__init__(message)
        self.code, self.status = code
        self.message = message

    def text(self) -> str:
        """APIError.Error(): what an action handler writes when it returns one."""
        return f"{self.code} {self.status}: {self.message}"


class ActionError(Exception):
    """What Harvester's action handler writes on failure: a status and err.Error() as text."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status
        self.text = text


def api_error(code: tuple[str, int], message: str) -> ActionError:
    """An APIError returned by an action handler: its own status, its Error() as the text."""
    return ActionError(code[1], SteveError(code, message).text())


def from_store(err: errors.ApiError) -> SteveError:
    """Steve's ErrorStore: a Kubernetes Status error as an APIError (code = reason)."""
    return SteveError((err.reason, err.code), err.message)


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.Response(body=dumps({"type": "error", "links": {}, "code": code, "message": message, "status": status}),
                        status=status, content_type="application/json")


def steve_error(err: SteveError) -> web.Response:
    return error_response(err.status, err.code, err.message)


def json_answer(obj, status: int = 200, warnings: list[str] = ()) -> web.Response:
    resp = web.Response(body=dumps(obj), status=status, content_type="application/json")
    for w in warnings:
        resp.headers.add("Warning", f"299 - {w}")
    return resp


def text_answer(err: ActionError) -> web.Response:
    return web.Response(text=err.text, status=err.status, content_type="text/plain")


def action_json(body) -> web.Response:
    """util.ResponseOKWithBody: 200, application/json, json.Marshal's bytes."""
    return web.Response(text=json.dumps(body, separators=(",", ":")), status=200, content_type="application/json")


def parse_body(raw: bytes) -> dict:
    """parse.ReadBody: the body of a create or update is one JSON object (UseNumber decoder)."""
    try:
        value = gojson_errors.decode(raw.decode("utf-8", "replace"))
    except gojson_errors.GoJSONError as e:
        raise SteveError(INVALID_BODY, f"Failed to parse body: {e}") from None
    if not isinstance(value, dict):
        raise SteveError(INVALID_BODY, f"Failed to parse body: json: cannot unmarshal {gojson_errors.go_type(value)} into "
                                       "Go value of type map[string]interface {}")
    return value


def decode_input(raw: bytes, type_name: str, fields: tuple[str, ...], *, package: str, template: str) -> dict:
    """json.NewDecoder(body).Decode(&input) into a struct of string fields, failing as the action
    handler does: an InvalidBodyContent APIError whose message is `template` with the decoder's
    error in place of `{}` (each handler words it its own way)."""
    try:
        value = gojson_errors.decode(raw.decode("utf-8", "replace"))
        return gojson_errors.struct_fields(value, type_name, fields, package)
    except gojson_errors.GoJSONError as e:
        raise api_error(INVALID_BODY, template.format(e)) from None
