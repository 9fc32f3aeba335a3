"""Alembic environment: ClawNet's tables and database URL, batch mode for SQLite."""

from __future__ import annotations

from sqlmodel import SQLModel

import clawnet.models  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import context
from clawnet.db import get_engine
from clawnet.settings import get_settings
from clawnet.social.search_index import include_object

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,  # the full-text index is not a model
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with get_engine(_url()).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things in place
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
