"""Kubernetes resource quantities (``500m``, ``128Mi``, ``1.5G``, ``2``): parse and print.

Used by :mod:`storeplane.sim.admission.quota` for LimitRange defaults and ResourceQuota
accounting. Values are exact fractions; printing picks the form the API server would
(``1500m`` or ``1.5``-free milli-units for decimal values, the largest exact binary suffix
for binary ones).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL: dict[str, Fraction] = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
}  # fmt: skip
_RE = re.compile(r"^([+-]?[0-9.]+)(e[+-]?[0-9]+|E[+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


class QuantityError(ValueError):
    pass


def parse(value: Any) -> Fraction:
    """A quantity as an exact number; QuantityError if it is not one."""
    if isinstance(value, bool):
        raise QuantityError(f"quantities must match the regular expression: {value!r}")
    if isinstance(value, int | float):
        return Fraction(str(value))
    match = _RE.match(str(value).strip())
    if match is None:
        raise QuantityError(
            f"quantities must match the regular expression "
            f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {value!r}"
        )
    number, suffix = match.groups()
    try:
        base = Fraction(number)
    except ValueError as exc:
        raise QuantityError(f"invalid quantity {value!r}") from exc
    if suffix in _BINARY:
        return base * _BINARY[suffix]
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        return (
            base * Fraction(10 ** int(suffix[1:]))
            if int(suffix[1:]) >= 0
            else base / Fraction(10 ** -int(suffix[1:]))
        )
    return base * _DECIMAL[suffix]


def is_binary(value: Any) -> bool:
    return isinstance(value, str) and value.strip().endswith(tuple(_BINARY))


def render(amount: Fraction, binary: bool = False) -> str:
    """Print a quantity the way the API server does (``500m``, ``2``, ``1536Mi``)."""
    if binary and amount.denominator == 1 and amount:
        for suffix, binary_size in sorted(_BINARY.items(), key=lambda s: -s[1]):
            if amount % binary_size == 0:
                return f"{amount // binary_size}{suffix}"
    if amount.denominator == 1:
        for suffix in ("E", "P", "T", "G", "M", "k"):
            size = _DECIMAL[suffix]
            if amount and amount % size == 0:
                return f"{amount // size}{suffix}"
        return str(amount.numerator)
    milli = amount * 1000
    if milli.denominator == 1:
        return f"{milli.numerator}m"
    return f"{round(float(amount * 10**9))}n"
