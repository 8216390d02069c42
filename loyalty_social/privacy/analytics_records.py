"""What the analytics rollups hold about one member: their running totals (points, awards).
Erasure deletes the row: per-member analytics of an erased member end with them (the daily
rollups are over everyone and name nobody)."""

from __future__ import annotations

from sqlalchemy import delete

from ..analytics.models import MemberRollup
from ..extensions import db
from .registry import Erasure, as_dict


def export_rollups(member_id: str) -> dict | None:
    row = db.session.get(MemberRollup, member_id)
    return as_dict(row, ("points", "awards", "updated_at")) if row else None


def erase_rollups(erasure: Erasure) -> dict:
    gone = db.session.execute(
        delete(MemberRollup).where(MemberRollup.member_id == erasure.member_id)
    ).rowcount
    return {"member_totals": gone}
