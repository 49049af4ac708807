"""The packages recruiters can order, gathered from the vendor adapters.

Vendors' catalogs change rarely, so they are read at most once a minute per process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from peers import PeerError
from smartrecruiters.models import Assessment, AssessmentPackage
from vendors.base import VendorAdapter, VendorPackage

CATALOG_MAX_AGE_SECONDS = 60.0
log = logging.getLogger("assessments.catalog")


class UnknownPackage(LookupError):
    pass


@dataclass(frozen=True)
class CatalogEntry:
    vendor: str
    package: VendorPackage

    def as_smartrecruiters(self) -> AssessmentPackage:
        return AssessmentPackage(
            id=self.package.id,
            name=self.package.name,
            description=self.package.description,
            type=self.package.type,
            assessments=[Assessment(id=t.id, name=t.name, description=t.description, type=self.package.type) for t in self.package.tests],
        )


class Catalog:
    def __init__(self, vendors: dict[str, VendorAdapter]) -> None:
        self._vendors = vendors
        self._entries: dict[str, CatalogEntry] = {}
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def entries(self) -> list[CatalogEntry]:
        async with self._lock:
            if time.monotonic() - self._read_at > CATALOG_MAX_AGE_SECONDS:
                try:
                    self._entries = await self._read()
                    self._read_at = time.monotonic()
                except PeerError:
                    if not self._entries:
                        raise
                    # A vendor outage must not stop orders for packages we already know.
                    log.warning("vendor catalog unavailable; serving the last one read")
            return list(self._entries.values())

    async def _read(self) -> dict[str, CatalogEntry]:
        entries: dict[str, CatalogEntry] = {}
        for name, vendor in self._vendors.items():
            for package in await vendor.list_packages():
                entries[package.id] = CatalogEntry(vendor=name, package=package)
        return entries

    async def find(self, package_id: str) -> CatalogEntry:
        for entry in await self.entries():
            if entry.package.id == package_id:
                return entry
        raise UnknownPackage(package_id)
