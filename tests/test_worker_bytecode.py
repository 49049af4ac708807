"""The worker compiles the workflow module once, so the sandbox's import per order reads
bytecode."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest

import worker
from workflows import order


@pytest.fixture
def no_bytecode_written(monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", None)


def _import_compiles_source(monkeypatch) -> bool:
    """Load the workflow module's code as the sandbox's import does;
    True if it compiled the source."""
    compiled = []
    original = importlib.machinery.SourceFileLoader.source_to_code

    def counted(self, *args, **kwargs):
        compiled.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(importlib.machinery.SourceFileLoader, "source_to_code", counted)
    code = importlib.machinery.SourceFileLoader("workflows.order", order.__file__).get_code(
        "workflows.order"
    )
    assert code is not None
    return bool(compiled)


def test_the_workflow_module_is_compiled_once_then_read_as_bytecode(
    no_bytecode_written, monkeypatch, tmp_path
):
    monkeypatch.setattr(
        sys, "pycache_prefix", str(tmp_path)
    )  # an empty cache: nothing compiled yet
    assert _import_compiles_source(monkeypatch), "without bytecode every import compiles the source"

    worker._cache_workflow_bytecode()

    assert not _import_compiles_source(monkeypatch)
    assert not _import_compiles_source(monkeypatch)


def test_a_private_bytecode_cache_is_made_when_there_is_none(no_bytecode_written, monkeypatch):
    worker._cache_workflow_bytecode()

    assert sys.pycache_prefix is not None
    assert Path(importlib.util.cache_from_source(order.__file__)).is_file()
    assert Path(importlib.util.cache_from_source(order.__file__)).is_relative_to(sys.pycache_prefix)
