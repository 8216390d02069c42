"""delivery: outbox, delivery attempts, subscriptions (filled by the delivery work)

Revision ID: 0003_delivery
Revises: 0002_identity
Create Date: 2026-11-23 22:10:00

"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import loyalty_social.dbtypes  # noqa: F401

# revision identifiers, used by Alembic.
revision = "0003_delivery"
down_revision = "0002_identity"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
