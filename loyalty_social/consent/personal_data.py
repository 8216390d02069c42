"""What consent holds about a member: current decisions and the full evidence. Erasure
deletes both (the erasure log then proves what happened); it is the one exception to the
evidence being append-only."""

from __future__ import annotations

from sqlalchemy import delete

from ..extensions import db
from ..privacy import Erasure, as_dict
from . import service
from .models import ConsentEvent, ConsentRecord


def export_consents(member_id: str) -> dict:
    return {
        "current": [
            {k: item[k] for k in ("purpose", "state", "given_version", "source")}
            | {"updated_at": item["updated_at"].isoformat() if item["updated_at"] else None}
            for item in service.consents(member_id)
        ],
        "history": [
            as_dict(e, ("id", "purpose", "action", "policy_version", "source", "actor", "at"))
            for e in service.history(member_id)
        ],
    }


def erase_consents(erasure: Erasure) -> dict:
    member_id = erasure.member_id
    events = db.session.execute(
        delete(ConsentEvent).where(ConsentEvent.member_id == member_id)
    ).rowcount
    records = db.session.execute(
        delete(ConsentRecord).where(ConsentRecord.member_id == member_id)
    ).rowcount
    return {"events": events, "records": records}


def member_ids() -> list[str]:
    return list(db.session.scalars(db.select(ConsentRecord.member_id).distinct()))
