"""The README and docs/ stay true: every setting is documented, the README's two commands are the
Makefile's, and every link between them leads to a file and heading that exist."""

import re
from pathlib import Path

from pydantic import SecretStr

from cli import settings_doc
from settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_setting_has_a_description():
    assert (
        sorted(name for name, field in Settings.model_fields.items() if not field.description) == []
    )


def test_the_settings_document_is_generated_from_the_settings():
    """A setting added, renamed or described anew in settings.py must reach docs/settings.md."""
    written = (ROOT / "docs" / "settings.md").read_text()
    assert written == settings_doc.render(), (
        "docs/settings.md differs from what settings.py describes; regenerate it: "
        f"{settings_doc.REGENERATE}"
    )


def test_the_settings_document_shows_no_embedded_secret_unless_a_setting_shows_it_on_purpose():
    shown = {"partner_client_secret"}  # the SR simulator's partner secret, needed to try the API
    secrets = {
        name: field.default.get_secret_value()
        for name, field in Settings.model_fields.items()
        if isinstance(field.default, SecretStr) and name not in shown
    }
    document = settings_doc.render()
    assert secrets and sorted(name for name, value in secrets.items() if value in document) == []


def test_the_readme_commands_exist_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make run" in readme and "make test" in readme
    assert "\nrun:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_stays_short():
    """What it is, the two commands, trying it, the architecture and links; the rest is in docs/."""
    readme = (ROOT / "README.md").read_bytes()
    assert len(readme) <= 8 * 1024 and len(readme.splitlines()) <= 150


def test_every_picture_the_docs_show_is_one_the_browser_or_the_report_tests_take():
    """So `make screenshots` retakes them all, and none goes stale unseen."""
    shown = {
        name
        for document in DOCUMENTS
        for name in re.findall(r"screenshots/([\w-]+\.png)", document.read_text())
    }
    takers = "".join(
        (ROOT / "tests" / path).read_text()
        for path in (
            "e2e/test_walkthrough.py",
            "e2e/test_console_in_browser.py",
            "simulators/test_reports.py",
        )
    )
    assert shown and sorted(name for name in shown if name not in takers) == []
    kept = {path.name for path in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert sorted(kept - shown) == [] and sorted(shown - kept) == []


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.DOTALL)
    return {_anchor(heading) for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


def test_every_link_between_the_documents_leads_somewhere():
    broken = []
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # another site's
            path, _, anchor = target.partition("#")
            file = (document.parent / path).resolve() if path else document
            if not file.exists() or (anchor and anchor not in _anchors(file)):
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert broken == []


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
