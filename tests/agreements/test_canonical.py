"""Canonical terms, hashes, signing messages, keys and the structured diff."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from havens.agreements import canonical, keys
from havens.agreements.diff import diff_terms

TERMS = {
    "format": canonical.TERMS_FORMAT,
    "zone_code": "SZ-SY07-001",
    "parties": [
        {"organisation": {"acronym": "UNHCR", "id": 2}, "role": "administrator",
         "required_signer": True},
        {"organisation": {"acronym": "MOLAE", "id": 1}, "role": "host_government",
         "required_signer": True},
    ],
    "administrator": {"acronym": "UNHCR", "id": 2},
    "supporting_organisations": [{"acronym": "NRC", "id": 5}, {"acronym": "IOM", "id": 3}],
    "security": {"arrangement": "  لا وجود مسلح داخل المنطقة ", "flags": ["b", "a", "a"]},
    "services": ["water", "shelter"],
    "start_date": "2027-01-01",
    "end_date": "2029-12-31",
    "notice_period_days": 90,
    "commitments": [
        {"ref": "NRC-1", "party": {"acronym": "NRC", "id": 5}, "what": "3.5 m²",
         "indicator": None, "target": "3.5", "unit": "m²", "due_date": None},
        {"ref": "IOM-1", "party": {"acronym": "IOM", "id": 3}, "what": "water",
         "indicator": "water_lpd", "target": "15", "unit": "l", "due_date": "2027-01-01"},
    ],
}


def test_canonical_form_has_the_documented_properties() -> None:
    text = canonical.canonical_text(TERMS)
    assert "\n" not in text and ": " not in text and ", " not in text
    assert "لا وجود مسلح داخل المنطقة" in text  # UTF-8, not \\u escapes, and stripped
    parsed = json.loads(text)
    assert list(parsed) == sorted(parsed)
    assert [p["role"] for p in parsed["parties"]] == ["host_government", "administrator"]
    assert [o["acronym"] for o in parsed["supporting_organisations"]] == ["IOM", "NRC"]
    assert [c["ref"] for c in parsed["commitments"]] == ["IOM-1", "NRC-1"]
    assert parsed["security"]["flags"] == ["a", "b"]
    assert parsed["services"] == ["shelter", "water"]
    # Re-canonicalising is the identity; the order of input keys and lists does not matter.
    assert canonical.canonical_text(parsed) == text
    shuffled = dict(reversed(list(TERMS.items())))
    shuffled["commitments"] = list(reversed(TERMS["commitments"]))
    assert canonical.canonical_text(shuffled) == text
    assert canonical.terms_hash(text) == hashlib.sha256(text.encode()).hexdigest()


def test_floats_are_refused_and_quantities_are_decimal_strings() -> None:
    with pytest.raises(canonical.CanonicalError, match="float"):
        canonical.canonical_text({**TERMS, "notice_period_days": 90.0})
    assert canonical.decimal_string(15.0) == "15"
    assert canonical.decimal_string("3.50") == "3.5"
    assert canonical.decimal_string(100) == "100"
    with pytest.raises(canonical.CanonicalError):
        canonical.decimal_string("nan")


@given(position=st.integers(min_value=0), byte=st.integers(1, 255))
def test_changing_any_byte_changes_the_hash(position: int, byte: int) -> None:
    data = bytearray(canonical.canonical_bytes(TERMS))
    index = position % len(data)
    data[index] = (data[index] + byte) % 256
    assert canonical.terms_hash(bytes(data)) != canonical.terms_hash(
        canonical.canonical_bytes(TERMS))


def test_the_signed_message_names_zone_version_and_hash() -> None:
    message = canonical.signing_message("SZ-SY07-001", 3, "ab" * 32)
    assert message == ("havens-agreement-v1:SZ-SY07-001:3:" + "ab" * 32).encode()
    key = keys.generate()
    signature = keys.sign(key, message)
    public = keys.public_b64(key)
    assert keys.is_valid(public, message, signature)
    assert not keys.is_valid(public, canonical.signing_message("SZ-SY07-001", 4, "ab" * 32),
                             signature)
    assert not keys.is_valid(public, canonical.signing_message("SZ-SY07-002", 3, "ab" * 32),
                             signature)
    assert not keys.is_valid(public, message, "not base64!")


def test_keys_round_trip_and_ids() -> None:
    key = keys.generate()
    public = keys.public_b64(key)
    assert keys.key_id_of(public) == hashlib.sha256(keys.raw_public(key)).hexdigest()
    reloaded = keys.load_private_pem(keys.private_pem(key))
    assert keys.public_b64(reloaded) == public
    pem = key.public_key().public_bytes(
        keys.serialization.Encoding.PEM, keys.serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    assert keys.normalise_public(pem) == public
    with pytest.raises(keys.KeyFormatError, match="32 bytes"):
        keys.normalise_public("AAAA")
    sealed = keys.seal_private(key, secret="s3cret", key_id="k1")
    assert keys.public_b64(keys.open_private(sealed, secret="s3cret", key_id="k1")) == public
    with pytest.raises(keys.KeyFormatError):
        keys.open_private(sealed, secret="s3cret", key_id="k2")  # bound to its key id


def test_diff_matches_items_by_identity() -> None:
    new = json.loads(canonical.canonical_text(TERMS))
    old = json.loads(canonical.canonical_text(TERMS))
    new["notice_period_days"] = 120
    new["commitments"][0]["target"] = "20"
    new["commitments"].insert(0, {"ref": "A-1", "party": {"acronym": "A", "id": 9},
                                  "what": "x", "indicator": None, "target": None, "unit": None,
                                  "due_date": None})
    new["security"]["flags"] = ["a", "c"]
    changes = {(c.path, c.change): (c.old, c.new) for c in diff_terms(old, new)}
    assert changes[("notice_period_days", "changed")] == (90, 120)
    assert changes[("commitments[IOM-1].target", "changed")] == ("15", "20")
    assert ("commitments[A-1]", "added") in changes
    assert ("security.flags[b]", "removed") in changes
    assert ("security.flags[c]", "added") in changes
    assert len(changes) == 5
