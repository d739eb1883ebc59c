"""Kubernetes resource quantities (``10m``, ``32Mi``, ``1.5``, ``1e3``), parsed only to check
an annotation before it reaches the pod spec: a bad value is a denial naming the annotation
rather than a pod the API server rejects with a message about the webhook's patch."""

from __future__ import annotations

import decimal
import re

_QUANTITY = re.compile(
    r"^(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse(text: str) -> decimal.Decimal:
    """The value in base units; ``ValueError`` when ``text`` is no quantity."""
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 10m, 0.5, 64Mi, 1Gi)")
    number = decimal.Decimal(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    if suffix:
        exponent = int(suffix[1:])
        if abs(exponent) > 30:
            raise ValueError(f"{text!r}: the exponent is out of range")
        return number.scaleb(exponent)
    return number
