"""Portal sessions, server-side: a copied cookie is only as good as the row it points to."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class PortalSession(db.Model):
    """One member session opened by a verified member assertion. The cookie holds a random
    token; only its SHA-256 is stored, so the table cannot be used to take a session over."""

    __tablename__ = "portal_session"
    __table_args__ = (Index("ix_portal_session_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(token), hex
    member_id: Mapped[str] = mapped_column(String(128))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the assertion was verified
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # done|replaced
