"""Go's encoding/json error texts, for the places where upstream code returns them to clients
verbatim: `json.Unmarshal` (webhooks reading an annotation) and `json.NewDecoder(body).Decode`
(Steve's and Harvester's action handlers reading a request body).

Syntax errors name the offending character as Go quotes it and what the scanner expected
(encoding/json scanner.go); an empty or truncated input is `unexpected end of JSON input` for
Unmarshal and `EOF` / `unexpected EOF` for a Decoder; a value of the wrong JSON type is
`json: cannot unmarshal <type> into Go value of type <T>` (or `... Go struct field <S>.<f> of type
<T>`).
"""
from __future__ import annotations

import json


class GoJSONError(ValueError):
    """A decoding error with Go's text."""


def _quote(ch: str) -> str:
    """scanner.go quoteChar."""
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return repr(ch) if ch.isprintable() else json.dumps(ch).replace('"', "'")


def _context(text: str, pos: int) -> str:
    """What Go's scanner was looking for when it met text[pos]: found by the last significant
    character before it."""
    before = text[:pos].rstrip()
    last = before[-1:] if before else ""
    if last in ("", "[", ","):
        if last == "," and _innermost(before) == "{":
            return "looking for beginning of object key string"
        return "looking for beginning of value"
    if last == "{":
        return "looking for beginning of object key string"
    if last == ":":
        return "looking for beginning of value"
    if last == '"' and _innermost(before) == "{" and _expecting_colon(before):
        return "after object key"
    inner = _innermost(before)
    if inner == "{":
        return "after object key:value pair"
    if inner == "[":
        return "after array element"
    return "after top-level value"


def _innermost(text: str) -> str:
    stack, in_string, escaped = [], False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _expecting_colon(before: str) -> bool:
    """True when the string just closed is an object key (no ':' after the last '{' or ',')."""
    depth_marks = [i for i, ch in enumerate(before) if ch in "{,:"]
    return bool(depth_marks) and before[depth_marks[-1]] in "{,"


def syntax_error(text: str, exc: json.JSONDecodeError, *, decoder: bool) -> GoJSONError:
    stripped = text.rstrip()
    if exc.pos >= len(stripped) or exc.msg.startswith("Unterminated string"):
        if decoder:
            return GoJSONError("EOF" if not stripped else "unexpected EOF")
        return GoJSONError("unexpected end of JSON input")
    ch = text[exc.pos]
    if exc.msg.startswith("Invalid control character"):
        return GoJSONError(f"invalid character {_quote(ch)} in string literal")
    return GoJSONError(f"invalid character {_quote(ch)} {_context(text, exc.pos)}")


def go_type(value) -> str:
    """The JSON type name Go's UnmarshalTypeError uses."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), "null")


def unmarshal(text: str):
    """json.Unmarshal: the whole text is one value."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise syntax_error(text, e, decoder=False) from None


def decode(text: str):
    """json.NewDecoder(body).Decode: the first value of the stream; trailing data is left unread."""
    stripped = text.strip()
    if not stripped:
        raise GoJSONError("EOF")
    try:
        return json.JSONDecoder().raw_decode(stripped)[0]
    except json.JSONDecodeError as e:
        raise syntax_error(stripped, e, decoder=True) from None


def struct_fields(value, type_name: str, fields: tuple[str, ...], package: str) -> dict[str, str]:
    """Decode into a struct of string fields (their JSON keys): null stays empty, a value of
    another type is Go's UnmarshalTypeError."""
    if value is None:
        return dict.fromkeys(fields, "")
    if not isinstance(value, dict):
        raise GoJSONError(f"json: cannot unmarshal {go_type(value)} into Go value of type {package}.{type_name}")
    out = {}
    for key in fields:
        # Go matches keys exactly first, then case-insensitively
        match = key if key in value else next((k for k in value if k.lower() == key.lower()), key)
        item = value.get(match)
        if item is not None and not isinstance(item, str):
            raise GoJSONError(f"json: cannot unmarshal {go_type(item)} into Go struct field "
                              f"{type_name}.{key} of type string")  # Go names the field by its JSON key
        out[key] = item or ""
    return out
