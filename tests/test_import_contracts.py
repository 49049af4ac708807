"""The import contracts read the top-level modules' own imports
(tests/support/import_contracts.py)."""

from __future__ import annotations

import tomllib

import grimp

from tests.support.import_contracts import ROOT, add_top_level_modules, ours


def test_the_top_level_modules_and_their_imports_join_the_graph_also_those_inside_functions():
    graph = grimp.build_graph("orders", "admin", include_external_packages=True, cache_dir=None)
    assert "telemetry" not in graph.modules  # nothing in these packages imports it
    assert not graph.find_modules_directly_imported_by("settings")  # a name packages import

    add_top_level_modules(graph)

    assert graph.direct_import_exists(importer="telemetry", imported="orders.visibility")
    assert graph.direct_import_exists(importer="settings", imported="origins")
    assert graph.direct_import_exists(importer="embedded", imported="admin.operations")  # in seed()


def test_every_package_and_top_level_module_of_ours_is_under_the_contracts():
    """A new package or top-level module gets a place in the layers (or is a simulator, a
    benchmark, an example or a test), else the contracts would not check it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layered = {
        name.strip()
        for contract in config["contracts"]
        if contract["type"] == "layers_with_modules"
        for layer in contract["layers"]
        for name in layer.split("|")
    }
    assert set(config["root_packages"]) == ours() - {"tests"} - {
        path.stem for path in ROOT.glob("*.py")
    }
    assert ours() - {"simulators", "bench", "examples", "tests"} == layered


def test_a_top_level_module_importing_a_package_of_ours_the_graph_lacks_shows_that_import(
    tmp_path,
):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "settings.py").write_text("from tests.support.world import World\n")
    graph = grimp.build_graph("orders", include_external_packages=True, cache_dir=None)
    assert "tests" not in graph.modules

    add_top_level_modules(graph, tmp_path)

    assert graph.direct_import_exists(importer="settings", imported="tests")
