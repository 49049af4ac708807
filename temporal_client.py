"""The one place a process connects to Temporal: address, namespace, data converter and tracing.

Every client and worker gets the same converter: pydantic JSON, encrypted by codec.py, so
candidate data never reaches Temporal's database in plain text.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)
from temporalio.service import RPCError, TLSConfig

from codec import data_converter
from settings import Settings
from telemetry import temporal_interceptors


async def connect(
    settings: Settings, *, wait_seconds: float = 30.0, metrics_address: str | None = None
) -> Client:
    """Connect, waiting up to `wait_seconds` for a server that is still starting. With
    `metrics_address`, the SDK's metrics
    (and the workflows' own) are served there for Prometheus."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + wait_seconds
    converter = data_converter(settings.payload_keys.get_secret_value())
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=converter,
                tls=tls_config(settings),
                api_key=settings.temporal_api_key.get_secret_value()
                if settings.temporal_api_key
                else None,
                runtime=_runtime(metrics_address),
                interceptors=temporal_interceptors(settings),
            )
        except (RPCError, RuntimeError):
            if loop.time() >= give_up_at:
                raise
            await asyncio.sleep(0.5)  # a retry back-off, not synchronisation


def tls_config(settings: Settings) -> TLSConfig | bool:
    """mTLS with the configured client certificate
    (and CA); TLS alone with an API key; else plain."""
    if settings.temporal_tls_cert or settings.temporal_tls_key:
        if not (settings.temporal_tls_cert and settings.temporal_tls_key):
            raise ValueError(
                "ASSESSMENTS_TEMPORAL_TLS_CERT and ASSESSMENTS_TEMPORAL_TLS_KEY go together"
            )
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
            server_root_ca_cert=settings.temporal_tls_server_ca.read_bytes()
            if settings.temporal_tls_server_ca
            else None,
        )
    if settings.temporal_tls_server_ca:
        return TLSConfig(server_root_ca_cert=settings.temporal_tls_server_ca.read_bytes())
    return settings.temporal_api_key is not None  # Temporal Cloud's API keys need TLS


_runtimes: dict[str | None, Runtime] = {}


def _runtime(metrics_address: str | None) -> Runtime:
    """One runtime per metrics address and process (a retried connect must not bind the port
    twice). The SDK core's own lines go through Python's logging, so they come out as ours do."""
    if metrics_address not in _runtimes:
        core_logs = LoggingConfig(
            filter=LoggingConfig.default.filter,
            forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
        )
        metrics = PrometheusConfig(bind_address=metrics_address) if metrics_address else None
        _runtimes[metrics_address] = Runtime(
            telemetry=TelemetryConfig(logging=core_logs, metrics=metrics)
        )
    return _runtimes[metrics_address]
