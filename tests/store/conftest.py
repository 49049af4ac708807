"""Every store test runs twice: on SQLite (a file per test) and on PostgreSQL
(a database per test)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store import Store

POSTGRES_ADDRESS = "127.0.0.1:5432"
POSTGRES_SERVER = f"postgres@{POSTGRES_ADDRESS}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[psycopg.Connection]:
    """A connection to the server, for creating and dropping the test databases."""
    try:
        connection = psycopg.connect(
            f"postgresql://{POSTGRES_SERVER}/test", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as error:
        pytest.skip(
            f"PostgreSQL is not reachable at {POSTGRES_ADDRESS}, so the PostgreSQL variant "
            f"is skipped: {error}"
        )
    with connection:
        yield connection


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
        return
    server: psycopg.Connection = request.getfixturevalue("postgres")
    name = f"assessments_test_{secrets.token_hex(6)}"
    server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://{POSTGRES_SERVER}/{name}"
    finally:
        server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
async def store(database_url: str, encryption_key: str) -> AsyncIterator[Store]:
    store = Store(database_url, encryption_key)
    await store.migrate()
    yield store
    await store.dispose()


class RawDatabase:
    """The store's database as plain SQL sees it, to check what is really at rest."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def rows(self, table: str) -> list[tuple]:
        async with self.engine.connect() as connection:
            return list(await connection.execute(text(f"SELECT * FROM {table}")))

    async def text_of(self, table: str) -> str:
        """Every value in the table as one string, for asserting that a secret is not in it."""
        return repr(await self.rows(table))


@pytest.fixture
async def raw(
    database_url: str, store: Store
) -> AsyncIterator[RawDatabase]:  # after `store` has migrated
    engine = create_async_engine(database_url)
    yield RawDatabase(engine)
    await engine.dispose()
