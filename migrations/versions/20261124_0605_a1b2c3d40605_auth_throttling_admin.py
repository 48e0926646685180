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
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_address_attempted_at', ['address', 'attempted_at'], unique=False)
        batch_op.create_index('ix_login_attempts_username_attempted_at', ['username', 'attempted_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('external_issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('external_subject', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_external_issuer_external_subject'),
                                          ['external_issuer', 'external_subject'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_external_issuer_external_subject'), type_='unique')
        batch_op.drop_column('external_subject')
        batch_op.drop_column('external_issuer')
        batch_op.drop_column('password_changed_at')

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_attempted_at')
        batch_op.drop_index('ix_login_attempts_address_attempted_at')

    op.drop_table('login_attempts')
