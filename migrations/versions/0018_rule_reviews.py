"""maker-checker: a rule change waiting for a second person (rule_review)

Revision ID: 0018_rule_reviews
Revises: 0017_console
Create Date: 2026-12-03 21:40:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0018_rule_reviews"
down_revision = "0017_console"
branch_labels = None
depends_on = None


def upgrade():
    UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
    op.create_table(
        "rule_review",
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proposed", sa.JSON(), nullable=True),
        sa.Column("proposed_by", sa.String(length=160), nullable=True),
        sa.Column("proposed_at", UTC, nullable=False),
        sa.Column("requested_by", sa.String(length=160), nullable=True),
        sa.Column("requested_at", UTC, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["rule.id"], name=op.f("fk_rule_review_rule_id_rule")
        ),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_rule_review")),
    )


def downgrade():
    op.drop_table("rule_review")
