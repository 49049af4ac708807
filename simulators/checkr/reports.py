"""A Checkr report as the simulated account keeps it: its screenings and its PDF document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ConfigDict, with_config


@dataclass
class Screening:
    type: str
    id: str
    created_at: datetime
    status: str = "pending"
    result: str | None = None
    completed_at: datetime | None = None


@with_config(ConfigDict(ser_json_bytes="base64", val_json_bytes="base64"))  # a PDF is not text
@dataclass
class Document:
    id: str
    filename: str
    content: bytes
    created_at: datetime


@dataclass
class Report:
    id: str
    candidate_id: str
    package: str
    work_locations: list[dict]
    created_at: datetime
    estimated_completion_time: datetime
    screenings: list[Screening]
    status: str = "pending"
    result: str | None = None
    assessment: str | None = None
    completed_at: datetime | None = None
    revised_at: datetime | None = None
    document: Document | None = None
