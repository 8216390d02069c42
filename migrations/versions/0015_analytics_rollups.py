"""analytics rollups: daily figures per metric and key, members' running totals, budget alerts, backtest totals

Revision ID: 0015_analytics_rollups
Revises: 0013_advocate_scores
Create Date: 2026-12-03 21:30:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0015_analytics_rollups"
down_revision = "0013_advocate_scores"
branch_labels = None
depends_on = None


def upgrade():
    UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
    op.create_table(
        "rollup_daily",
        sa.Column("metric", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("key2", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "day", "key", "key2", name=op.f("pk_rollup_daily")),
    )
    op.create_table(
        "rollup_member",
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("awards", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_rollup_member")),
    )
    op.create_index("ix_rollup_member_points", "rollup_member", ["points"])
    # How many events a backtest will scan (its progress bar), counted when it starts.
    op.add_column("backtest", sa.Column("total", sa.Integer(), nullable=True))
    op.create_table(
        "budget_alert",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("spent_points", sa.Integer(), nullable=False),
        sa.Column("spent_count", sa.Integer(), nullable=False),
        sa.Column("raised_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint(
            "kind", "target_id", "threshold", "period", name=op.f("pk_budget_alert")
        ),
    )


def downgrade():
    with op.batch_alter_table("backtest") as batch:
        batch.drop_column("total")
    op.drop_table("budget_alert")
    op.drop_index("ix_rollup_member_points", table_name="rollup_member")
    op.drop_table("rollup_member")
    op.drop_table("rollup_daily")
