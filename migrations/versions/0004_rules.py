"""rules engine: rule definitions, versions, campaigns, counters, backtests, offers, debt

Existing tables only gain columns (native ADD COLUMN on SQLite, no table rebuild, so rows that
reference rule/award keep their foreign keys); the downgrade drops them again with native
DROP COLUMN (SQLite >= 3.35) after dropping the indexes on them.

Revision ID: 0004_rules
Revises: 0003_delivery
Create Date: 2026-11-23 22:10:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0004_rules"
down_revision = "0003_delivery"
branch_labels = None
depends_on = None

UTC = loyalty_social.dbtypes.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("rule", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("event_types", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("definition", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default="100")
        )
        batch_op.add_column(
            sa.Column("exclusive", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("campaign_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("starts_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("ends_at", UTC, nullable=True))
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC")
        )
        batch_op.add_column(sa.Column("budget_points", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("budget_count", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("spent_points", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("spent_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("created_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("updated_by", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_rule_campaign_id", ["campaign_id"], unique=False)

    with op.batch_alter_table("award", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("consent_ref", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("campaign_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("decided_at", UTC, nullable=True))
        batch_op.create_index("ix_award_status_created", ["status", "created_at"], unique=False)

    with op.batch_alter_table("ledger_entry", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("debt", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("actor", sa.String(length=128), nullable=True))

    with op.batch_alter_table("balance", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("debt", sa.Integer(), nullable=False, server_default="0"))

    op.create_table(
        "rule_version",
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("change", sa.String(length=200), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=True),
        sa.Column("changed_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["rule.id"], name=op.f("fk_rule_version_rule_id_rule")
        ),
        sa.PrimaryKeyConstraint("rule_id", "version", name=op.f("pk_rule_version")),
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("budget_points", sa.Integer(), nullable=True),
        sa.Column("budget_count", sa.Integer(), nullable=True),
        sa.Column("spent_points", sa.Integer(), nullable=False),
        sa.Column("spent_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    op.create_table(
        "rule_counter",
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("last_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("member_id", "bucket", "scope", name=op.f("pk_rule_counter")),
    )
    op.create_table(
        "backtest",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=True),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("since", UTC, nullable=False),
        sa.Column("until", UTC, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["rule_id"], ["rule.id"], name=op.f("fk_backtest_rule_id_rule")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest")),
    )
    with op.batch_alter_table("backtest", schema=None) as batch_op:
        batch_op.create_index("ix_backtest_rule_id", ["rule_id"], unique=False)

    op.create_table(
        "offer",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("starts_at", UTC, nullable=True),
        sa.Column("ends_at", UTC, nullable=True),
        sa.Column("inventory", sa.Integer(), nullable=True),
        sa.Column("granted_count", sa.Integer(), nullable=False),
        sa.Column("uses_codes", sa.Boolean(), nullable=False),
        sa.Column("grant_ttl_seconds", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer")),
    )
    op.create_table(
        "offer_code",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("grant_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_offer_code_offer_id_offer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_code")),
        sa.UniqueConstraint("offer_id", "code", name=op.f("uq_offer_code_offer_id_code")),
    )
    with op.batch_alter_table("offer_code", schema=None) as batch_op:
        batch_op.create_index("ix_offer_code_free", ["offer_id", "grant_id"], unique=False)

    op.create_table(
        "offer_grant",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("award_id", sa.String(length=40), nullable=True),
        sa.Column("code", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("granted_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("redeemed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award.id"], name=op.f("fk_offer_grant_award_id_award")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_offer_grant_offer_id_offer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_grant")),
        sa.UniqueConstraint(
            "offer_id", "member_id", name=op.f("uq_offer_grant_offer_id_member_id")
        ),
    )
    with op.batch_alter_table("offer_grant", schema=None) as batch_op:
        batch_op.create_index("ix_offer_grant_member", ["member_id", "granted_at"], unique=False)


def downgrade():
    with op.batch_alter_table("offer_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_grant_member")
    op.drop_table("offer_grant")
    with op.batch_alter_table("offer_code", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_code_free")
    op.drop_table("offer_code")
    op.drop_table("offer")
    with op.batch_alter_table("backtest", schema=None) as batch_op:
        batch_op.drop_index("ix_backtest_rule_id")
    op.drop_table("backtest")
    op.drop_table("rule_counter")
    op.drop_table("campaign")
    op.drop_table("rule_version")

    with op.batch_alter_table("balance", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("debt")
    with op.batch_alter_table("ledger_entry", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("actor")
        batch_op.drop_column("debt")
    with op.batch_alter_table("award", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_award_status_created")
        for column in ("decided_at", "decided_by", "reason", "details", "campaign_id"):
            batch_op.drop_column(column)
        batch_op.drop_column("consent_ref")
    with op.batch_alter_table("rule", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_rule_campaign_id")
        for column in (
            "updated_by",
            "created_by",
            "spent_count",
            "spent_points",
            "budget_count",
            "budget_points",
            "timezone",
            "ends_at",
            "starts_at",
            "campaign_id",
            "exclusive",
            "priority",
            "definition",
            "event_types",
            "description",
        ):
            batch_op.drop_column(column)
