"""provenance: what is shown of an actor comes from its own server (mirrored pledges, roster names)

Copies of remote calls' pledges used to trust the call's server about every coalition it listed.
A pledge whose coalition lives on neither the call's server nor this one becomes "unconfirmed" (not
shown, not counted, its name and message as the call's server gave them dropped) and its call's copy
is marked stale, so the next sweep re-reads it and asks each coalition's server for its Join.

Roster stubs (members known only from a hub's roster) lose the name, handle and link the roster
gave them, and every roster is due again: the next read lists members of the hub's own server as
its roster says and fetches the others from their own servers. Until then they show as their host.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:00:00
"""

from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

pledges = sa.table(
    'pledges', sa.column('id', sa.Integer), sa.column('call_uri', sa.String), sa.column('coalition_uri', sa.String),
    sa.column('source', sa.String), sa.column('state', sa.String), sa.column('message', sa.Text),
    sa.column('coalition_name', sa.Text),
)
objects = sa.table('objects', sa.column('uri', sa.String), sa.column('pledges_fetched_at', sa.DateTime))
actors = sa.table(
    'actors', sa.column('id', sa.Integer), sa.column('is_local', sa.Boolean), sa.column('fetched_at', sa.DateTime),
    sa.column('name', sa.Text), sa.column('username', sa.String), sa.column('url', sa.String),
)
listings = sa.table(
    'directory_listings', sa.column('actor_id', sa.Integer), sa.column('discovered_via', sa.String),
    sa.column('roster_fetched_at', sa.DateTime),
)


def _host(uri: str) -> str:
    return (urlsplit(uri).netloc or '').lower()


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(pledges.c.id, pledges.c.call_uri, pledges.c.coalition_uri)
        .where(pledges.c.source == 'origin', pledges.c.state == 'accepted')
    ).all()
    # A coalition of this server pledged here, never through a mirror ("local" rows), so every
    # mirrored row's coalition is either on the call's server or on a third one.
    foreign = [(row.id, row.call_uri) for row in rows if _host(row.coalition_uri) != _host(row.call_uri)]
    for start in range(0, len(foreign), 500):
        chunk = foreign[start:start + 500]
        bind.execute(
            pledges.update().where(pledges.c.id.in_([pledge_id for pledge_id, _ in chunk]))
            .values(state='unconfirmed', message=None, coalition_name=None)
        )
        bind.execute(
            objects.update().where(objects.c.uri.in_({call for _, call in chunk})).values(pledges_fetched_at=None)
        )

    stubs = sa.select(listings.c.actor_id).where(listings.c.discovered_via == 'roster')
    bind.execute(
        actors.update()
        .where(actors.c.is_local.is_(False), actors.c.fetched_at.is_(None), actors.c.id.in_(stubs))
        .values(name=None, username=None, url=None)
    )
    bind.execute(listings.update().values(roster_fetched_at=None))


def downgrade() -> None:
    # Before 0012 nothing was unconfirmed: the next refresh of each copy lists them again.
    op.execute(pledges.delete().where(pledges.c.state == 'unconfirmed'))
