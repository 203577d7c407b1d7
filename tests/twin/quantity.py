"""Kubernetes resource quantities (apimachinery `resource.Quantity`): parsing to an exact value,
the sum with its format rule, and the canonical text Go prints (`Quantity.String()`), which
webhooks put in their messages and the pod-resources controller in its annotations.

Canonical form (resource/quantity.go `CanonicalizeBytes`): a quantity keeps the format of its
suffix (binary `Ki`..`Ei`, decimal SI `m`, `k`..`E` or none, decimal exponent `e3`); a binary
quantity below 1024 in magnitude or with a fraction prints as decimal SI; decimal SI prints the
integer mantissa with the exponent made a multiple of three; binary prints the largest power of
1024 that divides the value. Values are rounded up to nano units, as Go does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_SYNTAX = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
_BINARY_SUFFIX = {v: k for k, v in BINARY.items()}
_DECIMAL_SUFFIX = {v: k for k, v in DECIMAL.items()}


class QuantityError(ValueError):
    """Go's ErrFormatWrong: `quantities must match the regular expression ...`."""

    def __init__(self):
        super().__init__("quantities must match the regular expression "
                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


@dataclass(frozen=True)
class Quantity:
    value: Fraction
    format: str  # "BinarySI" | "DecimalSI" | "DecimalExponent"

    def __str__(self) -> str:
        return canonical(self)

    def __bool__(self) -> bool:
        return self.value != 0

    def __add__(self, other: Quantity) -> Quantity:
        # Quantity.Add: a zero quantity takes the other's format, else it keeps its own
        return Quantity(self.value + other.value, other.format if self.value == 0 else self.format)

    def scaled_kilo(self) -> int:
        """ScaledValue(resource.Kilo): the value in thousands, rounded up."""
        return -((-self.value.numerator) // (self.value.denominator * 1000))


ZERO = Quantity(Fraction(0), "DecimalSI")


def parse(text) -> Quantity:
    """ParseQuantity: a string (or a JSON number) to an exact quantity."""
    if isinstance(text, bool):
        raise QuantityError()
    if isinstance(text, (int, float)):
        text = repr(text) if isinstance(text, float) else str(text)
    text = str(text).strip()
    found = _SYNTAX.match(text)
    if not text or not found or not (found.group(2) or found.group(3)):
        raise QuantityError()
    sign, whole, frac, suffix = found.group(1), found.group(2) or "0", found.group(3) or "", found.group(4) or ""
    number = Fraction(int(whole + frac or "0"), 10 ** len(frac))
    if suffix in BINARY:
        fmt, value = "BinarySI", number * 1024 ** BINARY[suffix]
    elif suffix[:1] in ("e", "E"):
        fmt, value = "DecimalExponent", number * Fraction(10) ** int(suffix[1:])
    else:
        fmt, value = "DecimalSI", number * Fraction(10) ** DECIMAL[suffix]
    if sign == "-":
        value = -value
    return Quantity(_round_up_nano(value), fmt)


def of(value, fmt: str = "DecimalSI") -> Quantity:
    """resource.NewQuantity / NewScaledQuantity: an exact value (int, Fraction, Decimal or text)."""
    return Quantity(Fraction(value), fmt)


def parse_or_zero(text) -> Quantity:
    """A missing value reads as zero, as `ResourceList.Memory()` of an absent key does."""
    if text is None or text == "":
        return ZERO
    return parse(text)


def _round_up_nano(value: Fraction) -> Fraction:
    scaled = value * 10 ** 9
    if scaled.denominator == 1:
        return value
    return Fraction(-((-scaled.numerator) // scaled.denominator) if value > 0 else
                    scaled.numerator // scaled.denominator, 10 ** 9)


def _decimal_parts(value: Fraction) -> tuple[int, int]:
    """mantissa, exponent with exponent % 3 == 0 and no removable factor of 1000 (AsCanonicalBytes)."""
    exponent = 0
    while value.denominator != 1:
        value *= 10
        exponent -= 1
    mantissa = int(value)
    while mantissa and mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    return mantissa, exponent


def canonical(q: Quantity) -> str:
    value, fmt = q.value, q.format
    if fmt == "BinarySI" and (-1024 < value < 1024 or value.denominator != 1):
        fmt = "DecimalSI"
    if value == 0:
        return "0"
    if fmt == "BinarySI":
        amount, power = int(value), 0
        while amount % 1024 == 0 and power < 6:
            amount //= 1024
            power += 1
        return f"{amount}{_BINARY_SUFFIX.get(power, '')}"
    mantissa, exponent = _decimal_parts(value)
    if fmt == "DecimalExponent":
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    if exponent > 18:
        mantissa *= 10 ** (exponent - 18)
        exponent = 18
    return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"


def milli(q: Quantity) -> int:
    """MilliValue: rounded up to an integer number of thousandths."""
    scaled = q.value * 1000
    return -((-scaled.numerator) // scaled.denominator)


def whole(q: Quantity) -> int:
    """Value: rounded up to an integer."""
    return -((-q.value.numerator) // q.value.denominator)
