"""The import contracts read the top-level modules' own imports
(tests/support/import_contracts.py)."""

from __future__ import annotations

import grimp

from tests.support.import_contracts import add_top_level_modules


def test_the_top_level_modules_and_their_imports_join_the_graph_also_those_inside_functions():
    graph = grimp.build_graph("orders", "admin", include_external_packages=True, cache_dir=None)
    assert "telemetry" not in graph.modules  # nothing in these packages imports it
    assert not graph.find_modules_directly_imported_by("settings")  # a name packages import

    add_top_level_modules(graph)

    assert graph.direct_import_exists(importer="telemetry", imported="orders.visibility")
    assert graph.direct_import_exists(importer="settings", imported="origins")
    assert graph.direct_import_exists(importer="embedded", imported="admin.operations")  # in seed()
