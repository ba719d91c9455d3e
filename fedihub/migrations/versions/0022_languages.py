"""languages: a call's language, each person's and subscriber's language, and the suggested movements

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 12:30:00

`objects.language` is the language a call (or any object) is written in, ours or a peer's;
`accounts.language` and `mail_subscriptions.language` say which language to write mail in;
`suggested_movements` is the instance admin's list of movements with a label per language, seeded
with broad movements (the defaults of coalitions/movement_list.py, copied: versions never import
live code).
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


DEFAULTS = (
    ("Tenants", "Housing and tenants", "Vivienda e inquilinos", "Logement et locataires"),
    ("Labour", "Labour and workers' rights", "Trabajo y derechos laborales", "Travail et droits des salariés"),
    ("Climate", "Climate justice", "Justicia climática", "Justice climatique"),
    ("AntiRacism", "Anti-racism", "Antirracismo", "Antiracisme"),
    ("AntiAusterity", "Anti-austerity", "Contra la austeridad", "Anti-austérité"),
    ("Feminism", "Feminism", "Feminismo", "Féminisme"),
    ("ImmigrantRights", "Migrants' rights", "Derechos de las personas migrantes", "Droits des personnes migrantes"),
    ("SolidarityNetwork", "Solidarity and mutual aid", "Solidaridad y apoyo mutuo", "Solidarité et entraide"),
    ("LGBTQ", "LGBTQ+ rights", "Derechos LGBTQ+", "Droits LGBTQ+"),
    ("Peace", "Peace and anti-war", "Paz y antimilitarismo", "Paix et antimilitarisme"),
)


def upgrade() -> None:
    movements = op.create_table(
        'suggested_movements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tag', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('labels', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tag'),
    )
    op.bulk_insert(movements, [
        {'tag': tag, 'position': index, 'labels': {'en': en, 'es': es, 'fr': fr}}
        for index, (tag, en, es, fr) in enumerate(DEFAULTS, start=1)
    ])
    with op.batch_alter_table('objects') as batch:
        batch.add_column(sa.Column('language', sa.String(length=35), nullable=True))
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('mail_subscriptions') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mail_subscriptions') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('objects') as batch:
        batch.drop_column('language')
    op.drop_table('suggested_movements')
