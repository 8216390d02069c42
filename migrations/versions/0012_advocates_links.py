"""advocates: share links (/s/<code>), their clicks (no IP: a keyed daily visitor hash),
referrals credited through them and referral flags for review

Revision ID: 0012_advocates_links
Revises: 0010_audit
Create Date: 2026-12-03 21:30:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0012_advocates_links"
down_revision = "0010_audit"
branch_labels = None
depends_on = None

COUNTED = sa.text("counted")


def upgrade():
    UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)
    op.create_table(
        "share_link",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("target_url", sa.String(length=2048), nullable=False),
        sa.Column("target_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("creator_visitor", sa.String(length=32), nullable=True),
        sa.Column("disabled_at", UTC, nullable=True),
        sa.Column("shared_event_id", sa.String(length=40), nullable=True),
        sa.Column("network", sa.String(length=64), nullable=True),
        sa.Column("verified_at", UTC, nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("bot_clicks", sa.Integer(), nullable=False),
        sa.Column("repeat_clicks", sa.Integer(), nullable=False),
        sa.Column("last_click_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_share_link_member_id_member")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_share_link")),
    )
    op.create_index(
        "uq_share_link_member_target", "share_link", ["member_id", "target_hash"], unique=True
    )
    op.create_index("ix_share_link_shared_event", "share_link", ["shared_event_id"])

    op.create_table(
        "share_click",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("link_code", sa.String(length=16), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("referrer_host", sa.String(length=255), nullable=True),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("bot", sa.Boolean(), nullable=False),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_code"], ["share_link.code"], name=op.f("fk_share_click_link_code_share_link")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_click")),
    )
    op.create_index("ix_share_click_link_at", "share_click", ["link_code", "at"])
    op.create_index(
        "uq_share_click_counted_visitor",
        "share_click",
        ["link_code", "visitor"],
        unique=True,
        postgresql_where=COUNTED,
        sqlite_where=COUNTED,
    )

    op.create_table(
        "referral",
        sa.Column("referred_member_id", sa.String(length=128), nullable=False),
        sa.Column("link_code", sa.String(length=16), nullable=False),
        sa.Column("sharer_id", sa.String(length=128), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=True),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("converted_at", UTC, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attributed_event_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_code"], ["share_link.code"], name=op.f("fk_referral_link_code_share_link")
        ),
        sa.PrimaryKeyConstraint("referred_member_id", name=op.f("pk_referral")),
    )
    op.create_index("ix_referral_sharer_at", "referral", ["sharer_id", "converted_at"])
    op.create_index("ix_referral_visitor_at", "referral", ["visitor", "converted_at"])

    op.create_table(
        "referral_flag",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sharer_id", sa.String(length=128), nullable=False),
        sa.Column("referred_member_id", sa.String(length=128), nullable=True),
        sa.Column("link_code", sa.String(length=16), nullable=True),
        sa.Column("event_id", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolution", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_flag")),
    )
    op.create_index("ix_referral_flag_open", "referral_flag", ["resolved_at", "created_at"])
    op.create_index("ix_referral_flag_sharer_id", "referral_flag", ["sharer_id"])


def downgrade():
    op.drop_index("ix_referral_flag_sharer_id", table_name="referral_flag")
    op.drop_index("ix_referral_flag_open", table_name="referral_flag")
    op.drop_table("referral_flag")
    op.drop_index("ix_referral_visitor_at", table_name="referral")
    op.drop_index("ix_referral_sharer_at", table_name="referral")
    op.drop_table("referral")
    op.drop_index("uq_share_click_counted_visitor", table_name="share_click")
    op.drop_index("ix_share_click_link_at", table_name="share_click")
    op.drop_table("share_click")
    op.drop_index("ix_share_link_shared_event", table_name="share_link")
    op.drop_index("uq_share_link_member_target", table_name="share_link")
    op.drop_table("share_link")
