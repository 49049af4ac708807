"""The codec endpoint: lets authorised operators read encrypted orders in the Temporal UI and CLI.

Temporal's remote codec protocol: `POST …/encode` and `POST …/decode` with `{"payloads": [...]}`
(protobuf JSON). Two ways in, both compared in constant time:
- `/codec/encode|decode` with the admin key as a bearer token (the CLI's `--codec-endpoint
  {api}/codec` with `TEMPORAL_CODEC_AUTH="Bearer …"`);
- `/codec/ui/{capability}/encode|decode`, the URL the Temporal UI is configured with (the UI
  cannot send our bearer key): whoever may open the UI may read orders in it.
CORS answers only the Temporal UI's origins (ASSESSMENTS_CODEC_CORS_ORIGINS).
"""

from __future__ import annotations

import hmac
from typing import Literal, cast

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from api.deps import SettingsDep, TemporalDep, admin_actor
from api.openapi import refusals
from codec import PayloadKeyError
from settings import Settings

router = APIRouter(prefix="/codec", tags=["Operations"])
Direction = Literal["encode", "decode"]


# A payload the configured keys cannot open (tampered, or sealed under a key no longer listed).
UNOPENABLE = refusals(422, _422="A payload cannot be opened with the configured keys")


@router.post(
    "/{direction}",
    summary="Encode or decode Temporal payloads (admin key as bearer token)",
    dependencies=[Depends(admin_actor)],
    responses=UNOPENABLE,
)
async def with_admin_key(direction: Direction, request: Request, temporal: TemporalDep) -> Response:
    return await _convert(direction, request, temporal)


@router.post(
    "/ui/{capability}/{direction}",
    summary="Encode or decode Temporal payloads for the Temporal UI",
    responses=UNOPENABLE | refusals(404),
)
async def for_the_ui(
    capability: str,
    direction: Direction,
    request: Request,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> Response:
    expected = settings.ui_codec_capability.encode()
    if not hmac.compare_digest(capability.encode("utf-8", "replace"), expected):
        raise HTTPException(404, "Not Found")
    return _cors(request, settings, await _convert(direction, request, temporal))


@router.options("/ui/{capability}/{direction}", include_in_schema=False)
async def preflight(
    capability: str, direction: str, request: Request, settings: SettingsDep
) -> Response:
    """The browser asks first: the UI posts JSON with X-Namespace (and may send Authorization)."""
    response = _cors(request, settings, Response(status_code=204))
    if "access-control-allow-origin" in response.headers:
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Content-Type, X-Namespace, Authorization"
        )
        response.headers["Access-Control-Max-Age"] = "600"
    return response


async def _convert(direction: Direction, request: Request, temporal: Client) -> Response:
    try:
        payloads = json_format.Parse(await request.body(), Payloads())
    except (json_format.ParseError, UnicodeDecodeError):
        raise HTTPException(
            400, 'The body must be {"payloads": [...]} in Temporal\'s JSON form'
        ) from None
    # temporal_client.connect gives every client of ours the encryption codec.
    codec = cast(PayloadCodec, temporal.data_converter.payload_codec)
    try:
        converted = await (codec.encode if direction == "encode" else codec.decode)(
            payloads.payloads
        )
    except PayloadKeyError as err:
        raise HTTPException(422, str(err)) from None
    body = json_format.MessageToJson(Payloads(payloads=converted), indent=None)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def _cors(request: Request, settings: Settings, response: Response) -> Response:
    origin = request.headers.get("origin")
    if origin and origin in settings.codec_cors_origins_or_default:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response
