"""The README stays true: every setting is documented, and its two commands are the Makefile's."""

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

