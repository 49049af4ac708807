"""Vendor accounts, their API keys, and External Trigger Tokens, in the console.

Everything goes through `admin.operations.Operations`, as the admin API and the CLI do, so each
change is refused in the same words and recorded in the audit log as the signed-in operator's.
Secrets (an issued token or key, a webhook secret the hub made) appear once, in the answer to the
form that made them, on a page that is never cached; never in a URL, a list or a log.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from admin.audit import Action, Actor, Outcome
from admin.models import (
    ADAPTERS,
    MAX_TOKEN_DAYS,
    ONCE_NOTICE,
    NewApiKey,
    NewCredentials,
    NewTriggerToken,
    NewVendorAccount,
    VendorAccountView,
)
from admin.operations import (
    AdminError,
    Invalid,
    Operations,
)
from api.console.pages import render, see_other
from api.console.session import FormDep, OperatorFormDep, Refused, SignedInDep
from store import UnreadableSecret
from vendors import api_vendor

router = APIRouter()

# Bounds of what the forms take: JSON of credentials is a few hundred characters at most (a
# TestGorilla account's rate limits the longest); ids are uuids.
MAX_JSON = 8000
MAX_ID = 100


# What each adapter reads from its credentials (docs/vendors.md), for the create form's hints.
CREDENTIAL_HINTS: dict[str, str] = {
    "sandbox": '{} uses the hub\'s sandbox vendor; or {"api_key": "…", "base_url": "…"}',
    "hackerrank": '{"api_key": "…"}, optionally "base_url"',
    "checkr": '{"api_key": "…"}, optionally "base_url", "work_location" and "node"',
    "testgorilla": (
        '{"api_token": "…"} or {"username": "…", "password": "…"}, optionally "base_url" '
        'and "invitation_url_template"'
    ),
    api_vendor.NAME: (
        '{"webhook_url": "https://…"}, optionally "packages_url" and "webhook_secret" (made '
        "for you and shown once if left out)"
    ),
}

ACCOUNT_NOTICES = {
    "created": "The vendor account was created.",
    "credentials": "The credentials were replaced: open orders use them within a minute.",
    "key-revoked": "The API key was revoked: the vendor's next call with it is refused.",
}
TOKEN_NOTICES = {"revoked": "The trigger token was revoked. Companies connected with it stay so."}


def sentence(message: str) -> str:
    """An operations message (lower case, for the CLI's "Error: …") as a sentence on a page."""
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else f"{message}."


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """The operations' refusals as the console's refused page, with a fitting status."""
    try:
        yield
    except AdminError as err:
        raise Refused(err.status, sentence(str(err))) from None
    except UnreadableSecret:
        raise Refused(
            503,
            "A stored secret is encrypted with a key the hub no longer has: add it back to "
            "ASSESSMENTS_ENCRYPTION_KEYS.",
        ) from None


def bounded_id(value: str, what: str) -> str:
    """An id from a URL: anything longer than ours names nothing we hold."""
    if not value or len(value) > MAX_ID:
        raise Refused(404, f"No {what} {value[:MAX_ID]!r}.")
    return value


def operations(request: Request, actor: Actor) -> Operations:
    return Operations(request.app.state.store, request.app.state.settings, actor)


# The models' fields as the forms name them.
FIELD_LABELS = {
    "package_settings": "package settings",
    "expires_in_days": "days until it expires",
    "company_id": "company",
}


def validation_message(err: ValidationError) -> str:
    """Pydantic's reasons, by field as the form names it; never the values (they may be
    credentials)."""
    reasons = []
    for error in err.errors():
        field = " ".join(FIELD_LABELS.get(str(part), str(part)) for part in error["loc"])
        if error["type"] == "string_pattern_mismatch":  # only ids have patterns: say which
            reason = "may hold only letters, digits and _ . : -"
        else:
            reason = error["msg"].removeprefix("Value error, ")
            reason = reason[:1].lower() + reason[1:]
        reasons.append(f"{field or 'the form'}: {reason}")
    return "check " + "; ".join(reasons)


def json_object(text: str, what: str, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
    text = text.strip()
    if not text and empty is not None:
        return empty
    try:
        value = json.loads(text)
    except ValueError as err:
        # The position only: the message of json quotes nothing, but stays short this way.
        raise Invalid(
            f"{what} are not JSON (line {getattr(err, 'lineno', '?')}, column "
            f'{getattr(err, "colno", "?")}): write an object such as {{"api_key": "…"}}'
        ) from None
    if not isinstance(value, dict):
        raise Invalid(f'{what} must be a JSON object, such as {{"api_key": "…"}}')
    return value


async def _accounts(ops: Operations) -> list[VendorAccountView]:
    with refusals():
        return await ops.vendor_accounts()


async def _account(ops: Operations, vendor_account_id: str) -> VendorAccountView:
    """The account, read alone (listing them all decrypts every account's credentials)."""
    bounded_id(vendor_account_id, "vendor account")
    with refusals():
        return await ops.vendor_account(vendor_account_id)


# Vendor accounts


def _accounts_page(
    request: Request,
    accounts: list[VendorAccountView],
    *,
    status_code: int = 200,
    error: str = "",
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "vendor_accounts.html",
        section="vendor-accounts",
        status_code=status_code,
        accounts=accounts,
        adapters=ADAPTERS,
        hints=CREDENTIAL_HINTS,
        max_json=MAX_JSON,
        error=error,
        form=form or {"name": "", "adapter": "", "package_settings": ""},
        notice=ACCOUNT_NOTICES.get(request.query_params.get("done", "")),
    )


@router.get("/vendor-accounts", response_class=HTMLResponse)
async def vendor_accounts(request: Request, actor: SignedInDep) -> HTMLResponse:
    return _accounts_page(request, await _accounts(operations(request, actor)))


@router.post("/vendor-accounts", response_class=HTMLResponse)
async def create_vendor_account(
    request: Request,
    actor: OperatorFormDep,
    name: Annotated[str, Form(max_length=200)] = "",
    adapter: Annotated[str, Form(max_length=64)] = "",
    credentials: Annotated[str, Form(max_length=MAX_JSON)] = "",
    package_settings: Annotated[str, Form(max_length=MAX_JSON)] = "",
) -> Response:
    ops = operations(request, actor)
    # Kept on the page again after a refusal, but for the credentials: a secret is typed again.
    form = {"name": name, "adapter": adapter, "package_settings": package_settings}
    try:
        try:
            new = NewVendorAccount(
                name=name,
                adapter=adapter,
                credentials=json_object(credentials, "The credentials", empty={}),
                package_settings=json_object(package_settings, "The package settings", empty={}),
            )
        except ValidationError as err:
            raise Invalid(validation_message(err)) from None
        created = await ops.create_vendor_account(new)
    except AdminError as err:
        return _accounts_page(
            request,
            await _accounts(ops),
            status_code=err.status,
            error=f"{sentence(str(err))} Nothing was created"
            + ("; type the credentials again." if credentials else "."),
            form=form,
        )
    if created.webhook_secret is None:
        return see_other(f"/console/vendor-accounts/{created.id}?done=created")
    # The hub made the API vendor's webhook secret: this answer is the only place it appears.
    return render(
        request,
        "vendor_accounts_created.html",
        section="vendor-accounts",
        account=created,
        secret=created.webhook_secret,
        once=ONCE_NOTICE.replace("token", "webhook secret"),
    )


async def _account_page(
    request: Request,
    ops: Operations,
    vendor_account_id: str,
    *,
    status_code: int = 200,
    error: str = "",
) -> HTMLResponse:
    account = await _account(ops, vendor_account_id)
    with refusals():
        keys = await ops.api_keys(account.id) if account.adapter == api_vendor.NAME else []
        tokens = await ops.trigger_tokens(account.id)
    return render(
        request,
        "vendor_accounts_account.html",
        section="vendor-accounts",
        status_code=status_code,
        account=account,
        is_api=account.adapter == api_vendor.NAME,
        keys=keys,
        active_tokens=sum(token.state == "active" for token in tokens),
        tokens=len(tokens),
        hint=CREDENTIAL_HINTS.get(account.adapter, ""),
        held=await _credential_fields(request, account.id),
        max_json=MAX_JSON,
        error=error,
        notice=ACCOUNT_NOTICES.get(request.query_params.get("done", "")),
    )


async def _credential_fields(request: Request, vendor_account_id: str) -> list[str]:
    """The names of the fields the account's credentials hold, never their values: a
    replacement replaces them all, so the operator must know what to give again."""
    try:
        stored = await request.app.state.store.vendor_account(vendor_account_id)
    except UnreadableSecret:
        return []
    return sorted(stored.credentials) if stored is not None else []


@router.get("/vendor-accounts/{vendor_account_id}", response_class=HTMLResponse)
async def vendor_account(
    request: Request, actor: SignedInDep, vendor_account_id: str
) -> HTMLResponse:
    return await _account_page(request, operations(request, actor), vendor_account_id)


@router.post("/vendor-accounts/{vendor_account_id}/credentials", response_class=HTMLResponse)
async def replace_credentials(
    request: Request,
    actor: OperatorFormDep,
    vendor_account_id: str,
    credentials: Annotated[str, Form(max_length=MAX_JSON)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """No confirmation page of its own: it would have to carry the credentials back into a page.
    The form's own checkbox is the confirmation instead."""
    ops = operations(request, actor)
    bounded_id(vendor_account_id, "vendor account")
    try:
        if confirmed != "yes":
            raise Invalid("tick the box to confirm that open orders will use the new credentials")
        try:
            new = NewCredentials(credentials=json_object(credentials, "The credentials"))
        except ValidationError as err:
            raise Invalid(validation_message(err)) from None
        await ops.replace_vendor_credentials(vendor_account_id, new)
    except AdminError as err:
        return await _account_page(
            request,
            ops,
            vendor_account_id,
            status_code=err.status,
            error=sentence(str(err)) + " The credentials were not replaced.",
        )
    # Stored only for their shape; whether the vendor takes them, its answer says now.
    return await _checked(
        request, ops, await _account(ops, vendor_account_id), notice=ACCOUNT_NOTICES["credentials"]
    )


@router.post("/vendor-accounts/{vendor_account_id}/check", response_class=HTMLResponse)
async def check_vendor_account(
    request: Request, actor: FormDep, vendor_account_id: str
) -> HTMLResponse:
    """Read-only (the vendor's catalog, as orders read it), so a viewer may check too; a POST
    all the same, as it calls the vendor with the account's credentials. Recorded: who made the
    hub call a vendor, and what the vendor answered."""
    ops = operations(request, actor)
    return await _checked(request, ops, await _account(ops, vendor_account_id))


async def _checked(
    request: Request, ops: Operations, account: VendorAccountView, notice: str = ""
) -> HTMLResponse:
    """The vendor's answer to the catalog call with the account's credentials, recorded."""
    try:
        checked = await ops.check_vendor_account(account.id)
    except AdminError as err:
        await ops.audit.record(
            Action.VENDOR_ACCOUNT_CHECK, account.id, outcome=Outcome.FAILED, detail=str(err)
        )
        return render(
            request,
            "vendor_accounts_check.html",
            section="vendor-accounts",
            status_code=err.status,
            account=account,
            checked=None,
            error=sentence(str(err)),
            notice=notice,
        )
    await ops.audit.record(
        Action.VENDOR_ACCOUNT_CHECK,
        account.id,
        detail=f"{len(checked.packages)} packages offered, from {checked.vendor_url}",
    )
    return render(
        request,
        "vendor_accounts_check.html",
        section="vendor-accounts",
        account=account,
        checked=checked,
        error="",
        notice=notice,
    )


# API keys of API vendor accounts


@router.post("/vendor-accounts/{vendor_account_id}/api-keys", response_class=HTMLResponse)
async def issue_api_key(
    request: Request,
    actor: OperatorFormDep,
    vendor_account_id: str,
    label: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    ops = operations(request, actor)
    account = await _account(ops, vendor_account_id)
    try:
        try:
            new = NewApiKey(label=label or "default")
        except ValidationError as err:
            raise Invalid(validation_message(err)) from None
        issued = await ops.issue_api_key(account.id, new)
    except AdminError as err:
        return await _account_page(
            request,
            ops,
            account.id,
            status_code=err.status,
            error=sentence(str(err)) + " No key was issued.",
        )
    return render(
        request,
        "vendor_accounts_api_key_issued.html",
        section="vendor-accounts",
        account=account,
        issued=issued,
    )


async def _api_key(ops: Operations, vendor_account_id: str, key_id: str) -> Any:
    bounded_id(key_id, "API key")
    account = await _account(ops, vendor_account_id)
    with refusals():
        keys = await ops.api_keys(account.id)
    for key in keys:
        if key.id == key_id:
            return account, key
    raise Refused(404, f"No API key {key_id!r} of vendor account {account.name!r}.")


@router.get(
    "/vendor-accounts/{vendor_account_id}/api-keys/{key_id}/revoke", response_class=HTMLResponse
)
async def confirm_revoke_api_key(
    request: Request, actor: SignedInDep, vendor_account_id: str, key_id: str
) -> HTMLResponse:
    account, key = await _api_key(operations(request, actor), vendor_account_id, key_id)
    return render(
        request,
        "vendor_accounts_api_key_revoke.html",
        section="vendor-accounts",
        account=account,
        key=key,
    )


@router.post("/vendor-accounts/{vendor_account_id}/api-keys/{key_id}/revoke")
async def revoke_api_key(
    request: Request, actor: OperatorFormDep, vendor_account_id: str, key_id: str
) -> Response:
    ops = operations(request, actor)
    account, key = await _api_key(ops, vendor_account_id, key_id)
    with refusals():
        await ops.revoke_api_key(key.id)
    return see_other(f"/console/vendor-accounts/{account.id}?done=key-revoked")


# External Trigger Tokens


async def _tokens_page(
    request: Request,
    ops: Operations,
    *,
    vendor_account: str = "",
    status_code: int = 200,
    error: str = "",
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    accounts = await _accounts(ops)
    names = {account.id: account.name for account in accounts}
    if vendor_account and vendor_account not in names:
        raise Refused(404, f"No vendor account {vendor_account[:MAX_ID]!r}.")
    with refusals():
        tokens = await ops.trigger_tokens(vendor_account or None)
    tokens.sort(key=lambda token: token.created_at, reverse=True)
    settings = request.app.state.settings
    return render(
        request,
        "tokens.html",
        section="tokens",
        status_code=status_code,
        tokens=tokens,
        accounts=accounts,
        names=names,
        vendor_account=vendor_account,
        default_days=f"{settings.trigger_token_days:g}",
        max_days=MAX_TOKEN_DAYS,
        error=error,
        form=form or {"vendor_account": vendor_account, "company_id": "", "days": ""},
        notice=TOKEN_NOTICES.get(request.query_params.get("done", "")),
    )


@router.get("/trigger-tokens", response_class=HTMLResponse)
async def trigger_tokens(
    request: Request, actor: SignedInDep, vendor_account: str = ""
) -> HTMLResponse:
    return await _tokens_page(
        request, operations(request, actor), vendor_account=vendor_account[: MAX_ID + 1]
    )


@router.post("/trigger-tokens", response_class=HTMLResponse)
async def issue_trigger_token(
    request: Request,
    actor: OperatorFormDep,
    vendor_account: Annotated[str, Form(max_length=MAX_ID)] = "",
    company_id: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    ops = operations(request, actor)
    form = {"vendor_account": vendor_account, "company_id": company_id, "days": days}
    try:
        if not vendor_account:
            raise Invalid("choose the vendor account the token connects companies to")
        try:
            expires_in_days = float(days) if days.strip() else None
        except ValueError:
            raise Invalid("the days until it expires must be a number, such as 30") from None
        if expires_in_days is not None and not math.isfinite(expires_in_days):
            raise Invalid("the days until it expires must be a number, such as 30")
        try:
            new = NewTriggerToken(
                expires_in_days=expires_in_days, company_id=company_id.strip() or None
            )
        except ValidationError as err:
            raise Invalid(validation_message(err)) from None
        issued = await ops.issue_trigger_token(vendor_account, new)
    except AdminError as err:
        return await _tokens_page(
            request,
            ops,
            status_code=err.status,
            error=sentence(str(err)) + " No token was issued.",
            form=form,
        )
    return render(
        request,
        "tokens_issued.html",
        section="tokens",
        issued=issued,
        account_name=(await _account(ops, issued.vendor_account_id)).name,
        once=ONCE_NOTICE,
    )


async def _token(ops: Operations, token_id: str) -> Any:
    bounded_id(token_id, "trigger token")
    with refusals():
        tokens = await ops.trigger_tokens()
    for token in tokens:
        if token.id == token_id:
            return token
    raise Refused(404, f"No trigger token {token_id!r}.")


@router.get("/trigger-tokens/{token_id}/revoke", response_class=HTMLResponse)
async def confirm_revoke_trigger_token(
    request: Request, actor: SignedInDep, token_id: str
) -> HTMLResponse:
    ops = operations(request, actor)
    token = await _token(ops, token_id)
    return render(
        request,
        "tokens_revoke.html",
        section="tokens",
        token=token,
        account_name=(await _account(ops, token.vendor_account_id)).name,
    )


@router.post("/trigger-tokens/{token_id}/revoke")
async def revoke_trigger_token(request: Request, actor: OperatorFormDep, token_id: str) -> Response:
    ops = operations(request, actor)
    bounded_id(token_id, "trigger token")
    with refusals():
        await ops.revoke_trigger_token(token_id)
    return see_other("/console/trigger-tokens?done=revoked")
