"""Fixtures of the hostile-input tests: the session stack's API, our bearer tokens, and APIs of
our own with other settings (served in-process, against the stack's Temporal), one of them on
PostgreSQL, the production store."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from psycopg import sql

from api.app import create_app
from embedded import Stack, free_port
from settings import Settings
from store import Store
from tests.support.http import client as http_client
from tests.support.servers import serve

POSTGRES_SERVER = "postgres@127.0.0.1:5432"  # as tests/store uses it


@contextlib.contextmanager
def own_api(settings: Settings, **changes) -> Iterator[str]:
    """Our API with `changes` to the stack's settings, on a port of its own; yields its URL."""
    with serve(create_app(settings.model_copy(update=changes))) as url:
        yield url


@contextlib.contextmanager
def api_process(settings: Settings, **changes) -> Iterator[str]:
    """Our API as `assessments api` runs it (its own process, uvicorn configured by
    cli/running.py), with `changes` to the stack's settings, on a port of its own; yields its
    URL."""
    port = free_port()
    changes |= {"api_port": port, "public_url": f"http://127.0.0.1:{port}"}
    own = Stack(
        settings.model_copy(update=changes), log_dir=settings.data_dir / "logs" / f"api-{port}"
    )
    try:
        own.start_component("api", "api", port)
        yield own.settings.public_url
    finally:
        own.stop()


@pytest.fixture
async def api(stack):
    async with http_client(base_url=stack.settings.public_url) as http:
        yield http


@pytest.fixture(scope="module")
def postgresql_api(stack) -> Iterator[str]:
    """Our API with its store on PostgreSQL (a fresh database); skipped without a server."""
    try:
        server = psycopg.connect(
            f"postgresql://{POSTGRES_SERVER}/test", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {error}")
    name = f"assessments_hostile_{secrets.token_hex(6)}"
    with server:
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            with own_api(
                stack.settings, database_url=f"postgresql+psycopg://{POSTGRES_SERVER}/{name}"
            ) as url:
                yield url
        finally:
            server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
async def checkr_account(stack) -> tuple[str, str]:
    """A Checkr account in the stack's store (its API key is its webhook signing key): (id, key)."""
    key = f"hostile-checkr-{uuid.uuid4().hex}"
    store = Store(stack.settings.store_url, stack.settings.encryption_keys.get_secret_value())
    try:
        account = await store.create_vendor_account(
            name=f"checkr-hostile-{uuid.uuid4().hex[:8]}",
            adapter="checkr",
            credentials={"api_key": key, "base_url": stack.settings.checkr_sim_url},
        )
    finally:
        await store.dispose()
    return account.id, key


def sr_token(base_url: str, settings: Settings) -> str:
    """A bearer token of the any-company credentials, as SR gets it at POST /oauth/token."""
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.partner_client_id,
        "client_secret": settings.partner_client_secret.get_secret_value(),
    }
    response = httpx.post(f"{base_url}/oauth/token", data=form, timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]
