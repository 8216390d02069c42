"""consent policies: versioned policy texts, and the policy version on every consent (existing
consents were given under version 1)

Revision ID: 0007_consent_policies
Revises: 0006_source_public_keys
Create Date: 2026-12-03 17:10:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0007_consent_policies"
down_revision = "0006_source_public_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "consent_policy",
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("requires_fresh_consent", sa.Boolean(), nullable=False),
        sa.Column(
            "published_at", loyalty_social.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("purpose", "version", name=op.f("pk_consent_policy")),
    )
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("policy_version", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("policy_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("event_id", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.drop_column("event_id")
        batch_op.drop_column("policy_version")
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_column("policy_version")
    op.drop_table("consent_policy")
