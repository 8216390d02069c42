"""api keys: when each was last used (last_used_at, nullable: never)

Revision ID: 0023_api_key_last_used
Revises: 0022_identity_flag_review
Create Date: 2026-12-04 05:30:00

"""

from alembic import op
import sqlalchemy as sa

from loyalty_social.dbtypes import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0023_api_key_last_used"
down_revision = "0022_identity_flag_review"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("last_used_at")
