"""The README stays true: every setting is documented, and its two commands are the Makefile's."""

import re
from pathlib import Path

from settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert [n for n in Settings.model_fields if f"ASSESSMENTS_{n.upper()}" not in readme] == []


def test_the_readme_commands_exist_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make run" in readme and "make test" in readme
    assert "\nrun:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_threat_model_names_only_tests_that_exist():
    """docs/security.md guards each boundary with tests: each one it names is there, so a renamed
    or deleted test cannot leave a boundary looking guarded."""
    model = (ROOT / "docs" / "security.md").read_text()
    named = re.findall(r"`(tests/[\w/]+(?:\.py)?)(?:::(\w+))?`((?:, `::\w+`)*)", model)
    assert named
    missing = []
    for path, test, more in named:
        file = ROOT / path
        if not file.exists():
            missing.append(path)
            continue
        source = file.read_text() if file.is_file() else ""
        names = [test, *re.findall(r"::(\w+)", more)]
        missing.extend(f"{path}::{name}" for name in names if name and f"def {name}(" not in source)
    assert missing == []
