"""operations health metrics

Revision ID: a1b2c3d40645
Revises: a1b2c3d40640
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d40645'
down_revision = 'a1b2c3d40640'
branch_labels = None
depends_on = None


def upgrade():
    # The scheduler's heartbeat (service/scheduler/models.py), read by /readyz.
    op.create_table('scheduler_heartbeat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('leading_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_heartbeat'))
    )


def downgrade():
    op.drop_table('scheduler_heartbeat')
