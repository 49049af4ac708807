"""The worker compiles the workflow module once, so the sandbox's import per order reads
bytecode."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import py_compile
import sys
from pathlib import Path

import pytest

import worker
from workflows import order


@pytest.fixture
def no_bytecode_written(monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", None)


def _compilations(monkeypatch) -> list[int]:
    """A list that grows by one each time Python compiles a module's source from now on."""
    compiled: list[int] = []
    original = importlib.machinery.SourceFileLoader.source_to_code

    def counted(self, *args, **kwargs):
        compiled.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(importlib.machinery.SourceFileLoader, "source_to_code", counted)
    return compiled


def _import_compiles_source(monkeypatch) -> bool:
    """Load the workflow module's code as the sandbox's import does;
    True if it compiled the source."""
    compiled = _compilations(monkeypatch)
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


@pytest.fixture
def workflow_module_copy(monkeypatch, tmp_path) -> Path:
    """The workflow module's source where no bytecode of it exists yet."""
    copy = tmp_path / "order.py"
    copy.write_bytes(Path(order.__file__).read_bytes())
    monkeypatch.setattr(order, "__file__", str(copy))
    return copy


def test_a_private_bytecode_cache_is_made_when_there_is_none(
    no_bytecode_written, workflow_module_copy
):
    worker._cache_workflow_bytecode()

    assert sys.pycache_prefix is not None
    assert Path(importlib.util.cache_from_source(order.__file__)).is_file()
    assert Path(importlib.util.cache_from_source(order.__file__)).is_relative_to(sys.pycache_prefix)


@pytest.mark.parametrize(
    "invalidation",
    [py_compile.PycInvalidationMode.TIMESTAMP, py_compile.PycInvalidationMode.CHECKED_HASH],
)
def test_bytecode_already_on_disk_is_used_as_it_is(
    no_bytecode_written, workflow_module_copy, invalidation
):
    # An installed package (the image) has its bytecode next to the source: Python reads it there.
    source = str(workflow_module_copy)
    py_compile.compile(
        source, importlib.util.cache_from_source(source), invalidation_mode=invalidation
    )

    worker._cache_workflow_bytecode()

    assert sys.pycache_prefix is None


def test_stale_bytecode_on_disk_is_not_taken_for_current(no_bytecode_written, workflow_module_copy):
    source = str(workflow_module_copy)
    py_compile.compile(source, importlib.util.cache_from_source(source))
    workflow_module_copy.write_text(workflow_module_copy.read_text() + "\n# edited\n")

    worker._cache_workflow_bytecode()

    assert sys.pycache_prefix is not None


def test_the_build_id_names_our_source_without_compiling_anything(monkeypatch, tmp_path):
    """Temporal's default build id compiles every loaded module without bytecode on disk (4 s
    of CPU per worker start); ours reads our own sources only, and changes with them."""
    compiled = _compilations(monkeypatch)
    first = worker._build_id()
    assert compiled == [] and first == worker._build_id()

    # The same modules in another checkout, one of them changed.
    changed = tmp_path / "changed.py"
    changed.write_text("ANSWER = 42\n")
    (tmp_path / "worker.py").write_bytes(Path(worker.__file__).read_bytes())
    monkeypatch.setattr(worker, "__file__", str(tmp_path / "worker.py"))
    monkeypatch.setitem(sys.modules, "changed", type(sys)("changed"))
    sys.modules["changed"].__file__ = str(changed)
    assert worker._build_id() != first
