"""console users (argon2id hashes, lock-out state) and console sessions kept server-side

Revision ID: 0017_console
Revises: 0016_timeline_indexes
Create Date: 2026-12-03 21:30:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0017_console"
down_revision = "0016_timeline_indexes"
branch_labels = None
depends_on = None


def upgrade():
    UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
    op.create_table(
        "console_user",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("disabled_at", UTC, nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", UTC, nullable=True),
        sa.Column("last_login_at", UTC, nullable=True),
        sa.CheckConstraint(
            "role IN ('viewer', 'editor', 'approver', 'admin')", name=op.f("ck_console_user_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_user")),
        sa.UniqueConstraint("email", name=op.f("uq_console_user_email")),
    )
    op.create_table(
        "console_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("via", sa.String(length=48), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("ended_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
    )
    op.create_index("ix_console_session_expires_at", "console_session", ["expires_at"])
    op.create_index("ix_console_session_user_id", "console_session", ["user_id"])


def downgrade():
    op.drop_index("ix_console_session_user_id", table_name="console_session")
    op.drop_index("ix_console_session_expires_at", table_name="console_session")
    op.drop_table("console_session")
    op.drop_table("console_user")
