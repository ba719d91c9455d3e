"""hub safeguards: the hubs' review list, paused members, first-Announce marks, the member behind a boost

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:00:00

``boosts.member_id`` is added with SQLite's own ALTER TABLE (no table recreation, see 0007), so it
carries no foreign key; existing boosts keep NULL there and do not count toward any member's rate.
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('boosts', sa.Column('member_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_boosts_member_id'), 'boosts', ['member_id'], unique=False)
    op.create_table('hub_held_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hub_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('object_uri', sa.String(length=2048), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hub_id', 'object_uri')
    )
    op.create_index(op.f('ix_hub_held_posts_member_id'), 'hub_held_posts', ['member_id'], unique=False)
    op.create_index(op.f('ix_hub_held_posts_object_uri'), 'hub_held_posts', ['object_uri'], unique=False)
    op.create_table('hub_paused_members',
    sa.Column('hub_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hub_id', 'member_id')
    )
    op.create_table('announce_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('object_uri', sa.String(length=2048), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('actor_id', 'object_uri')
    )
    op.create_index(op.f('ix_announce_marks_object_uri'), 'announce_marks', ['object_uri'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_announce_marks_object_uri'), table_name='announce_marks')
    op.drop_table('announce_marks')
    op.drop_table('hub_paused_members')
    op.drop_index(op.f('ix_hub_held_posts_object_uri'), table_name='hub_held_posts')
    op.drop_index(op.f('ix_hub_held_posts_member_id'), table_name='hub_held_posts')
    op.drop_table('hub_held_posts')
    op.drop_index(op.f('ix_boosts_member_id'), table_name='boosts')
    op.drop_column('boosts', 'member_id')
