from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class ApiKey(db.Model):
    """An API credential. Only a SHA-256 of the secret is kept; the secret is shown once."""

    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the key last authenticated, to within KEY_LAST_USED_RESOLUTION (null: never).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConsoleUser(db.Model):
    """A person who signs in to the marketer console. The password is kept only as an
    argon2id hash (none: single sign-on only). ``failed_logins``/``locked_until`` live here,
    not in one process's memory, so a lock-out holds across every web process."""

    __tablename__ = "console_user"
    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'editor', 'approver', 'admin')", name="role"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased
    role: Mapped[str] = mapped_column(String(16))  # viewer | editor | approver | admin
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
