"""Key rotation of the encrypted personal fields (``havens people rotate-keys``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from havens.audit import service as audit
from havens.orgs.permissions import Principal, require
from havens.people.crypto import FieldCipher, cipher_for
from havens.people.models import Individual


def rotate_keys(db: Session, *, actor: Principal, cipher: FieldCipher | None = None,
                batch: int = 2_000) -> int:
    """Re-encrypt and re-hash every secret field not yet under the newest key; returns rows."""
    require(actor, "orgs.manage")
    cipher = cipher or cipher_for()
    current = cipher.current_key_id
    stale = or_(
        Individual.phone_enc.is_not(None) & ~Individual.phone_enc.startswith(f"{current}$"),
        Individual.document_number_enc.is_not(None)
        & ~Individual.document_number_enc.startswith(f"{current}$"),
    )
    ids = list(db.scalars(select(Individual.id).where(stale).order_by(Individual.id)))
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        rows = db.execute(select(Individual.id, Individual.phone_enc,
                                 Individual.document_number_enc)
                          .where(Individual.id.in_(chunk))).all()
        values = []
        for row_id, phone_enc, doc_enc in rows:
            value: dict[str, Any] = {"row_id": row_id}
            for name, stored in (("phone", phone_enc), ("document_number", doc_enc)):
                plain = cipher.decrypt(stored, field_name=name) if stored else None
                value[f"{name}_enc"] = cipher.encrypt(plain, field_name=name) if plain else None
                value[f"{name}_hash"] = (cipher.blind_index(plain, field_name=name)
                                         if plain else None)
            values.append(value)
        db.execute(update(Individual.__table__).where(  # type: ignore[arg-type]
            Individual.__table__.c.id == bindparam("row_id")), values)
    audit.record(db, actor=actor, action="people.rotate_keys", object_type="individual",
                 detail={"key_id": current, "rows": len(ids)})
    return len(ids)
