"""inbox auth substitutes filters attachments

Revision ID: a1b2c3d40600
Revises: 197d1001142c
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d40600'
down_revision = '197d1001142c'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
