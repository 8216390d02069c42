"""rule sets (the rule index's snapshot of which rules were gated on which clause), and an index
on award.event_id (every batch asks which rules already paid for its events)

Revision ID: 0005_rule_sets
Revises: 0004_rules
Create Date: 2026-11-24 01:10:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0005_rule_sets"
down_revision = "0004_rules"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rule_set",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.Column("created_at", loyalty_social.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_set")),
    )
    op.create_index("ix_award_event", "award", ["event_id"])


def downgrade():
    op.drop_index("ix_award_event", table_name="award")
    op.drop_table("rule_set")
