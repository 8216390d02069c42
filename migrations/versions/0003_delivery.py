"""delivery: event subscriptions, the outbox (delivery) and its attempts

Revision ID: 0003_delivery
Revises: 0002_identity
Create Date: 2026-11-23 22:10:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0003_delivery"
down_revision = "0002_identity"
branch_labels = None
depends_on = None


def _time(name, nullable=False):
    return sa.Column(name, loyalty_social.dbtypes.UTCDateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "subscription",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=True),
        sa.Column("award_id", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("after_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        _time("give_up_at"),
        _time("enqueued_at", nullable=True),
        _time("created_at"),
        _time("delivered_at", nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award.id"], name=op.f("fk_delivery_award_id_award")
        ),
        sa.ForeignKeyConstraint(
            ["after_id"], ["delivery.id"], name=op.f("fk_delivery_after_id_delivery")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "target", "idempotency_key", name=op.f("uq_delivery_target_idempotency_key")
        ),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_status_next_attempt", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_delivery_award", ["award_id"], unique=False)
        batch_op.create_index("ix_delivery_after", ["after_id"], unique=False)

    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        _time("attempted_at"),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["delivery.id"], name=op.f("fk_delivery_attempt_delivery_id_delivery")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempt")),
    )
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_attempt_delivery", ["delivery_id", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempt_delivery")
    op.drop_table("delivery_attempt")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_after")
        batch_op.drop_index("ix_delivery_award")
        batch_op.drop_index("ix_delivery_status_next_attempt")
    op.drop_table("delivery")
    op.drop_table("subscription")
