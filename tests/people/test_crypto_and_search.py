"""Encrypted fields at rest, exact-match search by keyed hash, key rotation, name search."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from havens.people import keys, names, service
from havens.people.crypto import DecryptionFailed, FieldCipher, normalise_phone
from havens.people.models import Individual
from havens.people.schemas import HouseholdCreate
from tests.people.conftest import RealDatabase, World, household_payload

PHONE_DIGITS = "963944123456"
DOCUMENT = "0123456789"


def register(db: Session, world: World, cipher: FieldCipher, **overrides: object) -> int:
    data = HouseholdCreate.model_validate(household_payload(world.sites[0], **overrides))
    return service.register_household(db, actor=world.p(world.registrar), data=data,
                                      cipher=cipher).id


def test_cipher_round_trip_tamper_and_field_binding() -> None:
    cipher = FieldCipher([("k1", secrets.token_bytes(32))])
    sealed = cipher.encrypt("+963944123456", field_name="phone")
    assert sealed.startswith("k1$") and "963944" not in sealed
    assert cipher.decrypt(sealed, field_name="phone") == "+963944123456"
    assert cipher.encrypt("x", field_name="phone") != cipher.encrypt("x", field_name="phone")
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(sealed, field_name="document_number")
    raw = bytearray(base64.b64decode(sealed[3:]))
    raw[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        cipher.decrypt("k1$" + base64.b64encode(bytes(raw)).decode(), field_name="phone")
    assert normalise_phone("٠٠٩٦٣ ٩٤٤-١٢٣٤٥٦") == "+963944123456"


def test_phone_and_document_are_not_readable_in_the_database(real_db: RealDatabase) -> None:
    """The raw database — the SQLite file and its WAL, or PostgreSQL's stored rows — holds
    the names (not encrypted: the check can see plain text) but not the phone or document."""
    from havens.database import session_scope
    from havens.orgs import service as org_service
    from havens.people.crypto import cipher_for

    with session_scope(real_db.url) as db:
        user = org_service.get_user_by_email(db, email=real_db.registrar_email)
        assert user is not None
        data = HouseholdCreate.model_validate(household_payload(real_db.site_codes[0]))
        service.register_household(db, actor=org_service.principal_for(user), data=data,
                                   cipher=cipher_for())
    engine = real_db.engine()
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            raw = " ".join(str(row[0]) for row in conn.execute(text(
                "SELECT individuals::text FROM individuals")))
            raw_bytes = raw.encode()
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            path = Path(real_db.url.removeprefix("sqlite:///"))
            raw_bytes = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"))
                                 if p.exists())
    assert b"Mohammad" in raw_bytes and "الحسن".encode() in raw_bytes
    for secret in (PHONE_DIGITS, "944123456", "944 123 456", DOCUMENT, "0123-4567-89"):
        assert secret.encode() not in raw_bytes
        assert secret.encode("utf-16-le") not in raw_bytes


def test_exact_match_search_by_phone_and_document(db: Session, world: World,
                                                  cipher: FieldCipher) -> None:
    hid = register(db, world, cipher)
    register(db, world, cipher, household_ref="HH-2", members=[household_payload(
        world.sites[0])["members"][2]])
    actor = world.p(world.registrar)
    for phone in ("+963944123456", "00963 944 123 456", "+963-944-123-456"):
        found = service.search(db, actor=actor, phone=phone, cipher=cipher)
        assert [h.id for h in found.items] == [hid]
    assert service.search(db, actor=actor, phone="+963944123457", cipher=cipher).total == 0
    assert service.search(db, actor=actor, phone="944123456", cipher=cipher).total == 0
    assert service.search(db, actor=actor, document_number="0123 4567 89",
                          cipher=cipher).items[0].id == hid
    other = world.p(world.other_registrar)
    assert service.search(db, actor=other, phone="+963944123456", cipher=cipher).total == 0


def test_key_rotation(db: Session, world: World, cipher: FieldCipher, system: object) -> None:
    hid = register(db, world, cipher)
    old_id, old_key = cipher.keys[0]
    rotated = FieldCipher([("t2", secrets.token_bytes(32)), (old_id, old_key)])
    # Before the rotation, the new configuration still reads and finds old values.
    assert service.search(db, actor=world.p(world.registrar), phone="+963944123456",
                          cipher=rotated).total == 1
    assert keys.rotate_keys(db, actor=system, cipher=rotated) == 1  # type: ignore[arg-type]
    person = db.scalar(select(Individual).where(Individual.phone_enc.is_not(None)))
    assert person is not None
    assert person.phone_enc.startswith("t2$") and person.phone_hash.startswith("t2:")
    assert person.document_number_enc.startswith("t2$")
    only_new = FieldCipher([rotated.keys[0]])
    read = service.get_household(db, actor=world.p(world.registrar), household_id=hid,
                                 cipher=only_new)
    assert read.members[0].phone == "+963944123456"
    assert service.search(db, actor=world.p(world.registrar), phone="+963944123456",
                          cipher=only_new).total == 1
    assert keys.rotate_keys(db, actor=system, cipher=rotated) == 0  # type: ignore[arg-type]
    with pytest.raises(DecryptionFailed):
        service.get_household(db, actor=world.p(world.registrar), household_id=hid,
                              cipher=cipher)


@pytest.mark.parametrize(("stored", "query"), [
    ("مُحَمَّد", "محمد"), ("أحمد", "احمد"), ("إبراهيم", "ابراهيم"), ("فاطمة", "فاطمه"),
    ("مصطفى", "مصطفي"), ("عبد الرحمن", "عبدالرحمن"), ("عبدالرحمن", "عبد الرحمن"),
    ("محـــمد", "محمد"), ("Abdul-Rahman", "abdul rahman"), ("Abdulrahman", "Abdul Rahman"),
    ("Zeïnab", "zeinab"), ("AL-HASSAN", "al hassan"), ("  Omar   Ali ", "omar ali"),
])
def test_name_folding(stored: str, query: str) -> None:
    key = names.compact_key([stored], arabic=names.is_arabic(stored))
    assert all(token in key for token in names.query_tokens(query))
    assert key == names.compact(names.name_key([stored], arabic=names.is_arabic(stored)))


def test_name_search_arabic_and_latin(db: Session, world: World, cipher: FieldCipher) -> None:
    hid = register(db, world, cipher)
    actor = world.p(world.registrar)
    for query in ("محمد الحسن", "مُحمّد", "عبدالرحمن", "عبد الرحمن محمد", "mohammad al hassan",
                  "MOHAMMAD", "abdulrahman", "Fatima Khaled", "al-hassan"):
        result = service.search(db, actor=actor, query=query, cipher=cipher)
        assert [h.id for h in result.items] == [hid], query
    assert service.search(db, actor=actor, query="Yusuf", cipher=cipher).total == 0
    number = result.items[0].registration_number
    assert service.search(db, actor=actor, query=number.lower(), cipher=cipher).total == 1


def test_search_is_paged(db: Session, world: World, cipher: FieldCipher) -> None:
    for n in range(5):
        register(db, world, cipher, household_ref=f"P-{n}")
    actor = world.p(world.registrar)
    first = service.search(db, actor=actor, query="Hassan", page_size=2, cipher=cipher)
    last = service.search(db, actor=actor, query="Hassan", page=3, page_size=2, cipher=cipher)
    assert first.total == 5 and len(first.items) == 2 and len(last.items) == 1
