"""rules engine: conditions, limits, versions, offers, approvals (filled by the rules work)

Revision ID: 0004_rules
Revises: 0003_delivery
Create Date: 2026-11-23 22:10:00

"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import loyalty_social.dbtypes  # noqa: F401

# revision identifiers, used by Alembic.
revision = "0004_rules"
down_revision = "0003_delivery"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
