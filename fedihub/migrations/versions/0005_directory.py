"""directory: how each actor was discovered, organizers' notes, roster reads, movements index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 01:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('actors') as batch_op:
        batch_op.add_column(sa.Column('discovered_via', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('directory_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('roster_fetched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_actors_type_hub_scope', ['type', 'hub_scope'], unique=False)
        batch_op.create_index('ix_actors_region_state', ['region_state'], unique=False)
    op.create_table('actor_movements',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('movement', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id', 'movement')
    )
    op.create_index('ix_actor_movements_movement', 'actor_movements', ['movement'], unique=False)
    # Reactions by actor: the organizer timeline's "boosted by the actors we follow" query.
    op.create_index('ix_reactions_actor_id', 'reactions', ['actor_id'], unique=False)
    # Every actor known so far: local ones are "local", the rest were met through federation.
    op.execute("UPDATE actors SET discovered_via = CASE WHEN is_local THEN 'local' ELSE 'federation' END")
    op.execute(
        "INSERT INTO actor_movements (actor_id, movement) SELECT DISTINCT actors.id, lower(je.value) "
        "FROM actors, json_each(actors.movements) AS je "
        "WHERE json_type(actors.movements) = 'array' AND je.value IS NOT NULL"
        if op.get_bind().dialect.name == "sqlite" else
        "INSERT INTO actor_movements (actor_id, movement) SELECT DISTINCT actors.id, lower(m.value) "
        "FROM actors, json_array_elements_text(CASE WHEN json_typeof(actors.movements) = 'array' "
        "THEN actors.movements ELSE '[]'::json END) AS m(value) WHERE m.value IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index('ix_reactions_actor_id', table_name='reactions')
    op.drop_index('ix_actor_movements_movement', table_name='actor_movements')
    op.drop_table('actor_movements')
    with op.batch_alter_table('actors') as batch_op:
        batch_op.drop_index('ix_actors_region_state')
        batch_op.drop_index('ix_actors_type_hub_scope')
        batch_op.drop_column('roster_fetched_at')
        batch_op.drop_column('directory_note')
        batch_op.drop_column('discovered_at')
        batch_op.drop_column('discovered_via')
