"""Canonical JSON and evidence digests (CRITERIA.md § 1.8)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Final

_TEXT: Final[dict[Decimal, str]] = {}


def threshold_text(d: Decimal) -> str:
    """format_decimal of a protocol threshold, memoised (thresholds are few and fixed)."""
    text = _TEXT.get(d)
    if text is None:
        text = _TEXT[d] = format_decimal(d)
    return text


def format_decimal(d: Decimal) -> str:
    """Shortest plain decimal string: no exponent, no trailing zeros, no point when integral."""
    text = str(d)
    if text.isdigit():  # the common case: a non-negative integral value without exponent
        return text if len(text) == 1 or text[0] != "0" else str(int(text))
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


# Decimals go through the C encoder as placeholder strings "<token>#<n>". The token is random per
# process, so no recorded string can be mistaken for one; the pattern is compiled once.
_TOKEN: Final = secrets.token_hex(8)
_PLACEHOLDER: Final = re.compile(f'"{_TOKEN}#([0-9]+)"')


def canonical_json(value: Any) -> str:
    """Canonical JSON of § 1.8, by the C encoder where it agrees with the definition.

    json.dumps with ensure_ascii=False, sorted keys and the separators "," and ":" writes strings,
    integers, booleans and null exactly as § 1.8 asks. Decimals go in as placeholder strings that
    are then replaced by their plain decimal form."""
    return c_encode(value, sort_keys=True, separators=(",", ":"))


def c_encode(value: Any, *, sort_keys: bool, separators: tuple[str, str]) -> str:
    """JSON text by the C encoder, with Decimals written exactly (placeholders, then their plain
    decimal form) and dates as ISO strings."""
    decimals: list[str] = []

    def default(v: Any) -> Any:
        if isinstance(v, Decimal):
            decimals.append(format_decimal(v))
            return f"{_TOKEN}#{len(decimals) - 1}"
        if isinstance(v, date):
            return v.isoformat()
        raise TypeError(f"cannot write {type(v).__name__} as JSON")

    text = json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, separators=separators, default=default)
    if decimals:
        text = _PLACEHOLDER.sub(lambda m: decimals[int(m.group(1))], text)
    return text


def canonical_json_reference(value: Any) -> str:
    """The definition of § 1.8 written out; the tests compare canonical_json with it."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        # ensure_ascii=False escapes only ", \ and U+0000-U+001F, with lowercase hex digits.
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        out.append(format_decimal(value))
    elif isinstance(value, date):
        out.append('"' + value.isoformat() + '"')
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key in sorted(value):
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as canonical JSON")


def evidence_digest(evidence: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(evidence).encode("utf-8")).hexdigest()
