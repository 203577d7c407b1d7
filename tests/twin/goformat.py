"""Go's renderings of decoded JSON values, for messages that quote them verbatim: fmt's %v of a
float64 and of any value, strconv.Quote (%q), encoding/json.Marshal, how apimachinery's
field.Error prints a bad value, and time.Duration's String."""
from __future__ import annotations

import json
import math
import unicodedata
from decimal import Decimal


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of f > 0 and the decimal point position (like strconv)."""
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    return ds, len(ds) + exp


def _fmt_e(ds: str, dp: int, pad_exp: bool = True) -> str:
    exp = dp - 1
    mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
    return f"{mant}e{'+' if exp >= 0 else '-'}{abs(exp):02d}" if pad_exp else f"{mant}e{'+' if exp >= 0 else '-'}{abs(exp)}"


def _fmt_f(ds: str, dp: int) -> str:
    if dp <= 0:
        return "0." + "0" * -dp + ds
    if dp >= len(ds):
        return ds + "0" * (dp - len(ds))
    return ds[:dp] + "." + ds[dp:]


def go_float(f: float) -> str:
    """fmt's %v of a float64 (strconv 'g', shortest): 1e+06, 123456, 1.5, 3."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    ds, dp = _shortest_digits(abs(f))
    exp = dp - 1
    body = _fmt_e(ds, dp) if exp < -4 or exp >= 6 else _fmt_f(ds, dp)
    return ("-" if f < 0 else "") + body


def go_json_float(f: float) -> str:
    """encoding/json's float64: plain decimals between 1e-6 and 1e21, else 1e+21 / 1e-7."""
    if math.isnan(f) or math.isinf(f):
        return "null"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    ds, dp = _shortest_digits(abs(f))
    a = abs(f)
    body = _fmt_e(ds, dp, pad_exp=dp - 1 >= 0) if a < 1e-6 or a >= 1e21 else _fmt_f(ds, dp)
    return ("-" if f < 0 else "") + body


def go_v(v) -> str:
    """fmt's %v of a decoded JSON value (used in kube-openapi's enum message)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_v(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_v(x) for x in v) + "]"
    return str(v)


_QUOTE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
                  '"': '\\"', "\\": "\\\\"}


def _quoted(s: str, escapes: dict[str, str], other) -> str:
    """s in double quotes, each character by its escape in `escapes`, else by other(ch)."""
    return '"' + "".join(escapes.get(ch) or other(ch) for ch in s) + '"'


def go_quote(s: str) -> str:
    """strconv.Quote."""
    return _quoted(s, _QUOTE_ESCAPES, _quote_char)


def _quote_char(ch: str) -> str:
    o = ord(ch)
    if 0x20 <= o < 0x7F:
        return ch
    if o < 0x20 or o == 0x7F:
        return f"\\x{o:02x}"
    if 0xD800 <= o <= 0xDFFF:
        return "\\ufffd"
    if unicodedata.category(ch)[0] in "LMNPS":
        return ch
    return f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
                 "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_json_str(s: str) -> str:
    """encoding/json's string: HTML-safe escapes, control characters as \\u00XX."""
    return _quoted(s, _JSON_ESCAPES, _json_char)


def _json_char(ch: str) -> str:
    if ord(ch) < 0x20:
        return f"\\u{ord(ch):04x}"
    return "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch


def go_json(v) -> str:
    """encoding/json.Marshal of a decoded JSON value (map keys sorted, HTML-safe escaping)."""
    if v is None or isinstance(v, (bool, int)):
        return json.dumps(v)  # null, true, false and integers read the same in Python's JSON
    if isinstance(v, float):
        return go_json_float(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{go_json_str(str(k))}:{go_json(v[k])}" for k in sorted(v, key=str)) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(go_json(x) for x in v) + "]"
    return go_json_str(v if isinstance(v, str) else str(v))


def bad_value(v) -> str:
    """How field.Error.ErrorBody prints a bad value: %v for numbers/bools, %q for strings, else JSON."""
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, (bool, int, float)):
        return go_v(v)
    return go_json(v)


def go_duration(seconds: int) -> str:
    """time.Duration.String() of whole seconds: "0s", "45s", "10m0s", "1h0m0s", "-5s"."""
    sign, s = ("-", -seconds) if seconds < 0 else ("", seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{sign}{h}h{m}m{sec}s"
    if m:
        return f"{sign}{m}m{sec}s"
    return f"{sign}{sec}s"
