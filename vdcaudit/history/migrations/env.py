"""Alembic environment: vdcaudit runs migrations itself (vdcaudit.history.store), always on a
connection it opened and locked, never from an alembic.ini."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
