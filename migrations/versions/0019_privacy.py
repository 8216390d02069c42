"""privacy: erasure tombstones and log; the member, consent purpose and claim of a delivery; pruned event payloads

Revision ID: 0019_privacy
Revises: 0018_rule_reviews
Create Date: 2026-12-03 21:40:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0019_privacy"
down_revision = "0018_rule_reviews"
branch_labels = None
depends_on = None

UNPRUNED = sa.text("pruned_at IS NULL")


def upgrade():
    UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
    op.create_table(
        "erasure_tombstone",
        sa.Column("member_hash", sa.String(length=64), nullable=False),
        sa.Column("erased_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("member_hash", name=op.f("pk_erasure_tombstone")),
    )
    op.create_table(
        "erasure_log",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("member_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_log")),
    )
    op.create_index("ix_erasure_log_member_hash", "erasure_log", ["member_hash", "id"])
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("member_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("consent_purpose", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_until", UTC, nullable=True))
        batch.create_index("ix_delivery_member", ["member_id"])
    # Existing rows: the member their payload names (a backend call's, or an event's data's).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE delivery SET member_id = left(coalesce(payload->>'member_id',"
            " payload->'data'->>'member_id'), 128)"
        )
    else:
        op.execute(
            "UPDATE delivery SET member_id = substr(coalesce(json_extract(payload,"
            " '$.member_id'), json_extract(payload, '$.data.member_id')), 1, 128)"
        )
    with op.batch_alter_table("activity_event") as batch:
        batch.add_column(sa.Column("pruned_at", UTC, nullable=True))
    op.create_index(
        "ix_activity_event_unpruned",
        "activity_event",
        ["received_at"],
        postgresql_where=UNPRUNED,
        sqlite_where=UNPRUNED,
    )


def downgrade():
    op.drop_index("ix_activity_event_unpruned", table_name="activity_event")
    with op.batch_alter_table("activity_event") as batch:
        batch.drop_column("pruned_at")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_index("ix_delivery_member")
        batch.drop_column("claimed_until")
        batch.drop_column("consent_purpose")
        batch.drop_column("member_id")
    op.drop_index("ix_erasure_log_member_hash", table_name="erasure_log")
    op.drop_table("erasure_log")
    op.drop_table("erasure_tombstone")
