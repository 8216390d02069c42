"""What the portal holds about a member: their sessions' metadata (never the cookie token,
of which only a hash is kept). Erasure deletes the rows, which ends every live session."""

from __future__ import annotations

from sqlalchemy import delete

from ..extensions import db
from ..privacy import Erasure, as_dict
from .models import PortalSession


def export_sessions(member_id: str) -> list[dict]:
    rows = db.session.scalars(
        db.select(PortalSession)
        .where(PortalSession.member_id == member_id)
        .order_by(PortalSession.opened_at)
    )
    return [as_dict(r, ("opened_at", "expires_at", "ended_at", "ended_reason")) for r in rows]


def erase_sessions(erasure: Erasure) -> dict:
    gone = db.session.execute(
        delete(PortalSession).where(PortalSession.member_id == erasure.member_id)
    ).rowcount
    return {"sessions": gone}


def member_ids() -> list[str]:
    return list(db.session.scalars(db.select(PortalSession.member_id).distinct()))
