"""Members, their linked social accounts, and the short-lived records that make sign-in safe."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db

LINKED = text("status = 'linked'")


class Member(db.Model):
    """A loyalty member, known by the loyalty program's own id."""

    __tablename__ = "member"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tier: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SocialAccount(db.Model):
    """A member's account at a provider. Linked: it belongs to that member alone (the partial
    unique index, so a race between two members cannot both win). Unlinked: history only,
    without tokens, kept only where the member consented to profile matching."""

    __tablename__ = "social_account"
    __table_args__ = (
        Index(
            "uq_social_account_linked_identity",
            "provider",
            "subject",
            unique=True,
            postgresql_where=LINKED,
            sqlite_where=LINKED,
        ),
        Index(
            "uq_social_account_linked_member_provider",
            "member_id",
            "provider",
            unique=True,
            postgresql_where=LINKED,
            sqlite_where=LINKED,
        ),
        Index("ix_social_account_handle", "provider", "handle_key"),
        Index("ix_social_account_status_checked", "status", "checked_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The handle as looked up: lower case, no leading "@".
    handle_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    avatar_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # linked | unlinked
    health: Mapped[str] = mapped_column(String(24), default="ok")  # ok | needs_attention
    health_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Fernet (MultiFernet, ENCRYPTION_KEYS) ciphertexts; None where the provider keeps none.
    access_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    token_scope: Mapped[str | None] = mapped_column(String(512), nullable=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberSignIn(db.Model):
    """What the latest member assertion said about the member's other ways in."""

    __tablename__ = "member_sign_in"

    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), primary_key=True)
    social_only: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OAuthFlow(db.Model):
    """One authorization request in flight. The browser session holds its id and state; the
    PKCE verifier and nonce stay here (the verifier encrypted), and ``consumed_at`` makes the
    authorization response usable once, whichever web process receives it."""

    __tablename__ = "oauth_flow"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))  # link | signin
    member_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    state_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code_verifier_enc: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UsedAssertion(db.Model):
    """A member assertion's ``jti`` seen once (hashed with its issuer), until it expires."""

    __tablename__ = "used_assertion"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SignupTicket(db.Model):
    """An unlinked identity that signed in: the portal may create one member from it."""

    __tablename__ = "signup_ticket"
    __table_args__ = (Index("ix_signup_ticket_identity", "provider", "subject"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    profile: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdentityFlag(db.Model):
    """A refused duplicate-account attempt, for the marketer's review."""

    __tablename__ = "identity_flag"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    member_ids: Mapped[list] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Set once, when a person marks it reviewed (identity.flags.resolve_flag); open until then.
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(512), nullable=True)


class IdentityReward(db.Model):
    """A social identity whose link already earned its reward, for one member, ever.

    Only a keyed hash of the identity (``crypto.identity_hash``: HMAC of provider and subject)
    is kept, so the row outlives an unlink that forgets the account and still says nothing
    about who it was to anyone without the server's key (docs/privacy.md)."""

    __tablename__ = "identity_reward"

    identity_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
