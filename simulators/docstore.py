"""A small persistent JSON document store for the simulators (SQLite, stdlib).

The simulators stand in for other companies' systems; they need their state to survive a
restart of the embedded stack, but not a schema of their own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")


class DocumentStore:
    """Documents grouped by kind, each addressed by an id; thread-safe, one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A simulator's state must survive its process, not a power cut: no fsync per commit.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS documents ("
            " kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,"
            " PRIMARY KEY (kind, id))"
        )
        # put() numbers documents with MAX(seq): without this index, each put reads them all.
        self._db.execute("CREATE INDEX IF NOT EXISTS documents_seq ON documents (seq)")

    def put(self, kind: str, doc_id: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO documents (kind, id, seq, body) VALUES (?, ?,"
                " (SELECT COALESCE(MAX(seq), 0) + 1 FROM documents), ?)"
                " ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                (kind, doc_id, json.dumps(body)),
            )

    def put_record(self, kind: str, doc_id: str, record: Any) -> None:
        """A dataclass (or model) as a document; `records` reads it back."""
        self.put(kind, doc_id, json.loads(_adapter(type(record)).dump_json(record)))

    def record(self, kind: str, doc_id: str, cls: type[T]) -> T | None:
        """One document as a `cls`, or None."""
        doc = self.get(kind, doc_id)
        return None if doc is None else _adapter(cls).validate_json(json.dumps(doc))

    def records(self, kind: str, cls: type[T]) -> list[T]:
        """Every document of a kind as a `cls`, in insertion order."""
        adapter = _adapter(cls)
        return [adapter.validate_json(json.dumps(doc)) for doc in self.all(kind)]

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM documents WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every document of a kind, in insertion order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM documents WHERE kind = ? ORDER BY seq", (kind,)
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def find(self, kind: str, **fields: str | int | bool | None) -> Iterator[dict[str, Any]]:
        """Documents of a kind whose top-level fields equal the given values, in insertion order.

        SQLite compares (only the matches are decoded): a simulator holding ten thousand
        invitations still answers in milliseconds."""
        if not all(name.isidentifier() for name in fields):
            raise ValueError("field names are identifiers")
        matches = "".join(f" AND json_extract(body, '$.{name}') IS ?" for name in fields)
        with self._lock:
            rows = self._db.execute(
                f"SELECT body FROM documents WHERE kind = ?{matches} ORDER BY seq",
                (kind, *fields.values()),
            ).fetchall()
        return (json.loads(body) for (body,) in rows)

    def delete(self, kind: str, doc_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM documents WHERE kind = ? AND id = ?", (kind, doc_id))

    def clear(self, kind: str) -> None:
        """Forget every document of a kind."""
        with self._lock:
            self._db.execute("DELETE FROM documents WHERE kind = ?", (kind,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(cls: type[T]) -> TypeAdapter[T]:
    """One adapter per class: building one costs more than validating a document."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter
