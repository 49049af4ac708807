"""Which vendor adapters this deployment runs, built once per process from the settings."""

from __future__ import annotations

from settings import Settings
from vendors.base import VendorAdapter
from vendors.sandbox import SandboxVendor


def build_vendors(settings: Settings) -> dict[str, VendorAdapter]:
    sandbox = SandboxVendor(
        base_url=settings.sandbox_vendor_url,
        api_key=settings.sandbox_vendor_api_key.get_secret_value(),
        webhook_secret=settings.sandbox_webhook_secret.get_secret_value(),
        timeout_seconds=settings.vendor_timeout_seconds,
        webhook_tolerance_seconds=settings.webhook_tolerance_seconds,
    )
    return {sandbox.name: sandbox}
