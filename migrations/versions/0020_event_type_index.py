"""events: a type's events newest first by an index (type, id), for the rule preview's picker

Revision ID: 0020_event_type_index
Revises: 0019_privacy
Create Date: 2026-12-04 04:15:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_event_type_index"
down_revision = "0019_privacy"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_activity_event_type_id", "activity_event", ["type", "id"])


def downgrade():
    op.drop_index("ix_activity_event_type_id", table_name="activity_event")
