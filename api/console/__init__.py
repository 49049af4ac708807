"""The operators' console under /console: server-rendered pages over the same operations as the
admin API and the CLI (`admin/`), for operators signed in with their own name and password."""

from fastapi import FastAPI

from api.console import accounts, audit_log, connections, oidc, orders, overview, pages, sign_in

PAGES = (sign_in, overview, orders, accounts, connections, audit_log, oidc)


def install(app: FastAPI) -> None:
    for module in PAGES:
        app.include_router(module.router, prefix="/console", include_in_schema=False)
    pages.install(app)
