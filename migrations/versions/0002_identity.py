"""identity: social accounts, OAuth links, consent (filled by the identity work)

Revision ID: 0002_identity
Revises: 0001_skeleton
Create Date: 2026-11-23 22:10:00

"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import loyalty_social.dbtypes  # noqa: F401

# revision identifiers, used by Alembic.
revision = "0002_identity"
down_revision = "0001_skeleton"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
