"""Console sessions, server-side (as the portal's): the cookie names a row; the row decides."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class ConsoleSession(db.Model):
    """One signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so
    the table cannot be used to take a session over. Idle for CONSOLE_IDLE_SECONDS
    (``last_seen_at``) or past ``expires_at``, it is over, whatever the cookie says."""

    __tablename__ = "console_session"
    __table_args__ = (
        Index("ix_console_session_expires_at", "expires_at"),
        Index("ix_console_session_user_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(token), hex
    user_id: Mapped[str] = mapped_column(String(40))
    via: Mapped[str] = mapped_column(String(48))  # password | sso:<provider>
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # signed-out|idle
