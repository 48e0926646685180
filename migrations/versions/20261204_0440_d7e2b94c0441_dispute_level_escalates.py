"""disputes: whether a level's expired time escalates the dispute or only reminds, as the agreement says (issue #20
item 3)

Revision ID: d7e2b94c0441
Revises: a9c3e5d70315
Create Date: 2026-12-04

Existing settings keep today's behaviour: the level's time escalates.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd7e2b94c0441'
down_revision = 'a9c3e5d70315'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dispute_level_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalates', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('dispute_level_settings', schema=None) as batch_op:
        batch_op.drop_column('escalates')
