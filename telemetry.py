"""What our processes tell operators: log lines (one JSON object each) naming the order they are
about, and OpenTelemetry traces following an order from SR's POST through Temporal to the calls
its activities make to SR and the vendor.

Every value a line holds is escaped to printable characters, so what a caller chose (an order id
from a webhook) cannot forge lines or hide in them. Neither carries candidate data or secrets. Log
calls never pass them, and logged exceptions keep their messages only where we know what those say;
spans lose the query string of every URL (a vendor lookup by email carries the email there) and
never record headers or bodies.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.trace import Span
    from temporalio.client import Interceptor

# The order the API request being served is about, set where the request names it.
ORDER_ID: ContextVar[str | None] = ContextVar("order_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(order_id)s] %(message)s"
# Held at WARNING whatever the level: httpx and httpcore log each request's URL, query string
# included; aiosqlite logs rows at DEBUG; alembic logs each migration step at every start.
QUIET_LOGGERS = ("httpx", "httpcore", "aiosqlite", "alembic")


def configure_logging(settings: Settings) -> None:
    """Every line of this process to standard error, as JSON or text, with the order it is about."""
    handler = logging.StreamHandler()
    handler.addFilter(_name_the_order)
    if settings.log_format == "json":
        handler.setFormatter(
            _JsonLines(
                ["levelname", "name", "message"],
                timestamp="time",
                rename_fields={"levelname": "level", "name": "logger"},
                # Temporal core's own record of a forwarded line, and uvicorn's coloured message.
                reserved_attrs=[*RESERVED_ATTRS, "temporal_log", "color_message"],
            )
        )
    else:
        handler.setFormatter(_TextLines(TEXT_FORMAT, defaults={"order_id": "-"}))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    logging.captureWarnings(True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def _name_the_order(record: logging.LogRecord) -> bool:
    if (order_id := _order_of(record)) is not None:
        record.order_id = order_id
    return True


def _order_of(record: logging.LogRecord) -> str | None:
    """In an activity, its workflow's order; in workflow code, the one Temporal's workflow logger
    names; in the API, the one the request named."""
    # Only a process that loaded Temporal's SDK runs activities: a simulator, which never does, is
    # spared loading it (a third of its start).
    activity = sys.modules.get("temporalio.activity")
    if activity is not None and activity.in_activity():
        workflow_id = activity.info().workflow_id or ""
    elif workflow := getattr(record, "temporal_workflow", None):
        workflow_id = workflow.get("workflow_id", "")
    else:
        return ORDER_ID.get()
    from orders.visibility import order_id_of

    return order_id_of(workflow_id)


def _told(exc: BaseException | None) -> str:
    """An exception and its causes, latest first: types and frames, and only the messages of
    TOLD_EXCEPTIONS."""
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        message = f": {printable(str(exc))}" if _may_tell(exc) else " (message not logged)"
        parts += [
            f"{'caused by ' if parts else ''}{type(exc).__module__}.{type(exc).__qualname__}"
            f"{message}\n",
            *traceback.format_tb(exc.__traceback__),
        ]
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "".join(parts).rstrip("\n")


def _may_tell(exc: BaseException) -> bool:
    """Whether the message of `exc` may be logged: Temporal's (of ApplicationErrors, only the types
    we raise ourselves: the SDK wraps any other exception an activity raises, a validation error
    quoting its input, in one, message and all), PeerError's (never a body) and the system's (an
    address refusing connections, a missing file). Any other message can quote what must not be
    logged: a validation error its input, a database error its parameters."""
    # Imported at the first exception logged, not at the start of every process that logs.
    from temporalio.exceptions import ApplicationError, TemporalError

    from peers import (
        CREDENTIALS_REFUSED,
        INVITATION_UNKNOWN,
        PEER_REJECTED,
        PEER_UNAVAILABLE,
        PeerError,
    )

    if isinstance(exc, ApplicationError):
        return exc.type in (
            PEER_REJECTED,
            PEER_UNAVAILABLE,
            CREDENTIALS_REFUSED,
            INVITATION_UNKNOWN,
        )
    return isinstance(exc, (TemporalError, PeerError, OSError))


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every character that is not printable escaped (\\n, \\x00, \\u202e…): a value a
    caller chose (an order id from a webhook, a name) can neither end a log line and forge the
    next, nor hide itself or drive the terminal reading it."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else _ESCAPES.get(char) or repr(char)[1:-1] for char in text
    )


def _printable_lines(text: str) -> str:
    """A traceback keeps its lines (the messages in it are escaped whole, by _told)."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _printable_values(value):
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(key)): _printable_values(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable_values(item) for item in value]
    return value


