"""The reference vendor: Vendor API v1 (docs/vendor-api.md) implemented from the vendor's side."""

from .app import ReferenceVendorConfig, create_app

__all__ = ["ReferenceVendorConfig", "create_app"]
