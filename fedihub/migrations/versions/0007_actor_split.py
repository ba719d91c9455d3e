"""actor split: private keys, coalition profiles, hub settings and directory listings leave the actors table

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:00:00

Each moved group gets a one-to-one table keyed by the actor id, with a row only where the actor
had something in that group; the data is copied over with INSERT ... SELECT, then the columns go.

SQLite: the app turns foreign keys on and migrations run in one transaction, so the "recreate the
table" way of batch mode (copy, DROP TABLE actors, rename) would cascade-delete every follow,
object, activity... of every actor. Columns are dropped and added with SQLite's own ALTER TABLE
instead (DROP COLUMN needs SQLite 3.35), which keeps the table and its rows where they are.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.types import TypeEngine

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The actors columns this revision moves, as they were created by revisions 0001 to 0005.
PROFILE_COLUMNS: list[tuple[str, TypeEngine[Any]]] = [
    ('summary_source', sa.Text()),
    ('movements', sa.JSON()),
    ('region_city', sa.String(length=200)),
    ('region_state', sa.String(length=200)),
    ('region_country', sa.String(length=200)),
    ('latitude', sa.Float()),
    ('longitude', sa.Float()),
    ('website', sa.String(length=2048)),
]
# actors column -> hub_settings column
HUB_COLUMNS: list[tuple[str, str, TypeEngine[Any]]] = [
    ('hub_scope', 'scope', sa.String(length=32)),
    ('hub_region', 'region', sa.String(length=200)),
    ('hub_movements', 'movements', sa.JSON()),
    ('hub_regions', 'regions', sa.JSON()),
    ('hub_calls_only', 'calls_only', sa.Boolean()),
]
# actors column -> directory_listings column
LISTING_COLUMNS: list[tuple[str, str, TypeEngine[Any]]] = [
    ('discovered_via', 'discovered_via', sa.String(length=16)),
    ('discovered_at', 'discovered_at', sa.DateTime(timezone=True)),
    ('directory_note', 'note', sa.Text()),
    ('roster_fetched_at', 'roster_fetched_at', sa.DateTime(timezone=True)),
]
KEY_COLUMNS: list[tuple[str, TypeEngine[Any]]] = [('private_key_pem', sa.Text())]

OLD_COLUMNS: list[tuple[str, TypeEngine[Any]]] = (
    KEY_COLUMNS
    + PROFILE_COLUMNS
    + [(old, type_) for old, _new, type_ in HUB_COLUMNS]
    + [(old, type_) for old, _new, type_ in LISTING_COLUMNS]
)


def _require_native_alter_table() -> None:
    """Fail before touching anything where SQLite cannot drop a column without recreating the table."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    version = op.get_bind().exec_driver_sql('SELECT sqlite_version()').scalar_one()
    if tuple(int(part) for part in str(version).split('.')[:2]) < (3, 35):
        raise RuntimeError(
            f'migration 0007 needs SQLite 3.35 or newer (ALTER TABLE ... DROP COLUMN) and this Python '
            f'uses SQLite {version}; run it with a Python built against a newer SQLite. (Recreating the '
            f'actors table instead would cascade-delete the rows that reference it.)'
        )


def _json_is_set(column: str) -> str:
    """SQL true where a JSON column holds a value: neither SQL NULL nor JSON null.

    The ORM writes None to a JSON column as JSON ``null`` (``actor.movements = cleaned or None``),
    which says as little as SQL NULL and must not give an actor a profile on its own.
    """
    json_type = 'json_type' if op.get_bind().dialect.name == 'sqlite' else 'json_typeof'
    return f"coalesce({json_type}({column}), 'null') <> 'null'"


