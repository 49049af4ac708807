"""The one place a process connects to Temporal: address, namespace and data converter.

Every client and worker gets the same converter: pydantic JSON, encrypted by codec.py, so
candidate data never reaches Temporal's database in plain text.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, TLSConfig

from codec import data_converter
from settings import Settings


async def connect(settings: Settings, *, wait_seconds: float = 30.0, metrics_address: str | None = None) -> Client:
    """Connect, waiting up to `wait_seconds` for a server that is still starting. With
    `metrics_address`, the SDK's metrics (and the workflows' own) are served there for Prometheus."""
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
                api_key=settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
                runtime=_runtime_serving_metrics(metrics_address) if metrics_address else None,
            )
        except (RPCError, RuntimeError):
            if loop.time() >= give_up_at:
                raise
            await asyncio.sleep(0.5)  # a retry back-off, not synchronisation


def tls_config(settings: Settings) -> TLSConfig | bool:
    """mTLS with the configured client certificate (and CA); TLS alone with an API key; else plain."""
    if settings.temporal_tls_cert or settings.temporal_tls_key:
        if not (settings.temporal_tls_cert and settings.temporal_tls_key):
            raise ValueError("ASSESSMENTS_TEMPORAL_TLS_CERT and ASSESSMENTS_TEMPORAL_TLS_KEY go together")
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
            server_root_ca_cert=settings.temporal_tls_server_ca.read_bytes() if settings.temporal_tls_server_ca else None,
        )
    if settings.temporal_tls_server_ca:
        return TLSConfig(server_root_ca_cert=settings.temporal_tls_server_ca.read_bytes())
    return settings.temporal_api_key is not None  # Temporal Cloud's API keys need TLS


_runtimes: dict[str, Runtime] = {}


def _runtime_serving_metrics(address: str) -> Runtime:
    """One runtime per address and process (a retried connect must not bind the port twice)."""
    if address not in _runtimes:
        _runtimes[address] = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    return _runtimes[address]
