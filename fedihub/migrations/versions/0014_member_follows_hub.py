"""member follows hub: a member's Follow of its hub is marked, so the two follows of a membership differ

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 08:30:00

A membership is the hub's Follow of its member; the member now follows its hub too, so the hub's
Announces reach it. Between two hubs both follows look alike, so the member's one carries a flag: it
is not a membership of the hub in the member. Existing memberships get that follow from the
hubs.two-way-sweep job.

Native ALTER TABLE ... ADD/DROP COLUMN on both backends.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


# Long past, so the backfill is due whatever the clock says.
_DUE = datetime(2000, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    op.add_column('follows', sa.Column('of_hub', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Existing memberships with a member of this server: the worker's sweep makes those members follow
    # their hubs (hubs/two_way.py). Nothing is queued on a server without any.
    op.execute(
        sa.text(
            "INSERT INTO jobs (name, kind, state, attempts, next_attempt_at, created_at) "
            "SELECT :name, :kind, 'pending', 0, :due, :due WHERE EXISTS ("
            " SELECT 1 FROM follows JOIN hub_settings ON hub_settings.actor_id = follows.follower_id"
            " JOIN actors ON actors.id = follows.target_id"
            " WHERE follows.state = 'accepted' AND actors.is_local = :yes)"
        ).bindparams(
            sa.bindparam("due", _DUE, type_=sa.DateTime(timezone=True)),
            name="hubs.two-way-sweep:backfill", kind="hubs.two-way-sweep", yes=True,
        )
    )


def downgrade() -> None:
    op.drop_column('follows', 'of_hub')
