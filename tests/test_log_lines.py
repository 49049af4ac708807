"""Log lines as a service process writes them: one JSON object each, naming the order it is about,
and no exception message that could quote candidate data."""

from __future__ import annotations

import contextvars
import json
import logging

import pytest

import telemetry
from peers import PeerError
from settings import Settings

EMAIL = "ada.lovelace@example.com"


@pytest.fixture
def written(capsys):
    """What was written once the test configured logging as a service's (within the test, where
    standard error is captured); pytest's own logging again after the test."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    levels = {name: logging.getLogger(name).level for name in ("", *telemetry.QUIET_LOGGERS)}
    yield lambda: capsys.readouterr().err
    root.handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)


@pytest.fixture
def logged(written):
    """The lines written, parsed (the JSON format)."""
    return lambda: [json.loads(line) for line in written().splitlines()]


def test_a_line_names_the_order_its_request_or_workflow_is_about(logged):
    telemetry.configure_logging(Settings())
    log = logging.getLogger("assessments.test")

    def serving_order_17() -> None:
        telemetry.ORDER_ID.set("order-17")
        log.info("order received")

    contextvars.copy_context().run(serving_order_17)
    log.info("worker polling")
    log.info(
        "from workflow code",
        extra={"temporal_workflow": {"workflow_id": "assessment-order:order-18", "run_id": "r"}},
    )
    log.info(
        "another workflow",
        extra={"temporal_workflow": {"workflow_id": "not-an-order", "run_id": "r"}},
    )

    received, polling, from_workflow, other = logged()
    assert (
        received["order_id"] == "order-17"
        and {"time", "level", "logger", "message"} <= received.keys()
    )
    assert (
        from_workflow["order_id"] == "order-18"
        and from_workflow["temporal_workflow"]["run_id"] == "r"
    )
    assert "order_id" not in polling and "order_id" not in other


def test_exceptions_keep_only_the_messages_we_wrote(logged):
    telemetry.configure_logging(Settings())
    try:
        try:
            raise ValueError(
                f"value is not a valid date: {EMAIL}"
            )  # as a validation error quotes its input
        except ValueError as err:
            raise PeerError("SmartRecruiters", "result update answered HTTP 500") from err
    except PeerError:
        logging.getLogger("assessments.test").exception("update failed")
    try:
        raise KeyError(EMAIL)
    except KeyError as err:
        logging.getLogger("assessments.test").error("unexpected", exc_info=err)

    told, unexpected = logged()
    assert "peers.PeerError: SmartRecruiters: result update answered HTTP 500" in told["exc_info"]
    assert "caused by builtins.ValueError (message not logged)" in told["exc_info"]
    assert (
        "builtins.KeyError (message not logged)" in unexpected["exc_info"]
        and "test_log_lines.py" in unexpected["exc_info"]
    )
    assert EMAIL not in json.dumps([told, unexpected])


# What a caller controls and a log line may quote: an order id from a signed webhook's
# `reference`, a message argument. Each tries to end the line and forge another, hide itself
# (NUL, a right-to-left override) or drive the terminal (ESC).
FORGED = (
    "ord-1\r\n2026-01-01 00:00:00,000 INFO assessments.api [ord-2] order "
    "completed\x00\x1b[2J\u202e\u2028é🙂"
)


def serving(order_id: str, log: logging.Logger) -> None:
    def request() -> None:
        telemetry.ORDER_ID.set(order_id)
        log.warning("webhook for %s", order_id)

    contextvars.copy_context().run(request)


def test_text_lines_stay_one_printable_line_whatever_they_quote(written):
    telemetry.configure_logging(Settings(log_format="text"))
    serving(FORGED, logging.getLogger("assessments.test"))

    [line] = written().splitlines()
    assert line.isprintable(), line
    escaped = (
        "ord-1\\r\\n2026-01-01 00:00:00,000 INFO assessments.api [ord-2] order "
        "completed\\x00\\x1b[2J\\u202e\\u2028é🙂"
    )
    assert line.endswith(f"WARNING assessments.test [{escaped}] webhook for {escaped}")


def test_json_lines_hold_only_printable_values_whatever_they_quote(logged):
    telemetry.configure_logging(Settings(log_format="json"))
    serving(FORGED, logging.getLogger("assessments.test"))
    logging.getLogger("assessments.test").info(
        "from workflow code",
        extra={"temporal_workflow": {"workflow_id": f"assessment-order:{FORGED}", "run_id": "r\n"}},
    )

    request, workflow = logged()
    assert request["order_id"] == (
        "ord-1\\r\\n2026-01-01 00:00:00,000 INFO assessments.api [ord-2] order "
        "completed\\x00\\x1b[2J\\u202e\\u2028é🙂"
    )
    assert request["message"] == f"webhook for {request['order_id']}"
    # A workflow id names the order up to its first ':' (the company follows: orders/visibility.py).
    assert workflow["order_id"] == "ord-1\\r\\n2026-01-01 00"
    assert workflow["temporal_workflow"] == {
        "workflow_id": f"assessment-order:{request['order_id']}",
        "run_id": "r\\n",
    }


def test_a_logged_exception_keeps_its_lines_but_escapes_what_they_quote(written):
    telemetry.configure_logging(Settings(log_format="text"))
    try:
        raise PeerError("vendor", "refused order ord-1\r\nforged line\x1b[2J")
    except PeerError:
        logging.getLogger("assessments.test").exception("call failed")

    first, *trace = written().splitlines()
    assert first.endswith("call failed") and all(line.isprintable() for line in trace)
    assert "peers.PeerError: vendor: refused order ord-1\\r\\nforged line\\x1b[2J" in trace
