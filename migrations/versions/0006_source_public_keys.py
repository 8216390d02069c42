"""source public keys: ed25519 keys (whpk_...) a source signs v1a webhooks with, beside or
instead of its shared secrets; several live at once during a rotation

Revision ID: 0006_source_public_keys
Revises: 0005_rule_sets
Create Date: 2026-12-03 17:30:00

"""

from alembic import op
import sqlalchemy as sa

import loyalty_social.dbtypes

# revision identifiers, used by Alembic.
revision = "0006_source_public_keys"
down_revision = "0005_rule_sets"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "source_public_key",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("source_name", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", loyalty_social.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", loyalty_social.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_name"],
            ["source.name"],
            name=op.f("fk_source_public_key_source_name_source"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_public_key")),
    )
    op.create_index(
        op.f("ix_source_public_key_source_name"), "source_public_key", ["source_name"]
    )


def downgrade():
    op.drop_index(op.f("ix_source_public_key_source_name"), table_name="source_public_key")
    op.drop_table("source_public_key")
