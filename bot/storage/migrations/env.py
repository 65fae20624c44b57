"""Alembic environment: always run on a connection handed over by bot.storage.engine."""

from alembic import context

from bot.storage.models import Base, use_postgresql

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `werkbank db upgrade`")
if connection.dialect.name == "postgresql":
    use_postgresql()  # the indexes' PostgreSQL options (autogenerate compares them)

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
