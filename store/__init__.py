"""The service's relational store (SQLite embedded, PostgreSQL in production);
see `store.repository`."""

from store.errors import (
    AlreadyConnected,
    ReferenceConflict,
    StoreError,
    UnknownTriggerToken,
    UnknownVendorAccount,
    UnreadableSecret,
    VendorAccountNameTaken,
)
from store.records import (
    CompanyConnection,
    ConnectionState,
    IssuedToken,
    TriggerToken,
    VendorAccount,
)
from store.repository import Store

__all__ = [
    "AlreadyConnected",
    "CompanyConnection",
    "ConnectionState",
    "IssuedToken",
    "ReferenceConflict",
    "Store",
    "StoreError",
    "TriggerToken",
    "UnknownTriggerToken",
    "UnknownVendorAccount",
    "UnreadableSecret",
    "VendorAccount",
    "VendorAccountNameTaken",
]
