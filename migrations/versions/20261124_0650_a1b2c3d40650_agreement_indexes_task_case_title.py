"""agreement lookup indexes, the case title on tasks

Revision ID: a1b2c3d40650
Revises: a1b2c3d40645
Create Date: 2026-11-24

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1b2c3d40650'
down_revision = 'a1b2c3d40645'
branch_labels = None
depends_on = None


def upgrade():
    # The inbox finds a task's agreement by the lifecycle instance, and a user's agreements by coordinator and
    # by party: without these, each was a scan of every agreement (10 000 in bench/inbox.py).
    op.create_index(op.f('ix_agreements_lifecycle_instance_id'), 'agreements', ['lifecycle_instance_id'], unique=False)
    op.create_index(op.f('ix_agreements_coordinator_organisation_id'), 'agreements', ['coordinator_organisation_id'],
                    unique=False)
    op.create_index(op.f('ix_agreement_parties_organisation_id'), 'agreement_parties', ['organisation_id'], unique=False)
    # The case's title on its tasks (the inbox searches and sorts by it without a lookup per task).
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.add_column(sa.Column('case_title', sa.String(length=300), nullable=False, server_default=''))
    op.execute("UPDATE human_tasks SET case_title = (SELECT title FROM process_instances"
               " WHERE process_instances.id = human_tasks.instance_id)")


def downgrade():
    with op.batch_alter_table('human_tasks') as batch_op:
        batch_op.drop_column('case_title')
    op.drop_index(op.f('ix_agreement_parties_organisation_id'), table_name='agreement_parties')
    op.drop_index(op.f('ix_agreements_coordinator_organisation_id'), table_name='agreements')
    op.drop_index(op.f('ix_agreements_lifecycle_instance_id'), table_name='agreements')
