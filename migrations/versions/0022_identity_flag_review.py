"""identity flags: who reviewed one and their note (reviewed_by, resolution)

Revision ID: 0022_identity_flag_review
Revises: 0021_rollup_grains
Create Date: 2026-12-04 04:30:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0022_identity_flag_review"
down_revision = "0021_rollup_grains"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("identity_flag") as batch:
        batch.add_column(sa.Column("reviewed_by", sa.String(length=160), nullable=True))
        batch.add_column(sa.Column("resolution", sa.String(length=512), nullable=True))


def downgrade():
    with op.batch_alter_table("identity_flag") as batch:
        batch.drop_column("resolution")
        batch.drop_column("reviewed_by")
