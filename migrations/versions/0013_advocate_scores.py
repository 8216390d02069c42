"""advocates: daily signal counts per member and each member's advocate score and level

Revision ID: 0013_advocate_scores
Revises: 0012_advocates_links
Create Date: 2026-12-03 22:00:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0013_advocate_scores"
down_revision = "0012_advocates_links"
branch_labels = None
depends_on = None


def upgrade():
    UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
    op.create_table(
        "advocate_signal",
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "day", "kind", name=op.f("pk_advocate_signal")),
    )
    op.create_index("ix_advocate_signal_day", "advocate_signal", ["day"])
    op.create_table(
        "advocate_score",
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("level_since", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_advocate_score")),
    )
    op.create_index("ix_advocate_score_level", "advocate_score", ["level", "score"])


def downgrade():
    op.drop_index("ix_advocate_score_level", table_name="advocate_score")
    op.drop_table("advocate_score")
    op.drop_index("ix_advocate_signal_day", table_name="advocate_signal")
    op.drop_table("advocate_signal")
