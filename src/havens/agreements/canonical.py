"""Canonical form of an agreement version's terms, its hash and the message parties sign.

This module has no database and no Havens imports, so that anyone can re-implement (or copy) it
to check an exported agreement outside Havens.

Canonical terms (format ``havens-agreement-terms/1``)
-----------------------------------------------------
- JSON with keys sorted (code point order) at every level, separators ``,`` and ``:`` and no
  other whitespace, encoded as UTF-8 without escaping non-ASCII characters (Arabic stays
  readable); no trailing newline.
- Only objects, arrays, strings, integers, booleans and null. No floating point numbers:
  quantities (commitment targets) are decimal strings such as ``"15"`` or ``"3.5"`` (normalised:
  no exponent, no trailing zeros), because float formatting differs between languages.
- Strings are Unicode NFC-normalised and stripped of surrounding whitespace.
- Dates are ISO 8601 strings ``YYYY-MM-DD``.
- An organisation is ``{"acronym": ..., "id": ...}`` (both, so the text reads well and the id is
  unambiguous).
- Lists have a defined order: ``parties`` by role (host_government, administrator, guarantor,
  supporting_agency, observer) then acronym; ``supporting_organisations`` by acronym;
  ``commitments`` by ``ref``; ``security.flags`` and ``services`` sorted and de-duplicated.

Hash and signed message
-----------------------
- hash = lowercase hex SHA-256 of the canonical bytes.
- The message signed with Ed25519 is the UTF-8 string
  ``havens-agreement-v1:<zone code>:<version number>:<hash>``. The zone code and version number
  are part of it (domain separation), so a signature of an older version, or of another zone's
  agreement with identical terms, never counts for another version.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

TERMS_FORMAT = "havens-agreement-terms/1"
MESSAGE_PREFIX = "havens-agreement-v1"
ROLE_ORDER = ("host_government", "administrator", "guarantor", "supporting_agency", "observer")


class CanonicalError(ValueError):
    """The value cannot be put in canonical form (e.g. it holds a float)."""


def normalise(value: Any, path: str = "terms") -> Any:
    """The value with strings NFC-normalised and stripped; refuses floats and other types."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: keys must be strings")
        return {unicodedata.normalize("NFC", k): normalise(v, f"{path}.{k}")
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise CanonicalError(f"{path}: {type(value).__name__} is not allowed in canonical terms "
                         "(use a decimal string for quantities)")


def canonical_bytes(terms: dict[str, Any]) -> bytes:
    """The canonical serialisation of the terms (see the module docstring)."""
    text = json.dumps(order_terms(normalise(terms)), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def canonical_text(terms: dict[str, Any]) -> str:
    return canonical_bytes(terms).decode("utf-8")


def terms_hash(canonical: bytes | str) -> str:
    data = canonical.encode("utf-8") if isinstance(canonical, str) else canonical
    return hashlib.sha256(data).hexdigest()


def signing_message(zone_code: str, version_number: int, hash_hex: str) -> bytes:
    """The exact bytes a party signs for one version of one zone's agreement."""
    return f"{MESSAGE_PREFIX}:{zone_code}:{version_number}:{hash_hex}".encode()


def decimal_string(value: int | float | str | Decimal) -> str:
    """A quantity as a normalised decimal string: 15.0 -> "15", "3.50" -> "3.5"."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise CanonicalError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise CanonicalError(f"not a finite number: {value!r}")
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def org_ref(acronym: str, org_id: int) -> dict[str, Any]:
    return {"acronym": acronym, "id": org_id}


def order_terms(terms: dict[str, Any]) -> dict[str, Any]:
    """Put the lists of the terms in their defined order (dict key order does not matter)."""
    ordered = dict(terms)
    if "parties" in ordered:
        ordered["parties"] = sorted(
            ordered["parties"],
            key=lambda p: (ROLE_ORDER.index(p["role"]) if p["role"] in ROLE_ORDER else 99,
                           p["organisation"]["acronym"], p["organisation"]["id"]))
    if "supporting_organisations" in ordered:
        ordered["supporting_organisations"] = sorted(
            ordered["supporting_organisations"], key=lambda o: (o["acronym"], o["id"]))
    if "commitments" in ordered:
        ordered["commitments"] = sorted(ordered["commitments"], key=lambda c: c["ref"])
    if "services" in ordered:
        ordered["services"] = sorted(set(ordered["services"]))
    security = ordered.get("security")
    if isinstance(security, dict) and "flags" in security:
        ordered["security"] = {**security, "flags": sorted(set(security["flags"]))}
    return ordered
