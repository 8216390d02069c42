"""portal sessions kept server-side ("done", a new member assertion and expiry end them at once)

Revision ID: 0009_portal_sessions
Revises: 0008_identity_rewards
Create Date: 2026-12-03 17:50:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0009_portal_sessions"
down_revision = "0008_identity_rewards"
branch_labels = None
depends_on = None


def upgrade():
    UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
    op.create_table(
        "portal_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("ended_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_session")),
    )
    op.create_index("ix_portal_session_expires_at", "portal_session", ["expires_at"])


def downgrade():
    op.drop_index("ix_portal_session_expires_at", table_name="portal_session")
    op.drop_table("portal_session")