def upgrade() -> None:
    _require_native_alter_table()

    op.create_table('actor_keys',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id')
    )
    op.create_table('coalition_profiles',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('summary_source', sa.Text(), nullable=True),
    sa.Column('movements', sa.JSON(), nullable=True),
    sa.Column('region_city', sa.String(length=200), nullable=True),
    sa.Column('region_state', sa.String(length=200), nullable=True),
    sa.Column('region_country', sa.String(length=200), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('website', sa.String(length=2048), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id')
    )
    op.create_index('ix_coalition_profiles_region_state', 'coalition_profiles', ['region_state'], unique=False)
    op.create_table('hub_settings',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=200), nullable=True),
    sa.Column('movements', sa.JSON(), nullable=True),
    sa.Column('regions', sa.JSON(), nullable=True),
    sa.Column('calls_only', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id')
    )
    op.create_index('ix_hub_settings_scope', 'hub_settings', ['scope'], unique=False)
    op.create_table('directory_listings',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('discovered_via', sa.String(length=16), nullable=False),
    sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('roster_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id')
    )

    # A key only for local actors (the ones that have one); it was made with the actor.
    op.execute(
        'INSERT INTO actor_keys (actor_id, private_key_pem, created_at) '
        'SELECT id, private_key_pem, created_at FROM actors WHERE private_key_pem IS NOT NULL'
    )
    # A profile only where the actor says something about itself.
    profile_names = [name for name, _type in PROFILE_COLUMNS]
    said_something = ' OR '.join(
        _json_is_set(name) if name == 'movements' else f'{name} IS NOT NULL' for name in profile_names
    )
    op.execute(
        f"INSERT INTO coalition_profiles (actor_id, {', '.join(profile_names)}) "
        f"SELECT id, {', '.join(profile_names)} FROM actors WHERE {said_something}"
    )
    # Hub settings only for hubs: a scope is what makes a Group a hub.
    op.execute(
        f"INSERT INTO hub_settings (actor_id, {', '.join(new for _old, new, _type in HUB_COLUMNS)}) "
        f"SELECT id, {', '.join(old for old, _new, _type in HUB_COLUMNS)} FROM actors WHERE hub_scope IS NOT NULL"
    )
    # A listing for every actor the directory knows how it met. 0005 filled in discovered_via only,
    # so actors from before it have no discovered_at: they count as met when they were stored.
    op.execute(
        'INSERT INTO directory_listings (actor_id, discovered_via, discovered_at, note, roster_fetched_at) '
        'SELECT id, discovered_via, coalesce(discovered_at, created_at), directory_note, roster_fetched_at '
        'FROM actors WHERE discovered_via IS NOT NULL'
    )

    # Indexes first: SQLite refuses to drop an indexed column. Then one native ALTER TABLE ...
    # DROP COLUMN per column on both backends (never batch mode's table recreation, see above).
    op.drop_index('ix_actors_region_state', table_name='actors')
    op.drop_index('ix_actors_type_hub_scope', table_name='actors')
    for name, _type in OLD_COLUMNS:
        op.drop_column('actors', name)


def downgrade() -> None:
    _require_native_alter_table()

    # Native ALTER TABLE ... ADD COLUMN on both backends, again without recreating actors.
    for name, type_ in OLD_COLUMNS:
        op.add_column('actors', sa.Column(name, type_, nullable=True))

    op.execute(
        'UPDATE actors SET private_key_pem = k.private_key_pem '
        'FROM actor_keys AS k WHERE k.actor_id = actors.id'
    )
    op.execute(
        'UPDATE actors SET '
        + ', '.join(f'{name} = p.{name}' for name, _type in PROFILE_COLUMNS)
        + ' FROM coalition_profiles AS p WHERE p.actor_id = actors.id'
    )
    op.execute(
        'UPDATE actors SET '
        + ', '.join(f'{old} = h.{new}' for old, new, _type in HUB_COLUMNS)
        + ' FROM hub_settings AS h WHERE h.actor_id = actors.id'
    )
    op.execute(
        'UPDATE actors SET '
        + ', '.join(f'{old} = d.{new}' for old, new, _type in LISTING_COLUMNS)
        + ' FROM directory_listings AS d WHERE d.actor_id = actors.id'
    )

    op.create_index('ix_actors_type_hub_scope', 'actors', ['type', 'hub_scope'], unique=False)
    op.create_index('ix_actors_region_state', 'actors', ['region_state'], unique=False)

    op.drop_table('directory_listings')
    op.drop_index('ix_hub_settings_scope', table_name='hub_settings')
    op.drop_table('hub_settings')
    op.drop_index('ix_coalition_profiles_region_state', table_name='coalition_profiles')
    op.drop_table('coalition_profiles')
    op.drop_table('actor_keys')
