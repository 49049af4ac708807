"""/docs: Swagger UI over our OpenAPI document, its files served by us from a package
(swagger-ui-bundle-v2), so the page works on a machine without the internet."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS = "/docs"
ASSETS = f"{DOCS}/assets"
OAUTH2_REDIRECT = f"{DOCS}/oauth2-redirect"
# The HTML pages of the docs (their CSP lets their own scripts run: api/headers.py).
PAGES = frozenset({DOCS, OAUTH2_REDIRECT})


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    async def page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title}: API docs",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT,
        )

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_api_route(DOCS, page, include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route(
        OAUTH2_REDIRECT, oauth2_redirect, include_in_schema=False, response_class=HTMLResponse
    )
