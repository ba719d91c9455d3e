"""conversation from the fediverse: replies under calls, and a coalition's fediverse members

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 09:30:00

Two new tables only: the replies stored under our calls (with their hidden state), and the fediverse
accounts a coalition lists as members (their mentions of it are announced).
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('hidden_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['call_id'], ['objects.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['actors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['hidden_by_id'], ['accounts.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('object_id'),
    )
    op.create_index('ix_call_replies_call_author', 'call_replies', ['call_id', 'author_id', 'received_at'])
    op.create_table(
        'fediverse_members',
        sa.Column('coalition_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['coalition_id'], ['actors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['added_by_id'], ['accounts.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('coalition_id', 'actor_id'),
    )
    op.create_index('ix_fediverse_members_actor_id', 'fediverse_members', ['actor_id'])


def downgrade() -> None:
    op.drop_index('ix_fediverse_members_actor_id', table_name='fediverse_members')
    op.drop_table('fediverse_members')
    op.drop_index('ix_call_replies_call_author', table_name='call_replies')
    op.drop_table('call_replies')
