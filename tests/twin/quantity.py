"""Kubernetes resource quantities (k8s.io/apimachinery pkg/api/resource Quantity): parsing, the
sum with its format rule, and the canonical string Go writes ("1360m", "2240Mi", "50M",
"10012590180"). Exact arithmetic with Decimal; only what the twin's controllers need.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
DECIMAL_SUFFIX = {v: k for k, v in DECIMAL.items()}
BINARY_SUFFIX = {0: "", 10: "Ki", 20: "Mi", 30: "Gi", 40: "Ti", 50: "Pi", 60: "Ei"}
_FORM = re.compile(r"^([+-]?[0-9]*\.?[0-9]*)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[numkMGTPE]?)$")


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    format: str = "DecimalSI"  # "BinarySI" | "DecimalSI" | "DecimalExponent"

    def __add__(self, other: Quantity) -> Quantity:
        # Quantity.Add: a zero quantity takes the other's format, else it keeps its own
        return Quantity(self.value + other.value, other.format if self.value == 0 else self.format)

    def scaled_kilo(self) -> int:
        """ScaledValue(resource.Kilo): the value in thousands, rounded up."""
        return math.ceil(self.value / 1000)

    def __str__(self) -> str:
        return canonical(self)


def parse(text: str | int) -> Quantity:
    """resource.MustParse: the number and its suffix; the suffix decides the format."""
    m = _FORM.match(str(text).strip())
    if m is None or m.group(1) in ("", "+", "-", "."):
        raise ValueError(f"quantities must match the regular expression: {text!r}")
    number, suffix = Decimal(m.group(1)), m.group(2)
    if suffix in BINARY:
        return Quantity(number * (2 ** BINARY[suffix]), "BinarySI")
    if suffix[:1] in ("e", "E"):
        return Quantity(number.scaleb(int(suffix[1:])), "DecimalExponent")
    return Quantity(number.scaleb(DECIMAL[suffix]), "DecimalSI")


def of(value, fmt: str = "DecimalSI") -> Quantity:
    """resource.NewQuantity / NewScaledQuantity."""
    return Quantity(Decimal(value), fmt)


def canonical(q: Quantity) -> str:
    """Quantity.String (CanonicalizeBytes): BinarySI in powers of 1024 when the value is a whole
    number of bytes of at least 1024, else DecimalSI with an exponent that is a multiple of 3."""
    v = q.value
    if v == 0:
        return "0"
    if q.format == "BinarySI" and abs(v) >= 1024 and v == v.to_integral_value():
        amount, exponent = int(v), 0
        while amount % 1024 == 0 and exponent < 60:
            amount //= 1024
            exponent += 10
        return f"{amount}{BINARY_SUFFIX[exponent]}"
    # the smallest integer mantissa, then the exponent down to a multiple of 3
    sign, digits, exponent = v.normalize().as_tuple()
    mantissa = int("".join(map(str, digits))) * (-1 if sign else 1)
    if exponent < -9:  # the nano unit is the finest: round up to it
        mantissa = -(-Decimal(mantissa).scaleb(exponent + 9) // 1)
        mantissa, exponent = int(mantissa), -9
    shift = exponent % 3
    mantissa, exponent = mantissa * 10 ** shift, exponent - shift
    if q.format == "DecimalExponent":
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    if exponent in DECIMAL_SUFFIX:
        return f"{mantissa}{DECIMAL_SUFFIX[exponent]}"
    return f"{mantissa}e{exponent}"
