"""The packages a company's recruiters can order: its vendor account's catalog.

Vendors' catalogs change rarely, so each is read at most once a minute per process, and the last
one read is served while the vendor is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from peers import PeerError
from settings import Settings
from smartrecruiters.models import Assessment, AssessmentPackage
from store import VendorAccount
from vendors.base import VendorPackage
from vendors.registry import Vendors

CATALOG_MAX_AGE_SECONDS = 60.0
log = logging.getLogger("assessments.catalog")


class UnknownPackage(LookupError):
    pass


@dataclass(frozen=True)
class CatalogEntry:
    vendor: str
    vendor_account_id: str | None
    package: VendorPackage
    deadline_days: float

    def as_smartrecruiters(self) -> AssessmentPackage:
        return AssessmentPackage(
            id=self.package.id,
            name=self.package.name,
            description=self.package.description,
            type=self.package.type,
            assessments=[
                Assessment(id=t.id, name=t.name, description=t.description, type=self.package.type)
                for t in self.package.tests
            ],
        )


@dataclass
class _Read:
    entries: list[CatalogEntry]
    at: float


class Catalog:
    def __init__(self, vendors: Vendors, settings: Settings) -> None:
        self._vendors = vendors
        self._settings = settings
        self._reads: dict[str | None, _Read] = {}
        # One lock per vendor account: a slow vendor holds up only its own companies.
        self._locks: defaultdict[str | None, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def for_company(self, company_id: str | None) -> list[CatalogEntry]:
        account = await self._vendors.account_of_company(company_id) if company_id else None
        key = account.id if account else None
        async with self._locks[key]:
            last = self._reads.get(key)
            if last is None or time.monotonic() - last.at > CATALOG_MAX_AGE_SECONDS:
                try:
                    self._reads[key] = _Read(await self._read(account), time.monotonic())
                except PeerError:
                    if last is None:
                        raise
                    # A vendor outage must not stop orders for packages we already know.
                    log.warning("vendor catalog unavailable; serving the last one read")
            return self._reads[key].entries

    async def find(self, company_id: str | None, package_id: str) -> CatalogEntry:
        for entry in await self.for_company(company_id):
            if entry.package.id == package_id:
                return entry
        raise UnknownPackage(package_id)

    async def _read(self, account: VendorAccount | None) -> list[CatalogEntry]:
        async with self._vendors.using(account.id if account else None) as adapter:
            packages = await adapter.list_packages()
        return catalog_entries(self._settings, account, adapter.name, packages)


def catalog_entries(
    settings: Settings, account: VendorAccount | None, vendor: str, packages: list[VendorPackage]
) -> list[CatalogEntry]:
    """The vendor's packages as the account offers them, with each package's deadline."""
    settings_of = account.package_settings if account else {}
    return [
        CatalogEntry(
            vendor=vendor,
            vendor_account_id=account.id if account else None,
            package=package,
            deadline_days=float(
                settings_of.get(package.id, {}).get("deadline_days")
                or package.deadline_days
                or settings.deadline_days(package.id)
            ),
        )
        for package in packages
    ]
