"""rollup grains: rollup_daily summed per month and per day over all keys, an index by key

Revision ID: 0021_rollup_grains
Revises: 0020_event_type_index
Create Date: 2026-12-04 04:20:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0021_rollup_grains"
down_revision = "0020_event_type_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rollup_monthly",
        sa.Column("metric", sa.String(length=48), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("key2", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "month", "key", "key2", name=op.f("pk_rollup_monthly")),
    )
    op.create_table(
        "rollup_daily_total",
        sa.Column("metric", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "day", name=op.f("pk_rollup_daily_total")),
    )
    op.create_index("ix_rollup_daily_key", "rollup_daily", ["metric", "key", "day"])
    # The figures so far, summed from the daily rows (kept together from now on).
    if op.get_bind().dialect.name == "postgresql":
        month = "date_trunc('month', day)::date"
    else:
        month = "date(day, 'start of month')"
    op.execute(
        "INSERT INTO rollup_monthly (metric, month, key, key2, count, amount)"
        f" SELECT metric, {month}, key, key2, sum(count), sum(amount) FROM rollup_daily"
        f" GROUP BY metric, {month}, key, key2"
    )
    op.execute(
        "INSERT INTO rollup_daily_total (metric, day, count, amount)"
        " SELECT metric, day, sum(count), sum(amount) FROM rollup_daily GROUP BY metric, day"
    )


def downgrade():
    op.drop_index("ix_rollup_daily_key", table_name="rollup_daily")
    op.drop_table("rollup_daily_total")
    op.drop_table("rollup_monthly")
