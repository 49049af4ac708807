"""How a process connects to Temporal: plain locally, mTLS or an API key for Temporal Cloud."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from temporalio.service import TLSConfig

from settings import Settings
from temporal_client import tls_config


def test_plain_on_this_machine():
    assert tls_config(Settings()) is False


def test_mutual_tls_reads_the_certificate_files(tmp_path):
    cert, key, ca = (tmp_path / name for name in ("client.pem", "client.key", "ca.pem"))
    for path in (cert, key, ca):
        path.write_bytes(f"-----{path.name}-----".encode())
    config = tls_config(
        Settings(temporal_tls_cert=cert, temporal_tls_key=key, temporal_tls_server_ca=ca)
    )
    assert isinstance(config, TLSConfig)
    assert (config.client_cert, config.client_private_key, config.server_root_ca_cert) == (
        b"-----client.pem-----",
        b"-----client.key-----",
        b"-----ca.pem-----",
    )
    with pytest.raises(ValueError, match="go together"):
        tls_config(Settings(temporal_tls_cert=cert))


def test_an_api_key_means_tls():
    assert tls_config(Settings(temporal_api_key=SecretStr("cloud-key"))) is True
