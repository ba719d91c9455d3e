"""Alembic environment: runs migrations on the connection fedihub hands over (see storage/migrate.py)."""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `fedihub migrate`, which passes the database connection")

context.configure(connection=connection, target_metadata=context.config.attributes.get("metadata"),
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
