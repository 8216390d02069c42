"""identity_reward: the social identities whose link already earned its reward (a keyed hash
of each, and the member it paid), so linking one to another member pays nothing; filled from
the social.linked events and the accounts linked so far

Revision ID: 0008_identity_rewards
Revises: 0007_consent_policies
Create Date: 2026-12-03 17:30:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes
from loyalty_social.crypto import identity_hash

# revision identifiers, used by Alembic.
revision = "0008_identity_rewards"
down_revision = "0007_consent_policies"
branch_labels = None
depends_on = None


def upgrade():
    reward = op.create_table(
        "identity_reward",
        sa.Column("identity_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", loyalty_social.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("identity_hash", name=op.f("pk_identity_reward")),
    )
    connection = op.get_bind()
    event = sa.table(
        "activity_event",
        sa.column("member_id", sa.String),
        sa.column("type", sa.String),
        sa.column("data", sa.JSON),
        sa.column("received_at", loyalty_social.dbtypes.UTCDateTime(timezone=True)),
    )
    account = sa.table(
        "social_account",
        sa.column("member_id", sa.String),
        sa.column("provider", sa.String),
        sa.column("subject", sa.String),
        sa.column("linked_at", loyalty_social.dbtypes.UTCDateTime(timezone=True)),
    )
    first: dict[str, dict] = {}
    # The links that paid (oldest first), then accounts linked (or kept as history) without one.
    linked = connection.execute(
        sa.select(event.c.member_id, event.c.data, event.c.received_at)
        .where(event.c.type == "social.linked")
        .order_by(event.c.received_at)
    )
    for member_id, data, at in linked:
        if isinstance(data, dict) and data.get("provider") and data.get("subject"):
            key = identity_hash(data["provider"], data["subject"])
            first.setdefault(key, {"identity_hash": key, "member_id": member_id, "created_at": at})
    accounts = connection.execute(
        sa.select(account.c.member_id, account.c.provider, account.c.subject, account.c.linked_at)
        .order_by(account.c.linked_at)
    )
    for member_id, provider, subject, at in accounts:
        key = identity_hash(provider, subject)
        first.setdefault(key, {"identity_hash": key, "member_id": member_id, "created_at": at})
    if first:
        op.bulk_insert(reward, list(first.values()))


def downgrade():
    op.drop_table("identity_reward")
