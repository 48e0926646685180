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
    op.create_table('inbox_case_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_type', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_inbox_case_comments_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_case_comments'))
    )
    with op.batch_alter_table('inbox_case_comments', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_case_comments_case', ['case_type', 'case_id'], unique=False)

    op.create_table('inbox_saved_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.JSON(), nullable=False),
    sa.Column('shared_organisation_id', sa.Integer(), nullable=True),
    sa.Column('shared_role', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_inbox_saved_filters_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shared_organisation_id'], ['organisations.id'], name=op.f('fk_inbox_saved_filters_shared_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_saved_filters'))
    )
    with op.batch_alter_table('inbox_saved_filters', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_saved_filters_group', ['shared_organisation_id', 'shared_role'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_saved_filters_owner_id'), ['owner_id'], unique=False)

    op.create_table('inbox_substitutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('substitute_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['substitute_id'], ['users.id'], name=op.f('fk_inbox_substitutes_substitute_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inbox_substitutes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_substitutes'))
    )
    with op.batch_alter_table('inbox_substitutes', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_substitutes_substitute', ['substitute_id', 'starts_on', 'ends_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_substitutes_user_id'), ['user_id'], unique=False)

    op.create_table('inbox_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_inbox_attachments_instance_id_process_instances')),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_inbox_attachments_task_id_human_tasks')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_inbox_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_attachments'))
    )
    with op.batch_alter_table('inbox_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_attachments_instance_id'), ['instance_id'], unique=False)

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_human_tasks_claimed', ['claimed_by_id', 'status'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_human_tasks_claimed_by_id_users'), 'users', ['claimed_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_human_tasks_claimed_by_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_human_tasks_claimed')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by_id')

    with op.batch_alter_table('inbox_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_attachments_instance_id'))

    op.drop_table('inbox_attachments')
    with op.batch_alter_table('inbox_substitutes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_substitutes_user_id'))
        batch_op.drop_index('ix_inbox_substitutes_substitute')

    op.drop_table('inbox_substitutes')
    with op.batch_alter_table('inbox_saved_filters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_saved_filters_owner_id'))
        batch_op.drop_index('ix_inbox_saved_filters_group')

    op.drop_table('inbox_saved_filters')
    with op.batch_alter_table('inbox_case_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_case_comments_case')

    op.drop_table('inbox_case_comments')
