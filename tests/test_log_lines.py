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
def logged(capsys):
    """The lines written once the test configured logging as a service's (within the test, where
    standard error is captured), parsed; pytest's own logging again after the test."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    levels = {name: logging.getLogger(name).level for name in ("", *telemetry.QUIET_LOGGERS)}

    def lines() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    yield lines
    root.handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)


def test_a_line_names_the_order_its_request_or_workflow_is_about(logged):
    telemetry.configure_logging(Settings())
    log = logging.getLogger("assessments.test")

    def serving_order_17() -> None:
        telemetry.ORDER_ID.set("order-17")
        log.info("order received")

    contextvars.copy_context().run(serving_order_17)
    log.info("worker polling")
    log.info("from workflow code", extra={"temporal_workflow": {"workflow_id": "assessment-order:order-18", "run_id": "r"}})
    log.info("another workflow", extra={"temporal_workflow": {"workflow_id": "not-an-order", "run_id": "r"}})

    received, polling, from_workflow, other = logged()
    assert received["order_id"] == "order-17" and {"time", "level", "logger", "message"} <= received.keys()
    assert from_workflow["order_id"] == "order-18" and from_workflow["temporal_workflow"]["run_id"] == "r"
    assert "order_id" not in polling and "order_id" not in other


def test_exceptions_keep_only_the_messages_we_wrote(logged):
    telemetry.configure_logging(Settings())
    try:
        try:
            raise ValueError(f"value is not a valid date: {EMAIL}")  # as a validation error quotes its input
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
    assert "builtins.KeyError (message not logged)" in unexpected["exc_info"] and "test_log_lines.py" in unexpected["exc_info"]
    assert EMAIL not in json.dumps([told, unexpected])
