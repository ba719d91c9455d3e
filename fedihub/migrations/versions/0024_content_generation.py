"""content generation: one number raised by every transaction that changes shown content

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 15:40:00

One new table with one row (id 1, generation 0); caches of rendered public answers compare it with
the number they were rendered under. Nothing existing changes.
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'content_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'generation': 0}])


def downgrade() -> None:
    op.drop_table('content_generation')
