"""Alembic environment of the store.

Migrations run through `Store.migrate()`, which opens the connection on the async engine and
hands it over here inside `connection.run_sync` (as `config.attributes["connection"]`). To write a
new revision, copy the newest file in `versions/` or use `alembic.command.revision` with the
same programmatic config.
"""

from __future__ import annotations

from alembic import context

from store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run the store's migrations with Store.migrate(), which provides the connection"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
