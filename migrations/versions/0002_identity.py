"""identity: social accounts, OAuth flows, used assertions, sign-up tickets, flags, consent

Revision ID: 0002_identity
Revises: 0001_skeleton
Create Date: 2026-11-23 22:10:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0002_identity"
down_revision = "0001_skeleton"
branch_labels = None
depends_on = None

UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
LINKED = sa.text("status = 'linked'")


def upgrade():
    op.create_table(
        "social_account",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=True),
        sa.Column("handle_key", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("avatar_url", sa.String(length=2048), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("health", sa.String(length=24), nullable=False),
        sa.Column("health_reason", sa.String(length=255), nullable=True),
        sa.Column("access_token_enc", sa.Text(), nullable=True),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("token_expires_at", UTC, nullable=True),
        sa.Column("token_scope", sa.String(length=512), nullable=True),
        sa.Column("linked_at", UTC, nullable=False),
        sa.Column("unlinked_at", UTC, nullable=True),
        sa.Column("checked_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_social_account_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_account")),
    )
    with op.batch_alter_table("social_account", schema=None) as batch_op:
        batch_op.create_index(
            "ix_social_account_member_id", ["member_id"], unique=False
        )
        batch_op.create_index(
            "ix_social_account_handle", ["provider", "handle_key"], unique=False
        )
        batch_op.create_index(
            "ix_social_account_status_checked", ["status", "checked_at"], unique=False
        )
        batch_op.create_index(
            "uq_social_account_linked_identity",
            ["provider", "subject"],
            unique=True,
            postgresql_where=LINKED,
            sqlite_where=LINKED,
        )
        batch_op.create_index(
            "uq_social_account_linked_member_provider",
            ["member_id", "provider"],
            unique=True,
            postgresql_where=LINKED,
            sqlite_where=LINKED,
        )

    op.create_table(
        "member_sign_in",
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("social_only", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_member_sign_in_member_id_member")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_sign_in")),
    )
    op.create_table(
        "oauth_flow",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=True),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=True),
        sa.Column("code_verifier_enc", sa.Text(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("consumed_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_flow")),
    )
    with op.batch_alter_table("oauth_flow", schema=None) as batch_op:
        batch_op.create_index("ix_oauth_flow_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "used_assertion",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_used_assertion")),
    )
    with op.batch_alter_table("used_assertion", schema=None) as batch_op:
        batch_op.create_index("ix_used_assertion_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "signup_ticket",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_ticket")),
    )
    with op.batch_alter_table("signup_ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signup_ticket_identity", ["provider", "subject"], unique=False
        )

    op.create_table(
        "identity_flag",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("member_ids", sa.JSON(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("reviewed_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_flag")),
    )
    with op.batch_alter_table("identity_flag", schema=None) as batch_op:
        batch_op.create_index("ix_identity_flag_created_at", ["created_at"], unique=False)

    op.create_table(
        "consent_record",
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("member_id", "purpose", name=op.f("pk_consent_record")),
    )
    op.create_table(
        "consent_event",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_event")),
    )
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_event_member", ["member_id", "purpose", "at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_event_member")
    op.drop_table("consent_event")
    op.drop_table("consent_record")
    with op.batch_alter_table("identity_flag", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_flag_created_at")
    op.drop_table("identity_flag")
    with op.batch_alter_table("signup_ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_signup_ticket_identity")
    op.drop_table("signup_ticket")
    with op.batch_alter_table("used_assertion", schema=None) as batch_op:
        batch_op.drop_index("ix_used_assertion_expires_at")
    op.drop_table("used_assertion")
    with op.batch_alter_table("oauth_flow", schema=None) as batch_op:
        batch_op.drop_index("ix_oauth_flow_expires_at")
    op.drop_table("oauth_flow")
    op.drop_table("member_sign_in")
    with op.batch_alter_table("social_account", schema=None) as batch_op:
        batch_op.drop_index("uq_social_account_linked_member_provider")
        batch_op.drop_index("uq_social_account_linked_identity")
        batch_op.drop_index("ix_social_account_status_checked")
        batch_op.drop_index("ix_social_account_handle")
        batch_op.drop_index("ix_social_account_member_id")
    op.drop_table("social_account")
