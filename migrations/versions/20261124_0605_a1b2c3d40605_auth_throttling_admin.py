"""auth throttling admin

Revision ID: a1b2c3d40605
Revises: a1b2c3d40600
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d40605'
down_revision = 'a1b2c3d40600'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
