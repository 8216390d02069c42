"""timeline: the member's awards newest first by an index (member_id, created_at)

Revision ID: 0016_timeline_indexes
Revises: 0015_analytics_rollups
Create Date: 2026-12-03 22:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_timeline_indexes"
down_revision = "0015_analytics_rollups"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_award_member_created", "award", ["member_id", "created_at"])


def downgrade():
    op.drop_index("ix_award_member_created", table_name="award")
