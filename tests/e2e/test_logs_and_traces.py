"""Logs and traces of the real processes: JSON lines naming the order they are about, one trace per
order from SR's POST through Temporal to SR and the vendor, and no candidate data in either.

A stack of its own (Temporal, SR simulator, sandbox vendor, worker, API) exports its spans to an
OTLP/HTTP receiver run by the test, as a collector (Jaeger, Tempo) would take them on :4318.
"""

from __future__ import annotations

import json
import uuid

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from embedded import free_port
from simulators.testgorilla import app as testgorilla
from simulators.testgorilla.config import TestGorillaSimConfig
from store import Store
from tests.support.connect import company_of_new_vendor_account, register_partner_configuration
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id
from tests.support.servers import order_path, serve
from tests.support.waiting import eventually
from tests.support.world import World

URL_ATTRIBUTES = ("http.url", "url.full", "http.target", "url.query")
PYTHON_DEVELOPER = "101"  # a TestGorilla assessment


class Collector:
    """An OTLP/HTTP trace receiver: every span exported to it, with its service's name."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Span]] = []
        self.url = ""  # once it is served
        self.app = Starlette(routes=[Route("/v1/traces", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        export = ExportTraceServiceRequest.FromString(await request.body())
        for batch in export.resource_spans:
            service = attribute(batch.resource, "service.name")
            self.spans += [(service, span) for scope in batch.scope_spans for span in scope.spans]
        return Response(
            ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf"
        )


def attribute(item, key: str) -> str | None:
    return next((a.value.string_value for a in item.attributes if a.key == key), None)


def url_of(span: Span) -> str:
    return attribute(span, "http.url") or attribute(span, "url.full") or ""


@pytest.fixture(scope="module")
def collector():
    received = Collector()
    with serve(received.app) as url:
        received.url = url
        yield received


@pytest.fixture(scope="module")
def traced_stack(tmp_path_factory, collector):
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # spans leave every 0.1 s, not 5 s
        with order_path(
            tmp_path_factory.mktemp("traced"), otlp_endpoint=collector.url, poll_interval_seconds=2
        ) as stack:
            yield stack


@pytest.fixture
async def world(traced_stack):
    async with http_client(timeout=30) as http:
        yield World(traced_stack.settings, http)


async def order_for_a_new_candidate(
    world: World,
    package_id: str = "skills-fullstack",
    company_id: str | None = None,
    times: int = 1,
) -> tuple[dict, str]:
    """`times` orders for a new candidate whose name and email hold a marker:
    the last order, the marker."""
    marker = uuid.uuid4().hex
    candidate = {
        "first_name": "Ada",
        "last_name": f"Lovelace{marker}",
        "email": f"ada.{marker}@example.com",
    }
    created = await world.http.post(
        f"{world.sr}/__sim/candidates",
        json=candidate | ({"company_id": company_id} if company_id else {}),
    )
    order = {
        "candidate_id": created.raise_for_status().json()["id"],
        "package_id": package_id,
        "kind": "manual",
    }
    for _ in range(times):
        placed = (
            (await world.http.post(f"{world.sr}/__sim/orders", json=order))
            .raise_for_status()
            .json()
        )
    return placed | {"candidate": candidate}, marker


async def an_order_whose_first_progress_sr_refuses(world: World) -> tuple[str, str]:
    """An order that reached IN_PROGRESS after SR refused that update once (the worker's activity
    failed, and was retried): its id, and the marker in its candidate's name and email."""
    placed, marker = await order_for_a_new_candidate(world)
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    await world.sr_refuses(order_id, 500, method=None, path=order_id)
    await world.at_vendor("start", order_id)
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    return order_id, marker


def assert_no_candidate_data(collector: Collector, marker: str) -> None:
    """The marker is in the candidate's name and email, so it also finds them URL-encoded. No
    span says what an exception said (a message can quote its input): only its type."""
    for service, span in collector.spans:
        attributes = [*span.attributes, *(a for event in span.events for a in event.attributes)]
        assert marker not in span.name
        assert span.status.message == "", (
            f"{service} span {span.name!r} keeps an exception's message"
        )
        assert not [
            a for a in attributes if a.key in ("exception.message", "exception.stacktrace")
        ], f"{span.name!r} keeps an exception's message"
        for a in attributes:
            assert marker not in str(a.value), (
                f"{service} span {span.name!r} holds candidate data in {a.key}"
            )
            if a.key in URL_ATTRIBUTES:
                assert "?" not in a.value.string_value and (
                    a.key != "url.query" or a.value.string_value == ""
                ), f"{span.name!r}: {a.key} keeps a query"


