"""the audit log: who changed what, when, before and after

Revision ID: 0010_audit
Revises: 0009_portal_sessions
Create Date: 2026-12-03 21:30:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0010_audit"
down_revision = "0009_portal_sessions"
branch_labels = None
depends_on = None


def upgrade():
    UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
    op.create_table(
        "audit_record",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=160), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
    )
    op.create_index("ix_audit_record_at", "audit_record", ["at"])
    op.create_index("ix_audit_record_target", "audit_record", ["target_kind", "target_id", "id"])
    op.create_index("ix_audit_record_actor", "audit_record", ["actor", "id"])
    op.create_index("ix_audit_record_action", "audit_record", ["action", "id"])


def downgrade():
    op.drop_index("ix_audit_record_action", table_name="audit_record")
    op.drop_index("ix_audit_record_actor", table_name="audit_record")
    op.drop_index("ix_audit_record_target", table_name="audit_record")
    op.drop_index("ix_audit_record_at", table_name="audit_record")
    op.drop_table("audit_record")
