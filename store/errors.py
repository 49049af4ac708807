"""What the store refuses, as exceptions callers can tell apart."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class UnknownVendorAccount(StoreError):
    def __init__(self, vendor_account_id: str) -> None:
        super().__init__(f"no vendor account {vendor_account_id!r}")
        self.vendor_account_id = vendor_account_id


class VendorAccountNameTaken(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a vendor account named {name!r} already exists")
        self.name = name


class UnknownTriggerToken(StoreError):
    def __init__(self, trigger_token_id: str) -> None:
        super().__init__(
            f"no trigger token {trigger_token_id!r} for this vendor account and company"
        )
        self.trigger_token_id = trigger_token_id


class AlreadyConnected(StoreError):
    def __init__(self, company_id: str) -> None:
        super().__init__(f"company {company_id!r} is already connected")
        self.company_id = company_id


class ReferenceConflict(StoreError):
    def __init__(
        self, vendor_account_id: str, vendor_ref: str, indexed_order_id: str, order_id: str
    ) -> None:
        super().__init__(
            f"vendor reference {vendor_ref!r} of account {vendor_account_id!r} already "
            "belongs to order "
            f"{indexed_order_id!r}, not {order_id!r}"
        )
        self.vendor_account_id = vendor_account_id
        self.vendor_ref = vendor_ref
        self.indexed_order_id = indexed_order_id
        self.order_id = order_id


class UnreadableSecret(StoreError):
    """A stored secret was encrypted with a key that is no longer configured."""