async def test_one_trace_follows_an_order_from_srs_post_through_temporal_to_sr_and_the_vendor(
    world, collector
):
    placed, marker = await order_for_a_new_candidate(world)
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")

    async def the_orders_trace():
        started = [
            s
            for _, s in collector.spans
            if s.name.startswith("StartWorkflow:")
            and attribute(s, "temporalWorkflowID") == order_workflow_id(order_id)
        ]
        trace = [
            (service, s)
            for service, s in collector.spans
            if started and s.trace_id == started[0].trace_id
        ]
        names = {(service, s.name) for service, s in trace}
        calls = [
            s
            for service, s in trace
            if service == "assessments-worker" and s.kind == Span.SPAN_KIND_CLIENT
        ]
        invited = [s for s in calls if url_of(s).startswith(world.settings.sandbox_vendor_url)]
        sr_updated = [
            s
            for s in calls
            if url_of(s).startswith(world.settings.sr_base_url) and order_id in url_of(s)
        ]
        wanted = {
            ("assessments-api", "POST /packages/orders"),
            ("assessments-api", "StartWorkflow:AssessmentOrderWorkflow"),
            ("assessments-worker", "RunWorkflow:AssessmentOrderWorkflow"),
            ("assessments-worker", "RunActivity:create_invitation"),
            ("assessments-worker", "RunActivity:update_smartrecruiters"),
        }
        return (trace, invited, sr_updated) if wanted <= names and invited and sr_updated else None

    trace, invited, sr_updated = await eventually(
        the_orders_trace, timeout=20, what=f"the trace of order {order_id}"
    )
    parents = {s.span_id: s.name for _, s in trace}
    assert parents[invited[0].parent_span_id] == "RunActivity:create_invitation"
    assert parents[sr_updated[0].parent_span_id] == "RunActivity:update_smartrecruiters"
    assert_no_candidate_data(collector, marker)


async def test_no_span_holds_candidate_data_even_where_a_url_carried_it(
    world, collector, traced_stack
):
    settings = traced_stack.settings
    await register_partner_configuration(settings)
    store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
    port = free_port()
    with serve(
        testgorilla.create_app(TestGorillaSimConfig(public_url=f"http://127.0.0.1:{port}")), port
    ) as testgorilla_url:
        credentials = {
            "username": "api-user@example.com",
            "password": "testgorilla-password",
            "base_url": testgorilla_url,
        }
        _, company = await company_of_new_vendor_account(
            store, world.sr, "testgorilla", credentials
        )
        # Ordered twice: TestGorilla refuses to invite the email again, and the worker looks the
        # email up in a query string (…/candidature/?search=ada.…@example.com).
        placed, marker = await order_for_a_new_candidate(world, PYTHON_DEVELOPER, company, times=2)
        # A request with the email in its query string reaches our API too.
        await world.http.get(
            f"{world.api}/packages", params={"search": placed["candidate"]["email"]}
        )

        async def looked_up_and_asked():
            lookups = [
                s
                for service, s in collector.spans
                if service == "assessments-worker"
                and url_of(s).startswith(f"{testgorilla_url}/api/assessments/candidature/")
            ]
            asked = [
                s
                for service, s in collector.spans
                if service == "assessments-api" and s.name == "GET /packages"
            ]
            return lookups and asked

        await eventually(
            looked_up_and_asked,
            what="the email lookup at TestGorilla and the request to our API, traced",
        )
    await store.dispose()
    assert_no_candidate_data(collector, marker)


async def test_log_lines_are_json_objects_naming_their_order_without_candidate_data(
    world, traced_stack
):
    order_id, marker = await an_order_whose_first_progress_sr_refuses(world)
    logs = {
        path.stem: path for path in traced_stack.log_dir.glob("*.log") if path.stem != "temporal"
    }  # Temporal's own log is not ours

    def lines(component: str) -> list[dict]:
        text = logs[component].read_text()
        return [
            json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()
        ]  # whole lines: the process may be writing one

    def about_the_order(component: str) -> list[dict]:
        return [
            line
            for line in lines(component)
            if line.get("order_id") == order_id or order_id in json.dumps(line)
        ]

    async def activity_failure_logged():
        return [
            line
            for line in about_the_order("worker")
            if line["level"] == "WARNING" and "temporal_activity" in line
        ]

    await eventually(activity_failure_logged, what="the worker's line about the failed SR update")
    assert about_the_order("api"), "the API logs the order it received"
    for component in ("api", "worker"):
        assert all(line.get("order_id") == order_id for line in about_the_order(component))
    for component in logs:
        for line in lines(component):
            assert {"time", "level", "logger", "message"} <= line.keys()
            assert marker not in json.dumps(line), f"candidate data in the {component}'s log"


async def test_a_failed_call_is_traced_by_the_type_of_its_error_alone(world, collector):
    _order_id, marker = await an_order_whose_first_progress_sr_refuses(world)

    async def the_failed_attempt():
        return [
            event
            for _, span in collector.spans
            if span.name == "RunActivity:update_smartrecruiters"
            for event in span.events
            if event.name == "exception"
        ]

    failures = await eventually(the_failed_attempt, what="the span of SR's refused update")
    assert attribute(failures[0], "exception.type")  # what failed stays known
    assert_no_candidate_data(collector, marker)
