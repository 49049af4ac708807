"""Operators of the console in tests: made in the stack's store, signed in over real HTTP."""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from argon2 import PasswordHasher

from admin.audit import Role
from admin.identity import check_name
from settings import Settings
from store import Store
from tests.support.http import client as http_client

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@dataclass
class Operator:
    name: str
    password: str
    role: Role


# Every test operator's password, hashed once per test process. A stored Argon2id hash carries
# its own cost, and checking it costs as much as making it: at the service's cost (0.2 s of CPU,
# what `assessments operators add` and the console store, tested on their own in
# tests/test_cli_operators.py) the suite's hundred sign-ins cost 20 s of CPU; at the lowest cost,
# a millisecond each. A wrong name is still checked against a hash at the service's cost.
PASSWORD = secrets.token_urlsafe(16)


@functools.cache
def _hashed() -> str:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


async def new_operator(store: Store, role: Role = Role.OPERATOR) -> Operator:
    """An operator of a name no other test uses."""
    name = f"{role.value}-{secrets.token_hex(4)}"
    await store.operators.create(check_name(name), role.value, _hashed())
    return Operator(name, PASSWORD, role)


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in(
    http: httpx.AsyncClient, name: str, password: str, next_page: str = "/console"
) -> httpx.Response:
    """The sign-in form as a browser fills it: its page first (for the form token and cookie)."""
    form = await http.get("/console/sign-in")
    token = FORM_TOKEN.search(form.text)
    assert token, form.text
    return await http.post(
        "/console/sign-in",
        data={"name": name, "password": password, "form_token": token.group(1), "next": next_page},
    )


@contextlib.asynccontextmanager
async def signed_in(settings: Settings, operator: Operator) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client (its own cookies) signed in as the operator."""
    async with http_client(base_url=settings.public_url, follow_redirects=False) as http:
        answer = await sign_in(http, operator.name, operator.password)
        assert answer.status_code == 303, answer.text
        yield http
