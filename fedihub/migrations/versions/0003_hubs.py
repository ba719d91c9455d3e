"""hubs: hub scope and boost rules on actors, the boosts a hub sent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 23:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('actors') as batch_op:
        batch_op.add_column(sa.Column('hub_scope', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('hub_region', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('hub_movements', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('hub_regions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('hub_calls_only', sa.Boolean(), nullable=True))
    op.create_table('boosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hub_id', sa.Integer(), nullable=False),
    sa.Column('object_uri', sa.String(length=2048), nullable=False),
    sa.Column('activity_uri', sa.String(length=2048), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_uri'),
    sa.UniqueConstraint('hub_id', 'object_uri')
    )
    op.create_index(op.f('ix_boosts_object_uri'), 'boosts', ['object_uri'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_boosts_object_uri'), table_name='boosts')
    op.drop_table('boosts')
    with op.batch_alter_table('actors') as batch_op:
        batch_op.drop_column('hub_calls_only')
        batch_op.drop_column('hub_regions')
        batch_op.drop_column('hub_movements')
        batch_op.drop_column('hub_region')
        batch_op.drop_column('hub_scope')
