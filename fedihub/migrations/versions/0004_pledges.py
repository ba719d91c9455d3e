"""pledges to calls with local actions and reports; coalitions asking to join hubs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('call_uri', sa.String(length=2048), nullable=False),
    sa.Column('coalition_uri', sa.String(length=2048), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('coalition_name', sa.Text(), nullable=True),
    sa.Column('coalition_url', sa.String(length=2048), nullable=True),
    sa.Column('coalition_handle', sa.String(length=320), nullable=True),
    sa.Column('region_city', sa.String(length=200), nullable=True),
    sa.Column('region_state', sa.String(length=200), nullable=True),
    sa.Column('region_country', sa.String(length=200), nullable=True),
    sa.Column('movements', sa.JSON(), nullable=True),
    sa.Column('action_uri', sa.String(length=2048), nullable=True),
    sa.Column('action_url', sa.String(length=2048), nullable=True),
    sa.Column('action_name', sa.Text(), nullable=True),
    sa.Column('action_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('action_timezone', sa.String(length=64), nullable=True),
    sa.Column('action_place', sa.Text(), nullable=True),
    sa.Column('happened', sa.Boolean(), nullable=True),
    sa.Column('turnout', sa.Integer(), nullable=True),
    sa.Column('report_url', sa.String(length=2048), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uri'),
    sa.UniqueConstraint('call_uri', 'coalition_uri')
    )
    op.create_index(op.f('ix_pledges_call_uri'), 'pledges', ['call_uri'], unique=False)
    op.create_index(op.f('ix_pledges_coalition_uri'), 'pledges', ['coalition_uri'], unique=False)
    op.create_table('hub_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('hub_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uri'),
    sa.UniqueConstraint('hub_id', 'member_id')
    )
    op.create_index(op.f('ix_hub_requests_hub_id'), 'hub_requests', ['hub_id'], unique=False)
    op.create_index(op.f('ix_hub_requests_member_id'), 'hub_requests', ['member_id'], unique=False)
    with op.batch_alter_table('objects') as batch_op:
        # A remote call's pledges collection: when this instance last read it from the origin.
        batch_op.add_column(sa.Column('pledges_fetched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pledge_carriers', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('objects') as batch_op:
        batch_op.drop_column('pledge_carriers')
        batch_op.drop_column('pledges_fetched_at')
    op.drop_index(op.f('ix_hub_requests_member_id'), table_name='hub_requests')
    op.drop_index(op.f('ix_hub_requests_hub_id'), table_name='hub_requests')
    op.drop_table('hub_requests')
    op.drop_index(op.f('ix_pledges_coalition_uri'), table_name='pledges')
    op.drop_index(op.f('ix_pledges_call_uri'), table_name='pledges')
    op.drop_table('pledges')