class _JsonLines(JsonFormatter):
    def formatException(self, ei) -> str:
        return _printable_lines(_told(ei[1]))

    def formatStack(self, stack_info: str) -> str:
        return _printable_lines(stack_info)

    def process_log_record(self, log_data: dict) -> dict:
        traces = {key: log_data.pop(key) for key in ("exc_info", "stack_info") if key in log_data}
        return _printable_values(log_data) | traces


class _TextLines(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

    def formatException(self, ei) -> str:
        return _printable_lines(_told(ei[1]))

    def formatStack(self, stack_info: str) -> str:
        return _printable_lines(stack_info)


def tracing_enabled(settings: Settings) -> bool:
    """Spans are made only where a collector takes them; elsewhere tracing costs nothing."""
    return bool(
        settings.otlp_endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_tracing(settings: Settings, service: str, app: FastAPI | None = None) -> None:
    """Send this process's spans to the collector: every httpx call's, and with `app` every
    request's but the health checks'. Temporal's come from temporal_interceptors()."""
    if not tracing_enabled(settings):
        return
    # Imported only here: a process without a collector never loads the SDK.
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from peers import on_new_peer_client

    # Without our endpoint the exporter reads the standard OTEL_EXPORTER_OTLP_* variables.
    endpoint = f"{settings.otlp_endpoint.rstrip('/')}/v1/traces" if settings.otlp_endpoint else None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(
        BatchSpanProcessor(_without_exception_messages(OTLPSpanExporter(endpoint=endpoint)))
    )
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument(
        request_hook=_without_query, async_request_hook=_without_query_async
    )
    # That covers httpx's own transport; calls to SR and vendors go through ours (aiohttp's).
    on_new_peer_client(
        lambda client: HTTPXClientInstrumentor.instrument_client(
            client, request_hook=_without_query_async
        )
    )
    if app is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            server_request_hook=_without_query,
            excluded_urls="/healthz,/readyz",
            exclude_spans=["receive", "send"],
        )


def _without_exception_messages(exporter):
    """The exporter, sending spans without what an exception said: Temporal's interceptor and
    the ASGI middleware record a failure's message (in the status and an `exception` event), and
    a message can quote its input. The exception's type stays, as in our log lines."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Status

    def told(span: ReadableSpan) -> ReadableSpan:
        events = [
            Event(
                event.name,
                {"exception.type": (event.attributes or {}).get("exception.type", "")},
                event.timestamp,
            )
            if event.name == "exception"
            else event
            for event in span.events
        ]
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=span.attributes,
            events=events,
            links=span.links,
            kind=span.kind,
            status=Status(span.status.status_code),
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    class WithoutExceptionMessages(SpanExporter):
        def export(self, spans):
            return exporter.export([told(span) for span in spans])

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return exporter.force_flush(timeout_millis)

    return WithoutExceptionMessages()


def temporal_interceptors(settings: Settings) -> list[Interceptor]:
    """Spans for workflow starts, signals and updates, workflows and activities; on the client,
    so the worker's inherit them."""
    if not tracing_enabled(settings):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def _without_query(span: Span, *_: object) -> None:
    """The span's URL without its query string, whatever the request carried there."""
    if not span.is_recording():
        return
    # A recording span is the SDK's, which shows its attributes; the API's type does not.
    attributes: Mapping[str, object] = getattr(span, "attributes", None) or {}
    for key in ("http.url", "url.full"):  # the older and the stable semantic conventions
        if isinstance(url := attributes.get(key), str) and url:
            span.set_attribute(key, urlunsplit(urlsplit(url)._replace(query="", fragment="")))
    if "url.query" in attributes:  # the stable conventions' server spans; it cannot be removed
        span.set_attribute("url.query", "")


async def _without_query_async(span: Span, *_: object) -> None:
    _without_query(span)
